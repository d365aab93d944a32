"""The loopback Discord refuses what Discord would: its OpenAPI description plus documented limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.discord_server import FakeDiscord
from sandbox.discord_server.spec import openapi
from sandbox.discord_server.spec.check import check_request
from sandbox.discord_server.spec.prune import VENDORED, dumps, prune
from sandbox.discord_server.spec.routes import SERVED

SHARED = Path(__file__).resolve().parents[2] / "shared"
MESSAGES = "/channels/1/messages"
COMMANDS = "/applications/1/commands"


def refused(method: str, path: str, body: Any, files: int = 0) -> dict[str, str]:
    """`where -> code` for every problem; fails if the request would pass."""
    status, problems = check_request(method, path, body, files)
    assert status == 400, f"expected a refusal, got {status}"
    return {".".join(map(str, p.path)): p.code for p in problems}


def passes(method: str, path: str, body: Any, files: int = 0) -> None:
    status, problems = check_request(method, path, body, files)
    assert status == 200, [str(p) for p in problems]


def button(custom_id: str) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": custom_id}


def command(name: str = "video", **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": "Make a video", "type": 1, **extra}


# --- messages ----------------------------------------------------------------------------------


def test_a_message_like_the_bots_passes():
    passes(
        "POST",
        MESSAGES,
        {
            "content": "<@1> your video is ready",
            "embeds": [{"title": "Video", "description": "d", "fields": [{"name": "n", "value": "v"}] * 25}],
            "components": [{"type": 1, "components": [button(f"video:{i}") for i in range(5)]}] * 1,
            "allowed_mentions": {"parse": [], "users": [1]},
            # discord.py sends ids as integers: Discord takes them (see openapi.EXCEPTIONS).
            "message_reference": {"message_id": 123, "fail_if_not_exists": False},
            "attachments": [{"id": 0, "filename": "video.mp4"}],
        },
        files=1,
    )


def test_unknown_and_mistyped_values_are_refused():
    assert refused("POST", MESSAGES, {"components": [{"type": 99}]}) == {
        "components.0.type": "BASE_TYPE_CHOICES"
    }
    assert refused("POST", MESSAGES, {"content": 5}) == {"content": "BASE_TYPE_INVALID"}
    assert refused("POST", MESSAGES, {"message_reference": {"message_id": "abc"}}) == {
        "message_reference.message_id": "STRING_TYPE_REGEX"
    }


def test_content_is_held_to_2000_characters_where_the_description_allows_4000():
    passes("POST", MESSAGES, {"content": "x" * 2000})
    assert refused("POST", MESSAGES, {"content": "x" * 2001}) == {"content": "BASE_TYPE_MAX_LENGTH"}
    assert refused("PATCH", "/webhooks/1/tok/messages/@original", {"content": "x" * 2001})


def test_embed_limits():
    fields = [{"name": "n", "value": "v"}] * 26
    assert refused("POST", MESSAGES, {"embeds": [{"fields": fields}]}) == {
        "embeds.0.fields": "BASE_TYPE_MAX_LENGTH"
    }
    assert refused("POST", MESSAGES, {"embeds": [{"title": "t" * 257}]}) == {
        "embeds.0.title": "BASE_TYPE_MAX_LENGTH"
    }
    assert refused("POST", MESSAGES, {"embeds": [{}] * 11}) == {"embeds": "BASE_TYPE_MAX_LENGTH"}
    long_field = {"fields": [{"name": "n", "value": "v" * 1025}]}
    assert refused("POST", MESSAGES, {"embeds": [long_field]}) == {
        "embeds.0.fields.0.value": "BASE_TYPE_MAX_LENGTH"
    }


def test_6000_characters_across_a_messages_embeds():
    # Title, description, field names and values, footer text and author name all count.
    parts = {"title": "t" * 100, "footer": {"text": "f" * 100}, "author": {"name": "a" * 100}}
    fields = [{"name": "n" * 50, "value": "v" * 50}] * 2
    first = {**parts, "fields": fields, "description": "d" * 1500}  # 2,000 characters
    second = {"description": "d" * 4000}
    passes("POST", MESSAGES, {"embeds": [first, second]})
    over = {"description": "d" * 4001}
    assert refused("POST", MESSAGES, {"embeds": [first, over]}) == {"embeds": "MAX_EMBED_SIZE_EXCEEDED"}


def test_components_rows_buttons_and_custom_ids():
    row = {"type": 1, "components": [button("a")]}
    assert refused("POST", MESSAGES, {"components": [row] * 6})["components"] == "BASE_TYPE_MAX_LENGTH"
    six = {"type": 1, "components": [button(str(i)) for i in range(6)]}
    assert refused("POST", MESSAGES, {"components": [six]}) == {
        "components.0.components": "BASE_TYPE_MAX_LENGTH"
    }
    twice = {"type": 1, "components": [button("video:reroll:1"), button("video:reroll:1")]}
    assert refused("POST", MESSAGES, {"components": [twice]}) == {
        "components.0.components.1.custom_id": "COMPONENT_CUSTOM_ID_DUPLICATED"
    }
    assert refused("POST", MESSAGES, {"components": [{"type": 1, "components": [button("x" * 101)]}]})


def test_at_most_ten_attachments():
    assert refused("POST", MESSAGES, {"content": "x"}, files=11) == {"files": "BASE_TYPE_MAX_LENGTH"}
    attachments = [{"id": i} for i in range(11)]
    assert refused("POST", MESSAGES, {"attachments": attachments}) == {"attachments": "BASE_TYPE_MAX_LENGTH"}


def test_interaction_callbacks_are_checked_by_type():
    passes("POST", "/interactions/1/tok/callback", {"type": 5, "data": {"flags": 64}})
    assert refused("POST", "/interactions/1/tok/callback", {"type": 4, "data": {"content": "x" * 2001}}) == {
        "data.content": "BASE_TYPE_MAX_LENGTH"
    }
    assert refused("POST", "/interactions/1/tok/callback", {"type": 44}) == {"type": "BASE_TYPE_CHOICES"}
    modal = {"custom_id": "m", "title": "t" * 46, "components": [{"type": 1, "components": []}]}
    assert "data.title" in refused("POST", "/interactions/1/tok/callback", {"type": 9, "data": modal})


# --- application commands ----------------------------------------------------------------------


def test_command_names_follow_discords_rule():
    passes("PUT", COMMANDS, [command(n) for n in ("video", "видео", "動画", "वीडियो", "วิดีโอ", "a-b_c")])
    for bad in ("make video", "video!", "Video", "x" * 33, ""):
        assert "0.name" in refused("PUT", COMMANDS, [command(bad)]), bad
    # Context-menu commands take any 1-32 characters, spaces and capitals too.
    passes("PUT", COMMANDS, [{"name": "Make a video", "type": 3, "description": ""}])


def test_localizations_follow_the_same_rules_keyed_by_discord_locales():
    good = {
        "name_localizations": {"de": "video-erstellen", "ja": "動画"},
        "description_localizations": {"fr": "Ok"},
    }
    passes("PUT", COMMANDS, [command(**good)])
    assert refused("PUT", COMMANDS, [command(name_localizations={"de": "Video"})]) == {
        "0.name_localizations.de": "APPLICATION_COMMAND_INVALID_NAME"
    }
    assert refused("PUT", COMMANDS, [command(name_localizations={"xx": "video"})]) == {
        "0.name_localizations.xx": "LOCALE_INVALID"
    }
    assert refused("PUT", COMMANDS, [command(description_localizations={"de": "d" * 101})])


def test_descriptions_options_and_choices():
    assert refused("PUT", COMMANDS, [command(description="d" * 101)]) == {
        "0.description": "BASE_TYPE_BAD_LENGTH"
    }
    option = {"type": 3, "name": "prompt", "description": "What the video shows"}
    too_many = [{**option, "name": f"o{i}"} for i in range(26)]
    assert "0.options" in refused("PUT", COMMANDS, [command(options=too_many)])
    choices = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]
    assert "0.options.0.choices" in refused(
        "PUT", COMMANDS, [command(options=[{**option, "choices": choices}])]
    )
    upper = {**option, "name": "Prompt"}
    assert refused("PUT", COMMANDS, [command(options=[upper])]) == {
        "0.options.0.name": "APPLICATION_COMMAND_INVALID_NAME"
    }
    late = [{**option, "name": "a"}, {**option, "name": "b", "required": True}]
    assert "0.options.1.required" in refused("PUT", COMMANDS, [command(options=late)])


def test_nsfw_is_a_command_field_the_description_misses():
    passes("PUT", COMMANDS, [command(nsfw=False)])
    assert refused("PUT", COMMANDS, [command(nsfw="no")]) == {"0.nsfw": "BASE_TYPE_INVALID"}


# --- over HTTP ---------------------------------------------------------------------------------


async def test_a_refused_body_is_answered_like_discord_and_recorded():
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        channel = fake.add_guild().channels[0]
        url = f"{fake.base_url}/channels/{channel}/messages"
        headers = {"Authorization": f"Bot {fake.token}"}
        async with http.post(url, json={"content": "x" * 2001}, headers=headers) as response:
            assert response.status == 400
            answer = await response.json()
        assert answer["code"] == 50035 and answer["message"] == "Invalid Form Body"
        assert answer["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
        (record,) = fake.invalid_requests
        assert record.method == "POST" and record.path == f"/channels/{channel}/messages"
        assert record.body == {"content": "x" * 2001} and "content" in record.errors[0]
        assert fake.messages(channel) == []

        # payload_json of a multipart upload is the body.
        form = aiohttp.FormData()
        form.add_field(
            "payload_json", json.dumps({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]})
        )
        form.add_field("files[0]", b"mp4", filename="video.mp4", content_type="video/mp4")
        async with http.post(url, data=form, headers=headers) as response:
            assert response.status == 400
        assert "embeds.0.fields" in fake.invalid_requests[1].errors[0]

        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps({"content": "ok", "attachments": [{"id": 0}]}))
        form.add_field("files[0]", b"mp4", filename="video.mp4", content_type="video/mp4")
        async with http.post(url, data=form, headers=headers) as response:
            assert response.status == 200
        assert len(fake.invalid_requests) == 2 and fake.messages(channel)[0].content == "ok"


async def test_every_route_the_fake_serves_is_in_the_description_and_checked():
    full = json.loads((SHARED / "discord-openapi.json").read_text()) if SHARED.exists() else None
    for method, template in SERVED:
        assert method.lower() in openapi.spec()["paths"][template]
        if full is not None:
            assert method.lower() in full["paths"][template]
    bodies = {"POST": {"content": "x"}, "PATCH": {"content": "x"}, "PUT": []}
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bot {fake.token}"}
        for method, template in SERVED:
            path = template.replace("{application_id}", str(fake.application_id))
            path = path.replace("{webhook_id}", str(fake.application_id)).replace(
                "{interaction_token}", "tok"
            )
            path = path.replace("{webhook_token}", "tok")
            for name in ("channel_id", "message_id", "guild_id", "user_id", "interaction_id"):
                path = path.replace(f"{{{name}}}", "1")
            body = {"type": 5} if template.endswith("/callback") else bodies.get(method)
            body = {"recipient_id": "1"} if template == "/users/@me/channels" else body
            async with http.request(method, fake.base_url + path, json=body, headers=headers) as response:
                answer = await response.json() if response.status != 204 else {}
            # The route was handled: a success or one of Discord's specific errors, never the
            # route-level 404/405 (code 0) of a path or method the fake does not know.
            assert response.status < 400 or answer.get("code"), (method, path, response.status, answer)
        assert fake.invalid_requests == []
        # ... and anything else is refused as Discord refuses an unknown route, and recorded.
        async with http.post(f"{fake.base_url}/channels/1/typing", headers=headers) as response:
            assert response.status == 404
        async with http.post(f"{fake.base_url}/channels/1/messages/1", json={}, headers=headers) as response:
            assert response.status == 405
        assert [r.path for r in fake.invalid_requests] == ["/channels/1/typing", "/channels/1/messages/1"]


# --- the vendored description ------------------------------------------------------------------


def test_the_vendored_description_is_a_fresh_cut_of_the_shared_one():
    shared = SHARED / "discord-openapi.json"
    if not shared.exists():
        pytest.skip("shared/ is not next to this clone; the vendored copy is used as it is")
    expected = dumps(prune(json.loads(shared.read_text(encoding="utf-8"))))
    assert VENDORED.read_text(encoding="utf-8") == expected, (
        "refresh it: python -m sandbox.discord_server.spec.prune ../shared/discord-openapi.json"
    )
    assert (VENDORED.parent / "LICENSE").read_text() == (SHARED / "discord-openapi.LICENSE").read_text()


def test_each_exception_still_corrects_something_the_description_gets_wrong():
    raw = json.loads(VENDORED.read_text(encoding="utf-8"))["components"]["schemas"]
    for name, prop, _replacement, _why in openapi.EXCEPTIONS:
        assert name in raw, f"{name} is gone from the description: drop its exception"
        if prop is not None:
            assert prop not in raw[name].get("properties", {}), f"the description now has {name}.{prop}"
    assert raw["SnowflakeType"] == {"type": "string", "pattern": "^(0|[1-9][0-9]*)$", "format": "snowflake"}


def test_union_dispatch_gives_jsonschemas_own_verdicts():
    # unions.py validates only the branch a `type` (or null, or a const) selects; plain oneOf/anyOf
    # over every branch must agree, valid and invalid bodies alike.
    from jsonschema import Draft202012Validator

    row = {"type": 1, "components": [button("a")]}
    option = {"type": 3, "name": "prompt", "description": "d"}
    cases = [
        ("POST", "/channels/{channel_id}/messages", body)
        for body in (
            {"components": [row], "allowed_mentions": {"parse": ["users"]}},
            {"components": [{**row, "type": 99}]},
            {"components": [{"type": 1, "components": [{**button("a"), "style": True}]}]},
            {"allowed_mentions": {"parse": ["everyone", "nobody"]}, "message_reference": None},
            {"message_reference": {"message_id": True}, "poll": 5},
        )
    ] + [
        ("PUT", "/applications/{application_id}/commands", body)
        for body in (
            [command(options=[option, {**option, "name": "n", "type": 4}])],
            [command(options=[{**option, "type": 33}])],
            [command(type=1.0, contexts=[0, 7])],
            [command(options=[{**option, "type": True}])],
        )
    ]
    for method, template, body in cases:
        escaped = template.replace("/", "~1")
        pointer = f"#/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"
        plain = Draft202012Validator({"$ref": openapi.SPEC_URI + pointer}, registry=openapi._registry())
        fast = openapi.body_validator(method, template)
        assert fast is not None and fast.is_valid(body) == plain.is_valid(body), body


# --- the switch --------------------------------------------------------------------------------


def test_the_sandbox_runs_without_jsonschema():
    # jsonschema is a test dependency only: importing the sandbox and the fake must not need it,
    # and the fake with validate=False (the sandbox where it is missing) serves as before.
    import subprocess
    import sys

    code = (
        "import sys, sandbox.runner, sandbox.discord_server as d; d.FakeDiscord(validate=False); "
        "assert 'jsonschema' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


async def test_with_validation_off_nothing_is_refused():
    async with FakeDiscord(validate=False) as fake, aiohttp.ClientSession() as http:
        channel = fake.add_guild().channels[0]
        url = f"{fake.base_url}/channels/{channel}/messages"
        body = {"content": "x" * 2001}
        async with http.post(url, json=body, headers={"Authorization": f"Bot {fake.token}"}) as response:
            assert response.status == 200
        assert fake.invalid_requests == []
