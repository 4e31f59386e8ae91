"""Filters shared by every analytics function: an inclusive date range and a set of categories.

Dates are calendar days in the source's time zone (a fixed UTC offset chosen when the source is opened;
UTC by default). A category filter keeps events whose item sits in any of the named categories, at the top
level of its category path or at its leaf; events on items without a known category are then left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from shopguide.errors import ConfigError

EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the ``day`` column of the working table)."""
    return (day - EPOCH).days


def day_date(number: int) -> date:
    """The calendar date of a day number."""
    return date.fromordinal(EPOCH.toordinal() + int(number))


def parse_date(value: str | date | None, what: str = "date") -> date | None:
    """``YYYY-MM-DD`` (or a date, or None/empty) -> date; ConfigError naming ``what`` otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{what} must be a date as YYYY-MM-DD, got {value!r}") from None


@dataclass(frozen=True)
class Filters:
    """What part of the events an aggregate looks at. Every field is optional; the default is everything."""

    date_from: date | None = None
    date_to: date | None = None  # inclusive
    categories: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(sorted({c.strip() for c in self.categories if c.strip()})))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ConfigError(f"date range is empty: from {self.date_from} is after to {self.date_to}")

    @classmethod
    def of(
        cls,
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        categories: Iterable[str] | str | None = None,
    ) -> Filters:
        """Build from loosely typed input (query parameters, CLI options)."""
        if isinstance(categories, str):
            categories = [categories]
        return cls(parse_date(date_from, "date_from"), parse_date(date_to, "date_to"), tuple(categories or ()))

    @property
    def is_empty(self) -> bool:
        return self.date_from is None and self.date_to is None and not self.categories

    def to_dict(self) -> dict[str, object]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "categories": list(self.categories),
        }

    def key(self) -> str:
        """A canonical string (part of cache keys)."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def describe(self) -> str:
        """Human-readable, e.g. ``2026-09-01 .. 2026-09-30, category 服装``."""
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or '…'} .. {self.date_to or '…'}")
        if self.categories:
            parts.append(("categories " if len(self.categories) > 1 else "category ") + ", ".join(self.categories))
        return "; ".join(parts) or "all events"
