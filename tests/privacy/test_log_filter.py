"""Personal data never reaches a log: the scrub filter masks messages, arguments, extras and tracebacks of
every record a handler emits, and installing it twice adds it once."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from shopguide.cli.common import configure_logging
from shopguide.privacy.log_filter import ScrubFilter, install_log_scrubbing


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s|%(order)s"))
    logger = logging.getLogger("tests.privacy.log_filter")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    assert install_log_scrubbing(logger) == 1
    yield logger, stream
    logger.handlers.clear()


def test_messages_arguments_and_extras_are_scrubbed(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    log.info("ticket for %s, phone %s", "shopper", "13812345678", extra={"order": "202611281234567"})
    log.info("收件人%s，地址：%s", "张伟", "杭州市西湖区文三路90号3栋501室", extra={"order": "mail a@b.com"})
    log.info("card %(card)s", {"card": "4111 1111 1111 1111"}, extra={"order": "-"})
    log.warning("callback %d failed", 13812345678, extra={"order": "-"})  # not a string argument, still masked
    assert stream.getvalue().splitlines() == [
        "ticket for shopper, phone [phone]|202611281234567",  # the order number stays
        "收件人[姓名]，地址：[地址]|mail [email]",  # the cue in the format string, the name in an argument
        "card [card number]|-",
        "callback [phone] failed|-",
    ]


def test_tracebacks_are_scrubbed(captured: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = captured
    try:
        raise ValueError("no account for jo.smith@example.com")
    except ValueError:
        log.exception("lookup failed", extra={"order": "-"})
    text = stream.getvalue()
    assert "jo.smith@example.com" not in text and "ValueError: no account for [email]" in text


def test_a_record_without_personal_data_keeps_its_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s %d", ("GET", "/v1/feed", 200), None)
    assert ScrubFilter().filter(record) and record.args == ("GET", "/v1/feed", 200)
    assert record.getMessage() == "GET /v1/feed 200"


def test_the_cli_installs_the_filter_once_on_the_root_handlers() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(verbose=False)
        assert install_log_scrubbing() == 0  # already there
        filters = [f for h in root.handlers for f in h.filters if isinstance(f, ScrubFilter)]
        assert len(filters) == len(root.handlers) == 1
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def test_shopper_ids_given_as_extra_are_logged_as_pseudonyms_when_the_filter_has_the_secret() -> None:
    from shopguide.privacy.pseudonym import pseudonymize

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "recommendation failed", None, None)
    record.user = "shopper-001"
    record.item = "demo-0001"
    ScrubFilter(secret=b"s" * 32).filter(record)
    assert record.user == pseudonymize("shopper-001", b"s" * 32) and record.item == "demo-0001"
    plain = logging.LogRecord("x", logging.WARNING, __file__, 1, "m", None, None)
    plain.user = "shopper-001"
    ScrubFilter().filter(plain)
    assert plain.user == "shopper-001"  # no secret (the CLI): ids as they are
