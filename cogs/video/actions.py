"""The buttons on a job message: Reroll, Upscale, Remix (through its modal), Delete and Cancel.

Each checks through `bot.intake` like `/video` does, defers before any network call (Discord
wants an answer within 3 seconds), and answers errors through the one error path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from bot.acks import defer_publicly
from bot.answers import answering_errors
from bot.errors import InputError, JobNotFound, PermissionDenied
from bot.i18n import Text, tr
from bot.intake import JobRequest
from bot.jobs import Job, JobState
from bot.store_queries import DELETED_NOTE
from cogs.audit import audit_job
from cogs.video.inputs import member_of, reference_files
from cogs.video.modals import RemixModal
from cogs.video.views import confirm_delete_view

if TYPE_CHECKING:
    from cogs.video.cog import VideoCog

NOT_YOURS = {
    "delete": Text(
        "Only the member who asked for this video, or a member with Manage Messages, can delete it."
    ),
    "cancel": Text(
        "Only the member who asked for this video, or a member with Manage Messages, can cancel it."
    ),
}


class JobActions:
    def __init__(self, cog: VideoCog) -> None:
        self.cog = cog
        self.bot = cog.bot
        self.intake = cog.intake
        # Jobs whose delete is under way: a second confirmation pressed meanwhile must not
        # delete (and audit) again before the first has written its note.
        self._deleting: set[int] = set()

    def _job(self, interaction: discord.Interaction, job_id: int) -> Job:
        job = self.bot.store.get(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            raise JobNotFound()
        return job

    async def job_button(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        await answering_errors(interaction, self._job_button(interaction, action, job_id))

    async def _job_button(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        job = self._job(interaction, job_id)
        if action == "delete":
            await self._ask_delete(interaction, job)
            return
        if action == "confirm-delete":
            await self._delete(interaction, job)
            return
        member = member_of(interaction)
        rules = self.intake.rules(member.guild_id, member.scope)
        if action == "remix":
            self.intake.check_remix(member, rules, job)
            await interaction.response.send_modal(
                RemixModal(self, job, self.cog.settings.max_prompt_length, interaction.locale)
            )
            return
        request = JobRequest.from_job(job, enable_upsample=job.enable_upsample or action == "upscale")
        self.intake.check(member, rules, request)
        await defer_publicly(interaction)
        request = replace(request, files=await reference_files(self.bot, job, interaction.message))
        await self.cog.start_job(interaction, member, rules, request, parent=job, origin=action)

    async def remix(self, interaction: discord.Interaction, parent: Job, prompt: str) -> None:
        """The Remix modal was sent: a new job with the parent's settings and the new prompt."""
        member = member_of(interaction)
        rules = self.intake.rules(member.guild_id, member.scope)
        request = JobRequest.from_job(parent, prompt=self.intake.clean_prompt(prompt))
        self.intake.check(member, rules, request)
        await defer_publicly(interaction)
        request = replace(request, files=await reference_files(self.bot, parent, interaction.message))
        await self.cog.start_job(interaction, member, rules, request, parent=parent, origin="remix")

    async def _ask_delete(self, interaction: discord.Interaction, job: Job) -> None:
        """Deleting a finished video cannot be undone: ask the member first, privately."""
        self._may_delete(interaction, job)
        self._not_deleted(job)
        await interaction.response.send_message(
            tr(
                interaction.locale,
                "Delete video #{id}? The message and its video go for everyone; this cannot be undone.",
                id=job.id,
            ),
            view=confirm_delete_view(job.id, interaction.locale),
            ephemeral=True,
        )

    def _may_delete(self, interaction: discord.Interaction, job: Job) -> None:
        if interaction.user.id != job.user_id and not interaction.permissions.manage_messages:
            raise PermissionDenied(NOT_YOURS["delete"])

    def _not_deleted(self, job: Job) -> None:
        if job.id in self._deleting or self.bot.store.deleted([job.id]):
            raise InputError(Text("Video #{id} is already deleted.", id=job.id))

    async def _delete(self, interaction: discord.Interaction, job: Job) -> None:
        """The member confirmed. The confirmation is one-shot: its button goes at once, and a
        stale one pressed later (or a second confirmation) answers that the video is gone,
        with no second delete request or audit line."""
        self._may_delete(interaction, job)
        self._not_deleted(job)
        self._deleting.add(job.id)
        try:
            await interaction.response.edit_message(
                content=tr(interaction.locale, "Deleting video #{id}…", id=job.id), view=None
            )
            if not await self.cog.messages.delete_job_message(job):
                raise InputError(
                    Text(
                        "Where the bot is only installed on your account, a video can be deleted for "
                        "the first 14 minutes only; delete the message yourself, or ask the server's "
                        "moderators."
                    )
                )
            self.bot.store.note(job.id, f"{DELETED_NOTE} {interaction.user.id}")
        finally:
            self._deleting.discard(job.id)
        await interaction.followup.send(
            tr(interaction.locale, "Deleted video #{id}.", id=job.id), ephemeral=True
        )
        await audit_job(self.bot, "deleted", job, by=interaction.user.id)

    async def cancel(self, interaction: discord.Interaction, job_id: int) -> None:
        await answering_errors(interaction, self._cancel(interaction, job_id))

    async def _cancel(self, interaction: discord.Interaction, job_id: int) -> None:
        job = self._job(interaction, job_id)
        if interaction.user.id != job.user_id and not interaction.permissions.manage_messages:
            raise PermissionDenied(NOT_YOURS["cancel"])
        await interaction.response.defer(ephemeral=True, thinking=True)
        cancelled = await self.cog.tracker.cancel(job_id, by_user=interaction.user.id)
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
            await self.cog.approvals.close(cancelled, outcome)
