"""Database errors become StoreError for an outage and StoreRefusedError when the database refuses a value or a
statement (retrying will not help); the driver's text stays in the message for the logs."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from shopguide.data.schema import Event, EventType
from shopguide.errors import StoreError, StoreRefusedError
from shopguide.store import open_store


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/errors.db"


def test_a_value_the_database_cannot_hold_is_refused_not_an_outage(url: str) -> None:
    with open_store(url) as store:
        # built in code, past the edge: SQLite stores NaN as NULL, which the NOT NULL column refuses
        nan = Event(user="u1", item="i1", type=EventType.VIEW, ts=1.7e9, value=math.nan)
        with pytest.raises(StoreRefusedError) as err:
            store.add_events([nan])
        assert "NOT NULL constraint failed" in str(err.value)
        assert store.add_events([Event(user="u1", item="i1", type=EventType.VIEW, ts=1.7e9)]).accepted == 1


def test_a_database_that_cannot_run_the_statement_is_an_outage(url: str) -> None:
    with open_store(url) as store:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TRIGGER broken BEFORE INSERT ON events BEGIN INSERT INTO missing_table VALUES (1); END"
            )
        engine.dispose()
        with pytest.raises(StoreError) as err:
            store.add_events([Event(user="u1", item="i1", type=EventType.VIEW, ts=1.7e9)])
        assert not isinstance(err.value, StoreRefusedError)
        assert "missing_table" in str(err.value)


def test_a_closed_store_is_an_outage(url: str) -> None:
    store = open_store(url)
    store.close()
    with pytest.raises(StoreError) as err:
        store.count_events()
    assert not isinstance(err.value, StoreRefusedError)
