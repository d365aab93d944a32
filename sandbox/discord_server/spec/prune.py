"""Cut Discord's OpenAPI description down to the operations the loopback Discord serves.

The full description is 1.2 MB; the fake needs a few dozen schemas of it. The pruned copy beside
this module keeps, for each route in `SERVED`, the operation's request body (JSON and multipart),
and every schema those reach through `$ref`, byte for byte as Discord wrote them. Our own
corrections are applied at load time (`openapi.EXCEPTIONS`), never written into the copy, so a
test can check that the copy still equals a fresh cut of the shared original.

Refresh it after Discord updates the description (or after `SERVED` changes):

    python -m sandbox.discord_server.spec.prune ../shared/discord-openapi.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sandbox.discord_server.spec.routes import SERVED

VENDORED = Path(__file__).with_name("discord-openapi.json")
# Read by the documented-limits checks (valid keys of `name_localizations`), not by any route.
EXTRA_SCHEMAS = ("AvailableLocalesEnum",)
MEDIA_TYPES = ("application/json", "multipart/form-data")


def prune(spec: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, template in SERVED:
        operation = spec["paths"][template][method.lower()]
        kept: dict[str, Any] = {"operationId": operation["operationId"]}
        if body := operation.get("requestBody"):
            content = {m: body["content"][m] for m in MEDIA_TYPES if m in body["content"]}
            kept["requestBody"] = {**body, "content": content}
        paths.setdefault(template, {})[method.lower()] = kept
    schemas = spec["components"]["schemas"]
    wanted = _refs(paths) | set(EXTRA_SCHEMAS)
    done: set[str] = set()
    while pending := wanted - done:
        name = pending.pop()
        done.add(name)
        wanted |= _refs(schemas[name])
    return {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-pruned": "only the operations and schemas the loopback Discord serves"},
        "paths": {p: paths[p] for p in sorted(paths)},
        "components": {"schemas": {n: schemas[n] for n in sorted(done)}},
    }


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            prefix = "#/components/schemas/"
            if not ref.startswith(prefix):
                raise ValueError(f"unexpected $ref {ref!r}: teach prune() about it")
            found.add(ref.removeprefix(prefix))
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def dumps(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sandbox.discord_server.spec.prune PATH/discord-openapi.json")
        return 2
    full = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    VENDORED.write_text(dumps(prune(full)), encoding="utf-8")
    print(f"wrote {VENDORED.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
