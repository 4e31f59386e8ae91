"""EventSource: the events (joined with their items' categories and prices) as one DuckDB table.

Where the events come from:

- a store URL or Store (SQLite, PostgreSQL): exported to Parquet incrementally (:mod:`.export`; DuckDB's
  database scanners need a download, which does not work offline), then read like any Parquet;
- Parquet or CSV files (the export format below, or your own columns: ``user``/``user_id``, ``item``/
  ``item_id``, ``type`` with the usual aliases such as ``pv``/``buy``, ``ts`` as Unix seconds or a timestamp,
  optional ``value``, ``session``, ``context`` (a JSON object) and ``category``), with an optional items file;
- the Taobao UserBehavior CSV (pv / cart / fav / buy -> view / cart / fav / purchase);
- Python ``Event`` and ``Item`` objects (tests, the demo).

Opening a source builds, once, an in-memory table ``ev`` that every aggregate queries:

=========== =============================================================================================
column      meaning
=========== =============================================================================================
u, i        64-bit hashes of the user and item ids (grouping on integers is several times faster than on
            strings; for 10 million distinct ids the chance that any two share a hash is below 1e-5)
user_id,    the raw ids, for display
item_id
t           the event type (an ENUM of :data:`EVENT_TYPES`)
value, ts   the event value and its Unix time
day         the calendar day (days since 1970-01-01) at the source's UTC offset
session     the session id, when known
cat, leaf   codes (table ``cats``: code -> name) of the item's top-level and leaf category
price       the item's price, when known
source ...  the context keys of :data:`CONTEXT_KEYS`, each its own column (NULL when absent)
=========== =============================================================================================

Events whose time or value analytics cannot use (NaN, infinite, a time outside
:data:`~shopguide.data.schema.STORED_TS_RANGE`: rows an older version stored) are left out of ``ev``;
:attr:`EventSource.skipped_events` says how many.

Table ``items`` is the catalogue (one row per item: ``i``, ``item_id``, ``cat``, ``leaf``, ``price``,
``deleted``); when a source has no catalogue (Taobao, event files alone) it holds the items seen in events,
each with the category of its earliest event (as the Taobao loader does). Events on deleted items are kept
(they happened); deleted items do not count towards the catalogue size.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from shopguide.analytics.export import events_table, export_store, items_table, store_fingerprint, store_url
from shopguide.analytics.filters import Filters, day_number
from shopguide.analytics.keys import CONTEXT_KEYS, sql_str
from shopguide.analytics.session import Session
from shopguide.data.loaders.taobao import BEHAVIORS, taobao_files
from shopguide.data.schema import Event, Item
from shopguide.errors import DataError
from shopguide.store.base import Store

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def _sql_list(paths: Sequence[PathLike]) -> str:
    return "[" + ", ".join(sql_str(str(p)) for p in paths) + "]"


def _files_fingerprint(kind: str, paths: Iterable[PathLike]) -> str:
    parts = [kind]
    for p in paths:
        st = Path(p).stat()
        parts.append(f"{Path(p).resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return f"{kind}-" + hashlib.blake2b("|".join(parts).encode(), digest_size=10).hexdigest()


class EventSource:
    """Events and items loaded into DuckDB; aggregates query the filtered events as ``fe``.

    Thread-safe: every query runs on its own DuckDB cursor. Build one with a ``from_*`` class method or
    :meth:`open`; close it (or use it as a context manager) to free the memory.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        fingerprint: str,
        description: str,
        utc_offset_hours: float,
        has_catalog: bool,
        skipped_events: int = 0,
    ) -> None:
        self._con = con
        #: Events left out for an unusable time or value (see :mod:`shopguide.analytics.prepare`).
        self.skipped_events = skipped_events
        self.fingerprint = fingerprint
        self.description = description
        self.utc_offset_hours = utc_offset_hours
        self.has_catalog = has_catalog
        self._names: dict[int, str] | None = None

    def __repr__(self) -> str:
        return f"EventSource({self.description!r}, fingerprint={self.fingerprint!r})"

    # ------------------------------------------------------------------------------------------ builders
    @classmethod
    def from_store(
        cls,
        store: Store | str,
        *,
        cache_dir: PathLike,
        utc_offset_hours: float = 0.0,
        secret: bytes | None = None,
    ) -> EventSource:
        """A store (or store URL): its Parquet copy under ``cache_dir`` is refreshed first. With ``secret`` (the
        server secret) shopper ids are pseudonyms there and in everything computed from it (see export.py)."""
        if isinstance(store, str):
            from shopguide.store import open_store

            with open_store(store) as opened:
                return cls.from_store(opened, cache_dir=cache_dir, utc_offset_hours=utc_offset_hours, secret=secret)
        exported = export_store(store, Path(cache_dir), secret=secret)
        return cls._build(
            f"read_parquet({_sql_list(exported.events)})",
            f"read_parquet({sql_str(str(exported.items))})",
            utc_offset_hours=utc_offset_hours,
            fingerprint=f"{exported.fingerprint}-tz{utc_offset_hours:g}",
            description=f"store {store_url(store)}",
            unique_items=True,
        )

    @staticmethod
    def fingerprint_of_store(store: Store, *, utc_offset_hours: float = 0.0) -> str:
        """The fingerprint :meth:`from_store` would give this store now, without exporting anything."""
        return f"{store_fingerprint(store)}-tz{utc_offset_hours:g}"

    @classmethod
    def from_parquet(
        cls, events: PathLike | Sequence[PathLike], items: PathLike | None = None, *, utc_offset_hours: float = 0.0
    ) -> EventSource:
        """Parquet event files (one path, a list, or a directory of ``*.parquet``) and an optional items file."""
        paths = _expand(events, "*.parquet")
        files = [*paths, *([items] if items else [])]
        return cls._build(
            f"read_parquet({_sql_list(paths)}, union_by_name = true)",
            f"read_parquet({sql_str(str(items))})" if items else None,
            utc_offset_hours=utc_offset_hours,
            fingerprint=f"{_files_fingerprint('parquet', files)}-tz{utc_offset_hours:g}",
            description=f"parquet {', '.join(str(p) for p in paths)}",
        )

    @classmethod
    def from_csv(
        cls, events: PathLike | Sequence[PathLike], items: PathLike | None = None, *, utc_offset_hours: float = 0.0
    ) -> EventSource:
        """CSV event files with a header row (same columns as :meth:`from_parquet`) and an optional items CSV."""
        paths = _expand(events, "*.csv")
        files = [*paths, *([items] if items else [])]
        return cls._build(
            f"read_csv({_sql_list(paths)}, header = true, union_by_name = true, all_varchar = true)",
            f"read_csv({sql_str(str(items))}, header = true, all_varchar = true)" if items else None,
            utc_offset_hours=utc_offset_hours,
            fingerprint=f"{_files_fingerprint('csv', files)}-tz{utc_offset_hours:g}",
            description=f"csv {', '.join(str(p) for p in paths)}",
        )

    @classmethod
    def from_taobao(cls, path: PathLike, *, utc_offset_hours: float = 0.0) -> EventSource:
        """Taobao UserBehavior CSV (a file, or a directory of ``UserBehavior*.csv``)."""
        files = taobao_files(path)
        behaviors = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v.value)}" for k, v in BEHAVIORS.items())
        columns = (
            "{'user_id': 'VARCHAR', 'item_id': 'VARCHAR', 'category': 'VARCHAR', 'behavior': 'VARCHAR', 'ts': 'BIGINT'}"
        )
        relation = (
            f"(SELECT user_id, item_id, category, CASE behavior {behaviors} ELSE behavior END AS type, ts "
            f"FROM read_csv({_sql_list(files)}, header = false, columns = {columns}))"
        )
        return cls._build(
            relation,
            None,
            utc_offset_hours=utc_offset_hours,
            fingerprint=f"{_files_fingerprint('taobao', files)}-tz{utc_offset_hours:g}",
            description=f"taobao {', '.join(str(f) for f in files)}",
        )

    @classmethod
    def from_events(
        cls, events: Iterable[Event], items: Iterable[Item] = (), *, utc_offset_hours: float = 0.0
    ) -> EventSource:
        """In-memory events and catalogue items (events are copied into Arrow tables first)."""
        import json

        rows = [
            (
                n,
                ev.user,
                ev.item,
                ev.type.value,
                ev.value,
                ev.ts,
                ev.session,
                json.dumps(ev.context, ensure_ascii=False, sort_keys=True) if ev.context else "{}",
            )
            for n, ev in enumerate(events, 1)
        ]
        ev_table = events_table(rows)
        it_table = items_table((it.id, it.category, it.price, False) for it in items)
        digest = hashlib.blake2b(digest_size=10)
        for row in rows:
            digest.update(repr(row).encode())
        for item_id, cat, price in zip(
            it_table["item_id"].to_pylist(),
            it_table["category_path"].to_pylist(),
            it_table["price"].to_pylist(),
            strict=True,
        ):
            digest.update(f"{item_id}|{cat}|{price}".encode())
        return cls._build(
            "ev_arrow",
            "it_arrow" if it_table.num_rows else None,
            utc_offset_hours=utc_offset_hours,
            fingerprint=f"events-{digest.hexdigest()}-tz{utc_offset_hours:g}",
            description=f"{len(rows)} events in memory",
            unique_items=True,
            register={"ev_arrow": ev_table, "it_arrow": it_table},
        )

    @classmethod
    def open(
        cls,
        location: PathLike,
        *,
        format: str = "auto",
        items: PathLike | None = None,
        cache_dir: PathLike = "var/analytics",
        utc_offset_hours: float = 0.0,
        secret: bytes | None = None,
    ) -> EventSource:
        """Open by location: a store URL, a Taobao file or directory, Parquet or CSV files (``format`` auto);
        ``secret`` pseudonymizes a store's shopper ids (files are read as they are)."""
        text = str(location)
        fmt = format.lower()
        if fmt == "auto":
            if "://" in text:
                fmt = "store"
            elif text.endswith(".parquet") or (Path(text).is_dir() and any(Path(text).glob("*.parquet"))):
                fmt = "parquet"
            elif Path(text).name.startswith("UserBehavior") or (
                Path(text).is_dir() and any(Path(text).glob("UserBehavior*.csv"))
            ):
                fmt = "taobao"
            else:
                fmt = "csv"
        if fmt == "store":
            return cls.from_store(text, cache_dir=cache_dir, utc_offset_hours=utc_offset_hours, secret=secret)
        if fmt == "taobao":
            return cls.from_taobao(text, utc_offset_hours=utc_offset_hours)
        if fmt == "parquet":
            return cls.from_parquet(text, items, utc_offset_hours=utc_offset_hours)
        if fmt == "csv":
            return cls.from_csv(text, items, utc_offset_hours=utc_offset_hours)
        from shopguide.errors import ConfigError

        raise ConfigError(f"unknown analytics source format {format!r}; expected auto, store, parquet, csv or taobao")

    @classmethod
    def _build(
        cls,
        events_relation: str,
        items_relation: str | None,
        *,
        utc_offset_hours: float,
        fingerprint: str,
        description: str,
        unique_items: bool = False,
        register: dict[str, Any] | None = None,
    ) -> EventSource:
        from shopguide.analytics.prepare import prepare

        con = duckdb.connect(config={"threads": max(1, os.cpu_count() or 1)})
        try:
            con.execute("SET TimeZone = 'UTC'")
            for name, table in (register or {}).items():
                con.register(name, table)
            skipped = prepare(
                con,
                events_relation,
                items_relation,
                utc_offset_hours=utc_offset_hours,
                unique_items=unique_items,
                what=description,
            )
            for name in register or {}:
                con.unregister(name)
        except BaseException:
            con.close()
            raise
        return cls(
            con,
            fingerprint=fingerprint,
            description=description,
            utc_offset_hours=utc_offset_hours,
            has_catalog=items_relation is not None,
            skipped_events=skipped,
        )

    # ------------------------------------------------------------------------------------------ queries
    def selection(self, filters: Filters | None = None) -> str:
        """SQL for the filtered events (all columns of ``ev`` plus ``rid``, a row id)."""
        where = []
        f = filters or Filters()
        if f.date_from:
            where.append(f"day >= {day_number(f.date_from)}")
        if f.date_to:
            where.append(f"day <= {day_number(f.date_to)}")
        if f.categories:
            codes = self.category_codes(f.categories)
            listed = ", ".join(map(str, codes)) or "NULL"
            where.append(f"(cat IN ({listed}) OR leaf IN ({listed}))")
        return "SELECT rowid AS rid, * FROM ev" + (" WHERE " + " AND ".join(where) if where else "")

    def session(self, filters: Filters | None = None) -> Session:
        """A cursor of its own on which the view ``fe`` holds the filtered events (use it with ``with``)."""
        return Session(self._con.cursor(), self.selection(filters), filters or Filters())

    def query(self, sql: str, filters: Filters | None = None, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` (which reads the filtered events as ``fe``) and return a DataFrame."""
        with self.session(filters) as s:
            return s.df(sql, params)

    def scalar(self, sql: str, filters: Filters | None = None, params: Sequence[Any] | None = None) -> Any:
        """The single value of a one-row, one-column query (None for NULL or no row)."""
        with self.session(filters) as s:
            return s.scalar(sql, params)

    def has_type(self, event_type: str, filters: Filters | None = None) -> bool:
        """Whether the selection holds at least one event of ``event_type``."""
        return bool(self.scalar("SELECT count(*) FROM (SELECT 1 FROM fe WHERE t = ? LIMIT 1)", filters, [event_type]))

    def has_values(self, column: str, filters: Filters | None = None) -> bool:
        """Whether any event of the selection has a value in ``column`` (a context key or ``session``)."""
        if column not in (*CONTEXT_KEYS, "session"):
            raise ValueError(f"not a context column: {column!r}")
        return bool(self.scalar(f"SELECT count(*) FROM (SELECT 1 FROM fe WHERE {column} IS NOT NULL LIMIT 1)", filters))

    def category_names(self) -> dict[int, str]:
        """Category code -> name."""
        if self._names is None:
            with self.session() as s:
                self._names = {int(code): str(name) for name, code in s.rows("SELECT name, code FROM cats")}
        return self._names

    def catalogue_size(self, filters: Filters | None = None) -> int:
        """Live catalogue items in the filter's categories (all of them without a category filter)."""
        where = "NOT deleted"
        if filters and filters.categories:
            listed = ", ".join(map(str, self.category_codes(filters.categories))) or "NULL"
            where += f" AND (cat IN ({listed}) OR leaf IN ({listed}))"
        with self.session() as s:
            return int(s.scalar(f"SELECT count(*) FROM items WHERE {where}") or 0)

    def category_codes(self, names: Iterable[str]) -> list[int]:
        """Codes of the named categories (unknown names have none)."""
        names = list(names)
        if not names:
            return []
        cursor = self._con.cursor()
        try:
            marks = ", ".join("?" for _ in names)
            rows = cursor.execute(f"SELECT code FROM cats WHERE name IN ({marks}) ORDER BY code", names).fetchall()
        finally:
            cursor.close()
        return [int(r[0]) for r in rows]

    def categories(self, filters: Filters | None = None, *, level: str = "cat", limit: int | None = None) -> list[str]:
        """Category names by number of events in the selection, most first (``level`` cat or leaf)."""
        column = "leaf" if level == "leaf" else "cat"
        sql = (
            f"SELECT c.name, count(*) AS n FROM fe JOIN cats c ON c.code = fe.{column} "
            f"GROUP BY c.name ORDER BY n DESC, c.name" + (f" LIMIT {int(limit)}" if limit else "")
        )
        return self.query(sql, filters)["name"].tolist()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> EventSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _expand(spec: PathLike | Sequence[PathLike], pattern: str) -> list[str]:
    specs = [spec] if isinstance(spec, (str, os.PathLike)) else list(spec)
    paths: list[str] = []
    for s in specs:
        p = Path(s)
        if p.is_dir():
            found = sorted(p.glob(pattern))
            if not found:
                raise DataError(f"no {pattern} files in this directory", file=str(p))
            paths.extend(str(f) for f in found)
        elif p.exists():
            paths.append(str(p))
        else:
            raise DataError("file not found", file=str(p))
    if not paths:
        raise DataError("no event files given")
    return paths
