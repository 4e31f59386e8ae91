"""Session: one DuckDB cursor on which the temporary view ``fe`` holds the filtered events.

Aggregates run their queries through a session (``with source.session(filters) as s: s.df(sql)``), so several
queries of one aggregate share the view and any temporary tables they create, and concurrent aggregates
(the service's worker threads) never share a cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from shopguide.analytics.filters import Filters


class Session:
    """A cursor with the view ``fe`` (``selection`` SQL); closing it drops the view and temporary tables."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, selection: str, filters: Filters) -> None:
        self.filters = filters
        self._cursor = cursor
        self._cursor.execute(f"CREATE TEMP VIEW fe AS {selection}").fetchall()

    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """The result as a DataFrame."""
        return self._cursor.execute(sql, list(params or [])).df()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """The result as tuples."""
        return self._cursor.execute(sql, list(params or [])).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first value of the first row (None for no row or NULL / NaN)."""
        rows = self.rows(sql, params)
        value = rows[0][0] if rows else None
        return None if value is None or (isinstance(value, float) and value != value) else value

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run a statement (DDL, temporary tables) and discard its result."""
        self._cursor.execute(sql, list(params or [])).fetchall()

    def close(self) -> None:
        self._cursor.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
