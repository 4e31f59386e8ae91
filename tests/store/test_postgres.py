"""The store contract on a real PostgreSQL server, plus what only PostgreSQL has.

Point ``SHOPGUIDE_TEST_POSTGRES_URL`` at a test database (``.ci/run`` starts a throwaway server and sets
it). Without it these tests are skipped, except under ``CI=true``, where they fail: CI must never skip
PostgreSQL silently. Each test gets its own empty schema (the URL's ``search_path``), dropped afterwards,
so nothing else in that database is touched.
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from contract import StoreContract, event, item
from sqlalchemy.engine import Engine, make_url

from shopguide.data.schema import User
from shopguide.errors import StoreError
from shopguide.store import LATEST_VERSION, SqlStore, Store, open_store

URL_ENV = "SHOPGUIDE_TEST_POSTGRES_URL"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test server's URL; skips (fails under CI) when it is not configured."""
    url = os.environ.get(URL_ENV, "")
    if not url:
        if _in_ci():
            pytest.fail(f"{URL_ENV} is not set but CI is: CI must run the PostgreSQL store tests (use .ci/run)")
        pytest.skip(f"{URL_ENV} is not set (run .ci/run, or point it at a throwaway PostgreSQL database)")
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")
    return url


@pytest.fixture(scope="session")
def pg_admin(pg_url: str) -> Iterator[Engine]:
    """A plain engine on the test database, for creating and dropping the per-test schemas."""
    engine = sa.create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"cannot connect to the server in {URL_ENV}: {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_schema(pg_admin: Engine) -> Iterator[str]:
    name = f"shopguide_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    yield name
    with pg_admin.begin() as conn:
        conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))  # a leaked transaction fails loudly
        conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))


@pytest.fixture
def store_url(pg_url: str, pg_schema: str) -> str:
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={pg_schema}"})
    return url.render_as_string(hide_password=False)


class TestPostgres(StoreContract):
    local = False  # reads go over a socket: the service reads in worker threads


# ---------------------------------------------------------------- only PostgreSQL


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as store:
        yield store


def test_schema_types_and_indexes(store: SqlStore) -> None:
    inspector = sa.inspect(store.engine)
    types = {
        (table, col["name"]): str(col["type"])
        for table in ("items", "users", "events")
        for col in inspector.get_columns(table)
    }
    for column in ("items.price", "items.created_at", "items.updated_at", "events.value", "events.ts"):
        assert types[tuple(column.split("."))] == "DOUBLE PRECISION", column
    assert types["events", "seq"] == "BIGINT" and types["items", "deleted"] == "BOOLEAN"
    indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("events")}
    assert indexes["ix_events_user_ts"] == ["user_id", "ts"]


def test_ids_are_ordered_by_code_point_like_sqlite(store: SqlStore) -> None:
    # A linguistic collation (en_US, ICU) would sort these as "a", "A-1", "a_b", "a-2", ... instead.
    ids = ["B", "a", "a-2", "a1", "a_b", "A-1", "Z9", "_x", "é", "ä", "中", "a.b", "aB", "ab"]
    shuffled = random.Random(3).sample(ids, len(ids))
    store.upsert_items(item(i) for i in shuffled)
    store.upsert_users(User(id=i) for i in shuffled)
    small_pages = SqlStore(store.engine, page_size=3)  # keyset paging must agree with the ordering
    assert [it.id for it in small_pages.iter_items()] == sorted(ids)
    assert [u.id for u in small_pages.iter_users()] == sorted(ids)
    assert [it.id for it in store.iter_items()] == sorted(ids)


def test_timestamps_keep_microseconds(store: Store) -> None:
    ts = [1_700_000_000.123456, 1_700_000_000.123457, 4_102_444_800.000001]
    store.add_events(event("u1", f"i{n}", t) for n, t in enumerate(ts))
    store.upsert_items([item("a", price=12345.67, created_at=ts[0])])
    assert [e.ts for e in store.iter_events()] == ts
    assert [e.item for e in store.iter_events(since_ts=ts[1])] == ["i1", "i2"]
    assert store.get_item("a").created_at == ts[0] and store.get_item("a").price == 12345.67


def test_text_postgres_cannot_store_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        store.upsert_items([item("a", title="bad\x00title")])
    assert store.stats()["items"] == 0


def test_concurrent_first_opens_migrate_once(store_url: str) -> None:
    versions: list[int] = []
    errors: list[BaseException] = []

    def open_once() -> None:
        try:
            with open_store(store_url) as s:
                versions.append(s.schema_version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_once) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and versions == [LATEST_VERSION] * 4


def test_concurrent_overlapping_writers_all_succeed(store_url: str) -> None:
    open_store(store_url).close()
    errors: list[BaseException] = []
    shared = [item(f"s{n}") for n in range(300)]
    shared_events = [event("u0", f"s{n}", float(n)) for n in range(300)]

    def write(worker: int) -> None:
        rng = random.Random(worker)
        try:
            with open_store(store_url) as s:
                for n in range(10):
                    s.import_batch(
                        items=[*rng.sample(shared, 50), item(f"w{worker}-{n}")],
                        events=[*rng.sample(shared_events, 50), event(f"u{worker}", "a", float(n))],
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(store_url) as s:
        unique_shared = {e.key() for e in shared_events} & {e.key() for e in s.iter_events()}
        assert s.count_events() == 40 + len(unique_shared)
        assert s.stats()["items"] == 40 + len({it.id for it in s.iter_items()} & {it.id for it in shared})


def test_bad_password_is_a_store_error_without_the_password(store_url: str) -> None:
    url = make_url(store_url).set(password="not-the-Secret-123")
    try:
        open_store(url.render_as_string(hide_password=False)).close()
    except StoreError as err:
        assert "not-the-Secret-123" not in str(err)
    else:
        pytest.skip("this server does not check passwords on TCP connections")
