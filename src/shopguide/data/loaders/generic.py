"""Users' own catalog, user and event files (CSV/TSV with a header, JSON Lines, Parquet).

``mapping`` maps a schema field to the source column (``{"id": "sku", "title": "name"}``); fields not
mapped are read from columns of the same name. ``"attributes.color": "颜色"`` (items, users) or
``"context.page": "page_name"`` (events) fill one key of the dict field from a column.

Columns that are not schema fields go to ``attributes`` for items when they are named in
``KNOWN_ATTRIBUTES`` or prefixed ``attr_`` (the prefix is dropped; others are ignored with a log line),
to ``attributes`` for users, and to ``context`` for events. A category given as text is split on ``>``
(else ``/``), tags on ``|``, ``,`` or ``，``. Empty cells count as missing.

Every row is validated with the edge rules of :mod:`shopguide.data.schema` (finite numbers, event times from
2000-01-01 to a day ahead, no control characters, personal data in event context masked); a bad row raises
:class:`DataError` naming the file, line (or row) and column, and nothing of the file is imported. Malformed
files (an unclosed quote in a CSV, invalid JSON, text that is not UTF-8) are DataErrors too.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from shopguide.data.loaders.base import LoadedData, PathLike, paused_gc
from shopguide.data.loaders.readers import open_table
from shopguide.data.schema import KNOWN_ATTRIBUTES, Event, EventType, Item, User, validate_record
from shopguide.errors import DataError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: Common names for behaviours in exported logs, mapped to event types.
EVENT_ALIASES: dict[str, EventType] = {
    "pv": EventType.VIEW,
    "page_view": EventType.VIEW,
    "detail_view": EventType.VIEW,
    "buy": EventType.PURCHASE,
    "order": EventType.PURCHASE,
    "add_to_cart": EventType.CART,
    "addtocart": EventType.CART,
    "favorite": EventType.FAV,
    "favourite": EventType.FAV,
    "like": EventType.FAV,
    "collect": EventType.FAV,
    "show": EventType.IMPRESSION,
    "expose": EventType.IMPRESSION,
}
_TAG_SPLIT = re.compile(r"[|,，]")
_PRICE_JUNK = re.compile(r"[¥￥$,\s]")


def load_items(path: PathLike, mapping: Mapping[str, str] | None = None, format: str | None = None) -> list[Item]:
    """Read catalog items; ids must be unique."""
    return _load(Item, Path(path), mapping, format, "attributes", unique=True)


def load_users(path: PathLike, mapping: Mapping[str, str] | None = None, format: str | None = None) -> list[User]:
    """Read users; ids must be unique, other columns become attributes."""
    return _load(User, Path(path), mapping, format, "attributes", unique=True)


def load_events(path: PathLike, mapping: Mapping[str, str] | None = None, format: str | None = None) -> list[Event]:
    """Read behaviour events; other columns become event context."""
    return _load(Event, Path(path), mapping, format, "context", unique=False)


def load_generic(
    *,
    items: PathLike | None = None,
    events: PathLike | None = None,
    users: PathLike | None = None,
    item_mapping: Mapping[str, str] | None = None,
    event_mapping: Mapping[str, str] | None = None,
    user_mapping: Mapping[str, str] | None = None,
    name: str = "custom",
) -> LoadedData:
    """Read any of a catalog, a user file and an event file (formats from the suffixes) into LoadedData."""
    item_list = load_items(items, item_mapping) if items is not None else []
    user_list = load_users(users, user_mapping) if users is not None else []
    event_list = load_events(events, event_mapping) if events is not None else []
    files = [str(p) for p in (items, users, events) if p is not None]
    notes = f"Loaded from {', '.join(files) or 'nothing'}."
    if item_list and event_list:
        known = {it.id for it in item_list}
        unknown = sum(1 for e in event_list if e.item not in known)
        if unknown:
            notes += f" {unknown} events name items that are not in the catalog."
    return LoadedData(item_list, user_list, event_list, name=name, notes=notes, files=files)


# ---------------------------------------------------------------------------------------------- internals
@paused_gc()
def _load(
    model: type[M],
    path: Path,
    mapping: Mapping[str, str] | None,
    format: str | None,
    extra: str,
    *,
    unique: bool,
) -> list[M]:
    table = open_table(path, format)
    columns, keyed = _resolve(model, mapping or {}, extra, path)
    if table.columns is not None:
        _check_columns(model, path, table.columns, columns, keyed, 1 if table.unit == "line" else None)
    out: list[M] = []
    first_line: dict[str, int] = {}
    now = time.time()  # one receiving clock for the whole file (event times may be at most a day ahead of it)
    for pos, row in table.rows:
        record = _record(model, row, columns, keyed, extra)
        try:
            obj = validate_record(model, record, file=str(path), line=pos, now=now)
        except DataError as exc:
            raise _in_source_terms(model, exc, columns, table.unit, pos) from None
        if unique:
            key = obj.id  # type: ignore[attr-defined]
            if key in first_line:
                raise DataError(
                    f"duplicate id {key!r} (first on {table.unit} {first_line[key]})",
                    file=str(path),
                    line=pos,
                    field=columns["id"],
                )
            first_line[key] = pos
        out.append(obj)
    log.info("read %d %s records from %s", len(out), model.__name__, path)
    return out


def _resolve(
    model: type[BaseModel], mapping: Mapping[str, str], extra: str, path: Path
) -> tuple[dict[str, str], dict[str, str]]:
    """(schema field -> source column, source column -> key in the ``extra`` dict)."""
    fields = model.model_fields
    columns = {f: f for f in fields}
    keyed: dict[str, str] = {}
    for target, source in mapping.items():
        if target in fields:
            columns[target] = source
        elif target.startswith(f"{extra}.") and len(target) > len(extra) + 1:
            keyed[source] = target[len(extra) + 1 :]
        else:
            raise DataError(
                f"mapping names {target!r}, which is not a {model.__name__} field",
                file=str(path),
                field=target,
            )
    return columns, keyed


def _check_columns(
    model: type[BaseModel],
    path: Path,
    header: list[str],
    columns: dict[str, str],
    keyed: dict[str, str],
    header_line: int | None,
) -> None:
    present = set(header)
    for field, info in model.model_fields.items():
        col = columns[field]
        if info.is_required() and col not in present:
            what = "" if col == field else f" (for {model.__name__}.{field})"
            raise DataError(f"missing required column {col!r}{what}", file=str(path), line=header_line, field=col)
        if col != field and col not in present:
            raise DataError(f"mapped column {col!r} (for {field!r}) is not in the file", file=str(path), field=col)
    for col in keyed:
        if col not in present:
            raise DataError(f"mapped column {col!r} is not in the file", file=str(path), field=col)
    ignored = _ignored_columns(model, header, columns, keyed)
    if ignored:
        log.warning("%s: ignoring columns %s (not item fields or attributes)", path, ", ".join(ignored))


def _ignored_columns(
    model: type[BaseModel], header: list[str], columns: dict[str, str], keyed: dict[str, str]
) -> list[str]:
    if model is not Item:
        return []
    used = set(columns.values()) | set(keyed)
    return [c for c in header if c not in used and _item_attribute_key(c) is None]


def _item_attribute_key(column: str) -> str | None:
    if column.startswith("attr_") and len(column) > 5:
        return column[5:]
    return column if column in KNOWN_ATTRIBUTES else None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _record(
    model: type[BaseModel], row: dict[str, Any], columns: dict[str, str], keyed: dict[str, str], extra: str
) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for field, col in columns.items():
        value = row.get(col)
        if not _empty(value):
            record[field] = _normalise(field, value)
    bag = record.get(extra)
    if isinstance(bag, str):
        bag = _json_object(bag)
    bag = dict(bag) if isinstance(bag, dict) else ({} if bag is None else bag)
    if isinstance(bag, dict):
        used = set(columns.values())
        for col, value in row.items():
            if col in used or _empty(value):
                continue
            key = keyed.get(col)
            if key is None:
                key = _item_attribute_key(col) if model is Item else _strip_prefix(col, extra)
            if key is not None:
                bag[key] = value
    if bag != {} or extra in record:
        record[extra] = bag
    return record


def _strip_prefix(column: str, extra: str) -> str:
    for prefix in ("attr_", "ctx_", "context_") if extra == "context" else ("attr_",):
        if column.startswith(prefix) and len(column) > len(prefix):
            return column[len(prefix) :]
    return column


def _json_object(text: str) -> Any:
    """A dict cell written as JSON text (``{"color": "red"}``); other text is left for validation."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON (JSONDecodeError is a ValueError), or nested too deeply
        return text


def _normalise(field: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if field == "category":
            sep = ">" if ">" in value else "/"
            return [part.strip() for part in value.split(sep) if part.strip()]
        if field == "tags":
            return [part.strip() for part in _TAG_SPLIT.split(value) if part.strip()]
        if field == "type":
            low = value.lower()
            return EVENT_ALIASES.get(low, low)
        if field == "price":
            return _PRICE_JUNK.sub("", value)
    elif isinstance(value, list | tuple) and field in ("category", "tags"):
        return [str(v).strip() for v in value if not _empty(v)]
    return value


def _in_source_terms(model: type[BaseModel], exc: DataError, columns: dict[str, str], unit: str, pos: int) -> DataError:
    """Name the source column rather than the schema field, and say "row" for row-numbered formats."""
    field = exc.field
    message = exc.message
    if field is not None:
        root, _, rest = field.partition(".")
        col = columns.get(root, root)
        if col != root:
            message = f"{message} ({model.__name__}.{root})"
            field = f"{col}.{rest}" if rest else col
    if unit != "line":
        message = f"{unit} {pos}: {message}"
    return DataError(message, file=exc.file, line=exc.line, field=field)
