"""open_store: pick and configure the storage backend from a URL.

- ``sqlite:///relative/or/absolute/path.db`` (``sqlite:////abs/path.db`` for an absolute path): an
  embedded file; parent directories are created. WAL journal, 5 s busy timeout, foreign keys on.
- ``sqlite://`` or ``sqlite:///:memory:``: a private in-memory database that lives until ``close()``
  (one shared connection through a StaticPool; meant for tests and one-off runs).
- ``postgresql://...``, ``postgresql+psycopg://...`` (or ``postgres://...``): PostgreSQL through
  psycopg 3, installed with the ``postgres`` extra. Write transactions take one advisory lock first,
  so writers queue (as on SQLite) instead of deadlocking on each other's uncommitted keys; reads never wait.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

from shopguide.errors import ConfigError, MissingDependencyError
from shopguide.store.base import Store
from shopguide.store.migrations import WRITE_OPTION
from shopguide.store.sql import SqlStore
from shopguide.store.sqlite_reads import SqliteReader

logger = logging.getLogger(__name__)

SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
SUPPORTED_SCHEMES = SQLITE_SCHEMES + POSTGRES_SCHEMES
BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 65536  # page cache per connection, allocated as used (SQLite's default is 2 MiB)
PG_WRITE_LOCK_KEY = 0x53484F57  # "SHOW": the advisory lock every PostgreSQL write transaction holds


def open_store(url: str) -> Store:
    """Open (creating and migrating when needed) the store at ``url``.

    Raises ConfigError for a malformed URL or an unsupported scheme, MissingDependencyError when the
    backend's driver is not installed, StoreError when the database cannot be opened or migrated.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            f"not a store URL: {url!r}; expected one of the schemes {', '.join(SUPPORTED_SCHEMES)}"
        ) from None
    scheme = parsed.drivername
    if scheme in SQLITE_SCHEMES:
        engine = sqlite_engine(parsed.database)
    elif scheme in POSTGRES_SCHEMES:
        engine = postgres_engine(parsed)
    else:
        raise ConfigError(f"unsupported store URL scheme {scheme!r}; supported: {', '.join(SUPPORTED_SCHEMES)}")
    try:
        store = SqlStore(engine, reader=sqlite_reader(engine))
    except BaseException:
        engine.dispose()
        raise
    logger.info("opened %r (schema version %d)", store, store.schema_version)
    return store


def sqlite_engine(database: str | None) -> Engine:
    """An engine for a SQLite file (or memory when ``database`` is empty or ``:memory:``)."""
    if database in (None, "", ":memory:"):
        engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            URL.create("sqlite", database=str(path)),
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
    sa.event.listen(engine, "connect", _sqlite_on_connect)
    sa.event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def sqlite_reader(engine: Engine) -> SqliteReader | None:
    """Plain per-thread connections for the hottest read, on a SQLite file (None for anything else)."""
    if engine.dialect.name != "sqlite" or isinstance(engine.pool, StaticPool) or not engine.url.database:
        return None
    return SqliteReader(engine.url.database, timeout=BUSY_TIMEOUT_MS / 1000, on_connect=_sqlite_on_connect)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself, so DDL (migrations) is transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database keeps 'memory'
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # random-key index inserts stay in memory
    finally:
        cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # Writers take the write lock up front (waiting up to busy_timeout); readers never block writers.
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def postgres_engine(url: URL) -> Engine:
    """An engine for PostgreSQL through psycopg 3 (imported lazily)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise MissingDependencyError("psycopg", "postgres") from None
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
    sa.event.listen(engine, "begin", _postgres_on_begin)
    return engine


def _postgres_on_begin(conn: sa.Connection) -> None:
    # Two imports that upsert overlapping ids in different orders would deadlock (each waits for a key
    # the other inserted); one writer at a time, held until commit or rollback, rules that out.
    if conn.get_execution_options().get(WRITE_OPTION, False):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})")
