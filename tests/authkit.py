"""The tests' admin key: apps under test are configured with it (``SHOPGUIDE_ADMIN_KEY``) and test clients
send it, so that every route is reachable; tests of access control use their own keys."""

from __future__ import annotations

ADMIN_KEY = "test-admin-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
