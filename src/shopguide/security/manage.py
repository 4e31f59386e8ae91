"""Key management for the CLI (and anything else that holds the store): create, list, revoke, rotate, and
the first admin key of a fresh home. Each change is written to the audit log."""

from __future__ import annotations

import time
from typing import Any

from shopguide.errors import NotFoundError
from shopguide.security.audit import AuditEntry, cli_actor
from shopguide.security.keys import ApiKey, new_key, rotated
from shopguide.security.secret import server_secret

LOCAL_ADMIN = "local-admin"


def _audit(store: Any, action: str, target: str, actor: str | None) -> None:
    store.add_audit([AuditEntry(time.time(), actor or cli_actor(), action, target, "local", "allowed")])


def create_key(
    store: Any,
    settings: Any,
    name: str,
    scopes: list[str],
    *,
    expires_in_days: float | None = None,
    rate_limit: float | None = None,
    actor: str | None = None,
) -> tuple[str, ApiKey]:
    """A new key (shown once: only its hash is stored) and its record."""
    key, record = new_key(server_secret(settings), name, scopes, expires_in_days=expires_in_days, rate_limit=rate_limit)
    store.add_api_key(record)
    _audit(store, "keys create", f"{record.key_id} {record.name} [{','.join(record.scopes)}]", actor)
    return key, record


def revoke_key(store: Any, key_id: str, *, actor: str | None = None) -> ApiKey:
    """Revoke a key (the service stops accepting it within a few seconds, see security/auth.py)."""
    record = store.revoke_api_key(key_id, time.time())
    _audit(store, "keys revoke", key_id, actor)
    return record


def rotate_key(store: Any, settings: Any, key_id: str, *, actor: str | None = None) -> tuple[str, ApiKey]:
    """A new key with the old one's name, scopes, lifetime and rate limit; the old one is revoked."""
    old = store.get_api_key(key_id)
    if old is None:
        raise NotFoundError(f"no API key {key_id!r}")
    key, record = rotated(server_secret(settings), old)
    store.add_api_key(record)
    store.revoke_api_key(key_id, time.time())
    _audit(store, "keys rotate", f"{key_id} -> {record.key_id}", actor)
    return key, record


def ensure_local_admin(store: Any, settings: Any) -> str | None:
    """On a home without any usable admin key (and none configured), create one named ``local-admin`` and
    return it (the caller prints it once); otherwise None."""
    if settings.admin_key is not None or settings.insecure_dev:
        return None
    now = time.time()
    if any(k.allows("admin") and k.status(now) == "active" for k in store.api_keys()):
        return None
    key, _ = create_key(store, settings, LOCAL_ADMIN, ["admin"], actor="shopguide serve")
    return key
