"""Which process a job belongs to: the one that runs its server's shard.

Discord sends a server's interactions (buttons and modals on its jobs' messages included) to
the shard `(guild_id >> 22) % shard_count`, and DMs to shard 0, so the process that runs that
shard is the only one that hears about the job: it resumes it at start, sends it to the relay,
polls it and delivers it. A change of SHARD_COUNT moves jobs to their new owners at the next
start, since ownership is worked out from the job's server, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """Discord's routing: a server's shard, and 0 for DMs and group DMs (no server)."""
    if guild_id is None or shard_count <= 1:
        return 0
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class Ownership:
    """The shards this process runs: `ids` of `count`; `ids` None means every one."""

    count: int = 1
    ids: frozenset[int] | None = None

    def owns(self, guild_id: int | None) -> bool:
        return self.ids is None or shard_of(guild_id, self.count) in self.ids

    @property
    def everything(self) -> bool:
        return self.ids is None or self.ids >= frozenset(range(self.count))


EVERYTHING = Ownership()
