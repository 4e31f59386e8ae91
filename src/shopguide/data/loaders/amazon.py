"""Amazon review data in the S3-Rec layout (Beauty, Sports_and_Outdoors, Toys_and_Games, ...).

Files in ``data_dir`` for a dataset ``D`` (``D = "Beauty"``):

* ``D.txt`` (required): one line per user, ``user_id item_id item_id ...`` in time order, ids from 1.
* ``d_items_joined.tsv`` (optional): S3-Rec item id -> ASIN, title, sales rank, categories, price, brand.
* ``d_users_map.tsv`` (optional): S3-Rec user id -> Amazon reviewerID.
* ``D_item2attributes.json`` (optional): item id -> anonymous attribute ids, kept as tags ``attr:<id>``.

Ids stay the S3-Rec numbers (as strings) so that evaluation lines up with the published results.
"""

from __future__ import annotations

import ast
import html
import json
import logging
from functools import lru_cache
from pathlib import Path

from shopguide.data.loaders.base import (
    LoadedData,
    PathLike,
    as_directory,
    existing_file,
    iter_delimited,
    paused_gc,
    trusted_event,
)
from shopguide.data.schema import Event, EventType, Item, User, id_problem, validate_record
from shopguide.errors import DataError

log = logging.getLogger(__name__)

ITEM_COLUMNS = ("s3rec_item_id", "asin", "title", "sales_type", "sales_rank", "categories", "price", "brand")
_NO_BRAND = {"", "unknown"}

NOTES = (
    "Amazon {dataset} (S3-Rec files): each review is a PURCHASE event with value 1 (reviewed = bought). "
    "The files carry no timestamps, so ts is the position in the user's sequence (0, 1, 2, ...): "
    "order within a user is exact, times across users are not comparable. "
    "User and item ids are the S3-Rec numbers as strings."
)


@paused_gc()
def load_amazon(data_dir: PathLike, *, dataset: str = "Beauty", attribute_tags: bool = True) -> LoadedData:
    """Load an S3-Rec Amazon dataset: sequences, catalog (when the joined file is there) and users."""
    directory = as_directory(data_dir)
    seq_path = existing_file(directory, f"{dataset}.txt")
    events, user_order, seen_items = _read_sequences(seq_path)

    files = [str(seq_path)]
    items: list[Item] = []
    items_path = directory / f"{dataset.lower()}_items_joined.tsv"
    if items_path.is_file():
        items = _read_items(items_path)
        files.append(str(items_path))
    attr_path = directory / f"{dataset}_item2attributes.json"
    if attribute_tags and attr_path.is_file():
        items = _add_attribute_tags(items, attr_path)
        files.append(str(attr_path))
    known = {it.id for it in items}
    missing = sorted((i for i in seen_items if i not in known), key=int)
    if missing:
        log.info("%s: %d items have no catalog row; giving them placeholder titles", dataset, len(missing))
    items.extend(Item(id=i, title=f"item {i}") for i in missing)

    users_path = directory / f"{dataset.lower()}_users_map.tsv"
    users: list[User] = []
    if users_path.is_file():
        users = _read_users(users_path)
        files.append(str(users_path))
    known_users = {u.id for u in users}
    users.extend(User(id=u) for u in user_order if u not in known_users)

    notes = NOTES.format(dataset=dataset)
    if missing:
        notes += f" {len(missing)} items had no catalog row and got the title 'item <id>'."
    return LoadedData(items, users, events, name=f"amazon-{dataset.lower()}", notes=notes, files=files)


def _read_sequences(path: Path) -> tuple[list[Event], list[str], set[str]]:
    events: list[Event] = []
    users: list[str] = []
    items: set[str] = set()
    purchase = EventType.PURCHASE
    try:
        with path.open(encoding="utf-8") as handle:
            for line, text in enumerate(handle, 1):
                row = text.split()
                if not row:
                    continue
                user, *seq = row
                if not _number(user):
                    raise DataError(
                        f"user id must be a number, got {user[:40]!r}", file=str(path), line=line, field="user_id"
                    )
                for item in seq:
                    if not _number(item):
                        raise DataError(
                            f"item id must be a number, got {item[:40]!r}",
                            file=str(path),
                            line=line,
                            field="item_id",
                        )
                users.append(user)
                items.update(seq)
                events.extend(trusted_event(user, it, purchase, 1.0, float(pos)) for pos, it in enumerate(seq))
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
    return events, users, items


def _number(text: str) -> bool:
    """An S3-Rec id: ASCII digits (``str.isdigit`` also takes "²" and other scripts' digits), at most 128."""
    return text.isascii() and text.isdigit() and len(text) <= 128


@lru_cache(maxsize=4096)
def parse_category_list(text: str) -> tuple[str, ...]:
    """``'Beauty', 'Makeup', "Women's"`` -> ``('Beauty', 'Makeup', "Women's")``."""
    text = text.strip()
    if not text:
        return ()
    try:
        value = ast.literal_eval(f"[{text}]")
        if all(isinstance(v, str) for v in value):
            return tuple(v.strip() for v in value if v.strip())
    except (ValueError, SyntaxError):
        pass
    return tuple(p.strip().strip("'\"").strip() for p in text.split(",") if p.strip().strip("'\""))


def _read_items(path: Path) -> list[Item]:
    rows = iter_delimited(path, delimiter="\t")
    header = next(rows, (1, []))[1]
    col = {name: i for i, name in enumerate(header)}
    for name in ITEM_COLUMNS:
        if name not in col:
            raise DataError(f"missing required column {name!r}", file=str(path), line=1, field=name)
    items: list[Item] = []
    for line, row in rows:
        if len(row) != len(header):
            raise DataError(f"expected {len(header)} fields, found {len(row)}", file=str(path), line=line)
        get = {name: row[i].strip() for name, i in col.items()}.get
        asin = get("asin") or ""
        rank = get("sales_rank") or ""
        if rank.endswith(".0"):
            rank = rank[:-2]
        record = {
            "id": get("s3rec_item_id"),
            "title": html.unescape(get("title") or "") or asin or f"item {get('s3rec_item_id')}",
            "category": list(parse_category_list(get("categories") or "")),
            "brand": None if (get("brand") or "").lower() in _NO_BRAND else html.unescape(get("brand")),
            "price": get("price") or None,
            "attributes": {"asin": asin, "sales_rank": rank, "sales_type": get("sales_type")},
        }
        items.append(validate_record(Item, record, file=str(path), line=line))
    return items


def _read_users(path: Path) -> list[User]:
    rows = iter_delimited(path, delimiter="\t")
    next(rows, None)
    users: list[User] = []
    for line, row in rows:
        if len(row) != 2:
            raise DataError(f"expected 2 fields, found {len(row)}", file=str(path), line=line)
        record = {"id": row[0].strip(), "attributes": {"reviewer_id": row[1].strip()}}
        users.append(validate_record(User, record, file=str(path), line=line))
    return users


def _add_attribute_tags(items: list[Item], path: Path) -> list[Item]:
    try:
        with path.open(encoding="utf-8") as handle:
            attrs = json.load(handle)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", file=str(path), line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DataError(f"invalid JSON: {reason}", file=str(path)) from None
    if not isinstance(attrs, dict):
        raise DataError("expected a JSON object of item id -> attribute ids", file=str(path))
    out = []
    for item in items:
        ids = attrs.get(item.id)
        if ids and not (isinstance(ids, list) and all(_attribute_id(a) for a in ids)):
            raise DataError(
                "expected a list of attribute ids (numbers or names without spaces)", file=str(path), field=item.id
            )
        if ids:
            item = item.model_copy(update={"tags": [*item.tags, *(f"attr:{a}" for a in ids)]})
        out.append(item)
    return out


def _attribute_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and id_problem(value) is None
