"""The /video feature: the commands, the job message and its persistent buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.video.cog import VideoCog
from cogs.video.help import HelpCog
from cogs.video.info import JobInfoCog

if TYPE_CHECKING:
    from bot.app.client import VideoBot

__all__ = ["VideoCog", "setup"]


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VideoCog(bot))
    await bot.add_cog(JobInfoCog(bot))
    await bot.add_cog(HelpCog(bot))
