"""Every button the bot puts under a message, declared once.

An `Action` says how its button looks (label, emoji, style), who may press it, what handles
a press, and, for the actions that make a new job from an old one, how that job's lineage
reads ("Reroll of #12"). From this table come the custom ids (`video:<action>:<job id>`), the
one persistent item that receives every press and its dispatch (`cogs.video.views`), and the
lineage field of the job message (`cogs.video.render`). Adding a button is one entry here and
the handler it names.

Pure data (no discord import), so the renderer can read it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.texts.i18n import N_, Text

if TYPE_CHECKING:
    import discord

    from bot.jobs.model import Job


class Who(StrEnum):
    """Who may press a button. Checked before the handler runs (`views.dispatch`)."""

    # Anyone who may ask for a video here: the intake's checks, made by the handler with the
    # request it builds, decide.
    ANYONE = "anyone"
    # The member who asked for the job, or a member with Manage Messages.
    ASKER = "asker"
    # A member with Manage Messages or one of the server's approver roles.
    APPROVER = "approver"


class Handlers(Protocol):
    """What handles presses (`cogs.video.actions.JobActions` and `cogs.video.approval.Approvals`,
    brought together by the cog): one method per kind of press, each given the job pressed on."""

    async def job(self, interaction: discord.Interaction, job_id: int) -> Job: ...
    async def check_approver(self, interaction: discord.Interaction, job: Job) -> None: ...
    async def build(self, interaction: discord.Interaction, job: Job, action: str) -> None: ...
    async def remix(self, interaction: discord.Interaction, job: Job) -> None: ...
    async def save_prompt(self, interaction: discord.Interaction, job: Job) -> None: ...
    async def ask_delete(self, interaction: discord.Interaction, job: Job) -> None: ...
    async def delete(self, interaction: discord.Interaction, job: Job) -> None: ...
    async def cancel(self, interaction: discord.Interaction, job: Job) -> None: ...
    async def decide(self, interaction: discord.Interaction, job: Job, verdict: str) -> None: ...


Handle = Callable[[Handlers, "discord.Interaction", "Job"], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    name: str  # the custom id's middle part; stored as a job's origin for the ones that build
    label: str  # a msgid (N_), shown in the message's language
    emoji: str
    style: str  # a discord.ButtonStyle name
    who: Who
    handle: Handle
    # For an action that makes a new job: how the new job names its parent ("Reroll of #12").
    lineage: str | None = None
    # For Who.ASKER: what a member who may not press it reads.
    refusal: Text | None = None

    def __post_init__(self) -> None:
        if self.who is Who.ASKER and self.refusal is None:
            raise ValueError(f"button {self.name!r}: who may not press it needs a refusal text")


NOT_YOURS_TO_DELETE = Text(
    "Only the member who asked for this video, or a member with Manage Messages, can delete it."
)


def _build(action: str) -> Handle:
    return lambda h, interaction, job: h.build(interaction, job, action)


def _decide(verdict: str) -> Handle:
    return lambda h, interaction, job: h.decide(interaction, job, verdict)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "reroll", N_("Reroll"), "🎲", "secondary", Who.ANYONE, _build("reroll"), N_("Reroll of {job}")
        ),
        Action(
            "remix",
            N_("Remix"),
            "✏️",
            "secondary",
            Who.ANYONE,
            lambda h, interaction, job: h.remix(interaction, job),
            N_("Remix of {job}"),
        ),
        Action(
            "upscale", N_("Upscale"), "🔍", "secondary", Who.ANYONE, _build("upscale"), N_("Upscale of {job}")
        ),
        # Its prompt into the library (`cogs.video.library`), under a name asked for in a modal.
        Action(
            "save",
            N_("Save prompt"),
            "📚",
            "secondary",
            Who.ANYONE,
            lambda h, interaction, job: h.save_prompt(interaction, job),
        ),
        Action(
            "delete",
            N_("Delete"),
            "🗑️",
            "danger",
            Who.ASKER,
            lambda h, interaction, job: h.ask_delete(interaction, job),
            refusal=NOT_YOURS_TO_DELETE,
        ),
        # On the private "are you sure?" that Delete answers with.
        Action(
            "confirm-delete",
            N_("Yes, delete it"),
            "🗑️",
            "danger",
            Who.ASKER,
            lambda h, interaction, job: h.delete(interaction, job),
            refusal=NOT_YOURS_TO_DELETE,
        ),
        Action(
            "cancel",
            N_("Cancel"),
            "✖️",
            "secondary",
            Who.ASKER,
            lambda h, interaction, job: h.cancel(interaction, job),
            refusal=Text(
                "Only the member who asked for this video, or a member with Manage Messages, can cancel it."
            ),
        ),
        Action("approve", N_("Approve"), "✅", "success", Who.APPROVER, _decide("approve")),
        Action("reject", N_("Reject"), "⛔", "danger", Who.APPROVER, _decide("reject")),
    )
}

# The custom id of every button: `video:<action>:<job id>`.
CUSTOM_ID = r"video:(?P<action>{actions}):(?P<job>\d+)".format(
    actions="|".join(name.replace("-", r"\-") for name in ACTIONS)
)


def custom_id(action: str, job_id: int) -> str:
    return f"video:{ACTIONS[action].name}:{job_id}"


def lineage(origin: str) -> str | None:
    """The msgid that names a job's parent for a job made by `origin` ("Reroll of {job}")."""
    action = ACTIONS.get(origin)
    return action.lineage if action else None
