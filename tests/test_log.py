import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.log import JsonFormatter, RedactSecrets, job_fields


def _capture(secrets, fn):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger("test.redact")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        fn(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_secrets_in_messages_and_arguments_are_redacted():
    out = _capture(["sekrit-token"], lambda log: log.info("token is %s and %s", "sekrit-token", 42))
    assert "sekrit-token" not in out
    assert "[redacted]" in out and "42" in out


def test_interaction_tokens_in_urls_are_redacted():
    token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZmdo"
    out = _capture([], lambda log: log.warning("PATCH /webhooks/123/%s/messages/@original", token))
    assert token not in out


def test_secrets_in_tracebacks_are_redacted():
    def boom(log):
        try:
            raise RuntimeError("bad key sekrit-key")
        except RuntimeError:
            log.exception("failed")

    out = _capture(["sekrit-key"], boom)
    assert "sekrit-key" not in out
    assert "RuntimeError" in out


# --- LOG_FORMAT=json ---------------------------------------------------------------------------


def _json_lines(secrets, fn):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger("test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        fn(logger)
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_time_level_logger_message():
    (line,) = _json_lines([], lambda log: log.warning("job %d failed", 7))
    assert line["level"] == "WARNING" and line["logger"] == "test.json"
    assert line["message"] == "job 7 failed"
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)
    assert "job_id" not in line  # only fields the call knew


def test_json_job_fields_from_extra():
    @dataclass
    class J:
        id: int = 12
        guild_id: int | None = 34
        task_id: str | None = "veo3.1-fast:1770-abc"

    (line,) = _json_lines([], lambda log: log.info("created", extra=job_fields(J())))
    assert (line["job_id"], line["guild_id"], line["task_id"]) == (12, 34, "veo3.1-fast:1770-abc")
    (partial,) = _json_lines([], lambda log: log.info("no task yet", extra=job_fields(J(task_id=None))))
    assert "task_id" not in partial and partial["job_id"] == 12


def test_json_secrets_are_redacted_in_message_and_traceback():
    def boom(log):
        log.info("key is %s", "sekrit-key")
        try:
            raise RuntimeError("bad token sekrit-token\nsecond line")
        except RuntimeError:
            log.exception("failed with sekrit-token")

    lines = _json_lines(["sekrit-key", "sekrit-token"], boom)
    assert len(lines) == 2
    text = json.dumps(lines)
    assert "sekrit" not in text
    assert lines[0]["message"] == "key is [redacted]"
    assert "RuntimeError" in lines[1]["exception"] and "second line" in lines[1]["exception"]


@given(st.text(), st.text(min_size=4, alphabet=st.characters(codec="utf-8")))
def test_json_any_message_is_one_parseable_line(message, secret):
    lines = _json_lines([secret], lambda log: log.error("%s", message + secret))
    assert len(lines) == 1
    assert secret not in lines[0]["message"]
    assert lines[0]["message"] == RedactSecrets([secret]).redact(message + secret)
