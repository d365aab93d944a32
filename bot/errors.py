"""Expected failures, as types.

Every error a member can cause or the bot can meet in normal operation is one of these. The
single error path (bot/app/answers.py) shows `text` ephemerally, in the member's language; anything
that is not a `BotError` is a bug and is logged with its traceback.
"""

from __future__ import annotations

from bot.texts.i18n import Message, Text, english


class BotError(Exception):
    """An expected failure with a short message that is safe to show to a member."""

    text: Message = Text("Something went wrong.")

    def __init__(self, message: Message | None = None) -> None:
        if message:
            self.text = message
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        """The member's message in English: for logs, and for code that reads it."""
        return english(self.text)


class ConfigError(BotError):
    """A setting is missing or malformed; start-up stops with this one line."""


class InputError(BotError):
    """The member's command input was refused (prompt, attachment, option combination)."""


class PermissionDenied(BotError):
    """The member may not do this (cancel someone else's job, use a moderator command)."""


class JobNotFound(InputError):
    """A button or command names a job this bot (or this server) does not have."""

    text = Text("This job is not known to the bot.")


class StoreError(BotError):
    """The database could not be used (locked past the retry bound, corrupt, unreadable)."""

    text = Text("The bot's database is unavailable right now; nothing was submitted.")


# --- video API -----------------------------------------------------------------------------


class VideoAPIError(BotError):
    """Any failure talking to the video relay.

    `status` is the HTTP status when there was one. `retryable` says whether the same request
    may be sent again without risk: see `VideoAPI.create` for why that differs between routes.
    """

    text = Text("The video service failed.")
    retryable: bool = False
    # What a failed create is recorded as (`jobs.failure_kind`), so no caller needs a type switch.
    failure_kind: str = "upstream"

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        # The message is the technical detail (logged); members see the class's text.
        Exception.__init__(self, message or self.user_message)
        self.status = status


class BadRequest(VideoAPIError):
    """400: the relay refused the parameters (unknown model, bad size, prompt rejected)."""

    text = Text("The video service refused the request's parameters.")
    failure_kind = "bad_parameters"


class AuthError(VideoAPIError):
    """401: the API key is wrong. An operator problem, never retried."""

    text = Text("The bot's video API key was refused; ask the server owner to check it.")
    failure_kind = "auth"


class NoBalance(VideoAPIError):
    """402/403: no balance left, or the key has no access to this model."""

    text = Text("The video service account has no balance or no access to this model.")
    failure_kind = "no_balance"


class RateLimited(VideoAPIError):
    """429: slow down. `retry_after` is the server's wish in seconds, when it said one."""

    text = Text("The video service is busy (rate limited); try again shortly.")
    retryable = True

    def __init__(
        self, message: str | None = None, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class UpstreamUnavailable(VideoAPIError):
    """5xx, refused connection, timeout: the relay or its upstream is in trouble."""

    text = Text("The video service is unavailable right now.")
    retryable = True


class MalformedResponse(VideoAPIError):
    """The relay answered something that is not the JSON we can read."""

    text = Text("The video service sent an answer the bot could not read.")
    retryable = True


class CreateOutcomeUnknown(VideoAPIError):
    """A create request may have reached the relay, but no task id came back.

    Raised instead of retrying: a create that reached the server may be billed, so sending it
    again could pay twice for one video.
    """

    text = Text(
        "The video service did not confirm the job, and it may have been accepted anyway. "
        "It was not resubmitted to avoid paying twice; check /video-history before trying again."
    )
    retryable = False
    failure_kind = "unconfirmed"


# --- Discord delivery ----------------------------------------------------------------------


class DownloadError(BotError):
    """The finished video could not be fetched (bad scheme, too large, too slow, HTTP error)."""

    text = Text("The finished video could not be downloaded.")

    def __init__(self, message: str | None = None) -> None:
        # The detail is for the log; `text` stays the class's unless a subclass says.
        Exception.__init__(self, message or self.user_message)


class DeadLink(DownloadError):
    """The link the relay gave is no video: not a web address, gone (4xx), or unreachable.

    The job fails and says so; a dead link is never shown as a finished video."""

    text = Text(
        "The video service said the video was ready, but its link does not lead to a video "
        "(the file is missing or the link is not a web address). Nothing can be shown."
    )


class LinkOnly(DownloadError):
    """The video is there but cannot be uploaded (too large, or too slow to fetch): link it."""


class QuotaExceeded(InputError):
    """A member's or the server's daily quota is used up, or the member is cooling down."""

    def __init__(self, message: Text, *, scope: str) -> None:
        super().__init__(message)
        self.scope = scope  # which limit refused: "server", "member" or "cooldown"


class BackupError(Exception):
    """The backup was not made; the message says why and what to do."""
