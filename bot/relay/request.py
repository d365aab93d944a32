"""What a job asks the relay for, declared once.

`VideoRequest`'s fields are the request: the intake builds one from a member's options, the job
record inherits them (`bot/jobs/model.py`), the store has a column for each (`bot/storage/schema.py` adds a
missing one at start), Reroll, Upscale and Remix copy them from the parent job, and the relay
payload is made from them. Adding a field here carries it through all of those; an `Option` in
its metadata also makes it a `/video` option.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, get_type_hints

from bot.relay.models import aspect_for, size_for


@dataclass(frozen=True)
class Option:
    """A request field that `/video` offers as a plain option of its own, built from this
    (`cogs/video/options.py`): the option's name, its description (English, translated through
    the catalogues like every command text) and, for text, its longest length. The fields that
    have none (the prompt, the images, the model, shape, duration and upsample) are read by the
    command in ways of their own: attachments, autocomplete, choices."""

    name: str
    description: str
    max_length: int | None = None


def option(name: str, description: str, *, max_length: int | None = None) -> dict[str, Option]:
    """A field's metadata that makes it a `/video` option."""
    return {"option": Option(name, description, max_length=max_length)}


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """What was asked of the relay. A new field needs a default: jobs stored before it existed
    read as that default."""

    prompt: str
    model: str
    shape: str = "landscape"
    duration: int = 8
    enable_upsample: bool = False
    images: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        """The body of the relay's create call. Size and aspect ratio follow from the
        shape, so the three always agree."""
        body = {RELAY_NAMES.get(name, name): getattr(self, name) for name in REQUEST_FIELDS}
        body["images"] = list(self.images)
        body["size"] = size_for(self.shape)
        body["aspect_ratio"] = aspect_for(self.shape)
        return body

    def columns(self) -> dict[str, Any]:
        """The job row's columns for this request (the stored job keeps size and aspect ratio too)."""
        row = {name: getattr(self, name) for name in REQUEST_FIELDS}
        row["size"] = size_for(self.shape)
        row["aspect_ratio"] = aspect_for(self.shape)
        return row


REQUEST_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(VideoRequest))
# Fields the relay's payload names otherwise (the command and the code say shape).
RELAY_NAMES = {"shape": "orientation"}
REQUEST_TYPES: dict[str, Any] = get_type_hints(VideoRequest)
# The `/video` options derived from the table (the ones not declared on the command itself):
# (field name, option, field type).
DERIVED_OPTIONS: tuple[tuple[str, Option, Any], ...] = tuple(
    (f.name, f.metadata["option"], REQUEST_TYPES[f.name])
    for f in fields(VideoRequest)
    if "option" in f.metadata
)


def request_of(job: Any, **changes: Any) -> VideoRequest:
    """The request that made `job` (anything with the request's fields), with `changes`."""
    values = {name: getattr(job, name) for name in REQUEST_FIELDS}
    values.update(changes)
    return VideoRequest(**values)
