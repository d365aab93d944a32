"""`python -m bot --sandbox` in a real browser: a whole job, a Reroll, a Remix modal and an approval,
asserted on what the page shows. Screenshots go to tests/artifacts/ (desktop and phone width)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import struct
import sys
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JOB_WAIT = 45_000  # ms: the fast profile makes a video in ~6 s; slack for a busy machine


def tiny_png(width: int = 96, height: int = 54) -> bytes:
    """A real PNG (a blue gradient), so the browser shows the reference image as a thumbnail."""
    rows = b"".join(b"\0" + bytes(c for x in range(width) for c in (20, 2 * x, 200)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """The sandbox as a newcomer starts it: no token, no key, no .env; any free port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "VIDEO_", "DEV_GUILD"))}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", SANDBOX_PORT="0")
    log_path = tmp_path / "sandbox.log"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--sandbox", "--profile", "fast",
            cwd=tmp_path, env=env, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = None
        for _ in range(300):
            found = re.search(r"sandbox: open (http://127\.0\.0\.1:\d+)", log_path.read_text())
            if found:
                url = found[1]
                break
            assert proc.returncode is None, log_path.read_text()
            await asyncio.sleep(0.1)
        assert url, f"the sandbox never printed its address:\n{log_path.read_text()}"
        yield url, log_path
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    output = log_path.read_text()
    assert proc.returncode == 0, output[-3000:]
    assert "stopped cleanly" in output  # the bot process was stopped, not left behind


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed for this test: apt-get install -y chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


def job(page: Page, number: int):
    return page.locator("article.msg", has=page.locator(".embed-title", has_text=f"Video #{number}"))


async def status_of(page: Page, number: int, text: str) -> None:
    field = job(page, number).locator(".embed-field", has=page.locator(".fname", has_text="Status"))
    await field.locator(".fvalue", has_text=text).wait_for(timeout=JOB_WAIT)


async def run_command(page: Page, prompt: str, **files: Path) -> None:
    box = page.locator("#composer-input")
    await box.fill("/vid")
    await page.locator('#palette [data-command="video"]').click()
    await page.locator("#opt-prompt").fill(prompt)
    for option, path in files.items():
        await page.locator(".cf-more summary").click()
        await page.locator(f"#opt-{option}").set_input_files(str(path))
    await page.locator("#send").click()
    await page.locator("#command-form").wait_for(state="hidden")


async def test_a_newcomer_makes_rerolls_remixes_and_approves_videos_in_the_page(sandbox, browser, tmp_path):
    url, log_path = sandbox
    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await _walk_through(page, url, log_path, tmp_path)
    except BaseException:
        # What the page showed when it went wrong, and what the bot said.
        await page.screenshot(path=str(ARTIFACTS / "sandbox-failure.png"), full_page=True)
        print(log_path.read_text()[-6000:])
        raise


async def _walk_through(page: Page, url: str, log_path: Path, tmp_path: Path) -> None:
    image = tmp_path / "lighthouse.png"
    image.write_bytes(tiny_png())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
    await page.goto(url)
    await page.locator("#bot-status.online").wait_for(timeout=30_000)

    # A whole job, with a reference image from "disk", to Done with a video that plays.
    await run_command(page, "a lighthouse in a storm", image=image)
    await status_of(page, 1, "Done")
    video = job(page, 1).locator("video")
    src = await video.get_attribute("src")
    assert src and src.endswith(".mp4")
    async with aiohttp.ClientSession() as session, session.get(url + src) as response:
        assert response.status == 200 and response.content_type == "video/mp4"
        assert (await response.read())[4:8] == b"ftyp"
    # The browser decoded it: an H.264 clip of about 2 seconds.
    await page.wait_for_function(
        "v => v.readyState >= 1 && Math.abs(v.duration - 2) < 0.5", arg=await video.element_handle()
    )
    assert await job(page, 1).locator("img.embed-thumb").count() == 1
    await page.screenshot(path=str(ARTIFACTS / "sandbox-desktop.png"), full_page=True)

    # Reroll: a second job message that gets its own video.
    await job(page, 1).locator("button", has_text="Reroll").click()
    await status_of(page, 2, "Done")
    assert await page.locator("article.msg .embed-title", has_text=re.compile(r"^Video #")).count() == 2
    assert "Reroll of" in await job(page, 2).inner_text()

    # Remix: the modal opens with the prompt; the edited prompt makes a third job.
    await job(page, 1).locator("button", has_text="Remix").click()
    modal = page.locator("#modal form")
    await modal.wait_for()
    field = modal.locator("textarea, input").first
    assert await field.input_value() == "a lighthouse in a storm"
    await field.fill("a lighthouse at dawn")
    await page.screenshot(path=str(ARTIFACTS / "sandbox-modal.png"))
    await modal.locator("button.submit").click()
    await status_of(page, 3, "Done")
    assert "a lighthouse at dawn" in await job(page, 3).inner_text()

    # In #moderated the member's job waits; the moderator approves it in #audit; it moves on.
    await page.locator('#channels button:has-text("moderated")').click()
    await run_command(page, "needs a moderator")
    await status_of(page, 4, "Waiting for approval")
    await page.locator("#me").select_option(label="mo (Moderator)")
    await page.locator('#channels button:has-text("audit")').click()
    request = page.locator("article.msg", has=page.locator("button", has_text="Approve")).last
    await request.locator("button", has_text="Approve").click()
    await request.locator("button", has_text="Approve").wait_for(state="detached", timeout=JOB_WAIT)
    assert "setting approval_channels changed by @mo" in await page.locator("#messages").inner_text()
    await page.screenshot(path=str(ARTIFACTS / "sandbox-audit.png"), full_page=True)
    await page.locator('#channels button:has-text("moderated")').click()
    await status_of(page, 4, "Done")
    assert "Approved by @mo" in await job(page, 4).inner_text()
    await page.locator('#channels button:has-text("audit")').click()
    assert "is thinking" not in await page.locator("#messages").inner_text()  # replaced by the answer
    await page.locator('#channels button:has-text("moderated")').click()

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=str(ARTIFACTS / "sandbox-phone.png"))
    await page.locator("#menu").click()
    await page.wait_for_timeout(400)  # the channel list slides in
    await page.screenshot(path=str(ARTIFACTS / "sandbox-phone-menu.png"))
    assert errors == [], errors
    assert outside == [], f"the page loaded something from outside the sandbox: {outside}"
    assert "Traceback" not in log_path.read_text()


async def open_command(page: Page, name: str, subcommand: str | None = None) -> None:
    await page.locator("#composer-input").fill(f"/{name[:5]}")
    await page.locator(f'#palette [data-command="{name}"]').click()
    if subcommand:
        await page.locator("#subcommand").select_option(subcommand)


async def at_the_bottom_with_media_loaded(page: Page) -> None:
    """Waits until every video has its size and every image is drawn, with the channel still
    scrolled to its newest message (a reader who never scrolled stays at the bottom)."""
    await page.wait_for_function(
        """() => {
            const box = document.getElementById("messages");
            const media = [...box.querySelectorAll("video")].every((v) => v.readyState >= 1)
                && [...box.querySelectorAll("img")].every((i) => i.complete);
            return media && box.scrollHeight - box.scrollTop - box.clientHeight < 2;
        }""",
        timeout=15_000,
    )


async def test_the_page_shows_what_discord_would(sandbox, browser, tmp_path):
    url, log_path = sandbox
    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await _as_discord_would(page, url, log_path, tmp_path)
    except BaseException:
        await page.screenshot(path=str(ARTIFACTS / "sandbox-failure-2.png"), full_page=True)
        print(log_path.read_text()[-6000:])
        raise


async def _as_discord_would(page: Page, url: str, log_path: Path, tmp_path: Path) -> None:
    image = tmp_path / "kite.png"
    image.write_bytes(tiny_png())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # As in Safari, which has no scroll anchoring: Chromium's would hide a page that lets media
    # grow under a channel scrolled to its bottom (most of the time).
    await page.add_init_script(
        "addEventListener('DOMContentLoaded', () => { const s = document.createElement('style');"
        " s.textContent = '* { overflow-anchor: none !important; }'; document.head.append(s); });"
    )
    await page.goto(url)
    await page.locator("#bot-status.online").wait_for(timeout=30_000)
    messages = page.locator("#messages")

    # Roles come from a picker of the server's roles; the bot takes the picked one.
    await page.locator("#me").select_option(label="mo (Moderator)")
    await page.locator('#channels button:has-text("audit")').click()
    await open_command(page, "video-admin", "roles")
    await page.locator("#opt-setting").select_option("approver_roles")
    await page.locator(".cf-more summary").click()
    roles = await page.locator("#opt-add option").all_inner_texts()
    assert [r for r in roles if r] == ["@mods", "@artists", "@approvers"]
    await page.locator("#opt-add").select_option(label="@approvers")
    await page.locator("#send").click()
    answer = page.locator("article.msg.ephemeral", has_text="approver_roles is now")
    await answer.wait_for(timeout=15_000)
    assert "@approvers" in await answer.inner_text()
    # Ephemeral messages live only in the client that got them: a reload loses them.
    await page.reload()
    await page.locator("#bot-status.online").wait_for(timeout=30_000)
    await messages.locator("article.msg").first.wait_for()
    assert await messages.locator("article.msg.ephemeral").count() == 0

    # ann asks for DMs; her video's "ready" comes to her DM with the bot, which the page shows.
    await page.locator("#me").select_option(label="ann (Member)")
    await page.locator('#channels button:has-text("general")').click()
    await open_command(page, "video-settings")  # its only option, optional, shows at once
    await page.locator("#opt-notify").select_option("dm")
    await page.locator("#send").click()
    await page.locator("article.msg.ephemeral", has_text="Saved.").wait_for(timeout=15_000)
    for n in range(12):  # enough talk before it that the channel scrolls
        await page.locator("#composer-input").fill(f"chatter {n}")
        await page.locator("#send").click()
        await messages.locator("article.msg", has_text=f"chatter {n}").wait_for()
    await run_command(page, "a kite over the sea", image=image)
    await status_of(page, 1, "Done")
    # The reference image shows once, as the embed's thumbnail (Discord hides what an embed uses).
    assert await job(page, 1).locator("img.embed-thumb").count() == 1
    assert await job(page, 1).locator(".attachments img").count() == 0
    # The clip is the simulator's stand-in, and the page says so.
    assert "stand-in" in await job(page, 1).locator(".stand-in").inner_text()
    # The player got its size while the channel stayed at the bottom: the buttons are in view.
    await at_the_bottom_with_media_loaded(page)
    reroll = await job(page, 1).locator("button", has_text="Reroll").bounding_box()
    composer = await page.locator("#composer").bounding_box()
    assert reroll and composer and reroll["y"] + reroll["height"] <= composer["y"]
    # And so after a reload.
    await page.reload()
    await page.locator("#bot-status.online").wait_for(timeout=30_000)
    await job(page, 1).locator("video").wait_for()
    await at_the_bottom_with_media_loaded(page)
    dm = page.locator("#channels button", has_text="VeoBot")
    await dm.click()
    assert await page.locator("#channel-hash").inner_text() == "@"
    await messages.locator("article.msg", has_text="your video #1 is ready").wait_for(timeout=JOB_WAIT)

    # The Apps menu on a message offers the bot's "Make a video", which reaches the bot.
    await page.locator('#channels button:has-text("general")').click()
    await page.locator("#composer-input").fill("just words, no images")
    await page.locator("#send").click()
    said = messages.locator("article.msg", has_text="just words, no images")
    await said.hover()
    await said.locator("[data-apps]").click()
    await said.locator(".apps-menu button", has_text="Make a video").click()
    refusal = messages.locator("article.msg.ephemeral", has_text="no images to make a video from")
    await refusal.wait_for(timeout=15_000)

    # Restarting the bot is told in the simulator's log, and the bot comes back.
    await page.locator("#restart").click()
    log = page.locator("#log")
    await log.locator("li", has_text="Restarting the bot").wait_for(timeout=30_000)
    await log.locator("li", has_text="connected to the gateway").wait_for(timeout=30_000)
    await page.locator("#bot-status.online").wait_for(timeout=30_000)
    await page.screenshot(path=str(ARTIFACTS / "sandbox-dm-apps.png"), full_page=True)
    assert errors == [], errors
    assert "Traceback" not in log_path.read_text()
