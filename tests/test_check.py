"""`--check`'s Discord check where Discord's own address is used (no DISCORD_API_BASE_URL):
the network is made to send every host to a closed port on this machine, as a machine without
internet access would fail."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest

from bot.ops import check
from bot.settings import load_settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz"  # application 123456789012345678


class ClosedPort(aiohttp.abc.AbstractResolver):
    """Every name resolves to 127.0.0.1 on a port nothing listens on: connection refused."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[Any]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": self.port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
async def offline():
    connector = aiohttp.TCPConnector(resolver=ClosedPort())
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def test_unreachable_discord_blames_the_network_not_an_unset_setting(offline):
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "VIDEO_API_KEY": "key"}, dotenv=False)
    assert not settings.uses_custom_discord
    report = check.Report()
    await check.check_discord(settings, offline, report)
    (problem,) = report.problems
    assert problem.startswith("network:") and "DISCORD_API_BASE_URL" not in problem
    lines = check.render(report)
    assert any("client_id=123456789012345678&scope=bot" in line for line in lines)
    assert any("client_id=123456789012345678&integration_type=1" in line for line in lines)


async def test_without_discord_nor_an_id_in_the_token_it_says_why_there_are_no_links(offline):
    settings = load_settings({"DISCORD_TOKEN": "not-a-bot-token", "VIDEO_API_KEY": "key"}, dotenv=False)
    report = check.Report()
    await check.check_discord(settings, offline, report)
    lines = check.render(report)
    assert not any("client_id=" in line for line in lines)
    assert "invite   none: Discord could not be asked and the token holds no application id" in lines


def test_under_a_budget_each_model_without_a_price_is_named():
    env = {"DISCORD_TOKEN": "t", "VIDEO_API_KEY": "k", "VIDEO_MODELS": "veo3.1-fast,veo3.1,veo3.1-components"}
    priced = {**env, "MODEL_PRICES": "veo3.1-fast=0.40"}
    for free in (env, priced):  # no budget: prices are optional
        report = check.Report()
        check.check_prices(load_settings(free, dotenv=False), report)
        assert report.problems == []
    report = check.Report()
    check.check_prices(load_settings({**priced, "SERVER_MONTHLY_BUDGET": "50"}, dotenv=False), report)
    assert [p.split(" has no price")[0] for p in report.problems] == [
        "MODEL_PRICES: veo3.1",
        "MODEL_PRICES: veo3.1-components",
    ]
    assert "while SERVER_MONTHLY_BUDGET is set" in report.problems[0]
