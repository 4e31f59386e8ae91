"""The analytics copy of a store holds pseudonyms, is rebuilt when the secret or the data generation changes,
and cached aggregates removed by another process are never served from memory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq

from shopguide.analytics import AggregateCache, export_store
from shopguide.analytics.export import store_directory
from shopguide.data.schema import Event
from shopguide.privacy.pseudonym import key_id, pseudonymize
from shopguide.store import open_store

SECRET = b"export-test-secret-0123456789"
ROTATED = b"export-test-secret-rotated-0001"


def _user_ids(export) -> set[str]:
    return {u for path in export.events for u in pq.read_table(path, columns=["user_id"])["user_id"].to_pylist()}


def test_export_holds_pseudonyms_and_rebuilds_for_another_secret_or_an_erasure(tmp_path: Path) -> None:
    cache = tmp_path / "analytics"
    with open_store(f"sqlite:///{tmp_path}/shop.db") as st:
        st.add_events(Event(user=f"shopper-{n % 3}", item=f"i{n}", type="click", ts=float(n)) for n in range(9))
        first = export_store(st, cache, secret=SECRET)
        assert _user_ids(first) == {pseudonymize(f"shopper-{n}", SECRET) for n in range(3)}
        manifest = json.loads((store_directory(cache, st) / "manifest.json").read_text())
        assert manifest["ids"] == f"hmac:{key_id(SECRET)}" and "shopper-0" not in json.dumps(manifest)
        assert export_store(st, cache, secret=SECRET).exported_rows == 0  # current: nothing to do

        rotated = export_store(st, cache, secret=ROTATED)  # a rotated secret: every pseudonym changes
        assert rotated.exported_rows == 9
        assert _user_ids(rotated) == {pseudonymize(f"shopper-{n}", ROTATED) for n in range(3)}
        assert _user_ids(export_store(st, cache)) == {"shopper-0", "shopper-1", "shopper-2"}  # no secret: raw

        export_store(st, cache, secret=SECRET)
        st.erase_user("shopper-1")
        st.add_events([Event(user="shopper-9", item="x", type="click", ts=99.0)])  # rows were added since, too
        after = export_store(st, cache, secret=SECRET)
        assert after.exported_rows == after.events_count == 7  # rebuilt, not appended to
        assert pseudonymize("shopper-1", SECRET) not in _user_ids(after)
        assert len(after.events) == 1 and all(p.exists() for p in after.events)
        assert sorted(p.name for p in store_directory(cache, st).glob("events-*.parquet")) == [after.events[0].name]


def test_memory_copy_of_a_cached_aggregate_follows_its_file(tmp_path: Path) -> None:
    worker_a, worker_b = AggregateCache(tmp_path / "cache"), AggregateCache(tmp_path / "cache")
    worker_a.put("k", {"users": 6})
    assert worker_a.get("k") == {"users": 6} and worker_b.get("k") == {"users": 6}
    assert worker_b.clear() == 1  # another worker erased a shopper
    assert worker_a.get("k") is None
    worker_a.put("k", {"users": 6})
    assert worker_a.get("k") == {"users": 6}  # worker a's own write again (memory refreshed)
    later = worker_b.put("k", {"users": 5})  # worker b recomputes later on (a later modification time)
    os.utime(later, ns=(later.stat().st_atime_ns, later.stat().st_mtime_ns + 1_000_000_000))
    assert worker_a.get("k") == {"users": 5}
