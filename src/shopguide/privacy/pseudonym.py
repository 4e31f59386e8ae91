"""Pseudonymous shopper ids for everything that leaves the store (analytics exports, reports, dashboards).

``pseudonymize(user_id, secret)`` is ``"u_"`` + the first 20 hex characters (80 bits) of
``HMAC-SHA256(secret, user_id)``. The same shopper gets the same pseudonym in every export made with the same
secret, so analyses can still group, count and follow shoppers over time; without the secret nobody can
compute a shopper's pseudonym from their id or test a guess, and the pseudonym cannot be inverted. 80 bits
keep collisions negligible (for ten million shoppers the chance that any two share a pseudonym is about
4e-11).

The secret is the server secret (:func:`shopguide.security.secret.server_secret`: ``SHOPGUIDE_SECRET`` or
``<home>/secret.key``). **Rotation**: a new secret changes every pseudonym. Exports and reports made before
the rotation can then no longer be linked to those made after it (nor to the store), which is the point of
rotating after a leak of an export, and the cost: a shopper's history across the rotation appears as two
shoppers. The analytics export notices the change (its manifest records which secret it was made with, as
:func:`key_id`) and rebuilds its copy with the new pseudonyms.

Pseudonymous data is still personal data (whoever holds the secret and the store can link it back); the
shopper's erasure (:mod:`shopguide.privacy.erasure`) therefore also deletes the analytics copy.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "u_"
HEX_CHARS = 20


def pseudonymize(user_id: str, secret: bytes) -> str:
    """The shopper's pseudonym under ``secret``: ``"u_"`` + 20 hex characters of HMAC-SHA256."""
    digest = hmac.new(secret, user_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_CHARS]


def key_id(secret: bytes) -> str:
    """A short public name of ``secret`` (which secret an export was made with), revealing nothing of it."""
    return hmac.new(secret, b"shopguide pseudonym key id", hashlib.sha256).hexdigest()[:12]


class Pseudonymizer:
    """``pseudonymize`` with a memo: an export maps each shopper's many events to one pseudonym, and an HMAC
    per event would cost more than the rest of the export. The memo is cleared beyond ``max_entries``."""

    def __init__(self, secret: bytes, *, max_entries: int = 1_000_000) -> None:
        self.key_id = key_id(secret)
        self._secret = secret
        self._memo: dict[str, str] = {}
        self._max_entries = max_entries

    def __call__(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        found = self._memo.get(user_id)
        if found is None:
            if len(self._memo) >= self._max_entries:
                self._memo.clear()
            found = self._memo[user_id] = pseudonymize(user_id, self._secret)
        return found
