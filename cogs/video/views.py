"""Persistent components of a job message. Custom ids carry the job id, so they work after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.answers import reply_privately
from bot.i18n import N_, Text, tr
from bot.jobs import Job, JobState

if TYPE_CHECKING:
    from cogs.video.cog import VideoCog


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"video:cancel:(?P<job>\d+)"):
    def __init__(self, job_id: int, locale: object = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=tr(locale, "Cancel"),
                style=discord.ButtonStyle.secondary,
                custom_id=f"video:cancel:{job_id}",
                emoji="✖️",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = await _video_cog(interaction)
        if cog is None:
            return
        await cog.cancel_from_button(interaction, self.job_id)


async def _video_cog(interaction: discord.Interaction) -> VideoCog | None:
    cog: VideoCog | None = interaction.client.get_cog("Video")  # type: ignore[attr-defined]
    if cog is None:
        await reply_privately(interaction, Text("The video feature is not loaded."))
    return cog


BUTTONS = {
    "reroll": (N_("Reroll"), "🎲", discord.ButtonStyle.secondary),
    "remix": (N_("Remix"), "✏️", discord.ButtonStyle.secondary),
    "upscale": (N_("Upscale"), "🔍", discord.ButtonStyle.secondary),
    "delete": (N_("Delete"), "🗑️", discord.ButtonStyle.danger),
    # On the private "are you sure?" that Delete answers with.
    "confirm-delete": (N_("Yes, delete it"), "🗑️", discord.ButtonStyle.danger),
}


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:(?P<action>reroll|remix|upscale|delete|confirm-delete):(?P<job>\d+)",
):
    """A button on a finished job; `VideoCog.job_button` handles every action."""

    def __init__(self, action: str, job_id: int, locale: object = None) -> None:
        label, emoji, style = BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                label=tr(locale, label), style=style, emoji=emoji, custom_id=f"video:{action}:{job_id}"
            )
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> JobButton:
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = await _video_cog(interaction)
        if cog is None:
            return
        await cog.job_button(interaction, self.action, self.job_id)


class DecisionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:(?P<verdict>approve|reject):(?P<job>\d+)",
):
    """Approve or Reject on a job waiting in a moderated channel; `VideoCog.decide` handles both."""

    def __init__(self, verdict: str, job_id: int, locale: object = None) -> None:
        approve = verdict == "approve"
        super().__init__(
            discord.ui.Button(
                label=tr(locale, "Approve") if approve else tr(locale, "Reject"),
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                emoji="✅" if approve else "⛔",
                custom_id=f"video:{verdict}:{job_id}",
            )
        )
        self.verdict = verdict
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DecisionButton:
        return cls(match["verdict"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = await _video_cog(interaction)
        if cog is None:
            return
        await cog.decide(interaction, self.verdict, self.job_id)


def confirm_delete_view(job_id: int, locale: object = None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(JobButton("confirm-delete", job_id, locale))
    return view


def decision_view(job_id: int, locale: object = None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DecisionButton("approve", job_id, locale))
    view.add_item(DecisionButton("reject", job_id, locale))
    return view


def job_view(
    job_id: int, *, cancellable: bool, decidable: bool = False, locale: object = None
) -> discord.ui.View | None:
    """Cancel while the job runs; Approve and Reject too when moderators decide on this message.
    Labels in `locale`: the job message's language, its server's."""
    if not cancellable:
        return None
    view = decision_view(job_id, locale) if decidable else discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id, locale))
    return view


def finished_view(job: Job, locale: object = None) -> discord.ui.View:
    """Buttons under a finished job: build on it, or remove it. Labels in `locale`, by default
    the job's (its server's language)."""
    locale = locale or job.locale
    view = discord.ui.View(timeout=None)
    # The same prompt would be refused again (and could spend quota): only Remix can help.
    refused = job.state is JobState.REJECTED or job.failure_kind == "content_policy"
    if not refused:
        view.add_item(JobButton("reroll", job.id, locale))
    view.add_item(JobButton("remix", job.id, locale))
    if (
        job.state in (JobState.SUCCEEDED, JobState.DELIVERED)
        and job.orientation == "landscape"
        and not (job.enable_upsample)
    ):
        view.add_item(JobButton("upscale", job.id, locale))
    view.add_item(JobButton("delete", job.id, locale))
    return view


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (CancelButton, JobButton, DecisionButton)
