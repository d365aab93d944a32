"""Persistent components of a job message. Custom ids carry the job id, so they work after a restart."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from bot.app.answers import answering_errors, reply_privately
from bot.errors import PermissionDenied
from bot.jobs.model import Job, JobState
from bot.texts.i18n import Text, tr
from cogs.video.buttons import ACTIONS, CUSTOM_ID, Handlers, Who, custom_id


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """Every button of the table (`cogs.video.buttons.ACTIONS`), persistent: the custom id
    carries the action and the job, so a press reaches its handler after a restart too.

    The handlers are the video feature's (`serve`, from its cog's load; like discord.py's own
    `add_dynamic_items`, registration is per class)."""

    handlers: ClassVar[Handlers | None] = None

    def __init__(self, action: str, job_id: int, locale: object = None) -> None:
        super().__init__(_button(action, job_id, locale))
        self.action = action
        self.job_id = job_id

    @classmethod
    def serve(cls, handlers: Handlers | None) -> None:
        cls.handlers = handlers

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.handlers is None:
            await reply_privately(interaction, Text("The video feature is not loaded."))
            return
        await answering_errors(interaction, dispatch(self.handlers, interaction, self.action, self.job_id))


async def dispatch(handlers: Handlers, interaction: discord.Interaction, name: str, job_id: int) -> None:
    """A press of `name` on job `job_id`: the job (in this server), who may press, the handler."""
    action = ACTIONS[name]
    job = await handlers.job(interaction, job_id)
    if action.who is Who.ASKER:
        if interaction.user.id != job.user_id and not interaction.permissions.manage_messages:
            assert action.refusal is not None  # (Action requires one for Who.ASKER)
            raise PermissionDenied(action.refusal)
    elif action.who is Who.APPROVER:
        await handlers.check_approver(interaction, job)
    await action.handle(handlers, interaction, job)


def _button(action: str, job_id: int, locale: object) -> discord.ui.Button[Any]:
    spec = ACTIONS[action]
    return discord.ui.Button(
        label=tr(locale, spec.label),
        style=discord.ButtonStyle[spec.style],
        emoji=spec.emoji,
        custom_id=custom_id(action, job_id),
    )


def _payload(action: str, job_id: int, locale: object) -> dict[str, Any]:
    """`_button(...).to_component_dict()`, without building the Button."""
    spec = ACTIONS[action]
    return {
        "type": 2,
        "style": STYLE_VALUES[spec.style],
        "disabled": False,
        "label": tr(locale, spec.label),
        "custom_id": custom_id(action, job_id),
        "emoji": {"id": None, "name": spec.emoji},
    }


STYLE_VALUES = {a.style: discord.ButtonStyle[a.style].value for a in ACTIONS.values()}


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
            view.add_item(ActionButton(action, self.job_id, self.locale))
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
        and job.shape == "landscape"
        and not (job.enable_upsample)
    ):
        actions.append("upscale")
    if job.state in (JobState.SUCCEEDED, JobState.DELIVERED):
        actions.append("save")
    actions.append("delete")
    return Buttons(job.id, actions, locale or job.locale)


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ActionButton,)
