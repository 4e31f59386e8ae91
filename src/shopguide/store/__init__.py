"""Storage behind one protocol, chosen by URL: ``open_store("sqlite:///var/shopguide.db")``.

``Store`` (base) is the interface; ``SqlStore`` (sql) implements it on SQLAlchemy Core for SQLite and
PostgreSQL; ``migrations`` versions the schema; ``factory.open_store`` builds a configured store.
"""

from __future__ import annotations

from shopguide.store.base import AddEventsResult, ImportResult, Store
from shopguide.store.factory import SUPPORTED_SCHEMES, open_store
from shopguide.store.migrations import LATEST_VERSION
from shopguide.store.sql import SqlStore

__all__ = [
    "LATEST_VERSION",
    "SUPPORTED_SCHEMES",
    "AddEventsResult",
    "ImportResult",
    "SqlStore",
    "Store",
    "open_store",
]
