"""The domain model: Item, User and Event.

Ids are strings at the edges (raw ids); dense integer indices exist only inside datasets (see ``vocab``).
Timestamps are Unix seconds (float, UTC); ISO-8601 strings and datetimes are accepted on input.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from shopguide.errors import DataError

#: Attribute names the product understands across the catalog (others are kept as they are).
KNOWN_ATTRIBUTES = ("color", "size", "material", "style", "season", "gender", "occasion")


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
    """Unix seconds from a number, a numeric string, an ISO-8601 string or a datetime (naive = UTC)."""
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
            raise ValueError(f"not a Unix time or ISO-8601 date: {value!r}") from exc
    return float(value)


def _int_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


def _str_values(value: Any) -> Any:
    """Free-form key/value maps keep strings only; empty values are dropped."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v not in (None, "")}
    return value


#: Ids have no whitespace and no "/" (they appear in URL paths); at most 128 characters.
ID_PATTERN = r"^[^\s/]+$"
#: A raw id as it arrives at the edges: a non-empty string (integers are accepted and converted).
RawId = Annotated[str, BeforeValidator(_int_to_str), Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
StrDict = Annotated[dict[str, str], BeforeValidator(_str_values)]


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


class Event(BaseModel):
    """One behaviour event. ``id`` is the idempotency key; it is derived from the content when not given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(default=None, max_length=128)
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

    def key(self) -> str:
        """The idempotency key: the given id, else a hash of (user, item, type, value, ts)."""
        if self.id:
            return self.id
        raw = f"{self.user}\x1f{self.item}\x1f{self.type.value}\x1f{self.value!r}\x1f{self.ts!r}"
        return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def validate_record(model: type[BaseModel], record: dict[str, Any], *, file: str | None, line: int | None):
    """Build ``model`` from ``record``; on failure raise a DataError naming the file, line and field."""
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise DataError(first.get("msg", "invalid value"), file=file, line=line, field=field) from None
