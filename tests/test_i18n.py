"""The catalogues and the rules of languages: every text in every shipped language with the same
placeholders, localized command strings within Discord's rules, the locale each reader gets."""

from __future__ import annotations

import asyncio
import re
import string
from typing import Any

import discord
import pytest
import regex
from discord import app_commands

from bot.app.answers import error_text, user_message
from bot.app.translator import MENU, NAME, TEXT, CatalogueTranslator
from bot.errors import CreateOutcomeUnknown, InputError
from bot.jobs.model import Job, JobState, to_row
from bot.ops import audit
from bot.relay.task_status import explain_failure
from bot.rules import quota
from bot.rules.validation import clean_prompt
from bot.texts import i18n
from bot.texts.i18n import Plural, Text, english, render, tr
from cogs.video.render import render as render_job
from tools import catalogues

# Discord's rule for command and option names (shared/discord-notes.md, Localization).
NAME_RULE = regex.compile(r"^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$")
TRANSLATED = [code for code in i18n.SHIPPED if code != i18n.SOURCE]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def msgids(message: Any) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


@pytest.fixture(scope="module")
def template():
    return catalogues.read(catalogues.TEMPLATE)


@pytest.fixture(scope="module")
def shipped():
    return {code: catalogues.read(i18n.po_path(code), code.replace("-", "_")) for code in i18n.SHIPPED}


def test_the_template_has_every_text_of_the_code_and_the_commands(template):
    in_template = {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)) for m in template if m.id}
    in_code = {(None, m if isinstance(m, str) else tuple(m)) for m, _where in catalogues.code_messages()}
    in_commands = set(asyncio.run(catalogues.command_messages()))
    missing = (in_code | in_commands) - in_template
    assert not missing, f"run `python -m tools.catalogues`: {sorted(map(str, missing))[:5]}"
    assert len(in_code) > 250 and len(in_commands) > 100


@pytest.mark.parametrize("code", i18n.SHIPPED)
def test_every_catalogue_has_every_message_with_the_same_placeholders(template, shipped, code):
    catalog = shipped[code]
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        assert found is not None, f"{code}: {message.id!r} is missing"
        assert not found.fuzzy, f"{code}: {message.id!r} is fuzzy"
        if code == i18n.SOURCE:
            continue  # English is the source: the msgid is the text
        forms = (found.string,) if isinstance(found.string, str) else tuple(found.string)
        assert all(forms), f"{code}: {message.id!r} is not translated"
        wanted = set().union(*(placeholders(m) for m in msgids(message)))
        for form in forms:
            got = placeholders(form)
            if isinstance(message.id, str):
                assert got == wanted, f"{code}: {message.id!r} -> {form!r}"
            else:  # a plural form may leave the number out ("le dernier jour")
                assert wanted - {"n"} <= got <= wanted, f"{code}: {message.id!r} -> {form!r}"
            # Discord markup and command names stay as they are.
            for markup in re.findall(r"<[@#t][^>]*>|/video[-a-z]*", msgids(message)[0]):
                assert markup in form, f"{code}: {markup} lost in {form!r}"


def test_the_catalogues_render_in_every_language():
    for code in TRANSLATED:
        assert tr(code, "Reference image {number}", number=2) != "Reference image 2", code
    assert tr("zh-CN", "Status") == "状态" and tr("ja", "Status") == "状態" and tr("ko", "Status") == "상태"
    assert tr("es-ES", "Delete") == "Eliminar" and tr("pt-BR", "Delete") == "Excluir"
    assert tr("fr", "Delete") == "Supprimer" and tr("de", "Delete") == "Löschen"


def test_discord_locales_map_to_the_catalogues_and_unknown_ones_to_english():
    assert i18n.resolve(discord.Locale.chinese) == "zh-CN"
    assert (
        i18n.resolve("es-419") == "es-ES" and i18n.resolve("en-GB") == "en" and i18n.resolve("en-US") == "en"
    )
    for unknown in ("fi", "zh-TW", "xx", None, ""):
        assert i18n.resolve(unknown) == "en"
    assert tr("fi", "The prompt is empty.") == "The prompt is empty."
    assert tr(discord.Locale.latin_american_spanish, "The prompt is empty.") == "El prompt está vacío."


def test_plurals_follow_each_language():
    rule = ("{n} rule", "{n} rules")
    assert [i18n.ntr("en", *rule, n=n) for n in (1, 2)] == ["1 rule", "2 rules"]
    assert [i18n.ntr("de", *rule, n=n) for n in (1, 2)] == ["1 Regel", "2 Regeln"]
    assert [i18n.ntr("fr", "the last {n} day", "the last {n} days", n=n) for n in (1, 3)] == [
        "le dernier jour",
        "les 3 derniers jours",
    ]
    assert [i18n.ntr("ja", *rule, n=n) for n in (1, 2)] == ["1 件のルール", "2 件のルール"]  # one form


# --- command names, descriptions and choices -------------------------------------------------


def translated_commands() -> list[dict[str, Any]]:
    """The payload the bot syncs, with every language, built offline from the cogs."""

    async def build() -> list[dict[str, Any]]:
        tree = catalogues.command_tree()
        translator = CatalogueTranslator()
        await translator.load()
        return [await c.get_translated_payload(tree, translator) for c in tree.get_commands()]

    return asyncio.run(build())


def walk(items: list[dict[str, Any]]):
    for item in items:
        yield item
        yield from walk(item.get("options") or [])


def test_localized_command_strings_follow_discords_rules():
    payload = translated_commands()
    described = 0
    for item in walk(payload):
        menu = item.get("type") == 3
        for locale, name in (item.get("name_localizations") or {}).items():
            if menu:
                assert 1 <= len(name) <= 32, (locale, name)
            elif "choices" not in item or "value" not in item:
                assert NAME_RULE.match(name) and name == name.lower(), (locale, name)
        for locale, text in (item.get("description_localizations") or {}).items():
            assert 1 <= len(text) <= 100, (locale, text)
            described += 1
        for choice in item.get("choices") or []:
            for locale, name in (choice.get("name_localizations") or {}).items():
                assert 1 <= len(name) <= 100, (locale, name)
    # Every translated language describes every command and option (es-419 reads es-ES).
    described_items = [i for i in walk(payload) if i.get("description")]
    assert described == len(described_items) * (len(TRANSLATED) + 1) and len(described_items) > 40
    video = next(c for c in payload if c["name"] == "video")
    assert set(video["description_localizations"]) >= {
        "zh-CN",
        "ja",
        "ko",
        "es-ES",
        "es-419",
        "pt-BR",
        "fr",
        "de",
    }
    menu = next(c for c in payload if c["type"] == 3)
    assert menu["name_localizations"]["ja"] == "画像から動画を作成"


def test_command_and_option_names_stay_as_typed_in_every_language():
    """Messages and the README say `/video-history` and `prompt:`; a localized name would not match."""
    for item in walk(translated_commands()):
        if item.get("type") != 3:
            assert not item.get("name_localizations"), item["name"]


def test_the_name_rule_rejects_what_discord_rejects():
    for bad in ("Video", "video history", "x" * 33, ""):
        assert not (NAME_RULE.match(bad) and bad == bad.lower())
    for good in ("视频", "동영상-기록", "видео", "वीडियो", "วิดีโอ"):
        assert NAME_RULE.match(good)


def test_the_translator_keeps_kinds_apart():
    assert (NAME, MENU, TEXT) == ("command name", "menu name", "command text")
    assert i18n.command_text("zh-CN", TEXT, "Length in seconds") == "时长（秒）"
    assert i18n.command_text("en-US", TEXT, "Length in seconds") is None
    assert i18n.command_text("zh-CN", NAME, "video") is None


# --- errors and public messages -------------------------------------------------------------


def test_a_refusal_renders_in_the_members_language_and_stays_english_for_logs():
    with pytest.raises(InputError) as caught:
        clean_prompt("   ", max_length=10)
    assert caught.value.user_message == "The prompt is empty." == user_message(caught.value)
    assert render(error_text(caught.value), "zh-CN") == "提示词为空。"
    assert render(error_text(caught.value), "pt-BR") == "O prompt está vazio."
    limits = quota.Limits(member_daily=3)
    with pytest.raises(quota.QuotaExceeded) as refused:
        quota.check(quota.Usage(member=3, server=3), limits, now=0)
    assert str(refused.value).startswith("You have used your 3 videos for today")
    assert render(refused.value.text, "zh-CN").startswith("你今天已用完 3 个视频的配额")
    assert "/video-history" in render(CreateOutcomeUnknown().text, "ko")


def test_a_check_failure_with_a_text_is_translated():
    error = app_commands.CheckFailure(Text("Only members with Manage Server can change the video settings."))
    assert render(error_text(error), "fr").startswith("Seuls les membres avec Gérer le serveur")


def job(**changes: Any) -> Job:
    base: dict[str, Any] = dict(
        id=7, state=JobState.FAILED, created_at=1000.0, updated_at=1065.0, failed_at=1065.0, channel_id=5,
        user_id=9, prompt="a cat", model="veo3.1-fast", shape="landscape", size="1280x720", duration=8,
        aspect_ratio="16:9", guild_id=3,
    )  # fmt: skip
    return Job(**{**base, **changes})


def test_a_failure_reason_is_stored_in_english_and_as_a_message_to_render_later():
    reason = Text(
        "{reason} Nothing was created, so nothing was billed.",
        reason=explain_failure("content_policy", "blocked: <nsfw>"),
    )
    row = to_row({"failure_reason": reason})
    assert row["failure_reason"] == (
        "The video service refused this prompt or image under its content policy. "
        "It said: “blocked: \\<nsfw\\>” Nothing was created, so nothing was billed."
    )
    assert Text.loads(row["failure_text"]) == reason
    failed = job(locale="zh-CN", failure_reason=row["failure_reason"], failure_text=row["failure_text"])
    assert render(failed.failure() or "", "zh-CN").startswith("视频服务根据其内容政策拒绝了")
    # Rows from before m007 keep their English reason.
    assert job(failure_reason="old words").failure() == "old words"
    assert to_row({"failure_reason": "plain"})["failure_text"] is None


def test_the_job_message_and_audit_line_follow_the_servers_language():
    failed = job(
        locale="zh-CN", failure_reason="x", failure_text=Text("The video service cancelled this job.").dumps()
    )
    shown = render_job(failed, locale=failed.locale).embeds[0]
    fields = {f["name"]: f["value"] for f in shown["fields"]}
    assert shown["title"] == "视频 #7" and fields["状态"] == "❌ 失败"
    assert fields["发生了什么"] == "视频服务取消了此任务。" and fields["耗时"] == "1分05秒"
    line = audit.job_line("failed", failed, by=None, at=1065)
    assert line.startswith("<t:1065:f> · 视频 #7 ❌ 失败，频道 <#5>：") and "视频服务取消了此任务。" in line
    english_line = audit.job_line("failed", job(failure_reason="It broke."), by=None, at=1065)
    assert english_line.startswith("<t:1065:f> · Video #7 ❌ failed in <#5>: ")


def test_english_is_the_source_and_unchanged():
    assert english(Plural("{n} rule", "{n} rules", n=1)) == "1 rule"
    assert str(Text("Video #{id}", id=3)) == "Video #3"
    assert tr(None, "{hours}h {minutes:02d}m", hours=1, minutes=5) == "1h 05m"


def test_a_catalogue_is_read_with_plurals_and_contexts_and_without_fuzzy_entries(tmp_path, monkeypatch):
    po = tmp_path / "xx" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        'msgid "Cancel"\nmsgstr "Annuler"\n\n'
        '#, fuzzy\nmsgid "Remix"\nmsgstr "Unreviewed guess"\n\n'
        'msgid "{n} video"\nmsgid_plural "{n} videos"\nmsgstr[0] "{n} vidéo"\nmsgstr[1] "{n} vidéos"\n\n'
        'msgctxt "command name"\nmsgid "video"\nmsgstr "vidéo"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    found = i18n.translations.__wrapped__("xx")
    assert found.gettext("Cancel") == "Annuler"
    assert found.gettext("Remix") == "Remix"  # fuzzy: the English text instead
    assert [found.ngettext("{n} video", "{n} videos", n) for n in (0, 1, 2)] == ["{n} vidéo"] * 2 + [
        "{n} vidéos"
    ]
    assert found.pgettext("command name", "video") == "vidéo"
