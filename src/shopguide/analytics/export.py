"""Export a store's events and items to Parquet, incrementally, for DuckDB to read.

DuckDB's SQLite and PostgreSQL scanners are extensions that it downloads on first use, which does not
work offline, so analytics reads a Parquet copy instead. The copy lives in one directory per store URL:

- ``events-<from>-<to>.parquet``: the events with ``seq`` in ``(from, to]`` (append-only parts);
- ``items-<signature>.parquet``: every item (deleted ones flagged, so their events keep a category);
- ``manifest.json``: what the parts hold (event count, last ``seq``, items signature, which ids).

Shopper ids leave the store pseudonymous: given the server secret, the ``user_id`` column holds
:func:`~shopguide.privacy.pseudonym.pseudonymize` of the id (``u_`` + 20 hex), so the DuckDB tables, the
aggregates and anything computed from them never see a raw shopper id; the manifest records the secret's
:func:`~shopguide.privacy.pseudonym.key_id` and a copy made with another secret (or none) is rebuilt.
Without a secret (library use, tests) the ids are copied as they are.

Events are append-only, so a refresh exports only the rows after the last exported ``seq``, in the same
read snapshot that counts them; when the count of rows at or below that ``seq`` no longer matches (rows were
erased, or a PostgreSQL transaction committed a lower ``seq`` late), when the store's data generation
moved (rows were erased or purged: :meth:`~shopguide.store.base.Store.data_generation`), or there are too
many parts, the copy is rebuilt. Items are rewritten whenever their count or latest ``updated_at`` changed.

File formats (also what :meth:`EventSource.from_parquet` reads natively):

- events: ``seq`` int64, ``user_id``, ``item_id``, ``type`` string, ``value``, ``ts`` float64 (Unix seconds),
  ``session`` string (nullable), ``context`` string (a JSON object);
- items: ``item_id``, ``category`` (top level), ``leaf`` (last level), ``category_path`` (``a > b``), ``price``,
  ``deleted`` bool.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from shopguide.errors import StoreError
from shopguide.privacy.pseudonym import Pseudonymizer
from shopguide.store.base import Store
from shopguide.store.privacy_sql import data_generation

log = logging.getLogger(__name__)

EXPORT_VERSION = 2  # 2: pseudonymous user ids, the data generation
BATCH_ROWS = 200_000
MAX_PARTS = 24

EVENT_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("user_id", pa.string()),
        ("item_id", pa.string()),
        ("type", pa.string()),
        ("value", pa.float64()),
        ("ts", pa.float64()),
        ("session", pa.string()),
        ("context", pa.string()),
    ]
)
ITEM_SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        ("category", pa.string()),
        ("leaf", pa.string()),
        ("category_path", pa.string()),
        ("price", pa.float64()),
        ("deleted", pa.bool_()),
    ]
)
_EVENT_COLUMNS = ("seq", "user_id", "item_id", "type", "value", "ts", "session", "context")


@dataclass(frozen=True)
class StoreExport:
    """Where a store's Parquet copy is and which data it holds."""

    events: list[Path]
    items: Path
    fingerprint: str
    events_count: int
    exported_rows: int  # rows written by this refresh (0 when the copy was current)


def events_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """Rows ``(seq, user_id, item_id, type, value, ts, session, context_json)`` as an events table."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in _EVENT_COLUMNS]
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, EVENT_SCHEMA, strict=True)], schema=EVENT_SCHEMA
    )


def items_table(rows: Iterable[tuple[str, list[str], float | None, bool]]) -> pa.Table:
    """Rows ``(item_id, category path list, price, deleted)`` as an items table."""
    ids, tops, leaves, paths, prices, deleted = [], [], [], [], [], []
    for item_id, path, price, gone in rows:
        ids.append(item_id)
        tops.append(path[0] if path else None)
        leaves.append(path[-1] if path else None)
        paths.append(" > ".join(path) if path else None)
        prices.append(price)
        deleted.append(bool(gone))
    arrays = [ids, tops, leaves, paths, prices, deleted]
    return pa.Table.from_arrays(
        [pa.array(a, type=f.type) for a, f in zip(arrays, ITEM_SCHEMA, strict=True)], schema=ITEM_SCHEMA
    )


def _digest(text: str, size: int = 10) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def store_url(store: Store) -> str:
    """The store's URL with any password hidden (for names and fingerprints)."""
    engine = getattr(store, "engine", None)
    return engine.url.render_as_string(hide_password=True) if engine is not None else repr(store)


def store_directory(cache_dir: Path, store: Store) -> Path:
    """The export directory of this store under ``cache_dir`` (one per store URL)."""
    return Path(cache_dir) / f"store-{_digest(store_url(store), 6)}"


# ---------------------------------------------------------------------------------------------- SQL stores
def _engine(store: Store) -> sa.Engine | None:
    engine = getattr(store, "engine", None)
    return engine if isinstance(engine, sa.Engine) else None


@contextmanager
def _snapshot(store: Store, engine: sa.Engine) -> Iterator[sa.Connection]:
    """One read transaction: a consistent snapshot on SQLite (WAL) and PostgreSQL (REPEATABLE READ)."""
    lock = getattr(store, "_lock", None) or nullcontext()  # in-memory SQLite shares one connection
    try:
        with lock, engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"could not read the store for analytics: {exc}") from exc


def _items_signature(conn: sa.Connection) -> str:
    # upserts and soft deletes both set updated_at, so (count, latest updated_at) changes with every item write
    n_items, updated = conn.execute(sa.text("SELECT count(*), coalesce(max(updated_at), 0) FROM items")).one()
    return f"{int(n_items)}:{float(updated)!r}"


def _last_seq(conn: sa.Connection) -> int:
    # max of the primary key: one index probe on SQLite and PostgreSQL, whatever the table's size
    return int(conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM events")).scalar_one())


def store_fingerprint(store: Store) -> str:
    """A short string that changes whenever events are added, removed (erasure, retention) or items change.

    Cheap at any size: the last event ``seq`` (an index probe), the store's data generation (raised by every
    erasure and purge) and the items' count and latest update.
    """
    engine = _engine(store)
    if engine is None:
        stats = store.stats()
        return "store-" + _digest(f"{store_url(store)}|{sorted(stats.items())}")
    with _snapshot(store, engine) as conn:
        return _fingerprint(store, _last_seq(conn), data_generation(conn), _items_signature(conn))


def _fingerprint(store: Store, last: int, generation: int, items_sig: str) -> str:
    return "store-" + _digest(f"{store_url(store)}|{last}|{generation}|{items_sig}")


def _write_parquet(path: Path, batches: Iterator[pa.Table], schema: pa.Schema) -> int:
    tmp = path.with_suffix(".tmp")
    rows = 0
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for table in batches:
            writer.write_table(table)
            rows += table.num_rows
    os.replace(tmp, path)
    return rows


def _event_batches(
    conn: sa.Connection, after: int, upto: int, pseudonym: Pseudonymizer | None = None
) -> Iterator[pa.Table]:
    query = sa.text(
        "SELECT seq, user_id, item_id, type, value, ts, session, context FROM events "
        "WHERE seq > :after AND seq <= :upto ORDER BY seq"
    )
    result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
        query, {"after": after, "upto": upto}
    )
    for rows in result.partitions(BATCH_ROWS):
        if pseudonym is None:
            yield events_table([tuple(r) for r in rows])
        else:
            yield events_table([(r[0], pseudonym(r[1]), *r[2:]) for r in rows])


def _ids_label(pseudonym: Pseudonymizer | None) -> str:
    """Which user ids an export holds: ``raw``, or ``hmac:<key id>`` of the secret that made them."""
    return "raw" if pseudonym is None else f"hmac:{pseudonym.key_id}"


def _item_rows(conn: sa.Connection) -> Iterator[tuple[str, list[str], float | None, bool]]:
    for item_id, category, price, deleted in conn.execute(sa.text("SELECT id, category, price, deleted FROM items")):
        try:
            path = [str(c) for c in json.loads(category or "[]")]
        except ValueError:
            path = []
        yield item_id, path, price, bool(deleted)


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Serialise exports of one store between processes (where the platform has ``fcntl``)."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with (directory / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export_store(store: Store, cache_dir: Path, *, secret: bytes | None = None) -> StoreExport:
    """Bring the Parquet copy of ``store`` under ``cache_dir`` up to date and describe it; with ``secret``
    (the server secret) shopper ids are exported as their pseudonyms."""
    directory = store_directory(cache_dir, store)
    pseudonym = Pseudonymizer(secret) if secret is not None else None
    with _directory_lock(directory):
        engine = _engine(store)
        if engine is None:
            return _export_generic(store, directory, pseudonym)
        manifest_path = directory / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("version") != EXPORT_VERSION or manifest.get("ids") != _ids_label(pseudonym):
                manifest = None
        except (OSError, ValueError):
            manifest = None
        with _snapshot(store, engine) as conn:
            last, items_sig, generation = _last_seq(conn), _items_signature(conn), data_generation(conn)
            count = int(conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one())
            if manifest is not None and manifest.get("generation") != generation:
                manifest = None  # rows were erased or purged since: their copies go too
            parts: list[dict[str, Any]] = list(manifest["parts"]) if manifest else []
            done_count, done_last = (manifest["count"], manifest["last_seq"]) if manifest else (0, 0)
            intact = manifest is not None and all((directory / p["file"]).exists() for p in parts)
            if intact and (last < done_last or len(parts) >= MAX_PARTS):
                intact = False
            if intact and last > done_last:
                below = conn.execute(
                    sa.text("SELECT count(*) FROM events WHERE seq <= :s"), {"s": done_last}
                ).scalar_one()
                intact = int(below) == done_count
            elif intact:
                intact = count == done_count
            if not intact:
                parts, done_count, done_last = [], 0, 0
            exported = 0
            if last > done_last:
                name = f"events-{done_last:012d}-{last:012d}.parquet"
                batches = _event_batches(conn, done_last, last, pseudonym)
                rows = _write_parquet(directory / name, batches, EVENT_SCHEMA)
                parts.append({"file": name, "from_seq": done_last, "to_seq": last, "rows": rows})
                exported = rows
            items_name = f"items-{_digest(items_sig, 6)}.parquet"
            if not (directory / items_name).exists():
                _write_parquet(directory / items_name, iter([items_table(_item_rows(conn))]), ITEM_SCHEMA)
        if not parts:  # an empty store still gets one (empty) events file, so readers find a schema
            name = "events-000000000000-000000000000.parquet"
            _write_parquet(directory / name, iter([events_table([])]), EVENT_SCHEMA)
            parts = [{"file": name, "from_seq": 0, "to_seq": 0, "rows": 0}]
        fingerprint = _fingerprint(store, last, generation, items_sig)
        new_manifest = {
            "version": EXPORT_VERSION,
            "url": store_url(store),
            "ids": _ids_label(pseudonym),
            "generation": generation,
            "count": count,
            "last_seq": last,
            "items_signature": items_sig,
            "items": items_name,
            "parts": parts,
            "fingerprint": fingerprint,
        }
        tmp = manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(new_manifest, indent=1))
        os.replace(tmp, manifest_path)
        _remove_stale(directory, {p["file"] for p in parts} | {items_name})
    if exported:
        log.info("exported events for analytics", extra={"rows": exported, "directory": str(directory)})
    return StoreExport(
        events=[directory / p["file"] for p in parts],
        items=directory / items_name,
        fingerprint=fingerprint,
        events_count=count,
        exported_rows=exported,
    )


def remove_export(store: Store, cache_dir: Path) -> int:
    """Delete the Parquet copy of ``store`` under ``cache_dir`` (after an erasure or a purge: the copy still
    holds the removed rows); the next export rebuilds it. Waits for an export in progress. Files removed."""
    directory = store_directory(cache_dir, store)
    if not directory.exists():
        return 0
    with _directory_lock(directory):
        paths = [*directory.glob("*.parquet"), *directory.glob("*.tmp"), directory / "manifest.json"]
        removed = 0
        for path in paths:
            if path.exists():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _remove_stale(directory: Path, keep: set[str]) -> None:
    for path in directory.glob("*.parquet"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


def _export_generic(store: Store, directory: Path, pseudonym: Pseudonymizer | None = None) -> StoreExport:
    """Any Store without a SQL engine: a full copy through the protocol's iterators."""
    fingerprint = store_fingerprint(store) + ("" if pseudonym is None else f"-{pseudonym.key_id}")
    events_path, items_path = directory / f"events-{fingerprint}.parquet", directory / f"items-{fingerprint}.parquet"
    if not events_path.exists():

        def batches() -> Iterator[pa.Table]:
            rows: list[tuple[Any, ...]] = []
            for seq, ev in enumerate(store.iter_events(), 1):
                context = json.dumps(ev.context, ensure_ascii=False) if ev.context else "{}"
                user = ev.user if pseudonym is None else pseudonym(ev.user)
                rows.append((seq, user, ev.item, ev.type.value, ev.value, ev.ts, ev.session, context))
                if len(rows) >= BATCH_ROWS:
                    yield events_table(rows)
                    rows = []
            yield events_table(rows)

        _write_parquet(events_path, batches(), EVENT_SCHEMA)
        live = {it.id for it in store.iter_items()}
        rows = ((it.id, it.category, it.price, it.id not in live) for it in store.iter_items(include_deleted=True))
        _write_parquet(items_path, iter([items_table(rows)]), ITEM_SCHEMA)
        _remove_stale(directory, {events_path.name, items_path.name})
    count = pq.ParquetFile(events_path).metadata.num_rows
    return StoreExport([events_path], items_path, fingerprint, count, 0)
