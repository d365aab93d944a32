"""What the buttons on a job message do: Reroll, Upscale, Remix (through its modal), Delete, Cancel.

Each checks through `bot.rules.intake` like `/video` does, defers before any network call (Discord
wants an answer within 3 seconds), and answers errors through the one error path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from bot.app.acks import defer_publicly
from bot.errors import InputError, JobNotFound
from bot.jobs.model import Job, JobState
from bot.rules.intake import JobRequest
from bot.rules.library import NAME_LIMIT
from bot.storage.queries import DELETED_NOTE
from bot.texts.formatting import inert
from bot.texts.i18n import Text, tr
from cogs.common.audit import audit_job
from cogs.video.inputs import member_of, reference_files
from cogs.video.modals import RemixModal, SaveModal
from cogs.video.views import confirm_delete_view

if TYPE_CHECKING:
    from bot.app.client import VideoBot
    from cogs.video.approval import Approvals
    from cogs.video.messages import JobMessages
    from cogs.video.starting import JobStarter


class JobActions:
    """What a press of a job's button does (`cogs.video.buttons.Handlers`); `views.dispatch`
    found the job and checked who pressed before any of these runs."""

    def __init__(
        self, bot: VideoBot, starter: JobStarter, messages: JobMessages, approvals: Approvals
    ) -> None:
        self.bot = bot
        self.intake = bot.intake
        self.tracker = bot.tracker
        self.starter = starter
        self.messages = messages
        self.approvals = approvals
        # Jobs whose delete is under way: a second confirmation pressed meanwhile must not
        # delete (and audit) again before the first has written its note.
        self._deleting: set[int] = set()

    async def job(self, interaction: discord.Interaction, job_id: int) -> Job:
        job = await self.bot.store.get(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            raise JobNotFound()
        return job

    async def check_approver(self, interaction: discord.Interaction, job: Job) -> None:
        await self.approvals.check_approver(interaction, job)

    async def decide(self, interaction: discord.Interaction, job: Job, verdict: str) -> None:
        await self.approvals.decide(interaction, job, verdict)

    async def build(self, interaction: discord.Interaction, job: Job, action: str) -> None:
        """Reroll or Upscale: the parent's request again (upsampled), checked as `/video` is."""
        member = member_of(interaction)
        rules = await self.intake.rules(member.guild_id, member.scope)
        request = JobRequest.from_job(job, enable_upsample=job.enable_upsample or action == "upscale")
        await self.intake.check(member, rules, request)
        await defer_publicly(interaction)
        request = replace(request, files=await reference_files(self.bot, job, interaction.message))
        await self.starter.start(interaction, member, rules, request, parent=job, origin=action)

    async def remix(self, interaction: discord.Interaction, job: Job) -> None:
        """Open the Remix modal, the parent's prompt prefilled."""
        member = member_of(interaction)
        await self.intake.check_remix(member, await self.intake.rules(member.guild_id, member.scope), job)
        await interaction.response.send_modal(
            RemixModal(
                lambda sent, prompt: self.remix_submitted(sent, job, prompt),
                job,
                self.bot.settings.max_prompt_length,
                interaction.locale,
            )
        )

    async def remix_submitted(self, interaction: discord.Interaction, parent: Job, prompt: str) -> None:
        """The Remix modal was sent: a new job with the parent's settings and the new prompt."""
        member = member_of(interaction)
        rules = await self.intake.rules(member.guild_id, member.scope)
        request = JobRequest.from_job(parent, prompt=self.intake.clean_prompt(prompt))
        await self.intake.check(member, rules, request)
        await defer_publicly(interaction)
        request = replace(request, files=await reference_files(self.bot, parent, interaction.message))
        await self.starter.start(interaction, member, rules, request, parent=parent, origin="remix")

    async def save_prompt(self, interaction: discord.Interaction, job: Job) -> None:
        """Save prompt: ask for the name it goes into the library under."""
        await interaction.response.send_modal(
            SaveModal(lambda sent, name: self.saved(sent, job, name), NAME_LIMIT, interaction.locale)
        )

    async def saved(self, interaction: discord.Interaction, job: Job, name: str) -> None:
        member = member_of(interaction)
        entry = await self.intake.library.save(
            member,
            await self.intake.rules(member.guild_id, member.scope),
            name=name,
            prompt=job.prompt,
            author_name=interaction.user.display_name,
            job_id=job.id,
        )
        await interaction.response.send_message(
            tr(
                interaction.locale,
                "Saved the prompt of video #{id} as {name}: `/video from_library:` finds it.",
                id=job.id,
                name=inert(entry.name),
            ),
            ephemeral=True,
        )

    async def ask_delete(self, interaction: discord.Interaction, job: Job) -> None:
        """Deleting a finished video cannot be undone: ask the member first, privately."""
        if job.id in self._deleting or await self.bot.store.deleted([job.id]):
            raise self._gone(job)
        await interaction.response.send_message(
            tr(
                interaction.locale,
                "Delete video #{id}? The message and its video go for everyone; this cannot be undone.",
                id=job.id,
            ),
            view=confirm_delete_view(job.id, interaction.locale),
            ephemeral=True,
        )

    @staticmethod
    def _gone(job: Job) -> InputError:
        return InputError(Text("Video #{id} is already deleted.", id=job.id))

    async def delete(self, interaction: discord.Interaction, job: Job) -> None:
        """The member confirmed. The confirmation is one-shot: its button goes at once, and a
        stale one pressed later (or a second confirmation) answers that the video is gone,
        with no second delete request or audit line.

        The job is claimed first (`_deleting`, checked and taken with no await between), and
        only then is the store asked whether an earlier delete finished: reading the store
        first and claiming after would let a second confirmation pass the read while the
        first awaits it. The claim is this process's: a job's buttons reach only the process
        that runs its server's shard (`bot.jobs.owner`)."""
        if job.id in self._deleting:
            raise self._gone(job)
        self._deleting.add(job.id)
        try:
            if await self.bot.store.deleted([job.id]):
                raise self._gone(job)
            await interaction.response.edit_message(
                content=tr(interaction.locale, "Deleting video #{id}…", id=job.id), view=None
            )
            if not await self.messages.delete_job_message(job):
                raise InputError(
                    Text(
                        "Where the bot is only installed on your account, a video can be deleted for "
                        "the first 14 minutes only; delete the message yourself, or ask the server's "
                        "moderators."
                    )
                )
            await self.bot.store.note(job.id, f"{DELETED_NOTE} {interaction.user.id}")
        finally:
            self._deleting.discard(job.id)
        await interaction.followup.send(
            tr(interaction.locale, "Deleted video #{id}.", id=job.id), ephemeral=True
        )
        await audit_job(self.bot, "deleted", job, by=interaction.user.id)

    async def cancel(self, interaction: discord.Interaction, job: Job) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        cancelled = await self.tracker.cancel(job.id, by_user=interaction.user.id)
        locale = interaction.locale
        if cancelled is None:
            text = tr(locale, "This job has already finished.")
        elif cancelled.submitted_at is None:
            text = tr(locale, "Cancelled before it was sent; nothing was billed.")
        else:
            text = tr(locale, "Cancelled. It had already been sent, so it may still be billed.")
        await interaction.followup.send(text, ephemeral=True)
        if cancelled is not None and job.state is JobState.AWAITING_APPROVAL:
            # The approval request is public: the server's language.
            outcome = tr(
                cancelled.locale, "🚫 Cancelled by <@{user}> before a decision.", user=interaction.user.id
            )
            await self.approvals.close(cancelled, outcome)
