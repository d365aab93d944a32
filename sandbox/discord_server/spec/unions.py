"""Speed for Discord's unions: validate only the branch a value's `type` (or null) selects.

A message's components and a command's options are `oneOf` lists of a dozen object schemas told
apart by a `type` enum; nullable fields are `oneOf [null, X]`; enums are `oneOf` lists of consts.
Plain `oneOf` validates the value against every branch (a command sync took ~90 ms, blocking the
fake's event loop). Where the branches' discriminators are disjoint, only the selected branch can
match, so validating it alone gives the same verdict (and a clearer error). Anything else,
including a value whose `type` no branch takes, goes through jsonschema's own `oneOf`/`anyOf`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

MARK = "x-union-branches"  # added at load time; jsonschema ignores keywords it does not know

Keyword = Callable[[Any, Any, Any, dict[str, Any]], Iterator[ValidationError]]


def index_unions(node: Any, schemas: dict[str, Any]) -> None:
    """Mark, in place, every union whose branches are told apart by `type` or by null."""
    if isinstance(node, dict):
        for key in ("oneOf", "anyOf"):
            branches = node.get(key)
            if isinstance(branches, list) and (table := _table(branches, schemas)):
                node[MARK] = table
        for value in node.values():
            index_unions(value, schemas)
    elif isinstance(node, list):
        for value in node:
            index_unions(value, schemas)


def _table(branches: list[Any], schemas: dict[str, Any]) -> dict[str, int] | None:
    """Branch index by discriminator: "null", "*" (anything not null), `type` values or consts."""
    table: dict[str, int] = {}
    for i, branch in enumerate(branches):
        ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
        target = schemas.get(ref.removeprefix("#/components/schemas/"), {}) if ref else branch
        if isinstance(target, dict) and "const" in target:  # an enum written as a union of consts
            keys = [_const_key(target["const"])]
        elif target == {"type": "null"}:
            keys = ["null"]
        elif len(branches) == 2 and any(b == {"type": "null"} for b in branches):
            keys = ["*"]
        else:
            discriminator = target.get("properties", {}).get("type", {}) if isinstance(target, dict) else {}
            values = discriminator.get("enum") or (
                [discriminator["const"]] if "const" in discriminator else []
            )
            keys = [f"type:{v}" for v in values]
        if not keys or any(k in table for k in keys):
            return None
        table.update(dict.fromkeys(keys, i))
    return table


def _const_key(value: Any) -> str:
    # JSON text keeps true apart from 1 (Python's == does not); 1.0 misses and takes the slow path.
    return f"const:{json.dumps(value)}"


def _dispatching(default: Keyword) -> Keyword:
    def union(
        validator: Any, branches: Any, instance: Any, schema: dict[str, Any]
    ) -> Iterator[ValidationError]:
        table = schema.get(MARK)
        index = None
        if table is not None:
            if (
                isinstance(instance, (str, int, float))
                and (hit := table.get(_const_key(instance))) is not None
            ):
                index = hit
            elif instance is None:
                index = table.get("null")
            elif "*" in table:
                index = table["*"]
            elif isinstance(instance, dict) and not isinstance(instance.get("type"), (dict, list)):
                index = table.get(f"type:{instance.get('type')}")
        if index is None:
            yield from default(validator, branches, instance, schema)
        else:
            yield from validator.descend(instance, branches[index], schema_path=index)

    return union


Validator = validators.extend(
    Draft202012Validator,
    validators={
        "oneOf": _dispatching(Draft202012Validator.VALIDATORS["oneOf"]),
        "anyOf": _dispatching(Draft202012Validator.VALIDATORS["anyOf"]),
    },
)
