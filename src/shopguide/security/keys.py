"""API keys: what a key is, how it is made, stored and checked.

A key reads ``sg_<key id>_<secret>``: the key id (12 hex characters) is public and names the key in lists
and the audit log; the secret part is 32 random bytes (URL-safe base64). The store keeps only
``HMAC-SHA256(server secret, whole key)``: a stolen database reveals no usable key, and without the server
secret (``security/secret.py``) no hash can be checked offline. Keys carry scopes:

========  ==============================================================================
read      recommendations, search, items, bundles, chat, the storefront's helpers
ingest    POST /v1/events
catalog   upsert and delete items
admin     everything: train, activate, jobs, analytics, dashboard, metrics, tickets, keys, user export
          and erasure
========  ==============================================================================

Keys may expire (``expires_at``) and are revoked, never deleted, so the audit log keeps naming them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from shopguide.errors import ConfigError

Scope = Literal["read", "ingest", "catalog", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "ingest", "catalog", "admin")
#: ``admin`` implies every other scope.
IMPLIED: dict[str, frozenset[str]] = {"admin": frozenset(SCOPES)}
PREFIX = "sg"
_KEY = re.compile(rf"{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})")


@dataclass(frozen=True)
class ApiKey:
    """A stored key (without its secret)."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    hash: str
    created_at: float
    expires_at: float | None = None
    last_used_at: float | None = None
    revoked_at: float | None = None
    rate_limit: float | None = None

    def allows(self, scope: str) -> bool:
        """Whether this key may use ``scope`` (``admin`` allows everything)."""
        return any(scope == s or scope in IMPLIED.get(s, ()) for s in self.scopes)

    def status(self, now: float | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        now = time.time() if now is None else now
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The scopes, validated and de-duplicated in a fixed order; ConfigError naming an unknown one."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ConfigError(f"unknown scope {unknown[0]!r}; choose from: {', '.join(SCOPES)}" if unknown else "no scope")
    return tuple(s for s in SCOPES if s in scopes)


def key_hash(secret: bytes, key: str) -> str:
    """The stored form of ``key``."""
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def parse_key_id(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def new_key(
    secret: bytes,
    name: str,
    scopes: list[str] | tuple[str, ...],
    *,
    expires_in_days: float | None = None,
    rate_limit: float | None = None,
    now: float | None = None,
) -> tuple[str, ApiKey]:
    """A fresh key: ``(the key, to show once; its stored record)``."""
    if not name.strip() or len(name) > 128:
        raise ConfigError("a key needs a name of 1-128 characters")
    if expires_in_days is not None and expires_in_days <= 0:
        raise ConfigError("expires_in_days must be positive")
    if rate_limit is not None and rate_limit < 0:
        raise ConfigError("rate_limit must be >= 0 (0: unlimited)")
    now = time.time() if now is None else now
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKey(
        key_id=key_id,
        name=name.strip(),
        scopes=check_scopes(scopes),
        hash=key_hash(secret, key),
        created_at=now,
        expires_at=now + expires_in_days * 86400 if expires_in_days else None,
        rate_limit=rate_limit,
    )
    return key, record


def rotated(secret: bytes, old: ApiKey, *, now: float | None = None) -> tuple[str, ApiKey]:
    """A new key with ``old``'s name, scopes, rate limit and remaining lifetime policy (the caller revokes
    ``old``)."""
    now = time.time() if now is None else now
    days = (old.expires_at - old.created_at) / 86400 if old.expires_at is not None else None
    return new_key(secret, old.name, old.scopes, expires_in_days=days, rate_limit=old.rate_limit, now=now)


def matches(secret: bytes, key: str, record: ApiKey) -> bool:
    """Whether ``key`` is the key ``record`` was made from (constant-time comparison)."""
    return hmac.compare_digest(key_hash(secret, key), record.hash)
