"""What `/video-help` and the welcome message say: how to ask for a video, this server's rules
as they apply to the member asking, and the set-up checklist for its managers. Pure text, so
the figures in it are tested without Discord."""

from __future__ import annotations

from dataclasses import dataclass

from bot.relay.models import describe
from bot.rules import budget, quota
from bot.rules.guild_settings import Defaults, GuildSettings
from bot.texts.formatting import inert
from bot.texts.i18n import Text, ntr, render, tr

Field = tuple[str, str]

HOW_TO = Text(
    "`/video prompt:` describes the scene, in any language. Attach up to three images "
    "(`image`, `image2`, `image3`) as references or first frames. Optional: `shape` "
    "(landscape 16:9 or portrait 9:16), `duration`, `model`, `upsample` (HD, landscape only). "
    "Or right-click a message with images → Apps → **Make a video**.\n"
    "Finished videos carry **Reroll**, **Remix** (edit the prompt), **Upscale** and **Delete**."
)
# The queue's rule (bot/jobs/admission.py), in one sentence, for /video-queue and /video-help.
FAIR_TURNS = Text(
    "Turns are fair: when videos wait, the next to start is from the server, then the member, with "
    "the fewest videos started in the last 10 minutes, oldest request first."
)
COMMANDS = Text(
    "`/video-queue` what is being made here · `/video-status` one video again · "
    "`/video-history` your recent videos · `/video-usage` today's use · "
    "`/video-settings` how you are told a video is done"
)
NOTIFY_WORDS = {
    "mention": Text("a reply that mentions you"),
    "dm": Text("a direct message"),
    "off": Text("nothing (you check the message yourself)"),
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
    # The monthly budgets that apply here, each with this month's spend, and when it is.
    budgets: tuple[tuple[budget.Budget, int], ...] = ()
    now: float = 0.0


def member_fields(
    rules: GuildSettings,
    defaults: Defaults,
    durations: tuple[int, ...],
    who: Asker,
    locale: object = None,
    styles: tuple[str, ...] = (),
) -> list[Field]:
    """`styles`: the names of the styles offered here."""
    limits = rules.limits(defaults)
    default_model = rules.model_default(defaults)
    default = tr(locale, " (default)")
    prices = defaults.prices
    capped = any(cap.limit for cap, _spent in who.budgets)

    def price(model: str) -> str:
        if not (prices.per_video or capped):
            return ""
        each = prices.of(model)
        if each is not None:
            return f" · {prices.show(each)}"
        unpriced = tr(locale, "no price: not usable under a budget") if capped else tr(locale, "no price")
        return f" · {unpriced}"

    models = "\n".join(
        f"• {describe(m, defaults.capability(m), locale)}{price(m)}{default if m == default_model else ''}"
        for m in rules.offered_models(defaults)
    )
    longest = max((d for d in durations if rules.max_duration is None or d <= rules.max_duration), default=0)
    rules_here = [
        tr(
            locale,
            "Today, you: {member}; this server: {server}.",
            member=quota.describe(who.member_used, limits.member_daily, locale),
            server=quota.describe(who.server_used, limits.server_daily, locale),
        ),
        ntr(locale, "Videos of up to {n} second.", "Videos of up to {n} seconds.", n=longest)
        if longest
        else tr(locale, "No video length is allowed here."),
    ]
    if limits.cooldown and not who.manage_guild:
        rules_here.append(
            ntr(locale, "One video every {n} second.", "One video every {n} seconds.", n=limits.cooldown)
        )
    if rules.allowed_channels:
        rules_here.append(tr(locale, "Only in {channels}.", channels=_channels(rules.allowed_channels)))
    if rules.generator_roles and not who.manage_guild:
        allowed = bool(who.role_ids & set(rules.generator_roles))
        rules_here.append(
            tr(locale, "You have a video role.")
            if allowed
            else tr(locale, "You need one of this server's video roles.")
        )
    if rules.needs_approval(who.channel_id):
        moderator = rules.can_approve(role_ids=set(who.role_ids), manage_messages=who.manage_messages)
        rules_here.append(
            tr(locale, "In this channel a moderator approves each video first (not yours: you are one).")
            if moderator
            else tr(locale, "In this channel a moderator approves each video first.")
        )
    for cap, spent in who.budgets:
        if not cap.limit:
            continue
        amounts = {
            "spent": prices.show(spent),
            "budget": prices.show(cap.limit),
            "reset": int(budget.next_month(who.now, cap.timezone)),
        }
        rules_here.append(
            tr(
                locale,
                "This server's monthly budget: {spent} of {budget} spent; it resets <t:{reset}:R>.",
                **amounts,
            )
            if cap.scope == "server"
            else tr(
                locale,
                "The bot's monthly budget: {spent} of {budget} spent; it resets <t:{reset}:R>.",
                **amounts,
            )
        )
    rules_here.append(render(quota.COUNTING_RULE, locale))
    rules_here.append(render(FAIR_TURNS, locale))
    notify = NOTIFY_WORDS.get(who.notify)
    return [
        (tr(locale, "How to make a video"), render(HOW_TO, locale)),
        (tr(locale, "Models here"), models),
        (
            tr(locale, "Prompt library and styles"),
            tr(
                locale,
                "`/video from_library:` starts from a saved prompt (what you type in `prompt` is added); "
                "**Save prompt** under a finished video or `/video-library save` keeps one, "
                "`/video-library list` shows them. `/video style:` adds a style's words: {styles}.",
                styles=", ".join(inert(name) for name in styles) or "—",
            ),
        ),
        (tr(locale, "Your rules here"), "\n".join(rules_here)),
        (
            tr(locale, "When a video is done"),
            tr(
                locale,
                "You get {how}. `/video-settings` changes it.",
                how=render(notify, locale) if notify else who.notify,
            ),
        ),
        (tr(locale, "Other commands"), render(COMMANDS, locale)),
    ]


def _channels(ids: tuple[int, ...]) -> str:
    return ", ".join(f"<#{c}>" for c in ids)


def setup_checklist(
    rules: GuildSettings, defaults: Defaults, bot_missing: tuple[str, ...] | None, locale: object = None
) -> str:
    """For members with Manage Server: what is set, what to consider. `bot_missing` is what the
    bot lacks in the channel asked from (None when not known, as in the welcome message)."""
    limits = rules.limits(defaults)
    lines = []
    if bot_missing is not None:
        lines.append(
            tr(
                locale,
                "⚠️ In this channel I am missing: {permissions}.",
                permissions=[Text(p) for p in bot_missing],
            )
            if bot_missing
            else tr(locale, "✅ I can post videos in this channel.")
        )
    lines.append(
        tr(locale, "✅ Member quota: {limit} a day.", limit=limits.member_daily)
        if limits.member_daily
        else tr(
            locale,
            "⚠️ No member quota: anyone can spend without limit (`/video-admin set member_daily_quota`).",
        )
    )
    lines.append(
        tr(locale, "✅ Server quota: {limit} a day.", limit=limits.server_daily)
        if limits.server_daily
        else tr(locale, "➖ No server quota (`/video-admin set server_daily_quota`).")
    )
    lines.append(
        tr(locale, "✅ Monthly budget: {budget}.", budget=defaults.prices.show(limits.monthly_budget))
        if limits.monthly_budget
        else tr(locale, "➖ No monthly budget (`/video-admin set monthly_budget`).")
    )
    lines.append(
        tr(locale, "✅ Audit channel: <#{channel}>.", channel=rules.audit_channel)
        if rules.audit_channel
        else tr(locale, "➖ No audit channel: nothing is logged (`/video-admin audit-channel`).")
    )
    lines.append(
        tr(locale, "✅ Approval in {channels}.", channels=_channels(rules.approval_channels))
        if rules.approval_channels
        else tr(locale, "➖ No approval channels: videos start at once (`/video-admin channels`).")
    )
    lines.append(
        tr(locale, "✅ Videos only in {channels}.", channels=_channels(rules.allowed_channels))
        if rules.allowed_channels
        else tr(locale, "➖ Videos may be made in every channel (`/video-admin channels`).")
    )
    lines.append(tr(locale, "`/video-admin show` lists every setting and where it comes from."))
    return "\n".join(lines)
