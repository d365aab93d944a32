"""The /video feature: the command, the job message, and the persistent Cancel button."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.video.cog import VideoCog
from cogs.video.info import JobInfoCog
from cogs.video.views import PERSISTENT_ITEMS

if TYPE_CHECKING:
    from bot.client import VideoBot

__all__ = ["PERSISTENT_ITEMS", "VideoCog", "setup"]


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VideoCog(bot))
    await bot.add_cog(JobInfoCog(bot))
