"""Schema versions and in-place migration of SQL stores.

The version lives in the ``schema_meta`` table (key ``version``); a database without that table is
version 0. :data:`MIGRATIONS` is the ordered list of steps; opening a store applies the missing ones in
one write transaction (SQLite and PostgreSQL both have transactional DDL), so a failed step leaves the
database as it was. A database newer than this code is refused with a StoreError rather than guessed at.

Why not Alembic: the default store is an embedded single file that users create by just running
shopguide, so migrations must run in-process on open, with no migration scripts directory, ini file or
extra tool to ship. A list of small functions does that in a few dozen lines; if schemas ever need
branching or autogeneration, Alembic can take over from the version recorded here.

To change the schema: append a step ``(n, description, function)`` that alters existing data and
tables (never edit an old step), and update :func:`define_tables` so queries see the new shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shopguide.errors import StoreError

logger = logging.getLogger(__name__)

Step = tuple[int, str, Callable[[Connection], None]]

#: Ids compare and sort by code point on every backend: SQLite's BINARY collation, and "C" on PostgreSQL
#: (a database's default, often en_US or ICU, would order ids differently from SQLite and from Python).
ID = sa.String(128).with_variant(sa.String(128, collation="C"), "postgresql")
#: Execution option marking write transactions; the SQLite engine starts them with BEGIN IMMEDIATE so
#: concurrent writers wait (busy_timeout) instead of failing on a read-to-write lock upgrade, and the
#: PostgreSQL engine with an advisory lock so concurrent writers queue instead of deadlocking.
WRITE_OPTION = "shopguide_write"
_PG_LOCK_KEY = 0x53484F50  # "SHOP": serialises concurrent migrations on PostgreSQL


def define_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The current schema (what queries use). JSON fields are JSON text columns.

    ``sa.Float`` is an 8-byte float on both backends (SQLite REAL; PostgreSQL ``FLOAT`` is ``double
    precision``), so epoch timestamps keep microseconds.
    """
    schema_meta = sa.Table(
        "schema_meta",
        metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    items = sa.Table(
        "items",
        metadata,
        sa.Column("id", ID, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_alt", sa.Text),
        sa.Column("description", sa.Text, nullable=False, default=""),
        sa.Column("category", sa.Text, nullable=False, default="[]"),  # JSON list, most general first
        sa.Column("brand", sa.Text),
        sa.Column("price", sa.Float),
        sa.Column("attributes", sa.Text, nullable=False, default="{}"),  # JSON object
        sa.Column("tags", sa.Text, nullable=False, default="[]"),  # JSON list
        sa.Column("stock", sa.Integer),
        sa.Column("created_at", sa.Float),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.CheckConstraint("price IS NULL OR price >= 0", name="ck_items_price"),
        sa.CheckConstraint("length(id) > 0", name="ck_items_id"),
    )
    users = sa.Table(
        "users",
        metadata,
        sa.Column("id", ID, primary_key=True),
        sa.Column("attributes", sa.Text, nullable=False, default="{}"),  # JSON object
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.CheckConstraint("length(id) > 0", name="ck_users_id"),
    )
    events = sa.Table(
        "events",
        metadata,
        # seq is the insertion order (SQLite: the rowid), the tie-breaker after ts.
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("key", ID, nullable=False, unique=True),  # Event.key(): the idempotency key
        sa.Column("user_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),  # no foreign key: events may name items not in the catalog
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("session", sa.Text),
        sa.Column("context", sa.Text, nullable=False, default="{}"),  # JSON object
        sa.Index("ix_events_user_ts", "user_id", "ts"),
        sa.Index("ix_events_item", "item_id"),
        sa.Index("ix_events_ts", "ts"),
    )
    sessions = sa.Table(  # version 2: the conversational guide's dialogue state, one row per chat session
        "sessions",
        metadata,
        sa.Column("session_id", ID, primary_key=True),
        sa.Column("state", sa.Text, nullable=False, default="{}"),  # JSON object
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.CheckConstraint("length(session_id) > 0", name="ck_sessions_id"),
        sa.Index("ix_sessions_updated", "updated_at"),
    )
    tickets = sa.Table(  # version 3: hand-off tickets the guide records for a person to pick up
        "tickets",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("user_id", ID),
        sa.Column("reason", sa.String(32), nullable=False),  # defect, missing_parts, refund, complaint, human ...
        sa.Column("sentiment", sa.String(16), nullable=False, default="neutral"),
        sa.Column("order_id", sa.String(64)),
        sa.Column("summary", sa.Text, nullable=False, default=""),
        sa.Column("transcript", sa.Text, nullable=False, default="[]"),  # JSON list of {role, text}, scrubbed
        sa.Column("status", sa.String(16), nullable=False, default="open"),
        sa.Index("ix_tickets_status_created", "status", "created_at"),
        sa.Index("ix_tickets_session", "session_id"),
    )
    api_keys = sa.Table(  # version 4: API keys, stored as an HMAC of the key (never the key itself)
        "api_keys",
        metadata,
        sa.Column("key_id", sa.String(32), primary_key=True),  # the public part of the key, printed in lists
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),  # JSON list of scope names
        sa.Column("hash", sa.String(64), nullable=False),  # hex HMAC-SHA256(server secret, whole key)
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),  # None: never
        sa.Column("last_used_at", sa.Float),
        sa.Column("revoked_at", sa.Float),
        sa.Column("rate_limit", sa.Float),  # requests per second; None: the configured default, 0: unlimited
    )
    audit_log = sa.Table(  # version 4: who did what, when, from where (admin and catalog actions)
        "audit_log",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("actor", sa.String(160), nullable=False),  # key id and name, or "cli:<user>"
        sa.Column("action", sa.String(160), nullable=False),  # e.g. "POST /v1/admin/train"
        sa.Column("target", sa.Text, nullable=False, default=""),
        sa.Column("client", sa.String(64), nullable=False, default=""),  # client address
        sa.Column("outcome", sa.String(32), nullable=False),  # allowed, denied, unauthenticated, rate_limited
        sa.Index("ix_audit_ts", "ts"),
    )
    bandit_policies = sa.Table(  # version 5: the learning loop's policies, one row per decision point
        "bandit_policies",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),  # the decision point, e.g. "feed:home"
        sa.Column("version", sa.BigInteger, nullable=False),  # grows with every write (compare-and-set)
        sa.Column("enabled", sa.Boolean, nullable=False, default=False),
        sa.Column("config", sa.Text, nullable=False),  # JSON: arms, policy kind, parameters
        sa.Column("state", sa.Text),  # JSON: the policy's learned state (None: fresh)
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    bandit_decisions = sa.Table(  # version 5: every served decision, open until its reward window closes
        "bandit_decisions",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),  # the request id the client sends back
        sa.Column("point", sa.String(64), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("user_id", ID),
        sa.Column("session_id", ID),
        sa.Column("arm", sa.String(64), nullable=False),
        sa.Column("propensity", sa.Float, nullable=False),
        sa.Column("policy", sa.String(32), nullable=False),  # the policy kind, or "fixed" (an experiment's arm)
        sa.Column("policy_version", sa.BigInteger, nullable=False),
        sa.Column("experiment", sa.String(64)),
        sa.Column("variant", sa.String(64)),
        sa.Column("context", sa.Text, nullable=False, default="{}"),  # JSON: the raw decision context
        sa.Column("items", sa.Text, nullable=False, default="[]"),  # JSON list of the item ids shown
        sa.Column("reward", sa.Float),
        sa.Column("outcome", sa.Text),  # JSON: counts per event type and purchase value
        sa.Column("closed_at", sa.Float),
        sa.Index("ix_decisions_open", "closed_at", "ts"),
        sa.Index("ix_decisions_point_ts", "point", "ts"),
        sa.Index("ix_decisions_user", "user_id"),
    )
    experiments = sa.Table(  # version 5: A/B experiments on decision points
        "experiments",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("point", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),  # JSON: variants, weights, salt, enabled
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    return {
        t.name: t
        for t in (
            schema_meta, items, users, events, sessions, tickets, api_keys, audit_log,
            bandit_policies, bandit_decisions, experiments,
        )
    }  # fmt: skip


_V1_TABLES = ("schema_meta", "items", "users", "events")


def _v1_create_tables(conn: Connection) -> None:
    # Version 1 is the first shape of define_tables: exactly its four tables; later steps add the rest.
    metadata = sa.MetaData()
    tables = define_tables(metadata)
    metadata.create_all(conn, tables=[tables[name] for name in _V1_TABLES])


def _v2_create_sessions(conn: Connection) -> None:
    define_tables(sa.MetaData())["sessions"].create(conn)


def _v3_create_tickets(conn: Connection) -> None:
    define_tables(sa.MetaData())["tickets"].create(conn)


def _v4_create_security(conn: Connection) -> None:
    tables = define_tables(sa.MetaData())
    tables["api_keys"].create(conn)
    tables["audit_log"].create(conn)


def _v5_create_learning_loop(conn: Connection) -> None:
    tables = define_tables(sa.MetaData())
    for name in ("bandit_policies", "bandit_decisions", "experiments"):
        tables[name].create(conn)


#: Ordered migration steps: (version reached, description, function run inside the transaction).
MIGRATIONS: list[Step] = [
    (1, "create schema_meta, items, users and events", _v1_create_tables),
    (2, "create sessions (dialogue state of the guide)", _v2_create_sessions),
    (3, "create tickets (the guide's hand-offs to a person)", _v3_create_tickets),
    (4, "create api_keys and audit_log (access control)", _v4_create_security),
    (5, "create bandit_policies, bandit_decisions and experiments (the learning loop)", _v5_create_learning_loop),
]

LATEST_VERSION: int = MIGRATIONS[-1][0]

_META = sa.MetaData()
_SCHEMA_META = define_tables(_META)["schema_meta"]


def current_version(conn: Connection) -> int:
    """The schema version recorded in the database (0 when it has no ``schema_meta`` table)."""
    if not sa.inspect(conn).has_table("schema_meta"):
        return 0
    value = conn.execute(sa.select(_SCHEMA_META.c.value).where(_SCHEMA_META.c.key == "version")).scalar()
    try:
        return int(value) if value is not None else 0
    except ValueError as exc:
        raise StoreError(f"schema_meta holds an invalid version {value!r}") from exc


def set_version(conn: Connection, version: int) -> None:
    """Record ``version`` in ``schema_meta`` (inside the caller's transaction)."""
    updated = conn.execute(sa.update(_SCHEMA_META).where(_SCHEMA_META.c.key == "version").values(value=str(version)))
    if updated.rowcount == 0:
        conn.execute(sa.insert(_SCHEMA_META).values(key="version", value=str(version)))


def migrate(engine: Engine, steps: Sequence[Step] = MIGRATIONS) -> int:
    """Bring the database to the latest version of ``steps`` in one transaction; return that version.

    Raises StoreError when the database is newer than ``steps`` know, or when a step fails (nothing
    is applied then).
    """
    latest = steps[-1][0] if steps else 0
    try:
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            version = current_version(conn)
            if version > latest:
                raise StoreError(
                    f"the store's schema is version {version}, newer than this shopguide knows "
                    f"(up to {latest}); upgrade shopguide or open another store"
                )
            for number, description, step in steps:
                if number > version:
                    logger.info("migrating store schema to version %d: %s", number, description)
                    step(conn)
                    set_version(conn, number)
                    version = number
            return version
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"could not open or migrate the store: {exc}") from exc
