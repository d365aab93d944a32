"""Checks on what members send: prompts and reference images. Pure; refusals are `InputError`."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.errors import InputError
from bot.relay.models import Capability
from bot.texts.formatting import inert
from bot.texts.i18n import Plural, Text

ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e")
)
ACCEPTED_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def clean_prompt(text: str, *, max_length: int) -> str:
    """Normalise a prompt: NFC, no control or invisible characters, trimmed, within the limit."""
    text = unicodedata.normalize("NFC", text).translate(ZERO_WIDTH)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = text.strip()
    if not text:
        raise InputError(Text("The prompt is empty."))
    if len(text) > max_length:
        raise InputError(
            Plural(
                "The prompt is {n} character long; the limit is {limit}.",
                "The prompt is {n} characters long; the limit is {limit}.",
                n=len(text),
                limit=max_length,
            )
        )
    return text


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes really are, whatever the file claims."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    size: int
    content_type: str | None
    url: str


def format_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def check_attachment_metadata(att: AttachmentInfo, *, max_bytes: int) -> None:
    """What Discord told us about a file, checked before downloading it."""
    declared = (att.content_type or "").split(";")[0].strip().lower()
    if declared and declared not in ACCEPTED_TYPES:
        raise InputError(
            Text(
                "{file} is not an image the video service takes (PNG, JPEG, WebP or GIF).",
                file=inert(att.filename),
            )
        )
    if att.size <= 0:
        raise InputError(Text("{file} is empty.", file=inert(att.filename)))
    if att.size > max_bytes:
        raise InputError(
            Text(
                "{file} is {size}; the limit is {limit}.",
                file=inert(att.filename),
                size=format_size(att.size),
                limit=format_size(max_bytes),
            )
        )


def check_image_bytes(filename: str, data: bytes, declared: str | None, *, max_bytes: int) -> str:
    """The bytes decide: a lying content type with real image bytes passes, non-images do not."""
    if not data:
        raise InputError(Text("{file} is empty.", file=inert(filename)))
    if len(data) > max_bytes:
        raise InputError(
            Text(
                "{file} is {size}; the limit is {limit}.",
                file=inert(filename),
                size=format_size(len(data)),
                limit=format_size(max_bytes),
            )
        )
    sniffed = sniff_image(data)
    if sniffed is None:
        raise InputError(Text("{file} is not an image (PNG, JPEG, WebP or GIF).", file=inert(filename)))
    return sniffed


def check_image_count(model: str, capability: Capability, count: int) -> None:
    most, least = capability.max_images, capability.min_images
    if count > most:
        raise InputError(
            Plural(
                "{model} takes at most {n} image; you attached {count}.",
                "{model} takes at most {n} images; you attached {count}.",
                n=most,
                model=model,
                count=count,
            )
        )
    if count < least:
        raise InputError(
            Text("{model} needs 1 to {most} reference images; attach at least one.", model=model, most=most)
        )
