"""The prompt library's and the styles' rules, over a real (in-memory) store."""

from __future__ import annotations

import pytest

from bot.errors import InputError, PermissionDenied
from bot.rules.guild_settings import GuildSettings
from bot.rules.intake import Member
from bot.rules.library import Library, composed, library_of
from bot.rules.styles import DEFAULT_STYLES, Style, Styles, styled
from bot.storage.store import Store


@pytest.fixture
async def store():
    async with Store.open(":memory:") as opened:
        yield opened


def member(user_id=1, *, guild_id=10, scope="guild", manage_messages=False):
    return Member(user_id, guild_id, 5, manage_messages=manage_messages, scope=scope)


def test_a_server_shares_one_library_and_a_user_install_has_its_own():
    assert library_of(member(1)) == library_of(member(2)) == "guild:10"
    assert library_of(member(1, scope="user")) == "user:1" != library_of(member(2, scope="dm"))


async def test_the_prompt_is_the_entrys_with_what_the_member_adds_then_the_style(store):
    entry = await Library(store).save(
        member(), GuildSettings(), name=" lantern  market ", prompt="lanterns.", author_name="ann"
    )
    assert entry.name == "lantern market"
    assert composed(entry, None) == "lanterns."
    assert composed(entry, " in the rain ") == "lanterns., in the rain"
    assert styled("lanterns.", Style("noir", "black and white")) == "lanterns, black and white"
    assert styled("lanterns", None) == "lanterns"


async def test_names_are_unique_whatever_their_case_and_blocked_words_refuse_a_save(store):
    library = Library(store)
    await library.save(member(), GuildSettings(), name="Market", prompt="a market", author_name="ann")
    with pytest.raises(InputError, match="already an entry"):
        await library.save(member(2), GuildSettings(), name="market", prompt="other", author_name="bob")
    with pytest.raises(InputError, match="blocked-words"):
        await library.save(
            member(), GuildSettings(blocked_patterns=("gore",)), name="x", prompt="gore", author_name="a"
        )
    with pytest.raises(InputError, match="blocked-words"):
        library.check_use(GuildSettings(blocked_patterns=("market",)), await library.find(member(), "MARKET"))


async def test_only_the_author_or_a_moderator_renames_or_removes(store):
    library = Library(store)
    await library.save(member(1), GuildSettings(), name="market", prompt="a market", author_name="ann")
    with pytest.raises(PermissionDenied):
        await library.rename(member(2), "market", "bazaar")
    await library.rename(member(1), "market", "bazaar")
    with pytest.raises(PermissionDenied):
        await library.remove(member(2), "bazaar")
    await library.remove(member(3, manage_messages=True), "bazaar")
    assert await library.choices(member(1), "") == []


async def test_entries_are_listed_most_used_first_and_the_members_own(store):
    library = Library(store)
    a = await library.save(member(1), GuildSettings(), name="a", prompt="one", author_name="ann")
    b = await library.save(member(2), GuildSettings(), name="b", prompt="two", author_name="bob")
    await library.used(b.id)
    top, mine = await library.listing(member(1))
    assert [e.name for e in top] == ["b", "a"] and [e.id for e in mine] == [a.id]
    assert [e.name for e in await library.choices(member(1), "tw")] == ["b"]  # by prompt too
    assert await library.choices(member(1), "%") == []  # typed text is not a pattern


async def test_shipped_styles_are_data_until_a_server_changes_them(store):
    styles = Styles(store)
    assert [s.name for s in await styles.offered(10)] == sorted(s.name for s in DEFAULT_STYLES)
    await styles.set(10, Style("Anime", "watercolour anime", shape="portrait"), by=1)
    await styles.remove(10, "documentary", by=1)
    here = {s.name: s for s in await styles.offered(10)}
    assert set(here) == {"Anime", "cinematic"} and here["Anime"].shape == "portrait"
    assert len(await styles.offered(11)) == len(DEFAULT_STYLES)  # another server: untouched
    with pytest.raises(InputError):
        await styles.find(10, "documentary")
    with pytest.raises(PermissionDenied):
        styles.check_moderator(False)
