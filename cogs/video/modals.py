"""The modals of a video job: Remix (prefilled with the parent's prompt) and the prompt asked
for by "Make a video". They hand the text back to the cog, which checks and starts the job."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.errors import BotError
from bot.store import Job
from cogs.errors import reply_privately

if TYPE_CHECKING:
    from cogs.video.cog import VideoCog

log = logging.getLogger(__name__)


class RemixModal(discord.ui.Modal, title="Remix this video"):
    """The parent's prompt, prefilled, to change before sending a new job with its settings."""

    def __init__(self, cog: VideoCog, parent: Job) -> None:
        super().__init__(custom_id=f"video:remix-modal:{parent.id}", timeout=900)
        self.cog = cog
        self.parent = parent
        self.prompt: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
            label="Prompt",
            style=discord.TextStyle.paragraph,
            default=parent.prompt[:4000],
            max_length=min(4000, cog.settings.max_prompt_length),
            custom_id="prompt",
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.remix(interaction, self.parent, self.prompt.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        await _modal_error(interaction, error)


class PromptModal(discord.ui.Modal, title="Make a video from these images"):
    def __init__(self, cog: VideoCog, images: list[discord.Attachment], model: str) -> None:
        super().__init__(timeout=900)
        self.cog = cog
        self.images = images
        self.model = model
        self.prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label="Prompt",
            style=discord.TextStyle.paragraph,
            placeholder="What should happen in the video?",
            max_length=min(4000, cog.settings.max_prompt_length),
            custom_id="prompt",
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.make_video(interaction, self.images, self.model, self.prompt.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        await _modal_error(interaction, error)


async def _modal_error(interaction: discord.Interaction, error: Exception) -> None:
    if isinstance(error, BotError):
        await reply_privately(interaction, error.user_message)
        return
    log.error("a modal failed", exc_info=error)
    await reply_privately(interaction, "Something went wrong on the bot's side; it has been logged.")
