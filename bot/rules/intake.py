"""Intake: every check a new job passes before anything is spent, in one order, for every path.

`/video`, "Make a video", Reroll, Upscale and Remix all come through here, so no path can skip
a check another path makes. Pure apart from the counts it reads from the store; the cogs turn
Discord objects into a `Member` and options into a `JobRequest`, and show the `BotError`s
raised here to the member who asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import InputError, PermissionDenied
from bot.jobs.model import WAITING, Job
from bot.ops import metrics
from bot.relay.models import check_upsample, resolve_shape
from bot.relay.request import REQUEST_FIELDS, VideoRequest
from bot.rules import budget, quota
from bot.rules.guild_settings import Defaults, GuildSettings
from bot.rules.library import Library, LibraryEntry, composed
from bot.rules.styles import Style, Styles, styled
from bot.rules.validation import AttachmentInfo, check_attachment_metadata, check_image_count, clean_prompt
from bot.settings import Settings
from bot.storage.interface import JobStore
from bot.texts.i18n import Plural, Text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Member:
    """Who asks, and where: what the checks need to know of an interaction."""

    user_id: int
    guild_id: int | None
    channel_id: int
    role_ids: frozenset[int] = frozenset()
    manage_guild: bool = False
    manage_messages: bool = False
    # What the bot lacks where the result must be posted (from the interaction's app_permissions).
    bot_missing: tuple[str, ...] = ()
    # "guild": a server that added the bot (its rules apply); "dm": the bot's own DM; "user": a
    # user install anywhere else (no channel access). The last two share the user quota.
    scope: str = "guild"


@dataclass(frozen=True, slots=True)
class JobRequest(VideoRequest):
    """What a member asked for, checked: the request (`bot/relay/request.py`) and what comes with it."""

    image_names: tuple[str, ...] = ()
    # The reference images themselves, attached to the job message so they can be fetched
    # again later (Discord's signed attachment URLs expire after about a day).
    files: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    # Where the prompt came from (job columns, not relay fields: the relay gets the final prompt).
    library_id: int | None = None
    library_name: str | None = None
    library_author: str | None = None
    style: str | None = None

    @classmethod
    def from_job(cls, job: Job, **changes: Any) -> JobRequest:
        """The request that made `job`, with `changes`: what Reroll, Upscale and Remix send.
        The same prompt comes from the same entry and style; a new one (Remix) says so itself."""
        values = {name: getattr(job, name) for name in (*REQUEST_FIELDS, *SOURCE_FIELDS)}
        if "prompt" in changes:
            values.update(dict.fromkeys(SOURCE_FIELDS))
        return cls(**{**values, **changes}, image_names=job.image_names)

    def job_fields(self) -> dict[str, Any]:
        """The columns of the job row this request becomes."""
        sources = {name: getattr(self, name) for name in SOURCE_FIELDS}
        return {**self.columns(), "image_names": self.image_names, **sources}


SOURCE_FIELDS = ("library_id", "library_name", "library_author", "style")


class Intake:
    def __init__(self, settings: Settings, store: JobStore) -> None:
        self.settings = settings
        self.store = store
        self.defaults = Defaults.from_settings(settings)
        self.library = Library(store)
        self.styles = Styles(store)

    async def rules(self, guild_id: int | None, scope: str = "guild") -> GuildSettings:
        """The server's rules where the server added the bot; the owner's defaults elsewhere."""
        return await self.store.guild_rules(guild_id if scope == "guild" else None)

    # --- building a request from a member's options ------------------------------------------

    def new_request(
        self,
        rules: GuildSettings,
        *,
        prompt: str | None,
        model: str | None = None,
        shape: str | None = None,
        duration: int | None = None,
        upsample: bool = False,
        attachments: tuple[AttachmentInfo, ...] = (),
        extra: Mapping[str, Any] | None = None,
        library: LibraryEntry | None = None,
        style: Style | None = None,
    ) -> JobRequest:
        """A request from `/video`'s options (or the context menu's), defaults filled in;
        `extra`: the request fields given through options derived from `bot/relay/request.py`.
        With a library entry the prompt is the entry's (what the member typed is added); a
        style adds its words and fills in the model, shape and duration the member left out."""
        s = self.settings
        if library is None and prompt is None:
            raise InputError(Text("Give a prompt, or pick one from the library with from_library."))
        text = clean_prompt(styled(composed(library, prompt), style), max_length=s.max_prompt_length)
        if style is not None:
            model, shape, duration = model or style.model, shape or style.shape, duration or style.duration
        model = model or self.model_for_images(rules, len(attachments))
        if model not in s.models:
            raise InputError(
                Text(
                    "Unknown model {model!r}. Choose one of: {models}.",
                    model=model,
                    models=", ".join(s.models),
                )
            )
        duration = duration or rules.pick_duration(s.durations, s.default_duration)
        if duration not in s.durations:
            raise InputError(
                Text(
                    "Duration must be one of {durations} seconds.", durations=", ".join(map(str, s.durations))
                )
            )
        chosen, _size, _aspect = resolve_shape(shape, s.default_shape)
        self.check_images(model, attachments)
        return JobRequest(
            prompt=text,
            model=model,
            shape=chosen,
            duration=duration,
            enable_upsample=upsample,
            images=tuple(a.url for a in attachments),
            image_names=tuple(a.filename for a in attachments),
            **(extra or {}),
            **(library.attribution() if library else {}),
            style=style.name if style else None,
        )

    def check_images(self, model: str, attachments: tuple[AttachmentInfo, ...]) -> None:
        """What Discord says of the files (count, type, size), before any is downloaded."""
        check_image_count(model, self.settings.capability(model), len(attachments))
        for a in attachments:
            check_attachment_metadata(a, max_bytes=self.settings.max_image_bytes)

    def clean_prompt(self, prompt: str) -> str:
        return clean_prompt(prompt, max_length=self.settings.max_prompt_length)

    def model_for_images(self, rules: GuildSettings, count: int) -> str:
        """The server's default model when it takes this many images, else the first offered
        one that does (so attaching three images picks a components model)."""
        default = rules.model_default(self.defaults)
        for model in (default, *rules.offered_models(self.defaults)):
            if self.defaults.capability(model).takes_images(count):
                return model
        return default  # the request check then says what the default takes

    # --- the checks -----------------------------------------------------------------------------

    async def check_asker(self, member: Member, rules: GuildSettings) -> None:
        """May this member ask for a video here, now: channel, roles, today's quota (a first,
        non-binding read), and how many of theirs are already waiting. Paths that ask for the
        prompt in a modal run this before opening it."""
        self.check_allowed(member)
        if member.scope != "guild":
            # Outside servers that added the bot: the owner's user quota, no server rules.
            await self.quota_check(member, rules)()
            await self.check_waiting(member.user_id)
            return
        if member.bot_missing:
            # Built before the Plural, not inside it: an extractor that descends into nested calls
            # (Babel 2.19 does) would otherwise take Text(name) for the Plural's arguments.
            missing = [Text(name) for name in member.bot_missing]
            raise PermissionDenied(
                Plural(
                    "I cannot post the video in this channel: I am missing the {permissions} permission "
                    "here. Nothing was sent; ask a moderator to give me that, or use another channel.",
                    "I cannot post the video in this channel: I am missing the {permissions} permissions "
                    "here. Nothing was sent; ask a moderator to give me that, or use another channel.",
                    n=len(member.bot_missing),
                    permissions=missing,
                )
            )
        rules.check_member(
            channel_id=member.channel_id, role_ids=set(member.role_ids), is_admin=member.manage_guild
        )
        await self.quota_check(member, rules)()
        await self.check_waiting(member.user_id)

    def check_allowed(self, member: Member) -> None:
        """The owner's allow-lists and switch for use outside servers; each refusal names its rule."""
        s = self.settings
        if s.allowed_users and member.user_id not in s.allowed_users:
            raise PermissionDenied(
                Text("This bot is private: its owner has not allowed your account to use it.")
            )
        if s.allowed_guilds and member.guild_id is not None and member.guild_id not in s.allowed_guilds:
            raise PermissionDenied(Text("This bot is private: its owner has not allowed it in this server."))
        if member.scope != "guild" and not s.user_daily_quota:
            raise PermissionDenied(
                Text(
                    "The bot's owner has turned off videos outside servers that added the bot: "
                    "use /video in such a server."
                )
            )

    async def check(self, member: Member, rules: GuildSettings, request: JobRequest) -> None:
        """Every check of a finished request, before the interaction is deferred."""
        await self.check_asker(member, rules)
        rules.check_model(request.model, self.defaults)
        check_image_count(request.model, self.settings.capability(request.model), len(request.images))
        check_upsample(request.enable_upsample, request.shape)
        rules.check_request(
            prompt=request.prompt, duration=request.duration, upsample=request.enable_upsample
        )
        # A first, non-binding read of the budgets; the binding one runs with the insert.
        await self.spend_check(member, rules, request.model)()

    async def check_remix(self, member: Member, rules: GuildSettings, parent: Job) -> None:
        if not rules.allow_remix_others and member.user_id != parent.user_id:
            raise PermissionDenied(Text("This server does not allow remixing other members' videos."))
        await self.check_asker(member, rules)

    async def check_waiting(self, user_id: int) -> None:
        # Jobs waiting for a moderator count too, so nobody can flood an approval channel.
        waiting = await self.store.count_jobs(user_id=user_id, states=WAITING)
        if waiting >= self.settings.max_waiting_per_member:
            raise InputError(
                Plural(
                    "You already have {n} video waiting (in the queue or for approval); "
                    "wait for it to start before asking for more.",
                    "You already have {n} videos waiting (in the queue or for approval); "
                    "wait for one of them to start before asking for more.",
                    n=waiting,
                )
            )

    def quota_check(
        self, member: Member, rules: GuildSettings, model: str | None = None
    ) -> Callable[[], Awaitable[None]]:
        """The exact check `JobStore.add_job` runs inside its write transaction (and intake once
        early); each refusal is counted once, by the check that made it. With the `model` asked
        for, the monthly budgets are checked too."""
        if member.scope == "guild":
            check = quota.checker(
                self.store,
                rules.limits(self.defaults),
                guild_id=member.guild_id,
                user_id=member.user_id,
                cooldown_exempt=member.manage_guild,
            )
        else:
            check = quota.user_checker(self.store, self.settings.user_daily_quota, user_id=member.user_id)

        counted = _counted(check)
        if model is None:
            return counted
        spending = self.spend_check(member, rules, model)

        async def both() -> None:
            await counted()
            await spending()

        return both

    def needs_approval(self, member: Member, rules: GuildSettings) -> bool:
        """A moderated channel, and the member is not a moderator there."""
        return (
            member.scope == "guild"
            and rules.needs_approval(member.channel_id)
            and not rules.can_approve(role_ids=set(member.role_ids), manage_messages=member.manage_messages)
        )

    # --- money ----------------------------------------------------------------------------------

    def price(self, model: str) -> int | None:
        """What one video of `model` costs now (micros), to record on its job; None: no price."""
        return self.defaults.prices.of(model)

    def spend_check(self, member: Member, rules: GuildSettings, model: str) -> Callable[[], Awaitable[None]]:
        """The monthly budgets' check of one video of `model` (see `quota_check`)."""
        return _counted(
            budget.checker(self.store, self.defaults.prices, self.budgets(member, rules), model=model)
        )

    def budgets(self, member: Member, rules: GuildSettings) -> tuple[budget.Budget, ...]:
        """The monthly budgets a job asked by `member` counts against: the server's where the
        server added the bot (in its time zone), and the whole bot's (in QUOTA_TIMEZONE)."""
        owner = budget.Budget("bot", self.defaults.bot_budget, self.defaults.limits.timezone)
        if member.scope != "guild" or member.guild_id is None:
            return (owner,)
        limits = rules.limits(self.defaults)
        return budget.Budget("server", limits.monthly_budget, limits.timezone, member.guild_id), owner

    async def spend_warning(self, job: Job) -> Text | None:
        """After `job` was written: the first time this month a budget it counts against reaches
        80 %, the warning for its server's audit channel (None: nothing to say there). The whole
        bot's has no channel to go to: it is logged at WARNING, once a month too."""
        if not job.price_micros:
            return None
        member = Member(job.user_id, job.guild_id, job.channel_id, scope=job.scope)
        warning = None
        for cap in self.budgets(member, await self.rules(job.guild_id, job.scope)):
            now = time.time()
            spent = await budget.spent(self.store, cap, now)
            if not cap.reached_warning(spent):
                continue
            key = f"budget_warned:{cap.guild_id or 'bot'}:{budget.month_key(now, cap.timezone)}"
            if not await self.store.claim_meta(key, str(spent)):
                continue  # already told this month
            prices = self.defaults.prices
            params = {
                "spent": prices.show(spent),
                "budget": prices.show(cap.limit),
                "percent": spent * 100 // cap.limit,
                "reset": int(budget.next_month(now, cap.timezone)),
            }
            if cap.scope == "bot":
                log.warning(
                    "the bot has spent %(spent)s of its MONTHLY_BUDGET of %(budget)s (%(percent)d %%) "
                    "this month; videos that would pass it are refused",
                    params,
                )
            else:
                warning = Text(
                    "💰 This server has spent {spent} of its monthly budget of {budget} ({percent} %) "
                    "this month; videos that would pass it are refused until it resets <t:{reset}:R>.",
                    **params,
                )
        return warning


def _counted(check: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """`check`, with each refusal it makes counted in the metrics (by the limit that refused)."""

    async def counted() -> None:
        try:
            await check()
        except quota.QuotaExceeded as exc:
            metrics.quota_refused(exc.scope)
            raise

    return counted
