"""Busy servers: the real bot process against the loopback fakes, with Discord's rate limits on.

    python bench/burst.py [--scenarios burst,expiry,queue,long,idle] [--scale 1.0] [--out FILE]
    python bench/burst.py --scenarios processes --processes 2 --database postgresql://…

Each scenario starts a fresh fake Discord (enforcing Discord's documented limits: 50 requests/s
per bot token with interaction callbacks and webhooks exempt, 5 per 5 s per channel for message
create and for message edit, 5 per 5 s per interaction token), a fresh fake relay and
`python -m bot` with the production timings, drives it, and reports:

- burst:  1,000 `/video` commands within 1 s across 10 channels, queue limits raised;
- expiry: 200 jobs across 10 channels whose interaction tokens expire before the relay finishes;
- limits: 200 commands within 1 s across 10 channels, tokens expiring after 1 s, 20 s tasks:
          Discord's channel buckets set the pace; compared with the floor of that run (below);
- queue:  the same small burst with queue limits raised and at the defaults (requests per job);
- long:   2-minute tasks, with the model's recent history in the database;
- idle:   10,000 jobs waiting upstream (resumed at start-up): CPU and memory while nothing changes;
- processes: 2,000 commands within 1 s across two shards, on SQLite (one process), on PostgreSQL
          (one process), and on PostgreSQL with --processes processes, each running its shards:
          acks, deliveries, creates, 429s, CPU per job against SQLite, database round trips per job.

Every wait is bounded, everything runs on 127.0.0.1, and the figures go to stdout and, as JSON,
to `--out`. `--scale 0.1` runs the same shapes ten times smaller, as a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.model import JobState
from bot.storage.store import Store
from sandbox.discord_server import FakeDiscord, FakeInteraction
from sandbox.relay import FakeTask, FakeVideoAPI, Step
from tests.e2e.harness import BotProcess, start_bot

MODEL = "veo3.1-fast"
TICK = os.sysconf("SC_CLK_TCK")
# The bot's production timings (the e2e harness speeds them up for tests; the bench must not).
PRODUCTION = {
    "POLL_INTERVAL": "5",
    "POLL_MAX_INTERVAL": "30",
    "PROGRESS_EDIT_INTERVAL": "4",
    "VIDEO_API_TIMEOUT": "30",
    "LOG_LEVEL": "INFO",
    "GUILD_READY_TIMEOUT": "0.1",
}
PROFILE_DIR: Path | None = None  # --profile
PIN = os.environ.get("BENCH_PIN", "1") != "0"
PROFILED = (
    "import cProfile, runpy, sys, time; sys.argv = ['bot']; p = cProfile.Profile(time.process_time)\n"
    "try: p.runcall(runpy.run_module, 'bot', run_name='__main__')\n"
    "finally: p.dump_stats(%r)"
)
RAISED = {
    "MAX_RUNNING_JOBS": "100000",
    "MAX_RUNNING_PER_MEMBER": "100000",
    "MAX_WAITING_PER_MEMBER": "100000",
}


# --- measuring the bot process ----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def life(seconds: float, steps: int = 3) -> list[Step]:
    gap = seconds / (steps + 1)
    out = [Step("queued", 0)]
    out += [Step("processing", round(100 * i / (steps + 1)), after=gap) for i in range(1, steps + 1)]
    return [*out, Step("completed", 100, after=gap, video="small")]


def finished_at(task: FakeTask) -> float:
    return task.created + sum(step.after for step in task.life)


def floor_latencies(done: dict[int, list[float]], limit: int = 5, per: float = 5.0) -> list[float]:
    """The least completion → video each job could have had: one final edit per job, each
    channel's edit bucket (Discord's fixed window of `limit` per `per`, opening on its first
    request) spent on finals alone, sent in completion order the moment the bucket allows."""
    out: list[float] = []
    for times in done.values():
        opened, used = float("-inf"), 0
        for at in sorted(times):
            sent = at
            if sent >= opened + per:
                opened, used = sent, 0
            elif used >= limit:
                opened, used = opened + per, 0
                sent = opened  # (`at` is before it: the bucket was full)
            used += 1
            out.append(sent - at)
    return out


# --- one run ------------------------------------------------------------------------------------


class Run:
    """Fresh fakes and a fresh bot in a temporary directory."""

    def __init__(self, workdir: Path, env: dict[str, str], channels: int = 10, members: int = 100) -> None:
        self.workdir = workdir
        self.env = {**PRODUCTION, **env}
        self.channels_wanted = channels
        self.members_wanted = members
        self.discord = FakeDiscord(rate_limits=True)
        self.relay = FakeVideoAPI()
        self.bot: BotProcess | None = None
        self.bots: list[BotProcess] = []  # every bot process (several in the `processes` case)
        self.stop_s: float | None = None
        self.interactions: list[FakeInteraction] = []
        self.prompts: dict[str, FakeInteraction] = {}

    async def __aenter__(self) -> Run:
        await self.discord.start()
        await self.relay.start()
        guild = self.discord.add_guild(channels=self.channels_wanted)
        self.channels = guild.channels
        self.members = [self.discord.add_member(guild.id, name=f"m{i}") for i in range(self.members_wanted)]
        return self

    async def start_bot(self) -> None:
        # PROFILE_DIR: run the bot under cProfile counting CPU time, not wall time (an fsync
        # is not CPU), written when it stops.
        args = ("-c", PROFILED % str(PROFILE_DIR / f"{self.workdir.name}.prof")) if PROFILE_DIR else ()
        self.bot = await start_bot(self.discord, self.relay, self.workdir, self.env, python_args=args)
        if PIN and len(os.sched_getaffinity(0)) >= 2:
            # The bot on a core of its own, the fakes and this driver on the others: the bot's
            # CPU figure then varies far less with how the two happen to share the cores.
            cores = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(self.bot.proc.pid, {cores[-1]})
            os.sched_setaffinity(0, set(cores[:-1]))
        self.bots = [self.bot]
        await self.discord.wait_commands()
        self.first_request = len(self.discord.requests)
        self.cpu_at_start = self.cpu()

    def cpu(self) -> float:
        """CPU seconds of every bot process so far."""
        return sum(cpu_seconds(bot.proc.pid) for bot in self.bots)

    async def __aexit__(self, *exc: object) -> None:
        started = time.monotonic()
        for bot in self.bots:
            if bot.running:
                try:
                    await bot.stop(timeout=20)
                except AssertionError:
                    await bot.kill9()  # reported as the stop time below
        self.stop_s = round(time.monotonic() - started, 1)
        await self.relay.close()
        await self.discord.close()

    async def commands(self, count: int, within: float) -> None:
        """`count` /video commands spread evenly over `within` seconds, round robin over channels."""
        started = time.monotonic()
        for i in range(count):
            wait = started + i * within / count - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            prompt = f"bench job {i}: a lighthouse in a storm"
            interaction = await self.discord.slash(
                "video",
                {"prompt": prompt},
                user=self.members[i % len(self.members)],
                channel_id=self.channels[i % len(self.channels)],
            )
            self.interactions.append(interaction)
            self.prompts[prompt] = interaction

    def delivered_at(self, interaction: FakeInteraction) -> float | None:
        msg = interaction.original
        if msg is None:
            return None
        for snap in msg.edits:
            if any(name.endswith(".mp4") for name in snap["attachments"]):
                return float(snap["at"])
        return None

    def channel_figures(self) -> dict[str, Any]:
        """The floor of this run (its own completion times through each channel's edit bucket),
        the bot's distance to it, and how the members were told."""
        done: dict[int, list[float]] = {}
        for task in self.relay.tasks.values():
            interaction = self.prompts.get(task.body.get("prompt", ""))
            if interaction is not None:
                done.setdefault(interaction.channel_id, []).append(finished_at(task))
        floor = floor_latencies(done)
        requests = self.discord.requests[self.first_request :]
        channel_edits = sum(1 for r in requests if r.method == "PATCH" and "/channels/" in r.path)
        channel_posts = sum(1 for r in requests if r.method == "POST" and "/channels/" in r.path)
        pings: dict[int, int] = {}
        for channel in self.channels:
            for msg in self.discord.messages(channel):
                for user in (msg.allowed_mentions or {}).get("users") or ():
                    pings[int(user)] = pings.get(int(user), 0) + 1
        members = {i.user.id for i in self.interactions}
        jobs_of = {m: sum(1 for i in self.interactions if i.user.id == m) for m in members}
        return {
            "floor_p50_s": pct(floor, 0.5),
            "floor_p99_s": pct(floor, 0.99),
            "channel_edits": channel_edits,
            "channel_posts": channel_posts,
            "members_pinged_as_often_as_their_jobs": sum(1 for m in members if pings.get(m, 0) == jobs_of[m]),
            "members": len(members),
        }

    async def until(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            await asyncio.sleep(0.25)
        return done()

    def report(self, jobs: int) -> dict[str, Any]:
        assert self.bots
        acks = [i.acked_at - i.created for i in self.interactions if i.acked_at is not None]
        misses = sum(1 for i in self.interactions if i.acked_at is None or i.acked_at - i.created > 3.0)
        to_create: list[float] = []
        to_video: list[float] = []
        creates_per_prompt: dict[str, int] = {}
        for body in self.relay.creates:
            creates_per_prompt[body.get("prompt", "")] = creates_per_prompt.get(body.get("prompt", ""), 0) + 1
        for task in self.relay.tasks.values():
            interaction = self.prompts.get(task.body.get("prompt", ""))
            if interaction is None:
                continue
            to_create.append(task.created - interaction.created)
            shown = self.delivered_at(interaction)
            if shown is not None:
                to_video.append(shown - finished_at(task))
        requests = self.discord.requests[self.first_request :]
        limits = self.discord.rate_limits
        delivered = sum(1 for i in self.interactions if self.delivered_at(i) is not None)
        return {
            "commands": len(self.interactions),
            "delivered": delivered,
            "ack_p50_s": pct(acks, 0.5),
            "ack_p99_s": pct(acks, 0.99),
            "ack_max_s": round(max(acks), 3) if acks else None,
            "ack_misses": misses,
            "command_to_create_p50_s": pct(to_create, 0.5),
            "command_to_create_p99_s": pct(to_create, 0.99),
            "relay_done_to_video_p50_s": pct(to_video, 0.5),
            "relay_done_to_video_p99_s": pct(to_video, 0.99),
            "discord_requests_per_job": round(len(requests) / jobs, 2),
            "discord_429s": sum(1 for r in requests if r.status == 429),
            "discord_429s_per_job": round(sum(1 for r in requests if r.status == 429) / jobs, 3),
            "discord_429s_by_bucket": dict(limits.refused_by) if limits else {},
            "relay_queries_per_job": round(len(self.relay.queries) / jobs, 2),
            "creates_per_command": round(len(self.relay.creates) / max(1, len(self.interactions)), 3),
            "commands_created_twice": sum(1 for n in creates_per_prompt.values() if n > 1),
            "bot_cpu_ms_per_job": round(1000 * (self.cpu() - self.cpu_at_start) / jobs, 2),
            "bot_peak_rss_mib": round(max(peak_rss_mib(b.proc.pid) for b in self.bots), 1),
        }


class ShardedRun(Run):
    """Two shards, a server on each (five channels each), and `processes` bot processes sharing
    `database` (a PostgreSQL URL; None: one process on SQLite running both shards)."""

    def __init__(self, workdir: Path, env: dict[str, str], *, processes: int, database: str | None) -> None:
        super().__init__(workdir, env)
        self.discord = FakeDiscord(rate_limits=True, shard_count=2, max_concurrency=2)
        self.processes = processes
        self.database = database

    async def __aenter__(self) -> Run:
        await self.discord.start()
        await self.relay.start()
        guilds = [self.discord.add_guild(channels=self.channels_wanted // 2, shard=s) for s in (0, 1)]
        self.channels = [c for g in guilds for c in g.channels]
        self.members = [
            self.discord.add_member(guilds[0].id, name=f"m{i}") for i in range(self.members_wanted)
        ]
        for member in self.members:  # everyone is in both servers
            guilds[1].members[member.id] = member
        return self

    async def start_bot(self) -> None:
        for n in range(self.processes):
            env = dict(self.env)
            if self.database is not None:
                ids = [s for s in (0, 1) if s % self.processes == n]
                env.update(DATABASE_URL=self.database, SHARD_COUNT="2", SHARD_IDS=",".join(map(str, ids)))
            bot = await start_bot(self.discord, self.relay, self.workdir / f"p{n}", env, wait_ready=False)
            self.bots.append(bot)
        self.bot = self.bots[0]
        for bot in self.bots:
            while "connected as" not in bot.output:
                if not bot.running:
                    raise SystemExit(f"a bot process stopped:\n{bot.output[-2000:]}")
                await asyncio.sleep(0.1)
        await self.discord.wait_commands()
        self.first_request = len(self.discord.requests)
        self.cpu_at_start = self.cpu()

    def round_trips(self) -> int:
        """Statements the processes sent to PostgreSQL (each logs its count as it stops)."""
        found = [re.search(r"postgresql: (\d+) statements", bot.output) for bot in self.bots]
        return sum(int(m.group(1)) for m in found if m)


async def fresh_schema(url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A new schema in the database at `url` for one run (the URL that selects it), and how to
    drop it afterwards: the bench never writes into an existing bot's tables."""
    import asyncpg

    name = f"veo_bench_{os.getpid()}_{random.randrange(1 << 30)}"
    conn = await asyncpg.connect(url)
    await conn.execute(f'create schema "{name}"')
    await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute(f'drop schema if exists "{name}" cascade')
        await conn.close()

    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}search_path={name}", drop


# --- the scenarios ------------------------------------------------------------------------------


async def burst(tmp: Path, scale: float) -> dict[str, Any]:
    count = max(10, int(1000 * scale))
    async with Run(tmp / "burst", RAISED) as run:
        run.relay.default_life = life(10.0)
        await run.start_bot()
        await run.commands(count, within=1.0)
        await run.until(lambda: sum(1 for i in run.interactions if run.delivered_at(i)) >= count, 240)
        return run.report(count)


async def expiry(tmp: Path, scale: float) -> dict[str, Any]:
    count = max(10, int(200 * scale))
    env = {**RAISED, "INTERACTION_TOKEN_TTL": "3"}
    async with Run(tmp / "expiry", env) as run:
        run.discord.expire_tokens_after(4.0)
        run.relay.default_life = life(12.0)
        await run.start_bot()
        # 5 commands a second: 0.5 finished jobs per second per channel, well inside its edit
        # bucket (1 per second) if the final edits go first.
        await run.commands(count, within=count / 5)
        await run.until(lambda: sum(1 for i in run.interactions if run.delivered_at(i)) >= count, 240)
        return run.report(count)


async def queue(tmp: Path, scale: float) -> dict[str, Any]:
    count = max(10, int(50 * scale))
    out: dict[str, Any] = {}
    for name, env in (("no_queue", RAISED), ("default_limits", {})):
        async with Run(tmp / f"queue-{name}", env, members=25) as run:
            run.relay.default_life = life(5.0)
            await run.start_bot()
            await run.commands(count, within=1.0)
            await run.until(lambda: sum(1 for i in run.interactions if run.delivered_at(i)) >= count, 300)
            out[name] = run.report(count)
    out["requests_ratio"] = round(
        out["default_limits"]["discord_requests_per_job"] / out["no_queue"]["discord_requests_per_job"], 2
    )
    return out


async def seed_history(db_path: Path, took: float, count: int = 20) -> None:
    """Finished jobs of MODEL, as a bot that has run a while has (what poll timing learns from)."""
    now = time.time() - 3600
    async with Store.open(db_path) as store:
        for i in range(count):
            await store.add_job(
                channel_id=1,
                user_id=1,
                prompt=f"history {i}",
                model=MODEL,
                shape="landscape",
                size="1280x720",
                duration=8,
                aspect_ratio="16:9",
                state=JobState.DELIVERED,
                now=now + i,
                submitted_at=now + i,
                succeeded_at=now + i + took,
                notified_at=now + i + took,
            )


async def long(tmp: Path, scale: float) -> dict[str, Any]:
    count = max(5, int(30 * scale))
    seconds = 120.0
    (tmp / "long").mkdir(parents=True, exist_ok=True)
    await seed_history(tmp / "long" / "bot.db", seconds)
    async with Run(tmp / "long", RAISED) as run:
        rng = random.Random(7)
        run.relay.script(*[life(seconds * rng.uniform(0.92, 1.08), steps=5) for _ in range(count)])
        await run.start_bot()
        await run.commands(count, within=10.0)
        await run.until(lambda: sum(1 for i in run.interactions if run.delivered_at(i)) >= count, 240)
        return run.report(count)


async def idle(tmp: Path, scale: float) -> dict[str, Any]:
    """Jobs at the relay that do not change for the whole window: what does waiting cost?"""
    count = max(100, int(10_000 * scale))
    workdir = tmp / "idle"
    workdir.mkdir(parents=True, exist_ok=True)
    await seed_history(workdir / "bot.db", 300.0)
    async with Run(workdir, RAISED, channels=10, members=10) as run:
        now = time.time()
        forever = [Step("processing", 50)]
        rows = []
        for i in range(count):
            task = FakeTask(f"video_idle-{i}", {"prompt": f"idle {i}"}, forever, time.monotonic())
            run.relay.tasks[task.id] = task
            rows.append(
                (
                    "running",
                    now - 30,
                    now - 30,
                    run.channels[i % 10],
                    1000 + i % 50,
                    f"idle {i}",
                    MODEL,
                    "landscape",
                    "1280x720",
                    8,
                    "16:9",
                    task.id,
                    "processing",
                    50,
                    now - 30,
                    now - 30,
                    10**17 + i,
                    "[]",
                    "[]",
                )
            )
        db = sqlite3.connect(workdir / "bot.db")
        db.executemany(
            "insert into jobs (state, created_at, updated_at, channel_id, user_id, prompt, model, "
            "shape, size, duration, aspect_ratio, task_id, raw_status, progress, submitted_at, "
            "running_at, message_id, images, image_names) values "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        db.commit()
        db.close()
        await run.start_bot()
        assert run.bot is not None
        pid = run.bot.proc.pid
        settle = 30.0 if scale >= 1 else 10.0
        await asyncio.sleep(settle)  # start-up: every job is resumed and looked at once
        queries_before, cpu_before, t0 = len(run.relay.queries), cpu_seconds(pid), time.monotonic()
        window = 60.0 if scale >= 1 else 15.0
        await asyncio.sleep(window)
        elapsed = time.monotonic() - t0
        requests = run.discord.requests[run.first_request :]
        return {
            "jobs": count,
            "settle_s": settle,
            "window_s": round(elapsed, 1),
            "cpu_pct_of_a_core": round(100 * (cpu_seconds(pid) - cpu_before) / elapsed, 2),
            "relay_queries_per_s": round((len(run.relay.queries) - queries_before) / elapsed, 1),
            "discord_requests": len(requests),
            "rss_mib": round(rss_mib(pid), 1),
            "peak_rss_mib": round(peak_rss_mib(pid), 1),
            "start_up_cpu_s": round(cpu_before - run.cpu_at_start, 2),
        }


async def limits(tmp: Path, scale: float) -> dict[str, Any]:
    """Jobs that outlive their interaction token: every edit and reply goes through the channel
    routes, so Discord's buckets, not the bot, set the pace (issue #22)."""
    count = max(10, int(200 * scale))
    env = {**RAISED, "INTERACTION_TOKEN_TTL": "1"}
    async with Run(tmp / "limits", env) as run:
        # The bot stops using a token after 1 s; Discord's own expiry comes later, so a job
        # message posted late on a loaded machine is still posted (the bench measures pacing).
        run.discord.expire_tokens_after(15.0)
        rng = random.Random(22)
        # Queued, then 20/40/60/80 % four seconds apart, then done: 20 s, each task's life
        # stretched by its own factor so that completions spread over a few seconds.
        run.relay.script(*[life(20.0 * rng.uniform(0.875, 1.125), steps=4) for _ in range(count)])
        await run.start_bot()
        await run.commands(count, within=1.0)
        await run.until(lambda: sum(1 for i in run.interactions if run.delivered_at(i)) >= count, 240)
        # The notifications follow the finals through each channel's create bucket.
        await run.until(lambda: sum(len(run.discord.messages(c)) for c in run.channels) >= 2 * count, 30)
        out = run.report(count)
        out.update(run.channel_figures())
        return out


async def processes(tmp: Path, scale: float) -> dict[str, Any]:
    """2,000 commands within 1 s across two shards (issue #21): one process on SQLite, the same on
    PostgreSQL, and PROCESSES processes (their shards each) on PostgreSQL, one after the other."""
    if DATABASE is None:
        raise SystemExit("the processes case needs --database postgresql://…")
    count = max(20, int(2000 * scale))
    out: dict[str, Any] = {}
    for name, procs, on_pg in (
        ("sqlite_1_process", 1, False),
        ("postgresql_1_process", 1, True),
        (f"postgresql_{PROCESSES}_processes", PROCESSES, True),
    ):
        url, drop = await fresh_schema(DATABASE) if on_pg else (None, None)
        try:
            async with ShardedRun(tmp / name, RAISED, processes=procs, database=url) as run:
                run.relay.default_life = life(10.0)
                await run.start_bot()
                await run.commands(count, within=1.0)
                await run.until(lambda: sum(1 for i in run.interactions if run.delivered_at(i)) >= count, 300)
                out[name] = run.report(count)
            if on_pg:
                out[name]["database_round_trips_per_job"] = round(run.round_trips() / count, 2)
        finally:
            if drop is not None:
                await drop()
    sqlite_cpu = out["sqlite_1_process"]["bot_cpu_ms_per_job"]
    for name in list(out):
        if name.startswith("postgresql"):
            out[name]["cpu_per_job_vs_sqlite"] = round(out[name]["bot_cpu_ms_per_job"] / sqlite_cpu, 2)
    return out


SCENARIOS = {
    "burst": burst,
    "expiry": expiry,
    "limits": limits,
    "queue": queue,
    "long": long,
    "idle": idle,
    "processes": processes,
}
DATABASE: str | None = None  # --database
PROCESSES = 2  # --processes


async def main(names: list[str], scale: float, out: Path | None) -> None:
    results: dict[str, Any] = {"load_before": os.getloadavg(), "cpus": os.cpu_count(), "scale": scale}
    with tempfile.TemporaryDirectory(prefix="veo-bench-") as tmp:
        for name in names:
            started = time.monotonic()
            print(f"--- {name}", flush=True)
            results[name] = await SCENARIOS[name](Path(tmp), scale)
            results[name]["wall_s"] = round(time.monotonic() - started, 1)
            print(json.dumps(results[name], indent=2), flush=True)
            if out is not None:  # after each scenario, so a later failure loses nothing
                out.write_text(json.dumps(results, indent=2) + "\n")
    results["load_after"] = os.getloadavg()
    if out is not None:
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenarios",
        default=None,
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: all; processes with --database only)",
    )
    parser.add_argument(
        "--database", default=None, help="a PostgreSQL URL for the processes case (a schema is made per run)"
    )
    parser.add_argument("--processes", type=int, default=2, help="bot processes in the processes case")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="job counts times this (0.1 for a smoke run)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="run the bot under cProfile, one SCENARIO.prof per run here",
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILE_DIR = args.profile.resolve()
    DATABASE, PROCESSES = args.database, args.processes
    default = [name for name in SCENARIOS if name != "processes" or DATABASE]
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()] if args.scenarios else default
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    asyncio.run(main(chosen, args.scale, args.out))
