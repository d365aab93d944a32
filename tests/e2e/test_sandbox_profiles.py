"""The sandbox's flaky profile against the real bot: every fault it injects is survived."""

from __future__ import annotations

import pytest

from sandbox.simulator import Simulator
from tests.e2e.helpers import setup_guild, video_attachment, wait_final

pytestmark = pytest.mark.e2e


async def test_the_flaky_profile_is_survived(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    simulator = Simulator(fake_discord, fake_api, "flaky")
    simulator.start()
    try:
        await run_bot()
        await fake_discord.wait_commands()
        asked = await fake_discord.slash("video", {"prompt": "a storm"}, user=user, channel_id=channel)
        message = await wait_final(fake_discord, asked, timeout=45)
    finally:
        await simulator.stop()
    assert video_attachment(message) is not None
    statuses = {status for _method, _path, status in fake_api.requests}
    assert {429, 502, 503} <= statuses  # a refused create and three failed polls
    assert len(fake_api.tasks) == 1  # the refused create billed nothing and was sent again once
    assert any(r.status == 429 for r in fake_discord.requests)  # Discord's rate limit, waited out
