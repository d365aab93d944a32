"""`/video` and "Make a video": Discord in and out for new jobs. The checks are `bot.rules.intake`'s,
the life cycle `bot.jobs.tracker`'s; the buttons on a job are `cogs.video.actions`'."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.discord_internals import limit_text_option
from bot.errors import InputError
from bot.relay.models import describe
from bot.rules.intake import Member
from bot.texts.i18n import Text, ntr
from cogs.video.actions import JobActions
from cogs.video.approval import Approvals
from cogs.video.inputs import (
    SHAPE_CHOICES,
    anywhere,
    attachment_info,
    member_of,
    scope_of,
)
from cogs.video.library import library_choices
from cogs.video.messages import JobMessages
from cogs.video.modals import PromptModal
from cogs.video.options import request_values, with_request_options
from cogs.video.starting import JobStarter
from cogs.video.views import PERSISTENT_ITEMS, ActionButton

if TYPE_CHECKING:
    from bot.app.client import VideoBot

log = logging.getLogger(__name__)

# Of Discord's 3 seconds to acknowledge a command, how long reading the images may take first.
IMAGES_BEFORE_DEFER = 2.0
# A refused answer is tried again only within those 3 seconds.
ANSWER_RETRIES = (0.5,)


class VideoCog(commands.Cog, name="Video"):
    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.intake = bot.intake
        self.tracker = bot.tracker
        # Built once, in dependency order, each handed what it uses.
        self.messages = JobMessages(bot, figures=bot.tracker)
        self.approvals = Approvals(bot, self.tracker, self.messages)
        self.starter = JobStarter(bot, self.messages, self.approvals)
        self.actions = JobActions(bot, self.starter, self.messages, self.approvals)
        self._menu = app_commands.ContextMenu(name="Make a video", callback=self.make_video_from_message)
        limit_text_option(self.video, "prompt", self.settings.max_prompt_length)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self._menu)
        # Buttons on job messages posted before this start keep working.
        ActionButton.serve(self.actions)
        self.bot.add_dynamic_items(*PERSISTENT_ITEMS)
        # Polling starts at once; delivery waits for the guild cache (see `JobMessages.finish`).
        await self.tracker.start(self.messages)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self._menu.name, type=self._menu.type)
        self.bot.remove_dynamic_items(*PERSISTENT_ITEMS)
        ActionButton.serve(None)
        await self.tracker.stop()
        await self.messages.aclose()

    # --- the command -------------------------------------------------------------------------

    @app_commands.command(name="video")
    @anywhere
    @app_commands.describe(
        prompt="What the video shows (any language); optional with from_library",
        image="A reference image or first frame (PNG, JPEG, WebP or GIF)",
        image2="A second reference image (models that take several)",
        image3="A third reference image (components models)",
        model="The video model (default: one that takes the images you attach)",
        shape="Landscape 16:9 or portrait 9:16 (default set by the bot owner)",
        duration="Length in seconds",
        upsample="HD upscale (landscape only)",
        from_library="A saved prompt from the library (what you type in prompt is added to it)",
        style="A style of this server: words added to the prompt, maybe a model, shape and length",
    )
    @app_commands.choices(shape=SHAPE_CHOICES)
    @with_request_options
    async def video(
        self,
        interaction: discord.Interaction,
        # 6000: MAX_PROMPT_LENGTH's highest; `limit_text_option` narrows it to the setting.
        prompt: app_commands.Range[str, 1, 6000] | None = None,
        image: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        model: str | None = None,
        shape: str | None = None,
        duration: int | None = None,
        upsample: bool = False,
        from_library: str | None = None,
        style: str | None = None,
        **extra: Any,
    ) -> None:
        """Generate a video from a prompt and up to three reference images."""
        # Everything that needs no I/O is checked before deferring, so refusals stay private.
        member = member_of(interaction)
        rules = await self.intake.rules(member.guild_id, member.scope)
        attachments = [a for a in (image, image2, image3) if a is not None]
        entry = await self.intake.library.find(member, from_library) if from_library else None
        if entry is not None:
            self.intake.library.check_use(rules, entry)
        chosen = await self.intake.styles.find(_styles_guild(member), style) if style else None
        request = self.intake.new_request(
            rules,
            prompt=prompt,
            model=model,
            shape=shape,
            duration=duration,
            upsample=upsample,
            attachments=tuple(attachment_info(a) for a in attachments),
            extra=request_values(extra),
            library=entry,
            style=chosen,
        )
        await self.starter.check(interaction, member, rules, request)
        files = await self.starter.read(interaction, attachments)
        job = await self.starter.start(interaction, member, rules, replace(request, files=files))
        if job is not None and entry is not None:
            await self.intake.library.used(entry.id)

    @video.autocomplete("from_library")
    async def _library_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await library_choices(self.intake.library, member_of(interaction), current)

    @video.autocomplete("style")
    async def _style_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.strip().casefold()
        offered = await self.intake.styles.offered(_styles_guild(member_of(interaction)))
        return [
            app_commands.Choice(name=f"{s.name} · {s.text}"[:100], value=s.name)
            for s in offered
            if wanted in s.key or wanted in s.text.casefold()
        ][:25]

    @video.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        offered = (await self.intake.rules(interaction.guild_id, scope_of(interaction))).offered_models(
            self.intake.defaults
        )
        wanted = current.lower()
        locale = interaction.locale
        return [
            app_commands.Choice(name=described[:100], value=m)
            for m, described in ((m, describe(m, self.settings.capability(m), locale)) for m in offered)
            if wanted in m.lower() or wanted in described.lower()
        ][:25]

    @video.autocomplete("duration")
    async def _duration_choices(
        self, interaction: discord.Interaction, current: int | str
    ) -> list[app_commands.Choice[int]]:
        # Only what this server allows (its max_duration), so no choice is refused afterwards.
        most = (await self.intake.rules(interaction.guild_id, scope_of(interaction))).max_duration
        allowed = [d for d in self.settings.durations if most is None or d <= most]
        return [
            app_commands.Choice(name=ntr(interaction.locale, "{n} second", "{n} seconds", n=d), value=d)
            for d in allowed or self.settings.durations[:1]
        ]

    # --- "Make a video" on any message with images ------------------------------------------

    @anywhere
    async def make_video_from_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        images = [a for a in message.attachments if (a.content_type or "image/").startswith("image/")]
        if not images:
            raise InputError(Text("That message has no images to make a video from."))
        member = member_of(interaction)
        rules = await self.intake.rules(member.guild_id, member.scope)
        model = self.intake.model_for_images(rules, len(images))
        # The prompt comes from the modal; everything else is checked before it opens.
        self.intake.check_images(model, tuple(attachment_info(a) for a in images))
        await self.intake.check_asker(member, rules)
        await interaction.response.send_modal(
            PromptModal(
                lambda sent, prompt: self.starter.from_images(sent, images, model, prompt),
                self.settings.max_prompt_length,
                interaction.locale,
            )
        )


def _styles_guild(member: Member) -> int | None:
    """Whose styles apply: the server's where it added the bot, the shipped ones elsewhere."""
    return member.guild_id if member.scope == "guild" else None
