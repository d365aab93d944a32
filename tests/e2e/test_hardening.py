"""The second hardening round, against the real bot process: no secret or disguised link shown
to members, no dead link called done, no job sent where its result cannot be posted."""

from __future__ import annotations

import pytest

from sandbox.discord_server import BOT_PERMISSIONS
from sandbox.relay import Step
from tests.e2e.helpers import (
    field,
    job_rows,
    life,
    private_text,
    settled_rows,
    setup_guild,
    video_attachment,
    wait_final,
)

pytestmark = pytest.mark.e2e

ATTACH_FILES = 1 << 15
EMBED_LINKS = 1 << 14


async def start(fake_discord, run_bot, prompt="a lighthouse", **env):
    _, channel, (user,) = await setup_guild(fake_discord)
    bot = await run_bot(env)
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": prompt}, user=user, channel_id=channel)
    return bot, channel, user, interaction


def everything_shown(fake_discord, interaction) -> str:
    """Every text a member could read: messages and their edits, private answers."""
    shown = [
        repr((s["content"], s["embeds"]))
        for ms in fake_discord._messages.values()
        for m in ms
        for s in m.edits
    ]
    shown += [repr(r) for r in interaction.responses] + [
        repr((m.content, m.embeds)) for m in interaction.followups
    ]
    return "\n".join(shown)


async def test_a_relay_error_echoing_the_key_is_redacted_everywhere(
    fake_discord, fake_api, run_bot, tmp_path
):
    key = fake_api.api_key
    fake_api.fail_create(
        status=400,
        body={
            "error": {
                "message": f"invalid size for key {key} (Authorization: Bearer {key}) sk-abcdef0123456789XYZ"
            }
        },
    )
    bot, _channel, _user, interaction = await start(fake_discord, run_bot)
    msg = await wait_final(fake_discord, interaction)
    reason = field(msg, "What happened")
    assert "refused the request's parameters" in reason and "key \\[redacted\\]" in reason
    assert "sk-abcdef" not in reason
    rows = await settled_rows(fake_discord, tmp_path)
    assert rows[0]["state"] == "failed" and "Bearer \\[redacted\\]" in rows[0]["failure_reason"]
    # The run_bot fixture also checks the logs, every message and the database files for the key.
    assert key not in everything_shown(fake_discord, interaction) and key not in bot.output


async def test_a_prompt_with_a_masked_link_is_shown_inert(fake_discord, fake_api, run_bot):
    fake_api.script(life(0.5))
    prompt = "[click here](https://example.invalid/phish) **now** @everyone <@123>"
    _bot, _channel, _user, interaction = await start(fake_discord, run_bot, prompt=prompt)
    msg = await wait_final(fake_discord, interaction)
    description = msg.embeds[0]["description"]
    assert (
        description
        == "\\[click here\\]\\(https\\://example.invalid/phish\\) \\*\\*now\\*\\* @\u200beveryone \\<@123\\>"
    )
    assert fake_api.creates[0]["prompt"] == prompt  # the relay gets what the member wrote
    for snapshot in msg.edits:
        for embed in snapshot["embeds"]:
            assert "](https://example.invalid" not in repr(embed)


@pytest.mark.parametrize(
    ("video", "said"),
    [("MISSING", "HTTP 404"), ("file:///etc/passwd", "not an http(s) URL")],
    ids=["dead-404", "file-scheme"],
)
async def test_a_dead_video_link_ends_as_a_plain_failure(
    fake_discord, fake_api, run_bot, tmp_path, video, said
):
    url = f"{fake_api.base_url}/files/no-such-video.mp4" if video == "MISSING" else video
    fake_api.script([Step("processing", 50), Step("completed", 100, after=0.3, video=url)])
    bot, _channel, _user, interaction = await start(fake_discord, run_bot)
    msg = await wait_final(fake_discord, interaction)
    assert "Failed" in field(msg, "Status")
    assert "does not lead to a video" in field(msg, "What happened")
    assert "Done" not in repr(msg.edits[-1]["embeds"]) and not msg.content  # no link shown
    assert "file://" not in everything_shown(fake_discord, interaction)
    rows = await settled_rows(fake_discord, tmp_path)
    assert rows[0]["state"] == "failed" and rows[0]["failure_kind"] == "dead_link"
    assert said in bot.output
    # The failure keeps its buttons (a dead link is no reason not to try again; no Upscale).
    buttons = {c["custom_id"].split(":")[1] for row in msg.edits[-1]["components"] for c in row["components"]}
    assert buttons == {"reroll", "remix", "delete"}


async def test_no_job_is_sent_where_the_bot_cannot_post_its_result(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_discord.bot_permissions[channel] = BOT_PERMISSIONS & ~ATTACH_FILES & ~EMBED_LINKS
    await run_bot()
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash("video", {"prompt": "x"}, user=user, channel_id=channel)
    text = await fake_discord.wait_for(lambda: private_text(interaction), timeout=10)
    assert "Embed Links, Attach Files permissions" in text and "Nothing was sent" in text
    assert fake_api.creates == []
    assert interaction.responses[0]["data"]["flags"] & 64  # refused privately: nobody else saw it
    assert not [m for m in fake_discord.messages(channel) if not m.deleted]


async def test_a_result_that_cannot_be_posted_reaches_the_member_by_dm(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_api.script(life(1.5))
    fake_discord.expire_tokens_after(0.5)
    _bot, channel, user, _interaction = await start(fake_discord, run_bot)
    fake_discord.forbid_channel(channel)  # the bot's permission was removed mid-job
    rows = await settled_rows(fake_discord, tmp_path)
    assert rows[0]["state"] == "delivered" and rows[0]["delivery_mode"] == "dm"
    dm = fake_discord.messages(fake_discord.dm_channels[user.id])
    assert len(dm) == 1 and dm[0].content.endswith("small.mp4")
    assert f"video #{rows[0]['id']}" in dm[0].content
    # /video-status shows the result too (uploaded, as in a job message), privately.
    status = await fake_discord.slash(
        "video-status", {"job": f"#{rows[0]['id']}"}, user=user, channel_id=channel
    )
    shown = await fake_discord.wait_for(lambda: status.followups and status.followups[0])
    assert video_attachment(shown) is not None and shown.flags & 64
    buttons = [c["custom_id"].split(":")[1] for row in shown.components for c in row["components"]]
    # The video comes back with its buttons.
    assert buttons == ["reroll", "remix", "upscale", "save", "delete"]


async def test_a_blanked_interaction_token_is_gone_from_the_database_files(
    fake_discord, fake_api, run_bot, tmp_path
):
    fake_api.script(life(0.5))
    _bot, _channel, _user, interaction = await start(fake_discord, run_bot)
    await wait_final(fake_discord, interaction)
    rows = await settled_rows(fake_discord, tmp_path)
    assert rows[0]["interaction_token"] is None

    # The write-ahead log is checkpointed at once, or within a second when many jobs finish
    # together; either way the old token is gone from every file shortly after.
    def wiped():
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("bot.db*"))
        return raw and interaction.token.encode() not in raw

    await fake_discord.wait_for(wiped, timeout=5)
    assert job_rows(tmp_path)[0]["notified_at"] is not None
