"""Alibaba Taobao UserBehavior (Tianchi): ``user_id,item_id,category_id,behavior,timestamp`` without header.

Behaviours map to event types: pv -> VIEW, cart -> CART, fav -> FAV, buy -> PURCHASE.
"""

from __future__ import annotations

from pathlib import Path

from shopguide.data.loaders.base import LoadedData, PathLike, paused_gc, trusted_event
from shopguide.data.schema import STORED_TS_RANGE, Event, EventType, Item, User, id_problem
from shopguide.errors import DataError

FIELDS = ("user_id", "item_id", "category_id", "behavior", "timestamp")
BEHAVIORS: dict[str, EventType] = {
    "pv": EventType.VIEW,
    "cart": EventType.CART,
    "fav": EventType.FAV,
    "buy": EventType.PURCHASE,
}
NOTES = (
    "Taobao UserBehavior: pv -> view, cart -> cart, fav -> fav, buy -> purchase, each with value 1 and its "
    "Unix timestamp. Items carry only their category id (title 'item <id>')."
)


def taobao_files(path: PathLike) -> list[Path]:
    """The UserBehavior CSV files at ``path``: the file itself, or ``UserBehavior*.csv`` in a directory."""
    source = Path(path)
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(source.glob("UserBehavior*.csv"))
        if files:
            return files
        raise DataError("no UserBehavior*.csv file in this directory", file=str(source))
    raise DataError("file not found", file=str(source))


@paused_gc()
def load_taobao(path: PathLike, *, max_rows: int | None = None) -> LoadedData:
    """Load Taobao UserBehavior rows (at most ``max_rows``); users and items come in order of first use."""
    events: list[Event] = []
    categories: dict[str, str] = {}
    users: dict[str, None] = {}
    files = taobao_files(path)
    for file in files:
        _read_file(file, events, categories, users, max_rows)
        if max_rows is not None and len(events) >= max_rows:
            break
    # Validated construction: pydantic-core is faster here than model_construct (which is ~80 us per Item).
    items = [Item(id=item, title=f"item {item}", category=[category]) for item, category in categories.items()]
    user_models = [User(id=u) for u in users]
    return LoadedData(
        items, user_models, events, name="taobao-userbehavior", notes=NOTES, files=[str(f) for f in files]
    )


def _read_file(
    path: Path,
    events: list[Event],
    categories: dict[str, str],
    users: dict[str, None],
    max_rows: int | None,
) -> None:
    name = str(path)
    behaviors = BEHAVIORS
    low, high = STORED_TS_RANGE
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for line, text in enumerate(handle, 1):
                if max_rows is not None and len(events) >= max_rows:
                    return
                parts = text.rstrip("\r\n").split(",")
                if len(parts) != 5:
                    if len(parts) == 1 and not parts[0].strip():
                        continue
                    raise DataError(
                        f"expected 5 comma-separated fields ({','.join(FIELDS)}), found {len(parts)}",
                        file=name,
                        line=line,
                    )
                user, item, category, behavior, ts = parts
                kind = behaviors.get(behavior)
                if kind is None:
                    raise DataError(
                        f"unknown behavior {behavior!r}; expected one of {', '.join(behaviors)}",
                        file=name,
                        line=line,
                        field="behavior",
                    )
                # the dataset's ids are numbers: one cheap test per row, the full check only for others
                if (
                    not (user.isdigit() and item.isdigit() and category.isdigit())
                    or max(len(user), len(item), len(category)) > 128
                ):
                    _check_ids(user, item, category, name, line)
                try:
                    when = int(ts)
                except ValueError:
                    raise DataError(
                        f"timestamp must be an integer, got {ts[:40]!r}", file=name, line=line, field="timestamp"
                    ) from None
                if not low <= when < high:
                    raise DataError(
                        f"timestamp {when} is not a time between 1970 and 2100", file=name, line=line, field="timestamp"
                    )
                events.append(trusted_event(user, item, kind, 1.0, float(when)))
                users[user] = None
                if item not in categories:
                    categories[item] = category
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=name) from None


def _check_ids(user: str, item: str, category: str, file: str, line: int) -> None:
    for field, value in (("user_id", user), ("item_id", item), ("category_id", category)):
        if not value:
            raise DataError("empty value", file=file, line=line, field=field)
        why = id_problem(value)
        if why is not None:
            raise DataError(why, file=file, line=line, field=field)
