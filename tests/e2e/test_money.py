"""Money through the real bot: prices, a server's monthly budget under concurrent commands, the
80 % warning in the audit channel, and what /video-help, /video-usage and the report say of it."""

from __future__ import annotations

import asyncio

import pytest

import sandbox.world as world_module
from bot.settings import load_settings
from sandbox import runner
from sandbox.world import build_world, set_rules
from tests.e2e.helpers import (
    BASIC,
    MANAGE_GUILD,
    admin_change,
    answer,
    life,
    private_text,
    settled_rows,
    setup_guild,
)

pytestmark = pytest.mark.e2e

WARNING = "of its monthly budget of 1.00 USD"


async def outcome(fake_discord, interaction):
    """'job' once the command's reply became a job message, else the private refusal."""

    def seen():
        private = private_text(interaction)
        if private:
            return private
        msg = interaction.original
        return "job" if msg is not None and msg.embeds and not msg.deleted else None

    return await fake_discord.wait_for(seen, timeout=15)


async def embed_text(fake_discord, interaction) -> str:
    embeds = await fake_discord.wait_for(
        lambda: interaction.responses and interaction.responses[0].get("data", {}).get("embeds"), timeout=10
    )
    embed = embeds[0]
    return "\n".join([embed.get("description", ""), *(f["value"] for f in embed.get("fields", []))])


async def test_a_server_budget_is_exact_under_concurrent_commands(fake_discord, fake_api, run_bot, tmp_path):
    guild, channel, members = await setup_guild(fake_discord, members=3, channels=2)
    audit_channel = guild.channels[1]
    admin = fake_discord.add_member(guild.id, name="admin", permissions=BASIC | MANAGE_GUILD)
    fake_api.default_life = life(0.5)
    await run_bot({"MODEL_PRICES": "veo3.1-fast=0.40", "SERVER_MONTHLY_BUDGET": "1.00"})
    await fake_discord.wait_commands()
    assert "is now" in await admin_change(
        fake_discord, admin, channel, "audit_channel", f"<#{audit_channel}>"
    )

    # Three members at once, 0.40 USD each against 1.00 USD: two fit, the third would pass it.
    burst = await asyncio.gather(
        *[
            fake_discord.slash(
                "video", {"prompt": f"video {i}", "model": "veo3.1-fast"}, user=m, channel_id=channel
            )
            for i, m in enumerate(members)
        ]
    )
    results = await asyncio.gather(*[outcome(fake_discord, i) for i in burst])
    assert results.count("job") == 2, results
    (refusal,) = [r for r in results if r != "job"]
    assert "would take this server over its monthly budget of 1.00 USD" in refusal
    assert "0.80 USD spent this month" in refusal and "The budget resets <t:" in refusal

    def warnings():
        return [m for m in fake_discord.messages(audit_channel) if WARNING in m.content]

    await fake_discord.wait_for(warnings, timeout=10)
    rows = await settled_rows(fake_discord, tmp_path)
    assert len(fake_api.creates) == 2
    assert sorted(r["price_micros"] for r in rows) == [400_000, 400_000]
    (warning,) = warnings()
    assert "has spent 0.80 USD of its monthly budget of 1.00 USD (80 %)" in warning.content

    # What members and the moderators are told of it.
    spender = next(m for m, r in zip(members, results, strict=True) if r == "job")
    usage = await fake_discord.slash("video-usage", user=spender, channel_id=channel)
    text = await embed_text(fake_discord, usage)
    assert "**Spent:** You, 0.40 USD today and 0.40 USD this month; this server, 0.80 USD this month." in text
    assert "This server's monthly budget is 1.00 USD" in text
    helped = await fake_discord.slash("video-help", user=spender, channel_id=channel)
    text = await embed_text(fake_discord, helped)
    assert "· 0.40 USD" in text and "no price: not usable under a budget" in text
    assert "This server's monthly budget: 0.80 USD of 1.00 USD spent" in text
    report = await fake_discord.slash("video-admin", {}, subcommand="report", user=admin, channel_id=channel)
    assert "Cost: 0.80 USD" in await answer(fake_discord, report)

    # A model without a price cannot be used while the budget is set: one clear line.
    unpriced = await fake_discord.slash(
        "video", {"prompt": "dear", "model": "veo3.1"}, user=members[0], channel_id=channel
    )
    refused = await answer(fake_discord, unpriced)
    assert refused.startswith("veo3.1 has no price") and "\n" not in refused
    assert len(fake_api.creates) == 2


async def test_the_sandbox_has_prices_and_a_small_budget_to_try(fake_discord, fake_api, run_bot, tmp_path):
    world = build_world(fake_discord)
    settings = load_settings({}, dotenv=False, sandbox=True)
    env = runner.bot_env(settings, fake_discord, fake_api, tmp_path)
    assert set(load_settings(env, dotenv=False).model_prices) == set(settings.models)
    await run_bot({"MODEL_PRICES": env["MODEL_PRICES"]})
    await set_rules(fake_discord, world)
    helped = await fake_discord.slash("video-help", user=world.member, channel_id=world.channels["general"])
    text = await embed_text(fake_discord, helped)
    assert "· 0.40 USD" in text and "· 1.20 USD" in text
    assert f"This server's monthly budget: 0.00 USD of {world_module.SANDBOX_BUDGET} USD spent" in text
