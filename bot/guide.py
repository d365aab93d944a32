"""What `/video-help` and the welcome message say: how to ask for a video, this server's rules
as they apply to the member asking, and the set-up checklist for its managers. Pure text, so
the figures in it are tested without Discord."""

from __future__ import annotations

from dataclasses import dataclass

from bot import quota
from bot.guild_settings import Defaults, GuildSettings
from bot.models import describe

Field = tuple[str, str]

HOW_TO = (
    "`/video prompt:` describes the scene, in any language. Attach up to three images "
    "(`image`, `image2`, `image3`) as references or first frames. Optional: `shape` "
    "(landscape 16:9 or portrait 9:16), `duration`, `model`, `upsample` (HD, landscape only). "
    "Or right-click a message with images → Apps → **Make a video**.\n"
    "Finished videos carry **Reroll**, **Remix** (edit the prompt), **Upscale** and **Delete**."
)
COMMANDS = (
    "`/video-queue` what is being made here · `/video-status` one video again · "
    "`/video-history` your recent videos · `/video-usage` today's use · "
    "`/video-settings` how you are told a video is done"
)
NOTIFY_WORDS = {
    "mention": "a reply that mentions you",
    "dm": "a direct message",
    "off": "nothing (you check the message yourself)",
}


@dataclass(frozen=True)
class Asker:
    """The member asking for help, where they ask."""

    channel_id: int
    role_ids: frozenset[int]
    manage_guild: bool
    manage_messages: bool
    member_used: int  # videos that count today (see quota.COUNTING_RULE)
    server_used: int
    notify: str
    bot_missing: tuple[str, ...] = ()


def member_fields(
    rules: GuildSettings, defaults: Defaults, durations: tuple[int, ...], who: Asker
) -> list[Field]:
    limits = rules.limits(defaults)
    default_model = rules.model_default(defaults)
    models = "\n".join(
        f"• {describe(m)}{' (default)' if m == default_model else ''}" for m in rules.offered_models(defaults)
    )
    longest = max((d for d in durations if rules.max_duration is None or d <= rules.max_duration), default=0)
    rules_here = [
        f"Today: you {quota.describe(who.member_used, limits.member_daily)}; "
        f"this server {quota.describe(who.server_used, limits.server_daily)}.",
        f"Videos of up to {longest} seconds." if longest else "No video length is allowed here.",
    ]
    if limits.cooldown and not who.manage_guild:
        rules_here.append(f"One video every {limits.cooldown} seconds.")
    if rules.allowed_channels:
        rules_here.append("Only in " + ", ".join(f"<#{c}>" for c in rules.allowed_channels) + ".")
    if rules.generator_roles and not who.manage_guild:
        allowed = bool(who.role_ids & set(rules.generator_roles))
        rules_here.append(
            "You have a video role." if allowed else "You need one of this server's video roles."
        )
    if rules.needs_approval(who.channel_id):
        moderator = rules.can_approve(role_ids=set(who.role_ids), manage_messages=who.manage_messages)
        rules_here.append(
            "In this channel a moderator approves each video first"
            + (" (not yours: you are one)." if moderator else ".")
        )
    rules_here.append(quota.COUNTING_RULE)
    return [
        ("How to make a video", HOW_TO),
        ("Models here", models),
        ("Your rules here", "\n".join(rules_here)),
        (
            "When a video is done",
            f"You get {NOTIFY_WORDS.get(who.notify, who.notify)}. `/video-settings` changes it.",
        ),
        ("Other commands", COMMANDS),
    ]


def setup_checklist(rules: GuildSettings, defaults: Defaults, bot_missing: tuple[str, ...] | None) -> str:
    """For members with Manage Server: what is set, what to consider. `bot_missing` is what the
    bot lacks in the channel asked from (None when not known, as in the welcome message)."""
    limits = rules.limits(defaults)
    lines = []
    if bot_missing is not None:
        lines.append(
            f"⚠️ In this channel I am missing: {', '.join(bot_missing)}."
            if bot_missing
            else "✅ I can post videos in this channel."
        )
    lines.append(
        f"✅ Member quota: {limits.member_daily} a day."
        if limits.member_daily
        else "⚠️ No member quota: anyone can spend without limit (`/video-admin set member_daily_quota`)."
    )
    lines.append(
        f"✅ Server quota: {limits.server_daily} a day."
        if limits.server_daily
        else "➖ No server quota (`/video-admin set server_daily_quota`)."
    )
    lines.append(
        f"✅ Audit channel: <#{rules.audit_channel}>."
        if rules.audit_channel
        else "➖ No audit channel: nothing is logged (`/video-admin audit-channel`)."
    )
    lines.append(
        "✅ Approval in " + ", ".join(f"<#{c}>" for c in rules.approval_channels) + "."
        if rules.approval_channels
        else "➖ No approval channels: videos start at once (`/video-admin channels`)."
    )
    lines.append(
        "✅ Videos only in " + ", ".join(f"<#{c}>" for c in rules.allowed_channels) + "."
        if rules.allowed_channels
        else "➖ Videos may be made in every channel (`/video-admin channels`)."
    )
    lines.append("`/video-admin show` lists every setting and where it comes from.")
    return "\n".join(lines)
