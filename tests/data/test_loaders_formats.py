"""The public-format loaders on tiny invented fixtures, and their errors on corrupt files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shopguide.data.loaders import LOADERS, load, load_amazon, load_movielens, load_taobao
from shopguide.data.loaders.amazon import parse_category_list
from shopguide.data.loaders.base import trusted_event
from shopguide.data.schema import Event, EventType
from shopguide.errors import ConfigError, DataError


def test_trusted_event_equals_validated_event() -> None:
    fast = trusted_event("u1", "i9", EventType.CART, 2.0, 17.0)
    slow = Event(user="u1", item="i9", type="cart", value=2.0, ts=17)
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert fast.key() == slow.key()
    assert fast.model_fields_set == slow.model_fields_set


# ---------------------------------------------------------------------------------------------- amazon
def test_amazon_mini(fixtures: Path) -> None:
    data = load_amazon(fixtures / "s3rec", dataset="Mini")
    assert [(e.user, e.item, e.ts) for e in data.events[:4]] == [
        ("1", "1", 0.0),
        ("1", "2", 1.0),
        ("1", "3", 2.0),
        ("1", "4", 3.0),
    ]
    assert all(e.type is EventType.PURCHASE for e in data.events)
    by_id = {it.id: it for it in data.items}
    assert [it.id for it in data.items] == ["1", "2", "3", "4", "5", "6"]
    assert by_id["1"].title == "Rose Lip Balm & Tint"  # HTML entities decoded
    assert by_id["1"].attributes == {"asin": "B000TEST01", "sales_rank": "1200", "sales_type": "Beauty"}
    assert by_id["1"].tags == ["attr:1", "attr:2"]
    assert by_id["2"].title == "B000TEST02"  # no title: the ASIN
    assert by_id["2"].price is None and by_id["2"].brand is None  # "Unknown" brand
    assert by_id["3"].category == ["Beauty", "Fragrance", "Women's"]
    assert by_id["6"].title == "item 6"  # in a sequence but not in the catalog
    assert "1 items had no catalog row" in data.notes
    assert [u.attributes["reviewer_id"] for u in data.users] == [f"ATESTREVIEWER{i}" for i in (1, 2, 3)]


def test_amazon_without_catalog_files(fixtures: Path, tmp_path: Path) -> None:
    shutil.copy(fixtures / "s3rec" / "Mini.txt", tmp_path / "Mini.txt")
    data = load_amazon(tmp_path, dataset="Mini")
    assert len(data.items) == 6 and all(it.title == f"item {it.id}" for it in data.items)
    assert [u.id for u in data.users] == ["1", "2", "3"]


def test_parse_category_list() -> None:
    assert parse_category_list("'Beauty', 'Makeup'") == ("Beauty", "Makeup")
    assert parse_category_list("'Beauty', \"Men's\"") == ("Beauty", "Men's")
    assert parse_category_list("Beauty, Makeup") == ("Beauty", "Makeup")
    assert parse_category_list("") == ()


def test_amazon_bad_item_id_names_line(tmp_path: Path) -> None:
    (tmp_path / "Mini.txt").write_text("1 1 2\n2 3 x4\n")
    with pytest.raises(DataError) as err:
        load_amazon(tmp_path, dataset="Mini")
    assert (err.value.line, err.value.field) == (2, "item_id")
    assert "Mini.txt" in str(err.value) and "line 2" in str(err.value)


def test_amazon_missing_sequence_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"Beauty\.txt"):
        load_amazon(tmp_path)


def test_amazon_bad_price_names_line(fixtures: Path, tmp_path: Path) -> None:
    shutil.copy(fixtures / "s3rec" / "Mini.txt", tmp_path / "Mini.txt")
    text = (fixtures / "s3rec" / "mini_items_joined.tsv").read_text()
    (tmp_path / "mini_items_joined.tsv").write_text(text.replace("\t7.25\t", "\tcheap\t"))
    with pytest.raises(DataError) as err:
        load_amazon(tmp_path, dataset="Mini")
    assert (err.value.line, err.value.field) == (5, "price")


# ---------------------------------------------------------------------------------------------- movielens
def test_movielens_mini(fixtures: Path) -> None:
    data = load_movielens(fixtures / "ml-mini")
    assert [(e.user, e.item, e.value, e.ts) for e in data.events[:2]] == [
        ("1", "10", 5.0, 880000000.0),
        ("1", "20", 3.0, 880000100.0),
    ]
    assert all(e.type is EventType.RATING for e in data.events)
    movie = data.items[0]
    assert movie.title == "Le Fabuleux Café (1998)"  # Latin-1
    assert movie.category == ["Comedy"] and movie.tags == ["Comedy", "Drama"]
    assert movie.attributes["year"] == "1998"
    assert movie.created_at == 883612800.0
    assert data.items[2].category == ["unknown"] and "year" not in data.items[2].attributes
    assert data.users[1].attributes == {"age": "53", "gender": "F", "occupation": "other", "zip": "94043"}


def test_movielens_bad_rating_names_line(fixtures: Path, tmp_path: Path) -> None:
    for name in ("u.item", "u.genre", "u.user"):
        shutil.copy(fixtures / "ml-mini" / name, tmp_path / name)
    (tmp_path / "u.data").write_text("1\t10\t5\t880000000\n1\t20\tfive\t880000100\n")
    with pytest.raises(DataError) as err:
        load_movielens(tmp_path)
    assert "u.data" in str(err.value) and "line 2" in str(err.value) and "'rating'" in str(err.value)


# ---------------------------------------------------------------------------------------------- taobao
def test_taobao_mini(fixtures: Path) -> None:
    data = load_taobao(fixtures / "taobao")
    assert [e.type for e in data.events] == [
        EventType.VIEW,
        EventType.CART,
        EventType.FAV,
        EventType.PURCHASE,
        EventType.VIEW,
    ]
    assert [u.id for u in data.users] == ["7", "8"]
    assert [(it.id, it.category) for it in data.items] == [("1001", ["501"]), ("1002", ["502"]), ("1003", ["501"])]
    assert data.items[0].title == "item 1001"
    assert data.events[3].ts == 1511545000.0
    assert len(load_taobao(fixtures / "taobao" / "UserBehavior_mini.csv", max_rows=2).events) == 2


@pytest.mark.parametrize(
    ("row", "field", "needle"),
    [
        ("7,1001,501,pv", None, "expected 5"),
        ("7,1001,501,pv,1511544070,extra", None, "expected 5"),
        ("7,1001,501,like,1511544070", "behavior", "unknown behavior 'like'"),
        ("7,1001,501,pv,2017-11-25", "timestamp", "integer"),
        ("7,1001,501,pv,1511544070.5", "timestamp", "integer"),
        ("7,,501,pv,1511544070", "item_id", "empty"),
    ],
)
def test_taobao_corrupt_line(tmp_path: Path, row: str, field: str | None, needle: str) -> None:
    path = tmp_path / "UserBehavior.csv"
    path.write_text(f"7,1001,501,pv,1511544070\n7,1002,502,buy,1511544071\n{row}\n")
    with pytest.raises(DataError) as err:
        load_taobao(tmp_path)
    assert err.value.file == str(path)
    assert err.value.line == 3
    assert err.value.field == field
    assert "UserBehavior.csv, line 3" in str(err.value) and needle in str(err.value)


def test_taobao_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no UserBehavior"):
        load_taobao(tmp_path)


# ---------------------------------------------------------------------------------------------- registry
def test_registry(fixtures: Path) -> None:
    assert set(LOADERS) == {"amazon", "movielens", "taobao"}
    assert len(load("movielens", fixtures / "ml-mini").events) == 4
    assert len(load("amazon", fixtures / "s3rec", dataset="Mini").events) == 11
    with pytest.raises(ConfigError, match="unknown data format 'csv'"):
        load("csv", fixtures)


def test_to_dataset(fixtures: Path) -> None:
    data = load_taobao(fixtures / "taobao")
    ds = data.to_dataset(event_weights={"view": 1.0, "cart": 3.0, "fav": 2.0, "purchase": 5.0})
    assert (ds.n_users, ds.n_items, len(ds), ds.name) == (2, 3, 5, "taobao-userbehavior")
    assert ds.matrix[0, 0] == 4.0  # user 7, item 1001: view + cart
    assert repr(data) == "LoadedData('taobao-userbehavior': 2 users, 3 items, 5 events)"
