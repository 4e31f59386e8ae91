"""Erasure end to end: the store, the analytics copies and the next trained model no longer hold the shopper.

The shop: seven catalog items; five shoppers with overlapping tastes among a-f, and ``solo``, the only shopper
who ever touched item ``z`` (together with a and b). So before the erasure ``z`` has collaborative neighbours
(a, b) only because of ``solo``; after it and the next training, ``z`` has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopguide.analytics import AggregateCache, DashboardOptions, EventSource, Filters, load_or_compute
from shopguide.analytics.export import store_directory
from shopguide.config import Settings
from shopguide.data.schema import Event, Item, User
from shopguide.errors import NotFoundError
from shopguide.privacy.erasure import erase_shopper, export_shopper
from shopguide.privacy.pseudonym import pseudonymize
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.training import train_and_save
from shopguide.store import Store, open_store

SECRET = b"erasure-test-secret-0123456789"
TASTES = {
    "u1": "abc",
    "u2": "bcd",
    "u3": "cde",
    "u4": "def",
    "u5": "abf",
}


def _events() -> list[Event]:
    events, ts = [], 1_700_000_000.0
    for user, items in [*TASTES.items(), ("solo", "abz")]:
        for item in items:
            ts += 60
            events.append(Event(user=user, item=item, type="click", ts=ts))
        events.append(Event(user=user, item=items[-1], type="purchase", ts=ts + 30))
    return events


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(_env_file=None, home=home, store_url="")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with open_store(settings.resolved_store_url) as st:
        st.import_batch(
            items=[Item(id=i, title=f"item {i}", category=["c"], price=10.0) for i in "abcdefz"],
            users=[User(id=u) for u in [*TASTES, "solo"]],
            events=_events(),
        )
        st.put_session("chat-1", {"session_id": "chat-1", "user_id": "solo", "history": []})
        yield st


def _user_ids(source: EventSource) -> set[str]:
    return set(source.query("SELECT DISTINCT user_id FROM fe")["user_id"])


def test_export_names_the_pseudonym_used_in_analytics(store: Store) -> None:
    exported = export_shopper(store, "solo", secret=SECRET)
    assert exported["pseudonym"] == pseudonymize("solo", SECRET)
    assert [e["item"] for e in exported["events"]] == ["a", "b", "z", "z"]
    assert [s["session_id"] for s in exported["sessions"]] == ["chat-1"]


def test_analytics_never_see_raw_ids_and_forget_an_erased_shopper(store: Store, home: Path) -> None:
    workdir = home / "analytics"
    cache = AggregateCache(workdir / "cache")
    filters, options = Filters(), DashboardOptions()
    before_fp = EventSource.fingerprint_of_store(store)
    with EventSource.from_store(store, cache_dir=workdir, secret=SECRET) as source:
        assert _user_ids(source) == {pseudonymize(u, SECRET) for u in [*TASTES, "solo"]}  # no raw id leaves
        aggs, cached = load_or_compute(cache, before_fp, filters, options, lambda: source)
    assert not cached and aggs["overview"]["users"] == 6
    assert any(store_directory(workdir, store).glob("*.parquet"))

    report = erase_shopper(store, "solo", analytics_dir=workdir)
    assert report.removed.users == 1 and report.removed.events == 4 and report.removed.sessions == 1
    assert report.analytics_files >= 3  # events part, items file, manifest (+ the cached aggregates)
    assert not any(store_directory(workdir, store).glob("*.parquet")) and not any((workdir / "cache").glob("*.json"))

    after_fp = EventSource.fingerprint_of_store(store)
    assert after_fp != before_fp  # every worker's working table and cached aggregates stop matching
    with EventSource.from_store(store, cache_dir=workdir, secret=SECRET) as source:
        assert pseudonymize("solo", SECRET) not in _user_ids(source) and len(_user_ids(source)) == 5
        aggs, cached = load_or_compute(cache, after_fp, filters, options, lambda: source)
    assert not cached and aggs["overview"]["users"] == 5
    with pytest.raises(NotFoundError):
        erase_shopper(store, "solo", analytics_dir=workdir)


def test_the_next_training_neither_knows_the_shopper_nor_carries_their_signal(store: Store, settings: Settings) -> None:
    old_version, old = train_and_save(settings, "item_knn", store=store)
    assert "solo" in old.dataset_.users.to_list()
    z_neighbours = [r.item for r in old.similar_items("z", fill=False)]
    assert set(z_neighbours) == {"a", "b"}  # only solo ever put z next to a and b

    erase_shopper(store, "solo", forget=[lambda user: 0])
    new_version, _ = train_and_save(settings, "item_knn", store=store)
    served = BundleStore(settings.model_dir).load()  # what a worker swaps to: the new active version
    data = served.dataset_
    assert new_version != old_version and "solo" not in data.users.to_list()
    assert len(data) == len(_events()) - 4 and data.n_users == 5
    assert "z" in data.items.to_list()  # still in the catalog ...
    z = data.items.index("z")
    assert data.matrix[:, z].nnz == 0 and served.neighbors_[z].nnz == 0  # ... with no one's interactions
    assert served.similar_items("z", fill=False) == []
    assert all(r.source != "item_knn" for r in served.recommend("solo", 3))  # a stranger: popularity fill only
    # the version trained before the erasure still holds the shopper until it is removed (rollback copies)
    assert "solo" in BundleStore(settings.model_dir).load(old_version).dataset_.users.to_list()
