"""One request, checked: its route against the description, its body against schema and limits."""

from __future__ import annotations

import functools
from typing import Any

from sandbox.discord_server.spec.limits import check_limits
from sandbox.discord_server.spec.openapi import Problem, body_validator, check_body
from sandbox.discord_server.spec.routes import SERVED, Router


@functools.cache
def _router() -> Router:
    return Router({template for _, template in SERVED})


def warm() -> None:
    """Read the description and build every route's validator now (once per process), so the
    first requests of a test are not slower than the rest: some tests race two of them."""
    for method, template in SERVED:
        validator = body_validator(method, template)
        if validator is not None:
            validator.is_valid({})


def check_request(method: str, path: str, body: Any, files: int = 0) -> tuple[int, list[Problem]]:
    """Discord's status for the request (404, 405, 400, or 200 when it passes) and why.

    `path` is the part after `/api/v10`; `body` the parsed JSON body or multipart `payload_json`
    (None without one); `files` the number of uploaded files.
    """
    template = _router().match(path)
    if template is None:
        return 404, [Problem((), "UNKNOWN_ROUTE", f"{method} {path} is not a route the fake serves")]
    if (method, template) not in SERVED:
        return 405, [Problem((), "METHOD_NOT_ALLOWED", f"{method} {template} is not served")]
    problems: dict[tuple[str | int, ...], Problem] = {}
    # The limits and the description may both see one overlong field: say it once, in the
    # limits' words (they are Discord's).
    for problem in [*check_limits(method, template, body, files), *check_body(method, template, body)]:
        problems.setdefault(problem.path, problem)
    return (400 if problems else 200), list(problems.values())


def form_errors(problems: list[Problem]) -> dict[str, Any]:
    """The `errors` of Discord's 50035 answer: nested by path, each leaf an `_errors` list."""
    tree: dict[str, Any] = {}
    for problem in problems:
        node = tree
        for key in problem.path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return tree


def answer(status: int, problems: list[Problem]) -> dict[str, Any]:
    """Discord's JSON answer for a refused request."""
    if status == 400:
        return {"code": 50035, "message": "Invalid Form Body", "errors": form_errors(problems)}
    return {"message": f"{status}: {'Method Not Allowed' if status == 405 else 'Not Found'}", "code": 0}
