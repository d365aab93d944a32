"""The bot on discord.py's public API alone (`DISCORD_PUBLIC_API_ONLY=1`): every use of an
internal in `bot.app.discord_internals` has a public fallback, and a job goes the whole way on them."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import PNG, button, field, life, setup_guild, video_attachment, wait_final

pytestmark = pytest.mark.e2e


async def test_a_job_and_a_reroll_go_the_whole_way_on_the_public_api(fake_discord, fake_api, run_bot):
    _, channel, (user,) = await setup_guild(fake_discord)
    fake_api.script(life(1.0))
    await run_bot({"DISCORD_PUBLIC_API_ONLY": "1", "MAX_PROMPT_LENGTH": "1500"})
    await fake_discord.wait_commands()
    interaction = await fake_discord.slash(
        "video",
        {"prompt": "a public cow"},
        user=user,
        channel_id=channel,
        attachments={"image": ("ref1.png", PNG, "image/png")},
    )
    msg = await wait_final(fake_discord, interaction)
    # Answered with the job message itself (send_message, then the original response read back).
    assert [r["type"] for r in interaction.responses] == [4] and interaction.original is msg
    assert video_attachment(msg) is not None and "Done" in field(msg, "Status")
    # The reference image went up with the answer and stays on the message with the video.
    assert "ref1.png" in [a.filename.split("-", 1)[-1] for a in msg.attachments]
    assert fake_api.creates[0]["images"] and fake_api.creates[0]["model"].endswith("fast")
    reads = [r for r in fake_discord.requests if r.method == "GET" and r.path.endswith("/messages/@original")]
    assert reads, "the public path reads the original response back; the internal one does not"
    # Without the internal setter, the prompt option keeps the annotation's limit (the bot still
    # refuses more once sent).
    options = {o["name"]: o for o in fake_discord.command("video")["options"]}
    assert options["prompt"]["max_length"] == 6000

    # The buttons (sent as a public View here) still reach their handler.
    reroll = await fake_discord.click(msg, button(msg, "reroll"), user=user)
    again = await wait_final(fake_discord, reroll)
    assert video_attachment(again) is not None
    assert len(fake_api.creates) == 2
