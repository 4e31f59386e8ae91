"""Personal data never reaches a log: a :class:`logging.Filter` that scrubs every record a handler emits.

``install_log_scrubbing()`` puts one :class:`ScrubFilter` on each handler of the root logger (the CLI calls it
right after it configures logging). A filter on a *handler* sees every record that reaches that handler,
including those propagated from ``shopguide.*`` loggers; a filter on a logger would only see the records logged
on that very logger. Handlers added later, and loggers that do not propagate to the root (uvicorn's own), need
their own call: ``install_log_scrubbing(logging.getLogger("uvicorn"))``.

What is scrubbed: the message with its arguments (a cue may sit in the format string and the name in an
argument: ``log.info("收件人%s", name)``), string values given through ``extra=`` (read with their field name, so ``order_id=...`` keeps an order
number), and the text of an exception
or a stack trace. Arguments keep their places when they can (formatters such as uvicorn's access log unpack
``record.args``): each string argument is scrubbed alone first, and only when the joined message still holds
personal data is the record's message replaced by the scrubbed whole, without arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shopguide.privacy.pseudonym import pseudonymize
from shopguide.privacy.scrub import find_pii, scrub, scrub_field

__all__ = ["ScrubFilter", "install_log_scrubbing"]

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def _scrub_arg(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


#: ``extra=`` fields that name a shopper: logged as their pseudonym when the filter has the server secret
SHOPPER_FIELDS = frozenset({"user", "user_id", "shopper"})


class ScrubFilter(logging.Filter):
    """Masks personal data in each record (never drops a record). With ``secret``, shopper ids given as
    ``extra={"user": ...}`` are logged as their pseudonym (``privacy/pseudonym.py``), as in analytics."""

    def __init__(self, secret: bytes | None = None) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _scrub_arg(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_scrub_arg(value) for value in record.args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it when the handler formats the record
            return True
        if find_pii(message):
            record.msg, record.args = scrub(message), ()
        for key, value in vars(record).items():
            if key not in _STANDARD and isinstance(value, str):
                shopper = self.secret is not None and key in SHOPPER_FIELDS
                setattr(record, key, pseudonymize(value, self.secret) if shopper else scrub_field(key, value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def install_log_scrubbing(logger: logging.Logger | None = None, secret: bytes | None = None) -> int:
    """Add a :class:`ScrubFilter` to each handler of ``logger`` (the root logger by default) that has none yet;
    calling it again adds nothing (but gives an existing filter the ``secret`` when it had none). Returns how
    many handlers got one."""
    added = 0
    for handler in (logger or logging.getLogger()).handlers:
        existing = [f for f in handler.filters if isinstance(f, ScrubFilter)]
        if not existing:
            handler.addFilter(ScrubFilter(secret))
            added += 1
        elif secret is not None:
            for f in existing:
                f.secret = f.secret or secret
    return added
