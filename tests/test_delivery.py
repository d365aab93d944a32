"""Fetching the finished video: only the web, within size and time, redirects checked."""

from __future__ import annotations

import aiohttp
import pytest

from bot.errors import DeadLink, DownloadError, LinkOnly
from bot.relay.download import TooLarge, download, is_web_url
from sandbox.relay import FakeVideoAPI


@pytest.fixture
async def relay():
    async with FakeVideoAPI() as fake, aiohttp.ClientSession() as session:
        yield fake, session


async def test_downloads_the_video(relay):
    fake, session = relay
    data = await download(session, fake.file_url("small.mp4"), max_bytes=10**6, time_limit=5)
    assert data == fake.small_video and data[4:8] == b"ftyp"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://x/y.mp4", "javascript:alert(1)", "", "//no-scheme"]
)
async def test_other_schemes_are_refused(relay, url):
    _, session = relay
    assert not is_web_url(url)
    with pytest.raises(DownloadError):
        await download(session, url, max_bytes=10**6, time_limit=5)


async def test_a_redirect_to_a_file_url_is_refused(relay):
    fake, session = relay
    with pytest.raises(DeadLink, match="not an http"):
        await download(session, fake.file_url("redirect.mp4"), max_bytes=10**6, time_limit=5)


async def test_size_cap_by_declared_length_and_by_body(relay):
    fake, session = relay
    fake.large_video_bytes = 2 * 1024 * 1024
    with pytest.raises(TooLarge):
        await download(session, fake.file_url("large.mp4"), max_bytes=1024 * 1024, time_limit=5)
    with pytest.raises(TooLarge):
        await download(session, fake.file_url("chunked.mp4"), max_bytes=1000, time_limit=5)


async def test_a_slow_server_hits_the_time_limit(relay):
    fake, session = relay
    with pytest.raises(LinkOnly, match="longer than"):
        await download(session, fake.file_url("slow.mp4"), max_bytes=10**6, time_limit=0.5)


async def test_http_errors_are_download_errors(relay):
    fake, session = relay
    with pytest.raises(DeadLink, match="404"):
        await download(session, fake.file_url("missing.mp4"), max_bytes=10**6, time_limit=5)
