"""The public-format loaders on the real files in ../shared/data (skipped when absent)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from shopguide.data.loaders import load, load_amazon, load_movielens, load_taobao
from shopguide.data.schema import EventType

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def beauty(shared_data: Path):
    return load_amazon(shared_data / "amazon-beauty")


@pytest.fixture(scope="module")
def movielens(shared_data: Path):
    return load_movielens(shared_data / "movielens-100k")


@pytest.fixture(scope="module")
def taobao(shared_data: Path):
    return load_taobao(shared_data / "taobao-userbehavior-sample")


def test_beauty_counts(beauty) -> None:
    assert len(beauty.users) == 22_363
    assert len(beauty.items) == 12_101
    assert len(beauty.events) == 198_502
    assert {it.id for it in beauty.items} == {str(i) for i in range(1, 12_102)}
    assert all(e.type is EventType.PURCHASE and e.value == 1.0 for e in beauty.events)
    assert "position" in beauty.notes


def test_beauty_first_user_sequence_in_order(beauty) -> None:
    first = [e for e in beauty.events if e.user == "1"]
    assert [e.item for e in first][:5] == ["1", "2", "3", "4", "5"]
    assert [e.ts for e in first] == [float(i) for i in range(len(first))]


def test_beauty_catalog_fields(beauty) -> None:
    by_id = {it.id: it for it in beauty.items}
    first = by_id["1"]
    assert first.title.startswith("OPI Nail Lacquer")
    assert first.category == ["Beauty", "Makeup", "Nails", "Nail Polish"]
    assert first.price == 12.0
    assert first.brand == "OPI"
    assert first.attributes["asin"] == "B004756YJA"
    assert first.attributes["sales_rank"] == "344222"
    assert by_id["151"].category == ["Beauty", "Fragrance", "Women's", "Eau de Parfum"]
    # titles are never empty: the ASIN stands in where the catalog has none
    assert all(it.title for it in beauty.items)
    assert by_id["495"].title == by_id["495"].attributes["asin"]
    assert sum(it.price is None for it in beauty.items) == 585
    assert beauty.users[0].attributes == {"reviewer_id": "A1YJEY40YUW4SE"}


def test_beauty_dataset_keeps_s3rec_order(beauty) -> None:
    ds = beauty.to_dataset()
    assert (ds.n_users, ds.n_items, len(ds)) == (22_363, 12_101, 198_502)
    assert ds.users.id(0) == "1" and ds.items.id(0) == "1"
    assert list(ds.sequence(0)[:5]) == [0, 1, 2, 3, 4]


def test_movielens_counts_and_values(movielens) -> None:
    assert (len(movielens.users), len(movielens.items), len(movielens.events)) == (943, 1682, 100_000)
    first = movielens.events[0]
    assert (first.user, first.item, first.type, first.value, first.ts) == (
        "196",
        "242",
        EventType.RATING,
        3.0,
        881250949.0,
    )
    values = Counter(e.value for e in movielens.events)
    assert set(values) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert np.isclose(sum(e.value for e in movielens.events) / 100_000, 3.52986)


def test_movielens_items_and_users(movielens) -> None:
    by_id = {it.id: it for it in movielens.items}
    toy = by_id["1"]
    assert toy.title == "Toy Story (1995)"
    assert toy.category == ["Animation"]
    assert toy.tags == ["Animation", "Children's", "Comedy"]
    assert toy.attributes["year"] == "1995"
    # Latin-1 titles decode correctly
    assert any("é" in it.title for it in movielens.items)
    assert movielens.users[0].attributes == {"age": "24", "gender": "M", "occupation": "technician", "zip": "85711"}


def test_taobao_counts_and_behaviours(taobao) -> None:
    counts = Counter(e.type for e in taobao.events)
    assert counts == {
        EventType.VIEW: 75_693,
        EventType.CART: 4_494,
        EventType.FAV: 2_351,
        EventType.PURCHASE: 1_749,
    }
    assert len(taobao.users) == 814
    assert len(taobao.items) == 55_233
    assert len({c for it in taobao.items for c in it.category}) == 2_911
    first = taobao.events[0]
    assert (first.user, first.item, first.type, first.ts) == ("1", "2268318", EventType.VIEW, 1511544070.0)
    assert taobao.items[0].category == ["2520377"]


def test_registry_loads_by_name(shared_data: Path) -> None:
    data = load("taobao", shared_data / "taobao-userbehavior-sample" / "UserBehavior_head.csv", max_rows=10)
    assert len(data.events) == 10
