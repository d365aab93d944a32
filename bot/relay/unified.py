"""A thin client over the relay's two routes, mapping every failure to a typed error.

Which failures may be retried differs between the routes, because only create costs money:

- query is read-only: any transport failure, 429 or 5xx is retried here with backoff.
- create is retried only when the request provably never reached the relay: the connection
  was refused or could not be opened (DNS, connect timeout). A 429 or 4xx is a refusal (no task
  was made, nothing billed) and is raised as such; the caller may send again after a 429.
  Anything that happened after the request was sent (read timeout, connection reset, 5xx, a
  2xx without a readable task id) may have created a billed task, so it raises
  `CreateOutcomeUnknown` and is never retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from bot.errors import (
    AuthError,
    BadRequest,
    CreateOutcomeUnknown,
    MalformedResponse,
    NoBalance,
    RateLimited,
    UpstreamUnavailable,
    VideoAPIError,
)
from bot.ops import metrics
from bot.relay.redact import Redactor
from bot.relay.request import VideoRequest
from bot.relay.task_status import TaskStatus, parse_task

log = logging.getLogger(__name__)

CREATE_PATH = "/v1/video/create"
QUERY_PATH = "/v1/video/query"
MAX_RETRY_AFTER = 60.0
CONNECT_RETRIES = 2


class _NotSent(Exception):
    """The request never left this machine (connection refused, DNS, connect timeout)."""


class VideoAPI:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        query_retries: int = 2,
        retry_base_delay: float = 0.5,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        # A relay may echo the request (key included) in its errors; nothing it says is kept,
        # logged or shown before this has been over it.
        self._redactor = Redactor([api_key])
        self.timeout = timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout))
        self.query_retries = query_retries
        self.retry_base_delay = retry_base_delay
        self.last_success: float | None = None

    @metrics.counted_create
    async def create(self, request: VideoRequest) -> TaskStatus:
        for attempt in range(CONNECT_RETRIES + 1):
            try:
                payload = await self._request("POST", CREATE_PATH, json_body=request.payload(), creating=True)
                break
            except _NotSent as exc:
                # Safe to retry: nothing reached the relay, so nothing can have been billed.
                if attempt == CONNECT_RETRIES:
                    raise UpstreamUnavailable(
                        f"The video service could not be reached ({exc}). Nothing was sent."
                    ) from None
                await asyncio.sleep(self._backoff(attempt))
        status = self._cleaned(parse_task(payload))
        if not status.task_id:
            raise CreateOutcomeUnknown("The video service accepted the request but returned no task id.")
        return status

    async def query(self, task_id: str) -> TaskStatus:
        for attempt in range(self.query_retries + 1):
            try:
                payload = await self._request("GET", QUERY_PATH, params={"id": task_id})
                return self._cleaned(parse_task(payload, task_id=task_id))
            except _NotSent as exc:
                error: VideoAPIError = UpstreamUnavailable(f"The video service could not be reached ({exc}).")
            except VideoAPIError as exc:
                if not exc.retryable:
                    raise
                error = exc
            if attempt == self.query_retries:
                raise error
            delay = self._backoff(attempt)
            if isinstance(error, RateLimited) and error.retry_after is not None:
                delay = min(error.retry_after, MAX_RETRY_AFTER)
            log.debug("query %s failed (%s); retrying in %.2fs", task_id, error, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _cleaned(self, status: TaskStatus) -> TaskStatus:
        r = self._redactor
        return replace(
            status,
            raw_status=r.relay_text(status.raw_status),
            failure_reason=r.relay_text(status.failure_reason),
            enhanced_prompt=r.relay_text(status.enhanced_prompt),
            video_url=r.secrets(status.video_url) if status.video_url else None,
            thumbnail_url=r.secrets(status.thumbnail_url) if status.thumbnail_url else None,
        )

    def _backoff(self, attempt: int) -> float:
        return self.retry_base_delay * 2**attempt * (0.5 + random.random())

    def _relay_message(self, body: bytes) -> str | None:
        """The relay's own error text in `body`, with the key redacted."""
        return self._redactor.relay_text(_error_message(body))

    @metrics.timed_relay_request
    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        creating: bool = False,
    ) -> dict[str, Any]:
        url = self.base_url + path
        try:
            async with self.session.request(
                method, url, json=json_body, params=params, headers=self._headers, timeout=self._timeout
            ) as response:
                body = await response.read()
                status = response.status
                headers = response.headers
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _NotSent(exc.__class__.__name__) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            what = "timed out" if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError) else "broke off"
            if creating:
                raise CreateOutcomeUnknown(
                    f"The create request {what} after it was sent ({exc.__class__.__name__})."
                ) from None
            raise UpstreamUnavailable(f"The video service {what} ({exc.__class__.__name__}).") from None

        # The error text is read (and cleaned) only when there is an error: most answers are not.
        if status >= 500:
            message = self._relay_message(body) or f"HTTP {status}"
            if creating:
                # The relay may have created (and billed) the task before failing.
                raise CreateOutcomeUnknown(f"The video service failed with {message}.", status=status)
            raise UpstreamUnavailable(f"The video service failed ({message}).", status=status)
        if status >= 400:
            raise _client_error(status, self._relay_message(body), body, headers)
        try:
            payload = json.loads(body)
        except ValueError:
            if creating:
                raise CreateOutcomeUnknown("The video service's answer to create was not JSON.") from None
            raise MalformedResponse("The video service answered something that is not JSON.") from None
        if not isinstance(payload, dict):
            if creating:
                raise CreateOutcomeUnknown("The video service's answer to create was not a JSON object.")
            raise MalformedResponse("The video service answered JSON that is not an object.")
        error = payload.get("error")
        if error and not payload.get("id") and not payload.get("status"):
            # An error body with HTTP 200: nothing was created.
            raise _client_error(400, self._relay_message(body), body, headers)
        self.last_success = time.time()
        return payload


def _error_message(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:200] if text and not text.lstrip().startswith("<") else None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or "")[:300] or None
        if isinstance(error, str):
            return error[:300]
        if isinstance(data.get("message"), str):
            return data["message"][:300]
    return None


def _error_code(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return f"{error.get('type', '')} {error.get('code', '')}".lower()
    return ""


def _client_error(status: int, message: str | None, body: bytes, headers: Any) -> VideoAPIError:
    code = _error_code(body)
    if status == 429:
        return RateLimited(message, retry_after=_retry_after(headers, body))
    if status == 401:
        return AuthError(message, status=status)
    if status in (402, 403) or "balance" in code or "quota" in code:
        return NoBalance(message, status=status)
    return BadRequest(message, status=status)


def _retry_after(headers: Any, body: bytes) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    try:
        data = json.loads(body)
        value = data.get("retry_after") if isinstance(data, dict) else None
        return float(value) if isinstance(value, int | float) else None
    except ValueError:
        return None
