"""``shopguide train / recommend / similar / models`` on the checkerboard world imported through the CLI.

The checkerboard (``shopguide.recommend.checks``): A-shoppers look at red shirts a0..a3, B-shoppers at blue
phone cases b0..b3; ua0 has not yet seen a3, so a personalised model puts a3 first for ua0. The catalog also
holds an out-of-stock shirt (never recommended) and a new shirt nobody has seen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopguide.recommend import checks
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.registry import MODELS

USER, WITHHELD_ITEM = checks.WITHHELD
SEEN_BY_USER = {e.item for e in checks.checkerboard_events() if e.user == USER}
CATALOG = {it.id for it in checks.checkerboard_items()}


def _train(cli, home: Path, store_url: str, *args: str) -> str:
    """Run ``train`` and return the version it created."""
    before = {v.version for v in BundleStore(home / "models").versions()}
    run = cli("train", *args, "--home", home, "--store", store_url)
    assert run.code == 0, run.out
    (version,) = {v.version for v in BundleStore(home / "models").versions()} - before
    assert version in run.out
    return version


def _recommend(cli, home: Path, user: str, n: int, *args: str) -> list[dict]:
    run = cli("recommend", user, "-n", str(n), "--json", "--home", home, *args)
    assert run.code == 0, run.out
    return json.loads(run.stdout)


def _active_row(cli, home: Path) -> str:
    run = cli("models", "list", "--home", home)
    assert run.code == 0, run.out
    (row,) = [line for line in run.out.splitlines() if "*" in line]
    return row


def test_train_creates_an_active_version(cli, home, imported):
    version = _train(cli, home, imported, "--model", "item_knn")

    (info,) = BundleStore(home / "models").versions()
    assert info.version == version
    assert info.active
    assert info.manifest["source"] == "item_knn"
    assert info.manifest["data"]["events"] == len(checks.checkerboard_events())
    assert info.manifest["data"]["items"] == len(CATALOG)
    row = _active_row(cli, home)
    assert version in row
    assert "item_knn" in row


def test_recommend_for_a_known_user_skips_what_they_saw(cli, home, imported):
    _train(cli, home, imported, "--model", "item_knn")

    recs = _recommend(cli, home, USER, 4)

    assert len(recs) == 4
    assert recs[0]["item"] == WITHHELD_ITEM
    assert recs[0]["source"] == "item_knn"
    assert "Red cotton shirt" in recs[0]["reason"]  # names the item the shopper engaged with
    items = [r["item"] for r in recs]
    assert len(set(items)) == 4
    assert not set(items) & SEEN_BY_USER
    assert "sold-out" not in items
    for rec in recs:
        assert set(rec) >= {"item", "score", "source", "reason"}
        assert rec["source"]
        assert rec["reason"].strip()


def test_recommend_for_an_unknown_user_fills_the_list(cli, home, imported):
    _train(cli, home, imported, "--model", "item_knn")

    recs = _recommend(cli, home, "walk-in-visitor", 6)

    items = [r["item"] for r in recs]
    assert len(items) == 6
    assert len(set(items)) == 6
    assert set(items) <= CATALOG - {"sold-out"}
    assert all(r["source"] and r["reason"].strip() for r in recs)


def test_recommend_respects_exclude_and_chinese_reasons(cli, home, imported):
    _train(cli, home, imported, "--model", "item_knn")

    recs = _recommend(cli, home, USER, 3, "--exclude", WITHHELD_ITEM, "--lang", "zh")

    assert WITHHELD_ITEM not in [r["item"] for r in recs]
    assert len(recs) == 3
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r["reason"]) for r in recs)


def test_similar_items_come_from_the_same_taste(cli, home, imported):
    _train(cli, home, imported, "--model", "item_knn")

    run = cli("similar", "b0", "-n", "3", "--json", "--home", home)

    assert run.code == 0, run.out
    recs = json.loads(run.stdout)
    assert sorted(r["item"] for r in recs) == ["b1", "b2", "b3"]
    assert all(r["source"] == "item_knn" for r in recs)
    assert all("b0" in r["reason"] for r in recs)


def test_activate_rolls_back_to_the_first_model(cli, home, imported):
    first = _train(cli, home, imported, "--model", "item_knn")
    second = _train(cli, home, imported, "--model", "popular")
    assert second in _active_row(cli, home)
    assert {r["source"] for r in _recommend(cli, home, USER, 3)} == {"popular"}

    run = cli("models", "activate", first, "--home", home)

    assert run.code == 0, run.out
    assert first in run.out
    assert first in _active_row(cli, home)
    recs = _recommend(cli, home, USER, 3)
    assert recs[0]["item"] == WITHHELD_ITEM
    assert recs[0]["source"] == "item_knn"
    # an explicit --version still reaches the other one
    assert {r["source"] for r in _recommend(cli, home, USER, 3, "--version", second)} == {"popular"}


def test_train_without_activate_keeps_the_active_version(cli, home, imported):
    first = _train(cli, home, imported, "--model", "item_knn")
    second = _train(cli, home, imported, "--model", "popular", "--no-activate")

    assert BundleStore(home / "models").active_version() == first
    assert second not in _active_row(cli, home)


def test_params_reach_the_model(cli, home, imported):
    version = _train(cli, home, imported, "--model", "item_knn", "--param", "k=5", "-p", "similarity=pearson")

    (info,) = BundleStore(home / "models").versions()
    assert info.version == version
    assert info.manifest["params"]["k"] == 5  # JSON-parsed: an int, not "5"
    assert info.manifest["params"]["similarity"] == "pearson"
    assert BundleStore(home / "models").load().k == 5


def test_unknown_model_names_the_known_ones(cli, home, imported):
    run = cli("train", "--model", "telepathy", "--home", home, "--store", imported)

    assert run.code == 2, run.out
    assert "unknown model 'telepathy'" in run.out
    for name in ("popular", "item_knn", "ease", "fallback"):
        assert name in run.out
    assert set(MODELS) <= set(run.out.replace(",", " ").split())
    assert BundleStore(home / "models").versions() == []


@pytest.mark.parametrize("param", ["k", "=5", "no_such_param=1"])
def test_bad_params_are_usage_errors(cli, home, imported, param):
    run = cli("train", "--model", "item_knn", "--param", param, "--home", home, "--store", imported)

    assert run.code == 2, run.out
    assert "Traceback" not in run.out
    assert BundleStore(home / "models").versions() == []


@pytest.mark.parametrize("command", [["recommend", USER], ["similar", "a0"]])
def test_using_a_model_before_training_says_train_first(cli, home, command):
    run = cli(*command, "--home", home)

    assert run.code != 0
    assert "train one first" in run.out
    assert "Traceback" not in run.out


def test_train_on_an_empty_store_says_import_first(cli, home, store_url):
    run = cli("train", "--model", "popular", "--home", home, "--store", store_url)

    assert run.code == 2, run.out
    assert "shopguide import" in run.out
    assert BundleStore(home / "models").versions() == []


def test_activating_an_unknown_version_is_not_found(cli, home, imported):
    first = _train(cli, home, imported, "--model", "popular")

    run = cli("models", "activate", "19990101T000000-abcdef", "--home", home)

    assert run.code == 3, run.out
    assert "no model version '19990101T000000-abcdef'" in run.out
    assert BundleStore(home / "models").active_version() == first
