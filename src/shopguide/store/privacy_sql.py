"""A shopper's data in a SQL store: export it, erase it, and purge old events and sessions (retention).

A mixin of :class:`~shopguide.store.sql.SqlStore` (one concept per module); it uses the store's ``_read`` /
``_write`` transactions like every other table.

What belongs to a shopper: their ``users`` row, their ``events``, the chat ``sessions`` whose dialogue state
records their ``user_id`` (the guide writes it into the state when a chat request names the shopper; an
anonymous conversation cannot be linked to anyone and is left to the session retention), and the hand-off
``tickets`` that name them or sit on one of those sessions.

The sessions table has no ``user_id`` column, so finding a shopper's sessions reads the JSON state of every
session (SQLite ``json_extract``, PostgreSQL ``->>``). That scan runs in a read transaction, never while the
write lock is held (it would stall event ingestion); the write transaction then re-checks those sessions
and the ones written since the scan began (an indexed range on ``updated_at``), so a session the shopper
opened meanwhile is erased too.

Every transaction that removes rows also raises the store's *data generation* (the ``data_generation`` key
of ``schema_meta``): events are otherwise append-only, and copies made from them (the analytics Parquet
export and the aggregates keyed by its fingerprint) use it to notice that rows went away.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from shopguide.errors import NotFoundError
from shopguide.store.base import ErasureResult, PurgeResult
from shopguide.store.migrations import define_tables

_TABLES = define_tables(sa.MetaData())
USERS, EVENTS, SESSIONS, TICKETS, META = (_TABLES[n] for n in ("users", "events", "sessions", "tickets", "schema_meta"))
DECISIONS = _TABLES["bandit_decisions"]
#: the ``schema_meta`` key counting removals (absent: 0)
GENERATION_KEY = "data_generation"
#: sessions written this long before the read scan began are re-checked under the write lock (clock skew
#: between workers writing ``updated_at``)
SCAN_MARGIN_S = 300.0
#: rows one purge transaction deletes at most (short write transactions: ingestion keeps flowing)
PURGE_BATCH = 5000
_IN_CHUNK = 500


def _chunks(values: Iterable[str], size: int = _IN_CHUNK) -> Iterator[list[str]]:
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def _session_owner(conn: Connection) -> sa.ColumnElement[Any]:
    """The ``user_id`` field of a session's JSON state, as SQL of this connection's dialect."""
    if conn.dialect.name == "postgresql":
        return sa.cast(SESSIONS.c.state, postgresql.JSONB)["user_id"].astext
    return sa.func.json_extract(SESSIONS.c.state, "$.user_id")


def _event_dict(row: Any) -> dict[str, Any]:
    """An event row in the shape of ``Event.model_dump(mode="json")``."""
    m = row._mapping
    return {
        "id": m["key"], "user": m["user_id"], "item": m["item_id"], "type": m["type"], "value": m["value"],
        "ts": m["ts"], "session": m["session"], "context": json.loads(m["context"] or "{}"),
    }  # fmt: skip


def _ticket_dict(row: Any) -> dict[str, Any]:
    m = dict(row._mapping)
    m["transcript"] = json.loads(m["transcript"] or "[]")
    return m


def _decision_dict(row: Any) -> dict[str, Any]:
    m = dict(row._mapping)
    for key, empty in (("context", "{}"), ("items", "[]")):
        m[key] = json.loads(m[key] or empty)
    m["outcome"] = json.loads(m["outcome"]) if m["outcome"] else None
    return m


def data_generation(conn: Connection) -> int:
    """The store's data generation (0 before the first removal)."""
    value = conn.execute(sa.select(META.c.value).where(META.c.key == GENERATION_KEY)).scalar()
    return int(value) if value else 0


def bump_generation(conn: Connection) -> int:
    """Raise the data generation inside the caller's write transaction; the new value."""
    new = data_generation(conn) + 1
    updated = conn.execute(sa.update(META).where(META.c.key == GENERATION_KEY).values(value=str(new)))
    if updated.rowcount == 0:
        conn.execute(sa.insert(META).values(key=GENERATION_KEY, value=str(new)))
    return new


class PrivacyTables:
    """Right of access (:meth:`export_user`), erasure (:meth:`erase_user`) and retention (:meth:`purge`)."""

    _read: Any  # provided by SqlStore
    _write: Any

    def _session_ids(self, conn: Connection, user_id: str, *, since: float | None = None) -> set[str]:
        query = sa.select(SESSIONS.c.session_id).where(_session_owner(conn) == user_id)
        if since is not None:
            query = query.where(SESSIONS.c.updated_at >= since)
        return set(conn.execute(query).scalars())

    def _tickets_of(self, user_id: str, session_ids: set[str]) -> sa.ColumnElement[bool]:
        clauses = [TICKETS.c.user_id == user_id]
        clauses += [TICKETS.c.session_id.in_(chunk) for chunk in _chunks(sorted(session_ids))]
        return sa.or_(*clauses)

    def export_user(self, user_id: str) -> dict[str, Any]:
        with self._read() as conn:  # one read transaction
            user = conn.execute(sa.select(USERS).where(USERS.c.id == user_id)).first()
            events = conn.execute(
                sa.select(EVENTS).where(EVENTS.c.user_id == user_id).order_by(EVENTS.c.ts, EVENTS.c.seq)
            ).all()
            sessions = conn.execute(
                sa.select(SESSIONS).where(_session_owner(conn) == user_id).order_by(SESSIONS.c.session_id)
            ).all()
            session_ids = {row.session_id for row in sessions}
            tickets = conn.execute(
                sa.select(TICKETS).where(self._tickets_of(user_id, session_ids)).order_by(TICKETS.c.id)
            ).all()
            decisions = conn.execute(
                sa.select(DECISIONS).where(DECISIONS.c.user_id == user_id).order_by(DECISIONS.c.ts, DECISIONS.c.id)
            ).all()
        if user is None and not (events or sessions or tickets or decisions):
            raise NotFoundError(f"nothing is held about user {user_id!r}")
        return {
            "user_id": user_id,
            "exported_at": time.time(),
            "user": None if user is None else {"id": user.id, "attributes": json.loads(user.attributes or "{}")},
            "events": [_event_dict(row) for row in events],
            "sessions": [
                {"session_id": row.session_id, "updated_at": row.updated_at, "state": json.loads(row.state)}
                for row in sessions
            ],
            "tickets": [_ticket_dict(row) for row in tickets],
            "decisions": [_decision_dict(row) for row in decisions],
        }

    def erase_user(self, user_id: str) -> ErasureResult:
        scan_started = time.time()
        with self._read() as conn:  # the full scan of session states, outside the write lock
            candidates = self._session_ids(conn, user_id)
        with self._write() as conn:
            owner = _session_owner(conn)
            session_ids = self._session_ids(conn, user_id, since=scan_started - SCAN_MARGIN_S)
            for chunk in _chunks(sorted(candidates - session_ids)):  # still theirs (a PK lookup each)
                query = sa.select(SESSIONS.c.session_id).where(SESSIONS.c.session_id.in_(chunk), owner == user_id)
                session_ids.update(conn.execute(query).scalars())
            tickets = conn.execute(sa.delete(TICKETS).where(self._tickets_of(user_id, session_ids))).rowcount
            sessions = sum(
                conn.execute(sa.delete(SESSIONS).where(SESSIONS.c.session_id.in_(chunk))).rowcount
                for chunk in _chunks(sorted(session_ids))
            )
            events = conn.execute(sa.delete(EVENTS).where(EVENTS.c.user_id == user_id)).rowcount
            users = conn.execute(sa.delete(USERS).where(USERS.c.id == user_id)).rowcount
            decisions = conn.execute(sa.delete(DECISIONS).where(DECISIONS.c.user_id == user_id)).rowcount
            result = ErasureResult(users=users, events=events, sessions=sessions, tickets=tickets, decisions=decisions)
            if result.total == 0:
                raise NotFoundError(f"nothing is held about user {user_id!r}")
            bump_generation(conn)
        return result

    def purge(self, before_ts: float | None, *, sessions_before_ts: float | None = None) -> PurgeResult:
        sessions_before_ts = before_ts if sessions_before_ts is None else sessions_before_ts
        events = 0 if before_ts is None else self._purge(EVENTS, EVENTS.c.seq, EVENTS.c.ts, before_ts)
        sessions = (
            0
            if sessions_before_ts is None
            else self._purge(SESSIONS, SESSIONS.c.session_id, SESSIONS.c.updated_at, sessions_before_ts)
        )
        decisions = 0 if before_ts is None else self._purge(DECISIONS, DECISIONS.c.id, DECISIONS.c.ts, before_ts)
        return PurgeResult(events=events, sessions=sessions, decisions=decisions)

    def _purge(self, table: sa.Table, key: sa.Column, column: sa.Column, cutoff: float) -> int:
        """Delete rows with ``column < cutoff``, at most :data:`PURGE_BATCH` per write transaction."""
        removed = 0
        while True:
            with self._write() as conn:
                victims = sa.select(key).where(column < cutoff).limit(PURGE_BATCH)
                n = conn.execute(sa.delete(table).where(key.in_(victims))).rowcount
                if n:
                    bump_generation(conn)
            removed += n
            if n < PURGE_BATCH:
                return removed

    def data_generation(self) -> int:
        with self._read() as conn:
            return data_generation(conn)
