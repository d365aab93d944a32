"""The fake Discord's rate limits (switched on): the buckets, headers and bodies Discord sends."""

from __future__ import annotations

import aiohttp

from sandbox.discord_server import FakeDiscord


async def test_limits_are_off_unless_switched_on():
    async with FakeDiscord() as discord, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bot {discord.token}"}
        statuses = [
            (await http.get(f"{discord.base_url}/users/@me", headers=headers)).status for _ in range(60)
        ]
        assert set(statuses) == {200}


async def test_channel_edits_global_and_token_buckets_answer_429_like_discord():
    async with FakeDiscord(rate_limits=True) as discord, aiohttp.ClientSession() as http:
        guild = discord.add_guild()
        channel = guild.channels[0]
        headers = {"Authorization": f"Bot {discord.token}"}
        base = discord.base_url
        posted = await (
            await http.post(f"{base}/channels/{channel}/messages", json={"content": "x"}, headers=headers)
        ).json()
        edit = f"{base}/channels/{channel}/messages/{posted['id']}"
        answers = [await http.patch(edit, json={"content": f"{i}"}, headers=headers) for i in range(6)]
        assert [a.status for a in answers] == [200] * 5 + [429]
        ok, refused = answers[0], answers[5]
        assert ok.headers["X-RateLimit-Limit"] == "5" and ok.headers["X-RateLimit-Remaining"] == "4"
        for name in (
            "Retry-After",
            "X-RateLimit-Reset",
            "X-RateLimit-Reset-After",
            "X-RateLimit-Bucket",
            "Via",
        ):
            assert name in refused.headers
        assert refused.headers["X-RateLimit-Scope"] == "user"
        assert refused.headers["Content-Type"] == "application/json"
        body = await refused.json()
        assert body["global"] is False and 0 < body["retry_after"] <= 5
        # Message create is a bucket of its own: the edits did not use it up.
        again = await http.post(f"{base}/channels/{channel}/messages", json={"content": "y"}, headers=headers)
        assert again.status == 200
        # The global limit: 50 a second across routes.
        statuses = [(await http.get(f"{base}/users/@me", headers=headers)).status for _ in range(55)]
        assert 429 in statuses
        first = next(i for i, s in enumerate(statuses) if s == 429)
        refused = await http.get(f"{base}/users/@me", headers=headers)
        if refused.status == 429:
            assert refused.headers["X-RateLimit-Global"] == "true"
            assert refused.headers["X-RateLimit-Scope"] == "global"
        assert first >= 40  # the 8 earlier requests and these share the one global bucket
