"""What the tracker needs from Discord, implemented by the video cog (`cogs.video.messages`)."""

from __future__ import annotations

from typing import Protocol

from bot.jobs.model import Job


class Presenter(Protocol):
    """What the tracker needs from Discord. Implemented by the video cog."""

    async def show(self, job_id: int) -> None:
        """Show the job's state; best effort, may be coalesced or dropped. What is shown is the
        job as stored when the edit's turn comes (in a busy channel, later than this call)."""

    async def finish(self, job: Job) -> str | None:
        """Write the job's final message (the video, the failure, the cancellation).

        Returns how a video was delivered ("upload" or "link" in the job message, for which the
        tracker then calls `announce`; how the member was told otherwise), None for other final
        states, whose requester `finish` tells itself.
        Raises `DeadLink` when the video's link leads to no video (the job then fails), anything
        else to ask for a retry later; must not raise for a message or channel that is gone.
        """

    async def announce(self, job: Job) -> None:
        """Tell the requester their video is in the job message (their way: a reply that pings
        them, a DM, or nothing). Called once the delivery is recorded, apart from it, so a
        channel's next final does not wait for this one's notification; best effort."""


class NotStarted:
    """The presenter before `JobTracker.start`: a tracker not started shows and finishes nothing."""

    async def show(self, job_id: int) -> None:
        return None

    async def finish(self, job: Job) -> str | None:
        raise RuntimeError("the tracker is not started")

    async def announce(self, job: Job) -> None:
        raise RuntimeError("the tracker is not started")
