"""BundleStore: versioned model directories with a manifest and an atomically replaced ACTIVE pointer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shopguide.errors import ModelError, NotFoundError
from shopguide.recommend import bundle as bundle_module
from shopguide.recommend import checks
from shopguide.recommend.base import Recommender
from shopguide.recommend.bundle import ACTIVE, BundleStore
from shopguide.recommend.neighbors import ItemKNN
from shopguide.recommend.popularity import Popularity


@pytest.fixture(scope="module")
def knn() -> ItemKNN:
    return ItemKNN(k=5).fit(checks.checkerboard())


@pytest.fixture(scope="module")
def popular() -> Popularity:
    return Popularity(half_life_days=None).fit(checks.checkerboard())


@pytest.fixture
def bundles(tmp_path: Path) -> BundleStore:
    return BundleStore(tmp_path / "models")


def _answers(model: Recommender) -> list:
    """Everything a serving worker would ask: known, withheld-pair and unknown shoppers, similar items."""
    users = ["ua0", "ub1", "never-seen"]
    recs = [[(r.item, r.score, r.source, r.reason) for r in model.recommend(u, 6)] for u in users]
    sims = [[(r.item, r.score, r.source, r.reason) for r in model.similar_items(i, 4)] for i in ("a0", "b2", "nope")]
    return recs + sims


def test_save_lists_the_version_with_its_manifest(bundles, knn):
    version = bundles.save(knn, metrics={"NDCG@10": 0.5}, data={"store": "sqlite://", "events": 36})

    (info,) = bundles.versions()
    assert info.version == version
    assert info.path == bundles.root / version
    assert info.active
    assert bundles.active_version() == version
    m = info.manifest
    assert {"version", "metrics", "data", "params", "created_at", "source", "class"} <= set(m)
    assert m["version"] == version
    assert m["metrics"] == {"NDCG@10": 0.5}
    assert m["data"] == {"store": "sqlite://", "events": 36}
    assert m["params"] == knn.get_params()
    assert m["params"]["k"] == 5
    assert m["source"] == "item_knn"
    assert (m["n_users"], m["n_items"]) == (knn.dataset_.n_users, knn.dataset_.n_items)


def test_save_without_metrics_or_data_records_empty_dicts(bundles, popular):
    bundles.save(popular)

    (info,) = bundles.versions()
    assert info.manifest["metrics"] == {}
    assert info.manifest["data"] == {}


def test_loaded_model_answers_exactly_like_the_saved_one(bundles, knn):
    bundles.save(knn)

    loaded = bundles.load()

    assert type(loaded) is ItemKNN
    assert loaded.get_params() == knn.get_params()
    assert _answers(loaded) == _answers(knn)
    assert loaded.recommend("ua0", 1)[0].item == "a3"  # the withheld pair still comes first


def test_save_without_activate_keeps_the_active_version(bundles, knn, popular):
    first = bundles.save(knn)
    second = bundles.save(popular, activate=False)

    assert bundles.active_version() == first
    assert {i.version: i.active for i in bundles.versions()} == {first: True, second: False}
    assert type(bundles.load()) is ItemKNN
    assert type(bundles.load(second)) is Popularity


def test_activate_switches_and_rolls_back(bundles, knn, popular):
    first = bundles.save(knn)
    second = bundles.save(popular)
    assert type(bundles.load()) is Popularity

    bundles.activate(first)

    assert bundles.active_version() == first
    assert _answers(bundles.load()) == _answers(knn)
    assert [i.version for i in bundles.versions() if i.active] == [first]
    bundles.activate(second)
    assert _answers(bundles.load()) == _answers(popular)


def test_activate_unknown_version_is_not_found_and_keeps_the_pointer(bundles, knn):
    version = bundles.save(knn)

    with pytest.raises(NotFoundError, match="no model version 'v-nope'"):
        bundles.activate("v-nope")

    assert bundles.active_version() == version


def test_load_without_any_version_says_train_first(tmp_path):
    for root in (tmp_path / "missing", tmp_path):  # no directory at all; an empty directory
        store = BundleStore(root)
        assert store.versions() == []
        assert store.active_version() is None
        with pytest.raises(ModelError, match="train one first"):
            store.load()


def test_load_unknown_version_is_not_found(bundles, knn):
    bundles.save(knn)

    with pytest.raises(NotFoundError):
        bundles.load("v-nope")


def test_a_half_written_bundle_is_never_listed_or_loaded(bundles, knn, popular):
    good = bundles.save(knn)
    # a crash mid-save: the model was written under the temporary name, the rename never happened
    crashed = bundles.root / ".tmp-20990101T000000-dead00"
    popular.save(crashed)
    # an even earlier crash: a partial pickle and no manifest
    partial = bundles.root / ".tmp-20990101T000001-dead01"
    partial.mkdir()
    (partial / "model.pkl").write_bytes(b"\x80\x05trunc")

    assert [i.version for i in bundles.versions()] == [good]
    assert bundles.active_version() == good
    assert _answers(bundles.load()) == _answers(knn)
    # the next save is unaffected by the leftovers
    newer = bundles.save(popular)
    assert sorted(i.version for i in bundles.versions()) == sorted([good, newer])


def test_activate_replaces_the_pointer_file_instead_of_rewriting_it(bundles, knn, popular):
    first = bundles.save(knn)
    second = bundles.save(popular, activate=False)
    pointer = bundles.root / ACTIVE
    inode_before = pointer.stat().st_ino

    with pointer.open(encoding="utf-8") as reader_mid_swap:  # a worker that opened the pointer just before
        bundles.activate(second)
        # the reader's file is untouched (a truncate-and-write would have emptied it under the reader)
        assert reader_mid_swap.read() == first + "\n"

    assert pointer.read_text(encoding="utf-8") == second + "\n"
    assert pointer.stat().st_ino != inode_before  # a new file renamed over the old one
    leftovers = [p.name for p in bundles.root.iterdir() if p.name.startswith(f".{ACTIVE}")]
    assert leftovers == []  # the temporary pointer was renamed, not left behind


def test_remove_refuses_the_active_version(bundles, knn, popular):
    first = bundles.save(knn)
    second = bundles.save(popular)

    with pytest.raises(ModelError, match="is active"):
        bundles.remove(second)

    assert (bundles.root / second / "model.pkl").exists()
    bundles.remove(first)
    assert [i.version for i in bundles.versions()] == [second]
    assert not (bundles.root / first).exists()
    assert type(bundles.load()) is Popularity


def test_versions_ignore_stray_files_and_dirs_without_manifest(bundles, knn):
    version = bundles.save(knn)
    (bundles.root / "notes.txt").write_text("not a bundle")
    (bundles.root / "empty-dir").mkdir()

    assert [i.version for i in bundles.versions()] == [version]


def test_activate_works_from_another_process_view(bundles, knn, popular):
    """Two BundleStore objects on one root (two workers) see each other's swaps: no in-memory state."""
    first = bundles.save(knn)
    second = bundles.save(popular, activate=False)
    worker = BundleStore(os.fspath(bundles.root))

    bundles.activate(second)

    assert worker.active_version() == second
    assert type(worker.load()) is Popularity
    worker.activate(first)
    assert bundles.active_version() == first


# ------------------------------------------------------------------ defects found in review, now fixed
def test_activate_refuses_a_half_written_bundle(bundles, knn, popular):
    good = bundles.save(knn)
    crashed = bundles.root / ".tmp-20990101T000000-dead00"
    popular.save(crashed)  # model.save writes manifest.json too, so activate() finds one

    with pytest.raises(NotFoundError):
        bundles.activate(crashed.name)

    assert bundles.active_version() == good


def test_remove_of_an_empty_name_deletes_nothing(bundles, knn, popular):
    active = bundles.save(knn)
    bundles.save(popular, activate=False)

    with pytest.raises((NotFoundError, ModelError)):
        bundles.remove("")

    assert bundles.root.exists()
    assert bundles.active_version() == active


def test_remove_unknown_version_is_not_found(bundles, knn):
    bundles.save(knn)

    with pytest.raises(NotFoundError):
        bundles.remove("v-nope")


def test_versions_are_listed_oldest_first(bundles, popular, monkeypatch):
    # three saves within one second whose random suffixes happen to come out in descending order
    suffixes = iter(["cccccc", "bbbbbb", "aaaaaa"])
    real_token_hex = bundle_module.secrets.token_hex
    monkeypatch.setattr(bundle_module.time, "strftime", lambda fmt, t=None: "20990101T000000")
    monkeypatch.setattr(
        bundle_module.secrets, "token_hex", lambda n=None: next(suffixes) if n == 3 else real_token_hex(n)
    )
    saved = [bundles.save(popular) for _ in range(3)]
    assert saved == ["20990101T000000-cccccc", "20990101T000000-bbbbbb", "20990101T000000-aaaaaa"]

    assert [i.version for i in bundles.versions()] == saved
