import io
import logging

from bot.log import RedactSecrets


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
