"""What /video-help tells a member, with this server's figures."""

from __future__ import annotations

from dataclasses import replace

from bot.rules import quota
from bot.rules.budget import Budget, Prices, next_month
from bot.rules.guild_settings import Defaults, GuildSettings
from bot.rules.quota import Limits
from bot.texts import guide

DEFAULTS = Defaults(
    models=("veo3.1-fast", "veo3.1-fast-components"), default_model="veo3.1-fast", limits=Limits()
)


def asker(**kw):
    base = dict(
        channel_id=5,
        role_ids=frozenset(),
        manage_guild=False,
        manage_messages=False,
        member_used=2,
        server_used=7,
        notify="mention",
    )
    return guide.Asker(**{**base, **kw})


def test_the_members_rules_carry_this_servers_figures():
    rules = GuildSettings(
        member_daily_quota=5,
        server_daily_quota=50,
        cooldown_seconds=60,
        max_duration=6,
        approval_channels=(5,),
        allowed_channels=(5, 6),
    )
    fields = dict(guide.member_fields(rules, DEFAULTS, (4, 6, 8), asker()))
    mine = fields["Your rules here"]
    assert "Today, you: 2 of 5 videos (3 left); this server: 7 of 50 videos (43 left)." in mine
    assert "up to 6 seconds" in mine and "One video every 60 seconds" in mine
    assert "<#5>, <#6>" in mine and "a moderator approves each video first." in mine
    assert str(quota.COUNTING_RULE) in mine
    assert "Veo 3.1 Fast: text, or one first frame (default)" in fields["Models here"]
    assert "1 to 3 reference images" in fields["Models here"]
    assert "a reply that mentions you" in fields["When a video is done"]


def test_the_checklist_warns_about_what_is_missing():
    text = guide.setup_checklist(GuildSettings(), DEFAULTS, ("Attach Files",))
    assert "missing: Attach Files" in text and "No member quota" in text and "No audit channel" in text
    done = guide.setup_checklist(GuildSettings(member_daily_quota=3, audit_channel=9), DEFAULTS, ())
    assert "✅ I can post videos in this channel." in done and "<#9>" in done and "3 a day" in done


def test_help_shows_each_models_price_and_the_budgets_with_this_months_spend():
    defaults = replace(
        DEFAULTS,
        models=("veo3.1-fast", "veo3.1"),
        prices=Prices({"veo3.1-fast": 400_000}, "EUR"),
        limits=Limits(monthly_budget=1_000_000, timezone="Europe/Berlin"),
    )
    now = 1_800_000_000.0
    server = Budget("server", 1_000_000, "Europe/Berlin", 10)
    who = asker(budgets=((server, 800_000), (Budget("bot", 0, "UTC"), 0)), now=now)
    fields = dict(guide.member_fields(GuildSettings(), defaults, (4, 6, 8), who))
    models = fields["Models here"].splitlines()
    assert models[0].endswith("· 0.40 EUR (default)")
    assert models[1].endswith("· no price: not usable under a budget")
    reset = int(next_month(now, "Europe/Berlin"))
    assert (
        f"This server's monthly budget: 0.80 EUR of 1.00 EUR spent; it resets <t:{reset}:R>."
        in fields["Your rules here"]
    )
    assert "The bot's monthly budget" not in fields["Your rules here"]  # none set
    assert "✅ Monthly budget: 1.00 EUR." in guide.setup_checklist(GuildSettings(), defaults, None)
    plain = dict(guide.member_fields(GuildSettings(), DEFAULTS, (4, 6, 8), asker()))
    assert "·" not in plain["Models here"] and "budget" not in plain["Your rules here"]


def test_help_names_the_library_and_the_styles_offered_here():
    fields = dict(
        guide.member_fields(GuildSettings(), DEFAULTS, (4, 8), asker(), styles=("anime", "noir_*x*"))
    )
    shown = fields["Prompt library and styles"]
    assert "/video-library save" in shown and "from_library" in shown
    assert shown.endswith("anime, noir\\_\\*x\\*.")  # a moderator's name, shown as written
