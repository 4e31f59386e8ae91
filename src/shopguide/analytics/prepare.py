"""Build the working tables (``ev``, ``items``, ``cats``) of an EventSource from raw relations.

The raw events relation may use the export's column names or common alternatives; :func:`prepare` looks
at its columns once and writes one ``SELECT`` that normalises them. Everything after that is vectorised
DuckDB SQL: ids hashed to 64 bits, the event type cast to an ENUM, the day computed at the UTC offset,
the item's categories and price joined in, and the context JSON parsed once into one column per key.

Rows that an older version stored, or a file holds, with a time or value analytics cannot use (NaN, an
infinity, a time outside :data:`~shopguide.data.schema.STORED_TS_RANGE`) are skipped, not fatal: the count is
logged as a warning and kept on the source (``EventSource.skipped_events``), and the dashboard shows it.
"""

from __future__ import annotations

import logging
import time

import duckdb

from shopguide.analytics.keys import CONTEXT_KEYS, EVENT_TYPES, canonical_type, sql_str
from shopguide.data.schema import STORED_TS_RANGE
from shopguide.errors import DataError

log = logging.getLogger(__name__)

_USER = ("user_id", "user", "userid", "visitorid")
_ITEM = ("item_id", "item", "itemid", "sku")
_TYPE = ("type", "behavior", "event_type", "event")
_TS = ("ts", "timestamp", "time", "event_time")
_ITEM_ID = ("item_id", "id", "item", "sku")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, tuple[str, str]]:
    """Lower-cased column name -> (name, DuckDB type) of a relation."""
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {str(r[0]).lower(): (str(r[0]), str(r[1]).upper()) for r in rows}


def _pick(cols: dict[str, tuple[str, str]], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        if name in cols:
            return cols[name]
    return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ts_expr(name: str, kind: str) -> str:
    col = _quote(name)
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return f"epoch({col})"
    if kind in ("VARCHAR", "TEXT", "STRING"):
        return f"coalesce(TRY_CAST({col} AS DOUBLE), epoch(TRY_CAST({col} AS TIMESTAMPTZ)))"
    return f"CAST({col} AS DOUBLE)"


def _category_exprs(col: str) -> tuple[str, str]:
    """(top, leaf) from a category text: a JSON list, a path ``a > b`` / ``a/b``, or a single name."""
    parts = rf"string_split_regex({col}, '\s*[>/]\s*')"
    top = (
        f"CASE WHEN {col} IS NULL OR trim({col}) IN ('', '[]') THEN NULL "
        f"WHEN starts_with(trim({col}), '[') THEN json_extract_string({col}, '$[0]') "
        f"ELSE nullif(trim({parts}[1]), '') END"
    )
    leaf = (
        f"CASE WHEN {col} IS NULL OR trim({col}) IN ('', '[]') THEN NULL "
        f"WHEN starts_with(trim({col}), '[') THEN json_extract_string({col}, '$[#-1]') "
        f"ELSE nullif(trim({parts}[-1]), '') END"
    )
    return top, leaf


def _events_select(con: duckdb.DuckDBPyConnection, relation: str, what: str) -> tuple[str, bool]:
    """A SELECT with columns user_id, item_id, type, value, ts, session, context, category, leaf."""
    cols = _columns(con, relation)
    found = {key: _pick(cols, names) for key, names in (("user", _USER), ("item", _ITEM), ("type", _TYPE), ("ts", _TS))}
    missing = [key for key, col in found.items() if col is None]
    if missing:
        raise DataError(
            f"the events have no {', '.join(missing)} column (columns: {', '.join(c[0] for c in cols.values())})",
            file=what,
        )
    user, item, etype, ts = (found[k] for k in ("user", "item", "type", "ts"))
    assert user and item and etype and ts
    value = cols.get("value")
    session = _pick(cols, ("session", "session_id"))
    context = cols.get("context")
    if context is None:
        context_expr = "NULL"
    elif context[1] in ("VARCHAR", "JSON"):
        context_expr = f"CAST({_quote(context[0])} AS VARCHAR)"
    else:
        context_expr = f"CAST(to_json({_quote(context[0])}) AS VARCHAR)"
    category = _pick(cols, ("category", "category_id", "category_path"))
    if category is not None:
        top, leaf = _category_exprs(f"CAST({_quote(category[0])} AS VARCHAR)")
        if "leaf" in cols:
            leaf = f"CAST({_quote(cols['leaf'][0])} AS VARCHAR)"
    else:
        top = leaf = "NULL"
    select = (
        f"SELECT CAST({_quote(user[0])} AS VARCHAR) AS user_id, CAST({_quote(item[0])} AS VARCHAR) AS item_id, "
        f"CAST({_quote(etype[0])} AS VARCHAR) AS type, "
        f"{f'CAST({_quote(value[0])} AS DOUBLE)' if value else '1.0'} AS value, "
        f"{_ts_expr(*ts)} AS ts, "
        f"{f'CAST({_quote(session[0])} AS VARCHAR)' if session else 'NULL'} AS session, "
        f"{context_expr} AS context, {top} AS category, {leaf} AS leaf FROM {relation}"
    )
    return select, category is not None


def _items_select(con: duckdb.DuckDBPyConnection, relation: str, what: str, unique: bool) -> str:
    cols = _columns(con, relation)
    item = _pick(cols, _ITEM_ID)
    if item is None:
        raise DataError("the items have no id or item_id column", file=what)
    if "category" in cols and "leaf" in cols:
        top, leaf = (f"CAST({_quote(cols[k][0])} AS VARCHAR)" for k in ("category", "leaf"))
    elif (category := _pick(cols, ("category", "category_path", "categories"))) is not None:
        top, leaf = _category_exprs(f"CAST({_quote(category[0])} AS VARCHAR)")
    else:
        top = leaf = "NULL"
    price = f"TRY_CAST({_quote(cols['price'][0])} AS DOUBLE)" if "price" in cols else "NULL"
    deleted = f"coalesce(TRY_CAST({_quote(cols['deleted'][0])} AS BOOLEAN), false)" if "deleted" in cols else "false"
    select = (
        f"SELECT CAST({_quote(item[0])} AS VARCHAR) AS item_id, {top} AS category, {leaf} AS leaf, "
        f"{price} AS price, {deleted} AS deleted FROM {relation}"
    )
    if unique:
        return select
    return (
        "SELECT item_id, last(category) AS category, last(leaf) AS leaf, last(price) AS price, "
        f"last(deleted) AS deleted FROM ({select}) GROUP BY item_id"
    )


def prepare(
    con: duckdb.DuckDBPyConnection,
    events_relation: str,
    items_relation: str | None,
    *,
    utc_offset_hours: float,
    unique_items: bool,
    what: str,
) -> int:
    """Create ``cats``, ``items`` and ``ev`` in ``con`` (see :mod:`shopguide.analytics.source`); returns how many
    events were skipped for an unusable time or value."""
    started = time.perf_counter()
    try:
        events_sql, has_category = _events_select(con, events_relation, what)
        con.execute(f"CREATE VIEW raw_events AS {events_sql}")
        if items_relation is not None:
            con.execute(f"CREATE VIEW raw_items AS {_items_select(con, items_relation, what, unique_items)}")
        elif has_category:
            con.execute(
                "CREATE VIEW raw_items AS SELECT item_id, arg_min(category, ts) AS category, arg_min(leaf, ts) AS leaf, "
                "NULL::DOUBLE AS price, false AS deleted FROM raw_events GROUP BY item_id"
            )
        else:
            con.execute(
                "CREATE VIEW raw_items AS SELECT DISTINCT item_id, NULL::VARCHAR AS category, NULL::VARCHAR AS leaf, "
                "NULL::DOUBLE AS price, false AS deleted FROM raw_events"
            )
        con.execute(
            "CREATE TABLE cats AS SELECT name, CAST(row_number() OVER (ORDER BY name) AS INTEGER) AS code FROM ("
            "SELECT category AS name FROM raw_items WHERE category IS NOT NULL "
            "UNION SELECT leaf FROM raw_items WHERE leaf IS NOT NULL)"
        )
        con.execute(
            "CREATE TABLE items AS SELECT hash(r.item_id) AS i, r.item_id, c1.code AS cat, c2.code AS leaf, r.price, "
            "r.deleted FROM raw_items r LEFT JOIN cats c1 ON c1.name = r.category LEFT JOIN cats c2 ON c2.name = r.leaf"
        )
        types = ", ".join(sql_str(t) for t in EVENT_TYPES)
        con.execute(f"CREATE TYPE event_type AS ENUM ({types})")
        type_expr = _type_expr(con)
        struct = "{" + ", ".join(f'"{k}": "VARCHAR"' for k in CONTEXT_KEYS) + "}"
        keys = ", ".join(f"e.x.{k} AS {k}" for k in CONTEXT_KEYS)
        offset = float(utc_offset_hours) * 3600.0
        con.execute(
            "CREATE TABLE ev AS SELECT hash(e.user_id) AS u, e.user_id, hash(e.item_id) AS i, e.item_id, "
            f"{type_expr} AS t, e.value, e.ts, "
            f"CASE WHEN {_usable_time('e.ts')} THEN CAST(floor((e.ts + {offset!r}) / 86400) AS INTEGER) END AS day, "
            f"e.session, it.cat, it.leaf, it.price, {keys} "
            "FROM (SELECT *, CASE WHEN context IS NOT NULL AND context NOT IN ('', '{}') "
            f"THEN json_transform(context, '{struct}') END AS x FROM raw_events) e "
            "LEFT JOIN items it ON it.i = hash(e.item_id)"
        )
        # one pass over the working table, not another over the source (a CSV would be parsed twice)
        skipped = con.execute(
            f"DELETE FROM ev WHERE (ts IS NOT NULL AND NOT {_usable_time('ts')}) "
            "OR (value IS NOT NULL AND NOT isfinite(value))"
        ).fetchall()[0][0]
    except duckdb.ConversionException as exc:
        raise DataError(f"could not read the events: {_first_line(exc)}", file=what) from None
    except duckdb.Error as exc:
        raise DataError(f"could not read the events: {_first_line(exc)}", file=what) from None
    if skipped:
        log.warning(
            "%s: skipped %d events whose time or value is unusable (NaN, infinite, or a time outside %s..%s)",
            what,
            skipped,
            *(time.strftime("%Y-%m-%d", time.gmtime(t)) for t in STORED_TS_RANGE),
        )
    n = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE ts IS NULL OR user_id IS NULL OR item_id IS NULL) FROM ev"
    ).fetchall()[0]
    if n and n[1]:
        raise DataError(f"{n[1]} events have no user, item or valid time", file=what)
    log.info(
        "analytics tables ready",
        extra={"events": n[0] if n else 0, "skipped": skipped, "seconds": round(time.perf_counter() - started, 2)},
    )
    return int(skipped)


def _usable_time(col: str) -> str:
    """SQL: ``col`` (Unix seconds, DOUBLE) is finite and inside :data:`STORED_TS_RANGE`."""
    low, high = STORED_TS_RANGE
    return f"(isfinite({col}) AND {col} >= {low!r} AND {col} < {high!r})"


def _type_expr(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for the event type: a plain ENUM cast when every raw value is canonical, else a CASE over the
    raw values present (aliases such as ``pv`` or ``BUY``); DataError naming unknown types."""
    raw = [r[0] for r in con.execute("SELECT DISTINCT type FROM raw_events").fetchall()]
    mapping = {value: canonical_type(value) for value in raw if value is not None}
    unknown = sorted(v for v, t in mapping.items() if t is None)
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:5])
        raise DataError(f"unknown event types {shown}; expected one of {', '.join(EVENT_TYPES)} (or an alias)")
    if all(k == v for k, v in mapping.items()):
        return "CAST(e.type AS event_type)"
    whens = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in mapping.items() if k != v)
    return f"CAST(CASE e.type {whens} ELSE e.type END AS event_type)"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
