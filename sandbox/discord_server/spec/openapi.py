"""Request bodies checked against Discord's own OpenAPI 3.1 description (the vendored, pruned copy).

jsonschema's Draft 2020-12 is the dialect OpenAPI 3.1 schemas are written in, so the spec's
schemas are used as they are: `$ref`s resolve inside the document, `oneOf`/`anyOf` and nullable
types (`["string", "null"]`) need no translation. Formats (`uri`, `snowflake`) are annotations
only, as jsonschema treats them by default. Validators are built once per route per process.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator as SchemaValidator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from sandbox.discord_server.spec.prune import VENDORED
from sandbox.discord_server.spec.unions import Validator, index_unions

SPEC_URI = "urn:discord-openapi"

# Where the description is stricter than the real Discord, or misses a field it documents. Each
# entry replaces one schema (or adds one property to it); nothing else is loosened.
# (schema, property or None for the whole schema, the schema used instead, why)
EXCEPTIONS: tuple[tuple[str, str | None, dict[str, Any], str], ...] = (
    (
        "SnowflakeType",
        None,
        {
            "anyOf": [
                {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"},
                {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
            ]
        },
        # Discord answers ids as strings (JavaScript's numbers lose precision) but takes either;
        # discord.py sends ints in message_reference, allowed_mentions and attachment ids.
        "ids may be sent as JSON integers",
    ),
    (
        "ApplicationCommandUpdateRequest",
        "nsfw",
        {"type": ["boolean", "null"]},
        # Documented on commands (age-restricted); missing from the description. Added as a
        # typed property so a wrong type is still refused.
        "nsfw is a documented command field",
    ),
)


@dataclass(frozen=True)
class Problem:
    """One reason Discord would refuse a body: where (a path into the JSON), a code and a message."""

    path: tuple[str | int, ...]
    code: str
    message: str

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path) or "(body)"
        return f"{where}: {self.code} {self.message}"


@functools.cache
def spec() -> dict[str, Any]:
    """The vendored description with `EXCEPTIONS` applied (read once per process)."""
    document: dict[str, Any] = json.loads(VENDORED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    for name, prop, replacement, _why in EXCEPTIONS:
        if prop is None:
            schemas[name] = copy.deepcopy(replacement)
        else:
            schemas[name]["properties"][prop] = copy.deepcopy(replacement)
    index_unions(document, schemas)  # speed only: the verdicts are jsonschema's own
    return document


@functools.cache
def locales() -> frozenset[str]:
    """Discord's locales (`AvailableLocalesEnum`): the valid keys of `*_localizations`."""
    return frozenset(
        choice["const"] for choice in spec()["components"]["schemas"]["AvailableLocalesEnum"]["oneOf"]
    )


@functools.cache
def _registry() -> Registry[Any]:
    return Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec()))


@functools.cache
def body_validator(method: str, template: str) -> SchemaValidator | None:
    """The validator for the JSON body (or `payload_json`) of one route; None if it takes none."""
    operation = spec()["paths"][template][method.lower()]
    if "application/json" not in operation.get("requestBody", {}).get("content", {}):
        return None
    escaped = template.replace("~", "~0").replace("/", "~1")
    pointer = f"/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"
    return Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry())


def check_body(method: str, template: str, body: Any) -> list[Problem]:
    validator = body_validator(method, template)
    if validator is None:
        return []
    return [_problem(error) for error in validator.iter_errors(body)]


def _problem(error: ValidationError) -> Problem:
    leaf = _closest(error)
    if leaf.validator in ("oneOf", "anyOf") and leaf.context:
        # No branch fits: the value (an enum of consts) or the discriminator is not one Discord has.
        choices = sorted(
            {v for e in leaf.context for v in _offered(e)}, key=lambda v: (isinstance(v, str), v)
        )
        on_type = any(list(e.relative_path) == ["type"] for e in leaf.context)
        at = (*leaf.absolute_path, "type") if on_type else tuple(leaf.absolute_path)
        if choices:
            return Problem(at, "BASE_TYPE_CHOICES", f"Value must be one of {choices}.")
    code, message = _discord_words(leaf)
    if code == "BASE_TYPE_INVALID":  # say what the schema wanted; jsonschema words it best
        message += f" ({leaf.message if len(leaf.message) <= 160 else leaf.message[:157] + '...'})"
    return Problem(tuple(leaf.absolute_path), code, message)


def _closest(error: ValidationError) -> ValidationError:
    """The error inside a union (`oneOf`/`anyOf`) that says what is actually wrong.

    Discord's unions are told apart by a `type` discriminator (components, options, callback
    bodies) or by null (nullable objects). A branch whose discriminator or JSON type does not
    fit is not the one meant; among the rest the closest error wins. If no branch fits, the
    discriminator itself is wrong, and that is what is said.
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return error
    if all(e.validator in ("enum", "const") for e in error.context):
        return error
    branches: dict[Any, list[ValidationError]] = {}
    for inner in error.context:
        branches.setdefault(inner.schema_path[0], []).append(inner)
    meant = [errs for errs in branches.values() if not any(_rules_out(e) for e in errs)]
    if len(meant) == 1:
        return _closest(best_match(meant[0]) or error)
    if meant:
        return _closest(best_match(e for errs in meant for e in errs) or error)
    return error


def _offered(error: ValidationError) -> list[Any]:
    if error.validator == "const":
        return [error.validator_value]
    value = error.validator_value
    return list(value) if error.validator == "enum" and isinstance(value, list) else []


def _rules_out(error: ValidationError) -> bool:
    at = list(error.relative_path)
    return (at == [] and error.validator == "type") or (
        at == ["type"] and error.validator in ("enum", "const")
    )


def _discord_words(error: ValidationError) -> tuple[str, str]:
    """Discord's error code and sentence for a schema keyword, as its 50035 answers word them."""
    limit = error.validator_value
    words: dict[str, tuple[str, str]] = {
        "maxLength": ("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."),
        "maxItems": ("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."),
        "maxProperties": ("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."),
        "minLength": ("BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length."),
        "minItems": ("BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length."),
        "required": ("BASE_TYPE_REQUIRED", "This field is required"),
        "enum": ("BASE_TYPE_CHOICES", f"Value must be one of {limit}."),
        "const": ("BASE_TYPE_CHOICES", f"Value must be {limit}."),
        "pattern": ("STRING_TYPE_REGEX", "String value did not match validation regex."),
        "maximum": ("NUMBER_TYPE_MAX", f"int value should be less than or equal to {limit}."),
        "minimum": ("NUMBER_TYPE_MIN", f"int value should be greater than or equal to {limit}."),
        "uniqueItems": ("BASE_TYPE_DUPLICATE", "Values must be unique."),
        "type": ("BASE_TYPE_INVALID", f"Must be of type {limit}."),
    }
    return words.get(str(error.validator), ("BASE_TYPE_INVALID", "Invalid value."))
