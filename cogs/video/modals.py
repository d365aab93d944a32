"""The modals of a video job: Remix (prefilled with the parent's prompt) and the prompt asked
for by "Make a video"; the library's: the name a prompt is saved under, and Remix from an entry.
They hand the text back to whoever opened them, which checks and starts
the job; errors take the one error path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.app.answers import report_error
from bot.jobs.model import Job
from bot.texts.i18n import tr

# What a sent modal hands its text to (the opener's method): the interaction and the prompt.
Submit = Callable[[discord.Interaction, str], Awaitable[None]]

MODAL_TEXT_LIMIT = 4000  # Discord's limit for a text input


class JobModal(discord.ui.Modal):
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error)


class RemixModal(JobModal, title="Remix this video"):
    """The parent's prompt, prefilled, to change before sending a new job with its settings."""

    def __init__(self, submit: Submit, parent: Job, max_prompt_length: int, locale: object = None) -> None:
        # In the language of the member who opens it.
        super().__init__(
            title=tr(locale, "Remix this video"), custom_id=f"video:remix-modal:{parent.id}", timeout=900
        )
        self.submit = submit
        self.parent = parent
        self.prompt: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
            label=tr(locale, "Prompt"),
            style=discord.TextStyle.paragraph,
            default=parent.prompt[:MODAL_TEXT_LIMIT],
            max_length=min(MODAL_TEXT_LIMIT, max_prompt_length),
            custom_id="prompt",
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.submit(interaction, self.prompt.value)


class PromptModal(JobModal, title="Make a video from these images"):
    def __init__(
        self,
        submit: Submit,
        max_prompt_length: int,
        locale: object = None,
    ) -> None:
        super().__init__(title=tr(locale, "Make a video from these images"), timeout=900)
        self.submit = submit
        self.prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label=tr(locale, "Prompt"),
            style=discord.TextStyle.paragraph,
            placeholder=tr(locale, "What should happen in the video?"),
            max_length=min(MODAL_TEXT_LIMIT, max_prompt_length),
            custom_id="prompt",
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.submit(interaction, self.prompt.value)


class SaveModal(JobModal, title="Save this prompt"):
    """The name a video's prompt is saved under in the library."""

    def __init__(self, submit: Submit, name_limit: int, locale: object = None) -> None:
        super().__init__(title=tr(locale, "Save this prompt"), timeout=900)
        self.submit = submit
        self.name: discord.ui.TextInput[SaveModal] = discord.ui.TextInput(
            label=tr(locale, "Name"),
            placeholder=tr(locale, "A short name to find it by"),
            max_length=name_limit,
            custom_id="name",
        )
        self.add_item(self.name)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.submit(interaction, self.name.value)


class EntryRemixModal(JobModal, title="Remix from the library"):
    """A library entry's prompt, prefilled, to change before a new video is made from it."""

    def __init__(self, submit: Submit, prompt: str, max_prompt_length: int, locale: object = None) -> None:
        super().__init__(title=tr(locale, "Remix from the library"), timeout=900)
        self.submit = submit
        self.prompt: discord.ui.TextInput[EntryRemixModal] = discord.ui.TextInput(
            label=tr(locale, "Prompt"),
            style=discord.TextStyle.paragraph,
            default=prompt[:MODAL_TEXT_LIMIT],
            max_length=min(MODAL_TEXT_LIMIT, max_prompt_length),
            custom_id="prompt",
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.submit(interaction, self.prompt.value)
