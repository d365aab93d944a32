"""Prompt cleaning, image sniffing, attachment checks and model/shape rules."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InputError
from bot.relay.models import KNOWN, check_upsample, resolve_shape
from bot.rules.validation import (
    AttachmentInfo,
    check_attachment_metadata,
    check_image_bytes,
    check_image_count,
    clean_prompt,
    sniff_image,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 20


@given(st.text(max_size=300), st.integers(1, 200))
def test_clean_prompt_never_leaks_invisible_characters(text, limit):
    try:
        out = clean_prompt(text, max_length=limit)
    except InputError:
        return
    assert out and len(out) <= limit
    assert out == out.strip()
    assert not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in out)
    assert not any(c in out for c in "\u200b\u200c\u200d\u2060\ufeff")


def test_clean_prompt_keeps_markdown_mentions_and_other_scripts():
    text = "**bold** @everyone <@123> 牛飞上天了 ١٢٣"
    assert clean_prompt(text, max_length=100) == text


def test_clean_prompt_refuses_empty_and_long():
    with pytest.raises(InputError, match="empty"):
        clean_prompt(" \u200b\u200d\x00 ", max_length=10)
    with pytest.raises(InputError, match="11 characters long; the limit is 10"):
        clean_prompt("a" * 11, max_length=10)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (b"GIF89a...", "image/gif"),
        (b"%PDF-1.7", None),
        (b"", None),
        (b"<svg xmlns=", None),
    ],
)
def test_sniff_image(data, kind):
    assert sniff_image(data) == kind


@given(st.binary(max_size=64))
def test_sniff_never_raises(data):
    assert sniff_image(data) in (None, "image/png", "image/jpeg", "image/webp", "image/gif")


@pytest.mark.parametrize(
    ("info", "message"),
    [
        (AttachmentInfo("notes.txt", 10, "text/plain", "u"), "notes.txt is not an image"),
        (
            AttachmentInfo("big.png", 11 * 1024 * 1024, "image/png", "u"),
            "big.png is 11.0 MB; the limit is 10.0 MB",
        ),
        (AttachmentInfo("zero.png", 0, "image/png", "u"), "zero.png is empty"),
    ],
)
def test_attachment_metadata_refusals_name_the_file(info, message):
    with pytest.raises(InputError, match=message):
        check_attachment_metadata(info, max_bytes=10 * 1024 * 1024)


def test_attachment_without_content_type_is_left_to_the_bytes():
    check_attachment_metadata(AttachmentInfo("x", 10, None, "u"), max_bytes=100)
    assert check_image_bytes("x", PNG, None, max_bytes=100) == "image/png"


def test_bytes_decide_over_the_declared_type():
    assert check_image_bytes("photo.txt", PNG, "text/plain", max_bytes=100) == "image/png"
    with pytest.raises(InputError, match=r"fake\.png is not an image"):
        check_image_bytes("fake.png", b"hello", "image/png", max_bytes=100)
    with pytest.raises(InputError, match="limit"):
        check_image_bytes("big.png", PNG * 10, "image/png", max_bytes=100)


@pytest.mark.parametrize(
    ("model", "most", "least"),
    [
        ("veo3.1-fast", 1, 0),
        ("veo3.1-fast-components", 3, 1),
        ("veo2-fast-frames", 2, 0),
        ("veo3-frames", 1, 0),
    ],
)
def test_image_counts_per_model(model, most, least):
    capability = KNOWN[model]
    assert (capability.max_images, capability.min_images) == (most, least)
    check_image_count(model, capability, most)
    with pytest.raises(InputError):
        check_image_count(model, capability, most + 1)
    if least:
        with pytest.raises(InputError, match="needs 1 to 3"):
            check_image_count(model, capability, 0)


def test_shapes_fill_in_and_unknown_ones_are_refused():
    assert resolve_shape(None, "landscape") == ("landscape", "1280x720", "16:9")
    assert resolve_shape(None, "portrait") == ("portrait", "720x1280", "9:16")
    assert resolve_shape("portrait", "landscape") == ("portrait", "720x1280", "9:16")
    with pytest.raises(InputError, match="landscape or portrait"):
        resolve_shape("square", "landscape")
    with pytest.raises(InputError, match="landscape"):
        check_upsample(True, "portrait")
    check_upsample(True, "landscape")
