"""The store contract on SQLite (file and memory), plus what only SQLite files have."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from contract import StoreContract, event, item

from shopguide.errors import StoreError
from shopguide.store import LATEST_VERSION, open_store


class TestSqliteFile(StoreContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/nested/dir/shop.db"


class TestSqliteMemory(StoreContract):
    persistent = False

    @pytest.fixture
    def store_url(self) -> str:
        return "sqlite:///:memory:"


def test_file_settings(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "shop.db"
    with open_store(f"sqlite:///{path}") as store, store.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
        assert pragma == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}
        indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(conn).get_indexes("events")}
    assert path.exists()
    assert indexes == {
        "ix_events_user_ts": ["user_id", "ts"],
        "ix_events_item": ["item_id"],
        "ix_events_ts": ["ts"],
    }


def test_opens_empty_and_foreign_v0_files(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()  # a 0-byte file is an empty SQLite database: version 0
    legacy = tmp_path / "legacy.db"
    with sqlite3.connect(legacy) as raw:
        raw.execute("CREATE TABLE notes (x TEXT)")
        raw.execute("INSERT INTO notes VALUES ('kept')")
    for path in (tmp_path / "empty.db", legacy):
        with open_store(f"sqlite:///{path}") as store:
            assert store.schema_version == LATEST_VERSION and store.stats()["items"] == 0
    with sqlite3.connect(legacy) as raw:
        assert raw.execute("SELECT x FROM notes").fetchall() == [("kept",)]
        assert raw.execute("SELECT value FROM schema_meta WHERE key = 'version'").fetchone() == (str(LATEST_VERSION),)


def test_future_version_written_by_another_tool_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE schema_meta SET value = '99' WHERE key = 'version'")
    with pytest.raises(StoreError, match="version 99, newer than this shopguide knows"):
        open_store(f"sqlite:///{path}")


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a database"):
        open_store(f"sqlite:///{path}")


def test_readers_do_not_wait_for_an_open_write(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    with open_store(f"sqlite:///{path}") as store:
        store.add_events([event("u1", "a", 1.0)])
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO items (id, title, description, category, attributes, tags, deleted, updated_at)"
            " VALUES ('w', 'w', '', '[]', '{}', '[]', 0, 0)"
        )
        assert store.count_events() == 1 and store.stats()["items"] == 0  # reads the last committed state
        writer.execute("COMMIT")
        writer.close()
        assert store.get_item("w").title == "w"


def test_concurrent_writers_on_one_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/busy.db"
    open_store(url).close()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            with open_store(url) as store:
                for n in range(20):
                    store.import_batch(items=[item(f"w{worker}-{n}")], events=[event(f"u{worker}", "a", float(n))])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(url) as store:
        assert store.stats()["items"] == 80 and store.count_events() == 80


def test_recent_actions_on_a_file_use_plain_connections_that_see_every_commit(tmp_path: Path) -> None:
    path = tmp_path / "reads.db"
    with open_store(f"sqlite:///{path}") as reader, open_store(f"sqlite:///{path}") as writer:
        assert reader._reader is not None, "a SQLite file gets the plain-connection reader"
        assert reader.recent_actions("u1") == []
        writer.add_events([event("u1", "a", 1.0), event("u1", "b", 2.0, "cart")])
        assert reader.recent_actions("u1") == [("b", "cart"), ("a", "click")], "another connection's commit"
        seen: list = []
        thread = threading.Thread(target=lambda: seen.append(reader.recent_actions("u1", limit=1)))
        thread.start()
        thread.join()
        assert seen == [[("b", "cart")]]
    with pytest.raises(StoreError, match="closed"):
        reader.recent_actions("u1")
    assert open_store("sqlite://")._reader is None, "an in-memory database has its one shared connection"
