"""Languages end to end: the real bot answers each member in their client's language and shows
a server's public messages in the server's language (interactions carry `locale` and
`guild_locale`)."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import custom_ids, life, private_text, setup_guild

pytestmark = pytest.mark.e2e

ZH = ("zh-CN", "zh-CN")
EN = ("en-US", "en-US")


def fields(message) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields", [])}


def labels(message) -> list[str]:
    return [c.get("label", "") for row in message.components for c in row.get("components", [])]


async def finished(fake_discord, interaction, status_name: str, done_word: str):
    """The job message once its status (under `status_name`) says `done_word` and no Cancel is left."""

    def ready():
        msg = interaction.original
        if msg is None or not msg.embeds:
            return None
        done = done_word in fields(msg).get(status_name, "")
        return msg if done and not any(i.startswith("video:cancel:") for i in custom_ids(msg)) else None

    return await fake_discord.wait_for(ready, timeout=20)


async def answered(fake_discord, interaction) -> str:
    return await fake_discord.wait_for(lambda: private_text(interaction), timeout=10)


async def test_a_chinese_server_and_member_get_chinese(fake_discord, fake_api, run_bot):
    _, channel, (member, visitor) = await setup_guild(fake_discord, members=2)
    fake_api.script(life(0.5))
    await run_bot({"DAILY_QUOTA_PER_MEMBER": "1"})
    commands = await fake_discord.wait_commands()
    # Discord gets every language in the sync: descriptions and choices localized, names as typed.
    video = next(c for c in commands if c["name"] == "video")
    assert video["description_localizations"]["zh-CN"] == "根据提示词和最多三张参考图生成视频。"
    shape = next(o for o in video["options"] if o["name"] == "shape")
    assert shape["choices"][0]["name_localizations"]["zh-CN"] == "横屏 16:9（1280×720）"
    assert "name_localizations" not in video or "zh-CN" not in (video["name_localizations"] or {})

    # A refusal before anything is posted: privately, in the member's language.
    refused = await fake_discord.slash("video", {"prompt": "   "}, user=member, channel_id=channel, locale=ZH)
    assert await answered(fake_discord, refused) == "提示词为空。"

    interaction = await fake_discord.slash(
        "video", {"prompt": "一只猫在月球上跳舞"}, user=member, channel_id=channel, locale=ZH
    )
    message = await finished(fake_discord, interaction, "状态", "完成")
    shown = fields(message)
    assert message.embeds[0]["title"] == "视频 #1"
    assert shown["模型"] == "Veo 3.1 Fast" and shown["画面"] == "横屏 16:9（1280×720）"
    assert shown["时长"] == "8秒" and "耗时" in shown
    assert message.embeds[0]["author"]["name"].startswith("请求者：")
    assert message.embeds[0]["footer"]["text"] == "今日剩余 0/1"
    assert labels(message) == ["重新生成", "改编", "高清放大", "保存提示词", "删除"]
    # The member is told in a new message, in the server's language.
    told = await fake_discord.wait_for(
        lambda: next((m for m in fake_discord.messages(channel) if "已生成" in (m.content or "")), None)
    )
    assert told.content.startswith(f"<@{member.id}> 你的视频 #")

    # The quota refusal, privately, in Chinese.
    again = await fake_discord.slash(
        "video", {"prompt": "再来一个"}, user=member, channel_id=channel, locale=ZH
    )
    text = await answered(fake_discord, again)
    assert text.startswith("你今天已用完 1 个视频的配额；你的配额将于 <t:") and "（UTC 午夜）" in text

    # A member whose client is English, in the same Chinese server: private answers in English.
    status = await fake_discord.slash(
        "video-status", {"job": "#999"}, user=visitor, channel_id=channel, locale=("en-US", "zh-CN")
    )
    assert await answered(fake_discord, status) == "No job '#999' here."


async def test_an_english_member_gets_english_and_an_unknown_locale_falls_back(
    fake_discord, fake_api, run_bot
):
    _, channel, (member,) = await setup_guild(fake_discord)
    fake_api.script(life(0.5))
    await run_bot({"DAILY_QUOTA_PER_MEMBER": "1"})
    await fake_discord.wait_commands()
    refused = await fake_discord.slash("video", {"prompt": "   "}, user=member, channel_id=channel, locale=EN)
    assert await answered(fake_discord, refused) == "The prompt is empty."

    interaction = await fake_discord.slash(
        "video", {"prompt": "a cat"}, user=member, channel_id=channel, locale=EN
    )
    message = await finished(fake_discord, interaction, "Status", "Done")
    shown = fields(message)
    assert shown["Status"] == "✅ Done" and shown["Shape"] == "Landscape 16:9 (1280×720)"
    assert shown["Duration"] == "8s" and message.embeds[0]["footer"]["text"] == "0 of 1 left today"
    assert labels(message) == ["Reroll", "Remix", "Upscale", "Save prompt", "Delete"]

    # A language the bot has no catalogue for (Discord's Finnish) reads English.
    again = await fake_discord.slash(
        "video", {"prompt": "a dog"}, user=member, channel_id=channel, locale=("fi", "fi")
    )
    text = await answered(fake_discord, again)
    assert text.startswith("You have used your 1 video for today; your quota resets <t:")
