"""Redaction of what the relay sends back: the key, bearer tokens and credential-shaped strings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.relay.redact import REDACTED, Redactor

KEY = "relay-key-0123456789"


def test_the_key_and_credential_shapes_are_removed_labels_kept():
    r = Redactor([KEY])
    text = r.relay_text(
        f"invalid size for key {KEY} (Authorization: Bearer abc.def-123) "
        "api_key=zzzzzzzzzz sk-ABCDEFGHIJKLMNOP"
    )
    assert KEY not in text and "abc.def-123" not in text and "zzzzzzzzzz" not in text
    assert "ABCDEFGHIJKLMNOP" not in text
    assert "Bearer [redacted]" in text and "api_key=[redacted]" in text
    assert text.startswith("invalid size for key")


def test_ordinary_failure_reasons_are_kept():
    r = Redactor([KEY])
    for reason in ("content policy violation", "余额不足", "task veo3.1-fast:1770350082-abc timed out"):
        assert r.relay_text(reason) == reason


def test_urls_keep_their_signatures_but_not_the_key_or_webhook_tokens():
    r = Redactor([KEY])
    url = "https://cdn.example/v.mp4?sig=0123456789abcdef0123456789abcdef0123"
    assert r.secrets(url) == url
    assert r.secrets(f"https://x/?k={KEY}") == f"https://x/?k={REDACTED}"
    assert REDACTED in r.secrets("https://discord.com/api/webhooks/123/aW50ZXJhY3Rpb246abcdefghijklmnop")


@given(st.text(max_size=80), st.text(max_size=80))
def test_the_key_never_survives_whatever_surrounds_it(before, after):
    assert KEY not in Redactor([KEY]).relay_text(before + KEY + after)
