"""SqlStore: the Store protocol on SQLAlchemy Core, one class for SQLite and PostgreSQL.

Dialect differences are confined to the INSERT construct (``ON CONFLICT`` comes from the dialect's own
``insert``) and to engine setup in :mod:`shopguide.store.factory`. Writes are batched executemany
statements inside short transactions; reads page with keyset queries so no transaction stays open
while a caller consumes an iterator.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from itertools import islice
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.pool import StaticPool

from shopguide.data.dataset import DEFAULT_EVENT_WEIGHTS, EVENT_TYPES, Dataset
from shopguide.data.schema import Event, EventType, Item, User
from shopguide.data.vocab import Vocab
from shopguide.errors import ConfigError, DataError, NotFoundError, StoreError, StoreRefusedError
from shopguide.store.bandit_sql import BanditTables
from shopguide.store.base import TICKET_STATUSES, AddEventsResult, ImportResult, Store, Ticket
from shopguide.store.migrations import WRITE_OPTION, define_tables, migrate
from shopguide.store.privacy_sql import PrivacyTables
from shopguide.store.security_sql import SecurityTables
from shopguide.store.sqlite_reads import SqliteReader

logger = logging.getLogger(__name__)

T = TypeVar("T")
_TABLES = define_tables(sa.MetaData())
ITEMS, USERS, EVENTS, SESSIONS, TICKETS = (_TABLES[n] for n in ("items", "users", "events", "sessions", "tickets"))
_INSERTS: dict[str, Callable[[sa.Table], Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_TYPE_CODE: dict[str, int] = {t.value: i for i, t in enumerate(EVENT_TYPES)}
_EVENT_ORDER = (EVENTS.c.ts, EVENTS.c.seq)


def _recent_actions(*columns: sa.Column) -> tuple[sa.Select, str]:
    """The shopper's latest actions (impressions left out), newest first: as SQLAlchemy (``user``, ``limit``
    bind parameters) and as plain SQL for SqliteReader (``?`` placeholders: user, the impression type, limit)."""
    query = (
        sa.select(*columns)
        .where(EVENTS.c.user_id == sa.bindparam("user"), EVENTS.c.type != EventType.IMPRESSION.value)
        .order_by(EVENTS.c.ts.desc(), EVENTS.c.seq.desc())
        .limit(sa.bindparam("limit"))
    )
    plain = (
        f"SELECT {', '.join(c.name for c in columns)} FROM {EVENTS.name} "
        f"WHERE {EVENTS.c.user_id.name} = ? AND {EVENTS.c.type.name} != ? "
        f"ORDER BY {EVENTS.c.ts.name} DESC, {EVENTS.c.seq.name} DESC LIMIT ?"
    )
    return query, plain


#: Built once: the request path runs them on every recommendation (SQLAlchemy then reuses the compiled form).
_RECENT_ACTIONS, _RECENT_ACTIONS_SQLITE = _recent_actions(EVENTS.c.item_id, EVENTS.c.type)
_RECENT_ACTION_TIMES, _RECENT_ACTION_TIMES_SQLITE = _recent_actions(EVENTS.c.item_id, EVENTS.c.type, EVENTS.c.ts)
_LATEST_ACTION = sa.func.max(EVENTS.c.ts)
_ACTIVE_USERS = (
    sa.select(EVENTS.c.user_id)
    .where(EVENTS.c.type != EventType.IMPRESSION.value)
    .group_by(EVENTS.c.user_id)
    .order_by(_LATEST_ACTION.desc(), EVENTS.c.user_id)
    .limit(sa.bindparam("limit"))
)


def _dumps(value: Any) -> str:
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _ticket_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    transcript = row["transcript"]
    return {
        "id": row.get("id"), "created_at": row["created_at"], "updated_at": row["updated_at"],
        "session_id": row["session_id"], "user_id": row["user_id"], "reason": row["reason"],
        "sentiment": row["sentiment"], "order_id": row["order_id"], "summary": row["summary"] or "",
        "transcript": tuple(json.loads(transcript) if isinstance(transcript, str) else transcript),
        "status": row["status"],
    }  # fmt: skip


def _batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _item_row(item: Item, now: float) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "title_alt": item.title_alt,
        "description": item.description,
        "category": _dumps(item.category),
        "brand": item.brand,
        "price": item.price,
        "attributes": _dumps(item.attributes),
        "tags": _dumps(item.tags),
        "stock": item.stock,
        "created_at": item.created_at,
        "deleted": False,
        "updated_at": now,
    }


def _row_item(row: Row) -> Item:
    m = row._mapping
    return Item.model_validate(
        {
            "id": m["id"],
            "title": m["title"],
            "title_alt": m["title_alt"],
            "description": m["description"],
            "category": json.loads(m["category"]),
            "brand": m["brand"],
            "price": m["price"],
            "attributes": json.loads(m["attributes"]),
            "tags": json.loads(m["tags"]),
            "stock": m["stock"],
            "created_at": m["created_at"],
        }
    )


def _row_user(row: Row) -> User:
    return User(id=row.id, attributes=json.loads(row.attributes))


def _event_row(event: Event) -> dict[str, Any]:
    return {
        "key": event.key(),
        "user_id": event.user,
        "item_id": event.item,
        "type": event.type.value,
        "value": event.value,
        "ts": event.ts,
        "session": event.session,
        "context": _dumps(event.context),
    }


def _row_event(row: Row) -> Event:
    return Event(
        id=row.key,
        user=row.user_id,
        item=row.item_id,
        type=EventType(row.type),
        value=row.value,
        ts=row.ts,
        session=row.session,
        context=json.loads(row.context),
    )


@contextmanager
def _db_errors(action: str) -> Iterator[None]:
    """Database errors as StoreError (unreachable, busy, closed: an outage) or StoreRefusedError (the database
    refused the statement or a value: retrying will not help). The messages hold the driver's text for the
    logs; the service never shows them to a client."""
    try:
        yield
    except _OUTAGES as exc:
        cause = getattr(exc, "orig", None) or exc
        raise StoreError(f"store failed to {action}: {cause.__class__.__name__}: {cause}") from exc
    except (sa.exc.SQLAlchemyError, ValueError, OverflowError) as exc:  # drivers raise these for unstorable values
        cause = getattr(exc, "orig", None) or exc
        raise StoreRefusedError(f"the database refused to {action}: {cause.__class__.__name__}: {cause}") from exc


#: SQLAlchemy errors that mean the database cannot be reached or used right now (an outage).
_OUTAGES = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError, sa.exc.TimeoutError)


class SqlStore(SecurityTables, PrivacyTables, BanditTables, Store):
    """A Store on any SQLAlchemy engine whose dialect is SQLite or PostgreSQL.

    Opening migrates the schema (see :mod:`shopguide.store.migrations`). Use :func:`open_store` to
    build one from a URL with the right engine settings.
    """

    def __init__(
        self, engine: Engine, *, batch_size: int = 1000, page_size: int = 5000, reader: SqliteReader | None = None
    ) -> None:
        """``reader``: plain connections for the request path's recent-actions read (a SQLite file)."""
        if engine.dialect.name not in _INSERTS:
            raise ConfigError(f"unsupported database dialect {engine.dialect.name!r}; use sqlite or postgresql")
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._insert = _INSERTS[engine.dialect.name]
        self.local = engine.dialect.name == "sqlite"
        self._batch_size = batch_size
        self._page_size = page_size
        # One shared connection (in-memory SQLite) must not interleave transactions between threads.
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )
        self._closed = False
        self._reader = reader
        self.schema_version = migrate(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"

    # ---------------------------------------------------------------- plumbing
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._check_open()
        with self._lock, _db_errors("read"), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        self._check_open()
        with self._lock, _db_errors("write"), self._writer.begin() as conn:
            yield conn

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    def _paged(self, query: sa.Select, order: tuple[sa.ColumnElement, ...]) -> Iterator[Row]:
        """Run ``query`` in keyset pages ordered by the unique key ``order``, one short read per page."""
        after: tuple[Any, ...] | None = None
        while True:
            page = query.order_by(*order).limit(self._page_size)
            if after is not None:
                if len(order) == 1:
                    page = page.where(order[0] > after[0])
                else:
                    first, second = order
                    page = page.where(sa.or_(first > after[0], sa.and_(first == after[0], second > after[1])))
            with self._read() as conn:
                rows = conn.execute(page).all()
            yield from rows
            if len(rows) < self._page_size:
                return
            after = tuple(rows[-1]._mapping[col] for col in order)

    def _upsert(self, conn: Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
        ins = self._insert(table)
        stmt = ins.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={c.name: ins.excluded[c.name] for c in table.columns if c.name != "id"},
        )
        written = 0
        for batch in _batches(rows, self._batch_size):
            # One row per id per statement (PostgreSQL refuses to update a row twice); last one wins.
            conn.execute(stmt, list({row["id"]: row for row in batch}.values()))
            written += len(batch)
        return written

    def _add_events(self, conn: Connection, events: Iterable[Event]) -> AddEventsResult:
        stmt = self._insert(EVENTS).on_conflict_do_nothing(index_elements=[EVENTS.c.key]).returning(EVENTS.c.seq)
        accepted = total = 0
        for batch in _batches(map(_event_row, events), self._batch_size):
            accepted += len(conn.execute(stmt, batch).all())
            total += len(batch)
        return AddEventsResult(accepted=accepted, duplicate=total - accepted)

    # ---------------------------------------------------------------- items
    def upsert_items(self, items: Iterable[Item]) -> int:
        now = time.time()
        with self._write() as conn:
            return self._upsert(conn, ITEMS, (_item_row(it, now) for it in items))

    def get_item(self, item_id: str, *, include_deleted: bool = False) -> Item:
        found = self.get_items([item_id], include_deleted=include_deleted)
        if item_id not in found:
            raise NotFoundError(f"item {item_id!r} not found")
        return found[item_id]

    def get_items(self, item_ids: Iterable[str], *, include_deleted: bool = False) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for chunk in _batches(dict.fromkeys(item_ids), 500):
            query = sa.select(ITEMS).where(ITEMS.c.id.in_(chunk))
            if not include_deleted:
                query = query.where(ITEMS.c.deleted == sa.false())
            with self._read() as conn:
                found.update((row.id, _row_item(row)) for row in conn.execute(query))
        return found

    def iter_items(self, include_deleted: bool = False) -> Iterator[Item]:
        query = sa.select(ITEMS)
        if not include_deleted:
            query = query.where(ITEMS.c.deleted == sa.false())
        return map(_row_item, self._paged(query, (ITEMS.c.id,)))

    def delete_item(self, item_id: str) -> None:
        with self._write() as conn:
            stmt = sa.update(ITEMS).where(ITEMS.c.id == item_id).values(deleted=True, updated_at=time.time())
            if conn.execute(stmt).rowcount == 0:
                raise NotFoundError(f"item {item_id!r} not found")
        logger.info("soft-deleted item %s", item_id)

    def deleted_item_ids(self) -> set[str]:
        with self._read() as conn:
            return set(conn.execute(sa.select(ITEMS.c.id).where(ITEMS.c.deleted == sa.true())).scalars())

    # ---------------------------------------------------------------- users
    def upsert_users(self, users: Iterable[User]) -> int:
        now = time.time()
        rows = ({"id": u.id, "attributes": _dumps(u.attributes), "updated_at": now} for u in users)
        with self._write() as conn:
            return self._upsert(conn, USERS, rows)

    def get_user(self, user_id: str) -> User:
        with self._read() as conn:
            row = conn.execute(sa.select(USERS).where(USERS.c.id == user_id)).first()
        if row is None:
            raise NotFoundError(f"user {user_id!r} not found")
        return _row_user(row)

    def iter_users(self) -> Iterator[User]:
        return map(_row_user, self._paged(sa.select(USERS), (USERS.c.id,)))

    # ---------------------------------------------------------------- events
    def add_events(self, events: Iterable[Event]) -> AddEventsResult:
        with self._write() as conn:
            return self._add_events(conn, events)

    def iter_events(self, since_ts: float | None = None, user: str | None = None) -> Iterator[Event]:
        query = sa.select(EVENTS)
        if since_ts is not None:
            query = query.where(EVENTS.c.ts >= since_ts)
        if user is not None:
            query = query.where(EVENTS.c.user_id == user)
        return map(_row_event, self._paged(query, _EVENT_ORDER))

    def recent_events(self, user: str, limit: int = 20) -> list[Event]:
        if limit <= 0:
            return []
        query = (
            sa.select(EVENTS)
            .where(EVENTS.c.user_id == user)
            .order_by(EVENTS.c.ts.desc(), EVENTS.c.seq.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [_row_event(row) for row in conn.execute(query)]

    def recent_actions(self, user: str, limit: int = 20) -> list[tuple[str, str]]:
        if limit <= 0:
            return []
        if self._reader is not None:
            self._check_open()
            return self._reader.rows(_RECENT_ACTIONS_SQLITE, (user, EventType.IMPRESSION.value, limit))
        with self._read() as conn:
            return [(row[0], row[1]) for row in conn.execute(_RECENT_ACTIONS, {"user": user, "limit": limit})]

    def recent_action_times(self, user: str, limit: int = 20) -> list[tuple[str, str, float]]:
        if limit <= 0:
            return []
        if self._reader is not None:
            self._check_open()
            return self._reader.rows(_RECENT_ACTION_TIMES_SQLITE, (user, EventType.IMPRESSION.value, limit))
        with self._read() as conn:
            rows = conn.execute(_RECENT_ACTION_TIMES, {"user": user, "limit": limit})
            return [(row[0], row[1], float(row[2])) for row in rows]

    def active_users(self, limit: int = 1000) -> list[str]:
        if limit <= 0:
            return []
        with self._read() as conn:
            return list(conn.execute(_ACTIVE_USERS, {"limit": limit}).scalars())

    def count_events(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one())

    # ---------------------------------------------------------------- chat sessions
    def get_session(self, session_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            raw = conn.execute(sa.select(SESSIONS.c.state).where(SESSIONS.c.session_id == session_id)).scalar()
        return None if raw is None else json.loads(raw)

    def put_session(self, session_id: str, state: Mapping[str, Any]) -> None:
        if not session_id:
            raise DataError("a session id must not be empty", field="session_id")
        try:
            payload = json.dumps(dict(state), ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise DataError(f"session state is not JSON-serialisable: {exc}", field="state") from None
        ins = self._insert(SESSIONS)
        stmt = ins.values(session_id=session_id, state=payload, updated_at=time.time()).on_conflict_do_update(
            index_elements=[SESSIONS.c.session_id],
            set_={"state": ins.excluded.state, "updated_at": ins.excluded.updated_at},
        )
        with self._write() as conn:
            conn.execute(stmt)

    # ---------------------------------------------------------------- hand-off tickets
    def add_ticket(self, ticket: Ticket) -> Ticket:
        if not ticket.session_id or not ticket.reason:
            raise DataError(
                "a ticket needs a session id and a reason", field="session_id" if ticket.reason else "reason"
            )
        if ticket.status not in TICKET_STATUSES:
            raise DataError(f"ticket status must be one of {TICKET_STATUSES}", field="status")
        now = time.time()
        row = {
            "created_at": now, "updated_at": now, "session_id": ticket.session_id, "user_id": ticket.user_id,
            "reason": ticket.reason[:32], "sentiment": ticket.sentiment[:16], "order_id": ticket.order_id,
            "summary": ticket.summary, "transcript": _dumps(list(ticket.transcript)), "status": ticket.status,
        }  # fmt: skip
        with self._write() as conn:
            new_id = conn.execute(sa.insert(TICKETS).values(**row).returning(TICKETS.c.id)).scalar_one()
        return Ticket(**{**_ticket_fields(row), "id": int(new_id)})

    def tickets(self, status: str | None = None, limit: int = 100) -> list[Ticket]:
        query = sa.select(TICKETS).order_by(TICKETS.c.created_at.desc(), TICKETS.c.id.desc()).limit(max(limit, 0))
        if status is not None:
            query = query.where(TICKETS.c.status == status)
        with self._read() as conn:
            return [Ticket(**_ticket_fields(row._mapping)) for row in conn.execute(query)]

    def set_ticket_status(self, ticket_id: int, status: str) -> Ticket:
        if status not in TICKET_STATUSES:
            raise DataError(f"ticket status must be one of {TICKET_STATUSES}", field="status")
        with self._write() as conn:
            updated = conn.execute(
                sa.update(TICKETS).where(TICKETS.c.id == ticket_id).values(status=status, updated_at=time.time())
            )
            if updated.rowcount == 0:
                raise NotFoundError(f"no ticket with id {ticket_id}")
            row = conn.execute(sa.select(TICKETS).where(TICKETS.c.id == ticket_id)).one()
        return Ticket(**_ticket_fields(row._mapping))

    # ---------------------------------------------------------------- whole store
    def stats(self) -> dict[str, int]:
        counts = {"items": 0, "deleted_items": 0, "users": 0, "events": 0}
        counts.update({f"events_{t.value}": 0 for t in EVENT_TYPES})
        with self._read() as conn:
            for deleted, n in conn.execute(sa.select(ITEMS.c.deleted, sa.func.count()).group_by(ITEMS.c.deleted)):
                counts["deleted_items" if deleted else "items"] = int(n)
            counts["users"] = int(conn.execute(sa.select(sa.func.count()).select_from(USERS)).scalar_one())
            for etype, n in conn.execute(sa.select(EVENTS.c.type, sa.func.count()).group_by(EVENTS.c.type)):
                counts[f"events_{etype}"] = int(n)
                counts["events"] += int(n)
        return counts

    def import_batch(
        self,
        items: Iterable[Item] = (),
        users: Iterable[User] = (),
        events: Iterable[Event] = (),
    ) -> ImportResult:
        now = time.time()
        with self._write() as conn:
            n_items = self._upsert(conn, ITEMS, (_item_row(it, now) for it in items))
            user_rows = ({"id": u.id, "attributes": _dumps(u.attributes), "updated_at": now} for u in users)
            n_users = self._upsert(conn, USERS, user_rows)
            added = self._add_events(conn, events)
        result = ImportResult(items=n_items, users=n_users, events=added)
        logger.info("imported %s", result)
        return result

    def load_dataset(self, event_weights: Mapping[str, float] | None = None) -> Dataset:
        deleted = sa.select(ITEMS.c.id).where(ITEMS.c.deleted == sa.true())
        event_query = (
            sa.select(EVENTS.c.user_id, EVENTS.c.item_id, EVENTS.c.type, EVENTS.c.value, EVENTS.c.ts)
            .where(EVENTS.c.item_id.not_in(deleted))
            .order_by(*_EVENT_ORDER)
        )
        with self._read() as conn:  # one read transaction: a consistent snapshot
            items = [_row_item(r) for r in conn.execute(sa.select(ITEMS).where(ITEMS.c.deleted == sa.false()))]
            items.sort(key=lambda it: it.id)  # Python order: the same on every backend and collation
            users = sorted((_row_user(r) for r in conn.execute(sa.select(USERS))), key=lambda u: u.id)
            rows = conn.execute(event_query).all()
        user_vocab, item_vocab = Vocab(u.id for u in users), Vocab(it.id for it in items)
        n = len(rows)
        cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
        try:
            event_type = np.fromiter((_TYPE_CODE[t] for t in cols[2]), dtype=np.int8, count=n)
        except KeyError as exc:
            raise StoreError(f"the store holds an unknown event type {exc.args[0]!r}") from None
        dataset = Dataset(
            users=user_vocab,
            items=item_vocab,
            user_idx=np.fromiter(map(user_vocab.add, cols[0]), dtype=np.int32, count=n),
            item_idx=np.fromiter(map(item_vocab.add, cols[1]), dtype=np.int32, count=n),
            event_type=event_type,
            value=np.asarray(cols[3], dtype=np.float32),
            ts=np.asarray(cols[4], dtype=np.float64),
            item_meta=list(items),
            user_meta=list(users),
            event_weights=dict(event_weights or DEFAULT_EVENT_WEIGHTS),
            name="store",
        )
        logger.info("loaded %r", dataset)
        return dataset

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._reader is not None:
                self._reader.close()
            self._engine.dispose()
