"""The access-control tables of :class:`~shopguide.store.sql.SqlStore`: API keys and the audit log.

A mixin so that the store's one class keeps one concept per module; it uses the store's ``_read`` /
``_write`` transactions like every other table.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from shopguide.errors import NotFoundError
from shopguide.security.audit import AuditEntry
from shopguide.security.keys import ApiKey
from shopguide.store.migrations import define_tables

_TABLES = define_tables(sa.MetaData())
API_KEYS, AUDIT_LOG = _TABLES["api_keys"], _TABLES["audit_log"]
_KEY_FIELDS = ("name", "hash", "created_at", "expires_at", "last_used_at", "revoked_at", "rate_limit")


def _row_key(row: Row) -> ApiKey:
    m = row._mapping
    return ApiKey(key_id=m["key_id"], scopes=tuple(json.loads(m["scopes"])), **{f: m[f] for f in _KEY_FIELDS})


def _row_audit(row: Row) -> AuditEntry:
    m = row._mapping
    return AuditEntry(**{c.name: m[c.name] for c in AUDIT_LOG.columns})


class SecurityTables:
    """API keys (create, read, list, revoke, touch) and the audit log (append, list) of a SQL store."""

    _read: Any  # provided by SqlStore
    _write: Any

    def add_api_key(self, key: ApiKey) -> None:
        """Store a new key record."""
        row = {"key_id": key.key_id, "scopes": json.dumps(list(key.scopes))} | {f: getattr(key, f) for f in _KEY_FIELDS}
        with self._write() as conn:
            conn.execute(sa.insert(API_KEYS).values(**row))

    def get_api_key(self, key_id: str) -> ApiKey | None:
        """The key with this id (revoked and expired ones too), or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(API_KEYS).where(API_KEYS.c.key_id == key_id)).first()
        return _row_key(row) if row is not None else None

    def api_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(API_KEYS).order_by(API_KEYS.c.created_at, API_KEYS.c.key_id)).all()
        return [_row_key(r) for r in rows]

    def revoke_api_key(self, key_id: str, at: float) -> ApiKey:
        """Revoke a key (revoking twice keeps the first time); NotFoundError for an unknown id."""
        with self._write() as conn:
            self._must_exist(conn, key_id)
            conn.execute(
                sa.update(API_KEYS)
                .where(API_KEYS.c.key_id == key_id, API_KEYS.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return _row_key(conn.execute(sa.select(API_KEYS).where(API_KEYS.c.key_id == key_id)).one())

    def touch_api_keys(self, last_used: dict[str, float]) -> None:
        """Record when keys were last used (one short transaction for many keys; never moves a time back)."""
        if not last_used:
            return
        with self._write() as conn:
            for key_id, ts in last_used.items():
                conn.execute(
                    sa.update(API_KEYS)
                    .where(API_KEYS.c.key_id == key_id)
                    .where(sa.or_(API_KEYS.c.last_used_at.is_(None), API_KEYS.c.last_used_at < ts))
                    .values(last_used_at=ts)
                )

    def add_audit(self, entries: list[AuditEntry]) -> None:
        """Append audit entries (their ``id`` is ignored)."""
        if not entries:
            return
        rows = [{c.name: getattr(e, c.name) for c in AUDIT_LOG.columns if c.name != "id"} for e in entries]
        with self._write() as conn:
            conn.execute(sa.insert(AUDIT_LOG), rows)

    def audit_entries(self, limit: int = 100, since_ts: float | None = None) -> list[AuditEntry]:
        """The newest ``limit`` audit entries (at or after ``since_ts``), newest first."""
        query = sa.select(AUDIT_LOG).order_by(AUDIT_LOG.c.ts.desc(), AUDIT_LOG.c.id.desc()).limit(limit)
        if since_ts is not None:
            query = query.where(AUDIT_LOG.c.ts >= since_ts)
        with self._read() as conn:
            return [_row_audit(r) for r in conn.execute(query).all()]

    @staticmethod
    def _must_exist(conn: Connection, key_id: str) -> None:
        if conn.execute(sa.select(API_KEYS.c.key_id).where(API_KEYS.c.key_id == key_id)).first() is None:
            raise NotFoundError(f"no API key {key_id!r}")


__all__ = ["SecurityTables"]
