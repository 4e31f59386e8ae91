"""The domain model: Item, User and Event.

Ids are strings at the edges (raw ids); dense integer indices exist only inside datasets (see ``vocab``).
Timestamps are Unix seconds (float, UTC); ISO-8601 strings and datetimes are accepted on input.

**The edge.** Data from outside (``POST /v1/events`` and ``/v1/items``, users' own files, the public-format
loaders' catalog rows) is validated with :func:`validate_record` (or under :func:`edge_context`), which adds
the rules below to the models' own; a record that breaks one is rejected alone, with the field and a reason.
Rows the store wrote earlier are read back without them, so data stored by an older version never makes a
read fail (analytics skip what they cannot use, see :mod:`shopguide.analytics.prepare`).

* ids (user, item, catalog item): :data:`ID_PATTERN`: no whitespace, no ``/``, no control characters;
  event ids and session ids: no control characters, at most 128 characters;
* numbers are finite: NaN and infinities are refused, also when written as strings (``"NaN"``, ``"Infinity"``);
* an event's ``ts`` lies in [:data:`EARLIEST_EVENT_TS`, now + :data:`MAX_EVENT_AHEAD_S`];
* an event's ``value`` is at least 0 and at most :data:`MAX_EVENT_VALUE`; a rating's lies in :data:`RATING_RANGE`
  (``value`` is 1 for most types, the rating for ``rating`` and the quantity or amount for ``purchase``);
* an event's ``context`` holds at most :data:`MAX_CONTEXT_KEYS` keys (names of at most :data:`MAX_KEY_CHARS`
  characters) whose values are strings, finite numbers or booleans of at most :data:`MAX_CONTEXT_VALUE_CHARS`
  characters; personal data in its strings is masked (:func:`shopguide.privacy.scrub.scrub`) before storing;
* an item's ``price`` lies in [0, :data:`MAX_PRICE`], ``stock`` in [0, :data:`MAX_STOCK`], ``created_at`` in
  :data:`DATE_RANGE`;
* names (category names, tags, attribute and context keys) hold no control characters; free text that is
  stored (titles, brand, description, attribute and context values) none but line breaks and tabs
  (``\\r\\n`` and ``\\r`` become ``\\n``).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from shopguide.errors import DataError

#: Attribute names the product understands across the catalog (others are kept as they are).
KNOWN_ATTRIBUTES = ("color", "size", "material", "style", "season", "gender", "occasion")

#: The earliest event time accepted from outside: 2000-01-01T00:00:00Z. The public-format loaders keep their
#: datasets' own times (MovieLens 100K is from 1997-98, the Amazon S3-Rec files carry positions 0, 1, 2, ...).
EARLIEST_EVENT_TS: float = 946_684_800.0
#: How far ahead of the receiving clock an event time from outside may be: one day (clock skew, time zones).
MAX_EVENT_AHEAD_S: float = 86_400.0
#: Times that stored data may hold and analytics place on a calendar: 1970-01-01 .. 2100-01-01 (UTC).
STORED_TS_RANGE: tuple[float, float] = (0.0, 4_102_444_800.0)
#: The largest event value accepted (a purchase's quantity or amount).
MAX_EVENT_VALUE: float = 1e9
#: The scale of a rating event's value (covers 1-5 stars and 0-10 scores).
RATING_RANGE: tuple[float, float] = (0.0, 10.0)
#: The largest item price accepted, and the largest stock count.
MAX_PRICE: float = 1e9
MAX_STOCK: int = 1_000_000_000
#: An item's ``created_at``: a calendar date between the years 1 and 9999.
DATE_RANGE: tuple[float, float] = (-62_135_596_800.0, 253_402_300_799.0)
#: Limits of an event's free-form context.
MAX_CONTEXT_KEYS = 50
MAX_KEY_CHARS = 64
MAX_CONTEXT_VALUE_CHARS = 2000
#: Event ids and session ids: at most this many characters.
MAX_ID_CHARS = 128

_EDGE = "shopguide.edge"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LONG_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def edge_context(now: float | None = None) -> dict[str, Any]:
    """The pydantic validation context that turns on the edge rules (``now``: the receiving clock)."""
    return {_EDGE: time.time() if now is None else float(now)}


def _edge_now(info: ValidationInfo) -> float | None:
    """The receiving clock when validating at the edge, else None."""
    ctx = info.context
    return ctx.get(_EDGE) if isinstance(ctx, dict) else None


def _invalid(reason: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_input", "{reason}", {"reason": reason})


def _control_char(text: str, *, long: bool = False) -> str | None:
    """``U+XXXX`` of the first control character in ``text`` (long text may hold ``\\n`` and ``\\t``)."""
    found = (_LONG_TEXT_CONTROL if long else _CONTROL).search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def check_text(text: str, what: str, *, long: bool = False) -> None:
    """Refuse ``text`` with a control character (a validation error naming ``what`` and the character)."""
    bad = _control_char(text, long=long)
    if bad is not None:
        allowed = " (line breaks and tabs are allowed)" if long else ""
        raise _invalid(f"{what} contains a control character ({bad}){allowed}")


def _finite(value: float, what: str) -> None:
    if not math.isfinite(value):
        raise _invalid(f"{what} must be a finite number, not {value!r}")


def _when(ts: float) -> str:
    try:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return repr(ts)


def check_event_time(ts: float, now: float) -> str | None:
    """Why ``ts`` is not accepted from outside at ``now`` (None when it is)."""
    if not math.isfinite(ts):
        return f"must be a finite number, not {ts!r}"
    if ts < EARLIEST_EVENT_TS:
        return f"{_when(ts)} is before {_when(EARLIEST_EVENT_TS)[:10]}, the earliest event time accepted"
    if ts > now + MAX_EVENT_AHEAD_S:
        return f"{_when(ts)} is more than a day in the future (now is {_when(now)})"
    return None


def check_event_value(value: float, event_type: str | None) -> str | None:
    """Why ``value`` is not accepted for an event of ``event_type`` (None when it is)."""
    if not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    if event_type == "rating":
        low, high = RATING_RANGE
        if not low <= value <= high:
            return f"a rating must lie between {low:g} and {high:g}, got {value:g}"
    if value < 0:
        return f"must not be negative, got {value:g}"
    if value > MAX_EVENT_VALUE:
        return f"must be at most {MAX_EVENT_VALUE:,.0f}, got {value:g}"
    return None


class EventType(StrEnum):
    """What a shopper did with an item."""

    IMPRESSION = "impression"
    VIEW = "view"
    CLICK = "click"
    CART = "cart"
    FAV = "fav"
    PURCHASE = "purchase"
    RATING = "rating"


def _to_epoch(value: Any) -> float:
    """Unix seconds from a number, a numeric string, an ISO-8601 string or a datetime (naive = UTC).

    Anything else (booleans, lists, numbers too large for a float) is a ValueError, so that validation
    reports it as an invalid value of the field."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            return _to_epoch(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError as exc:
            raise ValueError(f"not a Unix time or ISO-8601 date: {value[:64]!r}") from exc
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"not a Unix time or ISO-8601 date: {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError("not a Unix time: the number is too large") from None


def _int_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


def _str_values(value: Any, info: ValidationInfo) -> Any:
    """Free-form key/value maps keep strings only; empty values are dropped.

    At the edge a value must be a string, a finite number or a boolean (nested objects and lists are refused)."""
    if not isinstance(value, dict):
        return value
    if _edge_now(info) is not None:
        for k, v in value.items():
            if isinstance(v, dict | list | tuple | set):
                raise _invalid(f"the value of {str(k)!r} must be a string, a number or a boolean")
            if isinstance(v, float) and not math.isfinite(v):
                raise _invalid(f"the value of {str(k)!r} must be a finite number, not {v!r}")
    return {str(k): str(v) for k, v in value.items() if v not in (None, "")}


def id_problem(value: str) -> str | None:
    """Why ``value`` is not a raw id (see :data:`ID_PATTERN`), or None when it is one."""
    if not value or len(value) > MAX_ID_CHARS:
        return f"an id must have 1 to {MAX_ID_CHARS} characters, got {len(value)}"
    if _ID.fullmatch(value):
        return None
    found = re.search(r"[\x00-\x1f\x7f-\x9f]", value)
    if found is not None:
        return f"an id must not contain control characters (found U+{ord(found.group()):04X})"
    return "an id must not contain whitespace or '/'"


def _edge_id(value: str, info: ValidationInfo) -> str:
    if _edge_now(info) is not None:
        why = id_problem(value)
        if why is not None:
            raise _invalid(why)
    return value


#: Ids have no whitespace, no "/" (they appear in URL paths) and no control characters (C0, DEL, C1);
#: at most 128 characters. Request schemas and path parameters use it as it is; the models apply it at the
#: edge (rows an older version stored are read back as they are).
ID_PATTERN = r"^[^\s/\x00-\x1f\x7f-\x9f]+$"
_ID = re.compile(ID_PATTERN)
#: A raw id as it arrives at the edges: a non-empty string (integers are accepted and converted).
RawId = Annotated[
    str,
    BeforeValidator(_int_to_str),
    Field(min_length=1, max_length=MAX_ID_CHARS, pattern=r"^[^\s/]+$"),
    AfterValidator(_edge_id),
]
StrDict = Annotated[dict[str, str], BeforeValidator(_str_values)]


def free_text(text: str, what: str) -> str:
    """``text`` (stored free text) with ``\\r\\n`` and ``\\r`` as ``\\n``; refused when it holds a control
    character other than a line break or a tab."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_text(text, what, long=True)
    return text


def _check_map(value: dict[str, str], what: str) -> dict[str, str]:
    """Keys are names (no control characters); values free text."""
    out = {}
    for key, text in value.items():
        check_text(key, f"{what} key {key!r}")
        out[key] = free_text(text, f"{what} {key!r}")
    return out


class Item(BaseModel):
    """A product in the catalog."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: RawId
    title: str = Field(min_length=1)
    title_alt: str | None = Field(default=None, description="The title in a second language.")
    description: str = ""
    category: list[str] = Field(default_factory=list, description="Category path, most general first.")
    brand: str | None = None
    price: float | None = Field(default=None, ge=0)
    attributes: StrDict = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    stock: int | None = Field(default=None, description="Units in stock; None means unknown (treated as available).")
    created_at: float | None = None

    @field_validator("created_at", mode="before")
    @classmethod
    def _created_epoch(cls, value: Any) -> Any:
        return None if value in (None, "") else _to_epoch(value)

    @field_validator("title", "title_alt", "brand", "description")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and _edge_now(info) is not None:
            return free_text(value, "the text")
        return value

    @field_validator("category", "tags")
    @classmethod
    def _names(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if _edge_now(info) is not None:
            for n, name in enumerate(value, 1):
                check_text(name, f"name {n} ({name!r})")
        return value

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _check_map(value, "attribute") if _edge_now(info) is not None else value

    @field_validator("price", mode="before")
    @classmethod
    def _price_finite(cls, value: Any, info: ValidationInfo) -> Any:
        if _edge_now(info) is not None and isinstance(value, str | float):
            try:
                number = float(value)
            except ValueError:
                return value  # not a number: the float validation says so
            _finite(number, "a price")
        return value

    @field_validator("price")
    @classmethod
    def _price(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and _edge_now(info) is not None and value > MAX_PRICE:
            raise _invalid(f"a price must be at most {MAX_PRICE:,.0f}, got {value:g}")
        return value

    @field_validator("stock")
    @classmethod
    def _stock(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and _edge_now(info) is not None and not 0 <= value <= MAX_STOCK:
            raise _invalid(f"stock must lie between 0 and {MAX_STOCK:,}, got {value}")
        return value

    @field_validator("created_at")
    @classmethod
    def _created_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and _edge_now(info) is not None:
            _finite(value, "a time")
            if not DATE_RANGE[0] <= value <= DATE_RANGE[1]:
                raise _invalid(f"{value:g} is not a time between the years 1 and 9999")
        return value

    @property
    def leaf_category(self) -> str | None:
        return self.category[-1] if self.category else None

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


class User(BaseModel):
    """A shopper. Attributes are free-form (age band, city, segment...)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: RawId
    attributes: StrDict = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return _check_map(value, "attribute") if _edge_now(info) is not None else value


class Event(BaseModel):
    """One behaviour event. ``id`` is the idempotency key; it is derived from the content when not given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(default=None, max_length=MAX_ID_CHARS)
    user: RawId
    item: RawId
    type: EventType
    value: float = 1.0
    ts: float
    session: str | None = None
    context: StrDict = Field(default_factory=dict)

    @field_validator("ts", mode="before")
    @classmethod
    def _ts_epoch(cls, value: Any) -> Any:
        return _to_epoch(value)

    @field_validator("id", "session")
    @classmethod
    def _ids(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and _edge_now(info) is not None:
            if len(value) > MAX_ID_CHARS:
                raise _invalid(f"at most {MAX_ID_CHARS} characters, got {len(value)}")
            bad = _control_char(value)
            if bad is not None:
                raise _invalid(f"an id must not contain control characters (found {bad})")
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: float, info: ValidationInfo) -> float:
        if _edge_now(info) is not None:
            kind = info.data.get("type")
            why = check_event_value(value, kind.value if isinstance(kind, EventType) else None)
            if why is not None:
                raise _invalid(why)
        return value

    @field_validator("ts")
    @classmethod
    def _ts_window(cls, value: float, info: ValidationInfo) -> float:
        now = _edge_now(info)
        if now is not None:
            why = check_event_time(value, now)
            if why is not None:
                raise _invalid(why)
        return value

    @field_validator("context")
    @classmethod
    def _context(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if _edge_now(info) is None:
            return value
        if len(value) > MAX_CONTEXT_KEYS:
            raise _invalid(f"at most {MAX_CONTEXT_KEYS} context keys, got {len(value)}")
        for key, text in value.items():
            if not key or len(key) > MAX_KEY_CHARS:
                raise _invalid(f"a context key must have 1 to {MAX_KEY_CHARS} characters, got {len(key)}")
            if len(text) > MAX_CONTEXT_VALUE_CHARS:
                raise _invalid(f"the value of {key!r} is longer than {MAX_CONTEXT_VALUE_CHARS} characters")
        return scrub_strings(_check_map(value, "context"))

    def key(self) -> str:
        """The idempotency key: the given id, else a hash of (user, item, type, value, ts)."""
        if self.id:
            return self.id
        raw = f"{self.user}\x1f{self.item}\x1f{self.type.value}\x1f{self.value!r}\x1f{self.ts!r}"
        return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def scrub_strings(values: dict[str, str]) -> dict[str, str]:
    """``values`` with personal data in each string masked (phone numbers, e-mail addresses, ...)."""
    from shopguide.privacy.scrub import scrub_value  # imported late: the privacy package may import data

    return scrub_value(values)


def validate_record(
    model: type[BaseModel], record: dict[str, Any], *, file: str | None, line: int | None, now: float | None = None
):
    """Build ``model`` from ``record`` with the edge rules (see the module docstring; ``now`` is the receiving
    clock, the current time by default); on failure raise a DataError naming the file, line and field."""
    try:
        return model.model_validate(record, context=edge_context(now))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise DataError(first.get("msg", "invalid value"), file=file, line=line, field=field) from None
