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
        super().__init__(_button("cancel", job_id, locale))
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


# How each button looks; its custom id is `video:<action>:<job id>`.
BUTTONS = {
    "reroll": (N_("Reroll"), "🎲", discord.ButtonStyle.secondary),
    "remix": (N_("Remix"), "✏️", discord.ButtonStyle.secondary),
    "upscale": (N_("Upscale"), "🔍", discord.ButtonStyle.secondary),
    "delete": (N_("Delete"), "🗑️", discord.ButtonStyle.danger),
    # On the private "are you sure?" that Delete answers with.
    "confirm-delete": (N_("Yes, delete it"), "🗑️", discord.ButtonStyle.danger),
    "cancel": (N_("Cancel"), "✖️", discord.ButtonStyle.secondary),
    "approve": (N_("Approve"), "✅", discord.ButtonStyle.success),
    "reject": (N_("Reject"), "⛔", discord.ButtonStyle.danger),
}


def _button(action: str, job_id: int, locale: object) -> discord.ui.Button[Any]:
    label, emoji, style = BUTTONS[action]
    return discord.ui.Button(
        label=tr(locale, label), style=style, emoji=emoji, custom_id=f"video:{action}:{job_id}"
    )


def _payload(action: str, job_id: int, locale: object) -> dict[str, Any]:
    """`_button(...).to_component_dict()`, without building the Button."""
    label, emoji, style = BUTTONS[action]
    return {
        "type": 2,
        "style": style.value,
        "disabled": False,
        "label": tr(locale, label),
        "custom_id": f"video:{action}:{job_id}",
        "emoji": {"id": None, "name": emoji},
    }


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:(?P<action>reroll|remix|upscale|delete|confirm-delete):(?P<job>\d+)",
):
    """A button on a finished job; `VideoCog.job_button` handles every action."""

    def __init__(self, action: str, job_id: int, locale: object = None) -> None:
        super().__init__(_button(action, job_id, locale))
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
        super().__init__(_button(verdict, job_id, locale))
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


class Buttons:
    """A job message's buttons as data. The requests the bot sends itself
    (`sender.edit_unread`, `respond_unread`) take it as it is and read `to_components()`, a few
    dicts; discord.py's own send and edit need `view()`, a `discord.ui.View` of the persistent
    items — a DynamicItem, a Button and their checks per button, which a burst of a thousand
    jobs, each rendered several times, feels (docs/performance.md)."""

    __slots__ = ("actions", "job_id", "locale")

    def __init__(self, job_id: int, actions: list[str], locale: object) -> None:
        self.job_id = job_id
        self.actions = actions
        self.locale = locale

    def to_components(self) -> list[dict[str, Any]]:
        buttons = [_payload(action, self.job_id, self.locale) for action in self.actions]
        return [{"type": 1, "components": buttons[i : i + 5]} for i in range(0, len(buttons), 5)]

    def has_components_v2(self) -> bool:
        return False

    def view(self) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        for action in self.actions:
            if action == "cancel":
                view.add_item(CancelButton(self.job_id, self.locale))
            elif action in ("approve", "reject"):
                view.add_item(DecisionButton(action, self.job_id, self.locale))
            else:
                view.add_item(JobButton(action, self.job_id, self.locale))
        return view


def as_view(buttons: Buttons | None) -> discord.ui.View | None:
    return buttons.view() if buttons is not None else None


def confirm_delete_view(job_id: int, locale: object = None) -> discord.ui.View:
    return Buttons(job_id, ["confirm-delete"], locale).view()


def decision_view(job_id: int, locale: object = None) -> discord.ui.View:
    return Buttons(job_id, ["approve", "reject"], locale).view()


def job_view(
    job_id: int, *, cancellable: bool, decidable: bool = False, locale: object = None
) -> Buttons | None:
    """Cancel while the job runs; Approve and Reject too when moderators decide on this message.
    Labels in `locale`: the job message's language, its server's."""
    if not cancellable:
        return None
    return Buttons(job_id, ["approve", "reject", "cancel"] if decidable else ["cancel"], locale)


def finished_view(job: Job, locale: object = None) -> Buttons:
    """Buttons under a finished job: build on it, or remove it. Labels in `locale`, by default
    the job's (its server's language)."""
    actions = []
    # The same prompt would be refused again (and could spend quota): only Remix can help.
    refused = job.state is JobState.REJECTED or job.failure_kind == "content_policy"
    if not refused:
        actions.append("reroll")
    actions.append("remix")
    if (
        job.state in (JobState.SUCCEEDED, JobState.DELIVERED)
        and job.orientation == "landscape"
        and not (job.enable_upsample)
    ):
        actions.append("upscale")
    actions.append("delete")
    return Buttons(job.id, actions, locale or job.locale)


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (CancelButton, JobButton, DecisionButton)
