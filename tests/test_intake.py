"""Intake: the checks every way of asking for a video goes through, on a real store."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InputError, PermissionDenied, QuotaExceeded
from bot.jobs.model import JobState
from bot.rules.guild_settings import GuildSettings
from bot.rules.intake import Intake, JobRequest, Member
from bot.rules.validation import AttachmentInfo
from bot.settings import load_settings
from bot.storage.store import Store

ENV = {"DISCORD_TOKEN": "t", "VIDEO_API_KEY": "k", "MAX_WAITING_PER_MEMBER": "2"}
ALICE = Member(user_id=1, guild_id=10, channel_id=100)
PNG = AttachmentInfo("a.png", 100, "image/png", "https://cdn.test/a.png")


@pytest.fixture
async def intake():
    async with Store.open(":memory:") as store:
        yield Intake(load_settings(ENV, dotenv=False), store)


async def add(intake: Intake, member: Member, state: JobState, **kw) -> None:
    request = JobRequest(prompt="p", model="veo3.1-fast", shape="landscape", duration=8)
    await intake.store.add_job(
        guild_id=member.guild_id,
        channel_id=member.channel_id,
        user_id=member.user_id,
        state=state,
        **{**request.job_fields(), **kw},
    )


def test_defaults_fill_a_bare_request(intake):
    request = intake.new_request(GuildSettings(), prompt="  a cow  ")
    assert request == JobRequest(prompt="a cow", model="veo3.1-fast", shape="landscape", duration=8)
    assert request.job_fields()["size"] == "1280x720" and request.job_fields()["aspect_ratio"] == "16:9"


def test_no_model_chosen_picks_one_that_takes_the_images(intake):
    request = intake.new_request(GuildSettings(), prompt="x", attachments=(PNG, PNG, PNG))
    assert request.model == "veo3.1-fast-components"
    assert intake.new_request(GuildSettings(), prompt="x", attachments=(PNG,)).model == "veo3.1-fast"


def test_a_chosen_model_that_takes_fewer_images_is_refused(intake):
    with pytest.raises(InputError, match="at most 1 image"):
        intake.new_request(GuildSettings(), prompt="x", model="veo3.1", attachments=(PNG, PNG))


async def test_the_waiting_cap_counts_queued_and_approval_jobs_for_every_path(intake):
    await add(intake, ALICE, JobState.PENDING)
    await add(intake, ALICE, JobState.AWAITING_APPROVAL)
    rules = GuildSettings()
    request = intake.new_request(rules, prompt="x")
    with pytest.raises(InputError, match="2 videos waiting"):
        await intake.check(ALICE, rules, request)  # /video, Reroll, Upscale, after a modal
    with pytest.raises(InputError, match="2 videos waiting"):
        await intake.check_asker(ALICE, rules)  # before the "Make a video" and Remix modals
    other = Member(user_id=2, guild_id=10, channel_id=100)
    await intake.check(other, rules, request)


async def test_a_used_up_quota_is_refused_before_anything_is_posted(intake):
    await add(intake, ALICE, JobState.QUEUED, task_id="t1")
    rules = GuildSettings(member_daily_quota=1)
    with pytest.raises(QuotaExceeded):
        await intake.check_asker(ALICE, rules)
    # The same check, handed to the store, refuses the insert itself.
    with pytest.raises(QuotaExceeded):
        await intake.store.add_job(
            check=intake.quota_check(ALICE, rules),
            channel_id=100,
            user_id=1,
            guild_id=10,
            **JobRequest(prompt="p", model="veo3.1-fast", shape="landscape", duration=8).job_fields(),
        )
    assert await intake.store.count_jobs(user_id=1) == 1


async def test_remixing_others_follows_the_server_rule(intake):
    await add(intake, ALICE, JobState.DELIVERED)
    parent = await intake.store.require(1)
    bob = Member(user_id=2, guild_id=10, channel_id=100)
    with pytest.raises(PermissionDenied):
        await intake.check_remix(bob, GuildSettings(allow_remix_others=False), parent)
    await intake.check_remix(ALICE, GuildSettings(allow_remix_others=False), parent)
    await intake.check_remix(bob, GuildSettings(), parent)


async def test_server_rules_apply_to_derived_jobs_too(intake):
    await add(intake, ALICE, JobState.DELIVERED)
    parent = await intake.store.require(1)
    rules = GuildSettings(allow_upsample=False, max_duration=6)
    upscale = JobRequest.from_job(parent, enable_upsample=True)
    with pytest.raises(InputError):
        await intake.check(ALICE, rules, upscale)
    assert JobRequest.from_job(parent, prompt="new").prompt == "new"


def test_moderated_channels_need_approval_except_for_moderators(intake):
    rules = GuildSettings(approval_channels=(100,), approver_roles=(7,))
    assert intake.needs_approval(ALICE, rules)
    assert not intake.needs_approval(Member(1, 10, 100, manage_messages=True), rules)
    assert not intake.needs_approval(Member(1, 10, 100, role_ids=frozenset({7})), rules)
    assert not intake.needs_approval(Member(1, 10, 101), rules)


@settings(max_examples=50, deadline=None)
@given(
    channel=st.sampled_from([100, 101]),
    roles=st.frozensets(st.sampled_from([5, 6]), max_size=2),
    admin=st.booleans(),
)
async def test_member_rules_decide_alike_for_every_path(channel, roles, admin):
    """`check` and `check_asker` (the paths with and without a prompt yet) never disagree."""
    async with Store.open(":memory:") as store:
        intake = Intake(load_settings(ENV, dotenv=False), store)
        rules = GuildSettings(allowed_channels=(100,), generator_roles=(5,))
        member = Member(user_id=1, guild_id=10, channel_id=channel, role_ids=roles, manage_guild=admin)
        outcomes = []
        for run in (
            lambda: intake.check_asker(member, rules),
            lambda: intake.check(member, rules, intake.new_request(rules, prompt="x")),
        ):
            try:
                await run()
                outcomes.append(True)
            except PermissionDenied:
                outcomes.append(False)
        allowed = admin or (channel == 100 and 5 in roles)
        assert outcomes == [allowed, allowed]


async def test_use_outside_servers_follows_the_owners_switch_and_user_quota(intake):
    """USER_DAILY_QUOTA: 0 turns DM and user-install use off; otherwise it is a daily count
    per user, whatever a server would allow."""
    dm = Member(user_id=1, guild_id=None, channel_id=5, scope="dm")
    off = Intake(load_settings({**ENV, "USER_DAILY_QUOTA": "0"}, dotenv=False), intake.store)
    with pytest.raises(PermissionDenied, match="turned off videos outside servers"):
        await off.check_asker(dm, GuildSettings())
    one = Intake(load_settings({**ENV, "USER_DAILY_QUOTA": "1"}, dotenv=False), intake.store)
    await one.check_asker(dm, GuildSettings())
    await add(intake, dm, JobState.QUEUED, task_id="t1", scope="dm")
    with pytest.raises(QuotaExceeded, match="outside servers"):
        await one.check_asker(dm, GuildSettings())
    # ... while a server that added the bot keeps its own (here: no) quota for the same member.
    await one.check_asker(Member(user_id=1, guild_id=10, channel_id=100), GuildSettings())


async def test_missing_bot_permissions_are_named_before_anything_is_spent(intake):
    member = Member(user_id=1, guild_id=10, channel_id=100, bot_missing=("Attach Files",))
    with pytest.raises(PermissionDenied, match="missing the Attach Files permission here"):
        await intake.check(member, GuildSettings(), intake.new_request(GuildSettings(), prompt="x"))
    assert await intake.store.count_jobs() == 0
