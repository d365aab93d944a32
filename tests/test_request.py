"""One definition of a job's request: every field survives from the command to the relay payload,
through the store, Reroll and Remix; a field declared with an option becomes a `/video` option."""

from __future__ import annotations

import dataclasses

import discord
from discord import app_commands
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.model import Job, JobState
from bot.relay.request import RELAY_NAMES, REQUEST_FIELDS, Option, VideoRequest, request_of
from bot.rules.guild_settings import GuildSettings
from bot.rules.intake import Intake, JobRequest
from bot.rules.validation import AttachmentInfo
from bot.settings import load_settings
from bot.storage.store import Store
from cogs.video.options import request_values, with_request_options

ENV = {"DISCORD_TOKEN": "t", "VIDEO_API_KEY": "k", "MAX_WAITING_PER_MEMBER": "99"}


async def _stored(intake: Intake, request: JobRequest):
    return await intake.store.add_job(
        guild_id=1, channel_id=2, user_id=3, state=JobState.PENDING, **request.job_fields()
    )


@settings(max_examples=30, deadline=None)
@given(
    prompt=st.from_regex(r"[a-z牛 ]{0,20}[a-z牛]", fullmatch=True),
    shape=st.sampled_from(["landscape", "portrait"]),
    duration=st.sampled_from([4, 6, 8]),
    images=st.integers(0, 3),
)
async def test_every_field_survives_from_the_command_to_the_payload_and_through_reroll_and_remix(
    prompt, shape, duration, images
):
    async with Store.open(":memory:") as store:
        intake = Intake(load_settings(ENV, dotenv=False), store)
        attachments = tuple(
            AttachmentInfo(f"{i}.png", 10, "image/png", f"https://cdn.test/{i}.png") for i in range(images)
        )
        request = intake.new_request(
            GuildSettings(), prompt=prompt, shape=shape, duration=duration, attachments=attachments
        )
        job = await _stored(intake, request)
        sent = request_of(job).payload()
        # Every declared field reaches the relay as the member gave it.
        for name in REQUEST_FIELDS:
            want = getattr(request, name)
            assert sent[RELAY_NAMES.get(name, name)] == (list(want) if isinstance(want, tuple) else want)
        # Reroll: the same request again, through the store.
        reroll = await _stored(intake, JobRequest.from_job(job))
        assert request_of(reroll) == request_of(job)
        # Remix: only the prompt changes; Upscale: only the upsample flag.
        remix = await _stored(intake, JobRequest.from_job(job, prompt="something else"))
        assert request_of(remix) == dataclasses.replace(request_of(job), prompt="something else")
        upscale = JobRequest.from_job(job, enable_upsample=True)
        assert request_of(upscale) == dataclasses.replace(request_of(job), enable_upsample=True)


def test_a_field_with_an_option_becomes_a_video_option_and_reaches_the_request():
    # A request field declared with an Option (as a `negative_prompt` would be in bot/relay/request.py).
    derived = [("negative_prompt", Option("negative_prompt", "What the video must not show", 500), str)]

    class Cog:
        async def video(self, interaction: discord.Interaction, prompt: str, **extra) -> None:
            raise AssertionError("not called")

    command = app_commands.command(name="video")(with_request_options(Cog.video, derived))
    options = {p.name: p for p in command.parameters}
    assert list(options) == ["prompt", "negative_prompt"]
    assert not options["negative_prompt"].required
    assert options["negative_prompt"].max_value == 500  # discord.py keeps a text's max_length here
    assert options["negative_prompt"].description == "What the video must not show"
    assert request_values({"negative_prompt": "rain"}, derived) == {"negative_prompt": "rain"}
    assert request_values({"negative_prompt": None}, derived) == {}


async def test_rows_written_before_a_field_existed_read_as_its_default():
    async with Store.open(":memory:") as store:
        job = await store.add_job(
            guild_id=1,
            channel_id=2,
            user_id=3,
            state=JobState.PENDING,
            **VideoRequest(prompt="p", model="veo3.1-fast").columns(),
        )
        store.db.execute("update jobs set duration = null, enable_upsample = null where id = ?", [job.id])
        row = next(store.db.query("select * from jobs where id = ?", [job.id]))
    read = Job.from_row(row)
    assert (read.duration, read.enable_upsample) == (8, False)


async def test_the_store_has_a_column_for_every_request_field():
    async with Store.open(":memory:") as store:
        columns = {c.name for c in store.db.table("jobs").columns}
    assert set(REQUEST_FIELDS) <= columns
