"""Removing secrets from text before it is logged, stored or shown.

Two strengths: `secrets` removes what the bot knows to be secret (its token, the relay key,
interaction tokens in webhook URLs) and is safe on URLs; `relay_text` also removes anything
shaped like a credential, for free text a relay sends back (error messages, failure reasons),
which may echo the request's `Authorization` header or a key of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Interaction tokens and webhook URLs carry a token in the path; they are secrets too.
_WEBHOOK_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_\-.]{20,}")
_CREDENTIAL_SHAPES = (
    # "Authorization: Bearer …", "Bearer …", "Basic …"
    re.compile(r"\b(Bearer|Basic|Bot)\s+[^\s\"',;)]+", re.IGNORECASE),
    # "api_key=…", "key: …", "token=…", "secret …" (the value only)
    re.compile(r"\b((?:api[_-]?)?key|token|secret|password)([\"']?\s*[:=]\s*[\"']?)[^\s\"',;)]{6,}", re.I),
    # Keys as relays and providers print them: sk-…, pk_…, rk-…
    re.compile(r"\b(?:sk|pk|rk|ak)[-_][A-Za-z0-9_\-]{12,}"),
    # A long unbroken run of letters and digits is a key or a hash, never a word a member needs.
    re.compile(r"\b[A-Za-z0-9]{32,}\b"),
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is removed whole.
        self.known = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def secrets(self, text: str) -> str:
        for secret in self.known:
            text = text.replace(secret, REDACTED)
        return _WEBHOOK_TOKEN.sub(rf"\1{REDACTED}", text)

    def relay_text(self, text: str | None) -> str | None:
        if text is None:
            return None
        text = self.secrets(text)
        for shape in _CREDENTIAL_SHAPES:
            text = shape.sub(_keep_label, text)
        return text


def _keep_label(match: re.Match[str]) -> str:
    """Keep the word that says what was redacted ("Bearer", "key="), drop the value."""
    groups = [g for g in match.groups() if g]
    return (
        "".join(groups) + (" " if groups and not groups[-1].rstrip().endswith((":", "=")) else "") + REDACTED
    )
