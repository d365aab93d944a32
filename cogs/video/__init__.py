"""The /video feature: the commands, the job message and its persistent buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.video.cog import VideoCog
from cogs.video.help import HelpCog
from cogs.video.info import JobInfoCog
from cogs.video.library import LibraryCog
from cogs.video.styles import StylesCog

if TYPE_CHECKING:
    from bot.app.client import VideoBot

__all__ = ["LibraryCog", "StylesCog", "VideoCog", "setup"]


async def setup(bot: VideoBot) -> None:
    video = VideoCog(bot)
    await bot.add_cog(video)
    await bot.add_cog(LibraryCog(bot, video.starter))
    await bot.add_cog(StylesCog(bot))
    await bot.add_cog(JobInfoCog(bot))
    await bot.add_cog(HelpCog(bot))
