"""Fetching the finished video: http/https only, bounded in size and time, redirects checked."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from bot.errors import DeadLink, LinkOnly
from bot.texts.i18n import Text

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


def is_web_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class TooLarge(LinkOnly):
    """The video is bigger than the cap; it can still be linked."""

    text = Text("The finished video is too large to upload here.")


async def download(session: aiohttp.ClientSession, url: str, *, max_bytes: int, time_limit: float) -> bytes:
    """Return the body of `url`, refusing other schemes, bodies over `max_bytes`, and slow servers.

    Raises `LinkOnly` when the video exists but should be linked (too large, too slow) and
    `DeadLink` when there is no video behind the link (not http(s), an error status, unreachable).

    Redirects are followed by hand so each hop's scheme is checked: a relay (or whoever holds
    its CDN) must not be able to point the bot at file://, ftp:// or anything but the web.
    """
    try:
        async with asyncio.timeout(time_limit):
            for _ in range(MAX_REDIRECTS + 1):
                if not is_web_url(url):
                    raise DeadLink(f"The video link is not an http(s) URL: {url[:100]!r}")
                async with session.get(url, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        url = str(response.url.join(URL(response.headers.get("Location", ""))))
                        continue
                    if response.status != 200:
                        raise DeadLink(f"The video download answered HTTP {response.status}.")
                    declared = response.content_length
                    if declared is not None and declared > max_bytes:
                        raise TooLarge(f"The video is {declared} bytes; the cap is {max_bytes}.")
                    body = bytearray()
                    async for chunk in response.content.iter_chunked(CHUNK):
                        body.extend(chunk)
                        if len(body) > max_bytes:
                            raise TooLarge(f"The video is over the {max_bytes}-byte cap.")
                    return bytes(body)
            raise DeadLink("The video link redirected too many times.")
    except TimeoutError:
        raise LinkOnly(f"The video download took longer than {time_limit:.0f}s.") from None
    except aiohttp.ClientError as exc:
        raise DeadLink(f"The video download failed: {exc.__class__.__name__}.") from None
