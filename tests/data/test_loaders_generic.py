"""Users' own files: CSV, JSON Lines and Parquet, with column mappings, and errors that name the place."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from shopguide.data.loaders import load_events, load_generic, load_items, load_users
from shopguide.data.schema import EventType, Item
from shopguide.errors import DataError

ITEM_MAPPING = {"id": "sku", "title": "name", "price": "price_cny", "category": "cat_path"}
SHORT_MAPPING = {"id": "sku", "title": "name", "price": "price_cny"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def raises_at(call, *, file: Path, line: int | None, field: str | None) -> DataError:
    with pytest.raises(DataError) as err:
        call()
    text = str(err.value)
    assert file.name in text
    assert err.value.file == str(file)
    assert err.value.line == line
    assert err.value.field == field
    if line is not None:
        assert f"line {line}" in text
    if field is not None:
        assert repr(field) in text
    return err.value


# ---------------------------------------------------------------------------------------------- items
def test_items_csv_with_mapping(fixtures: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        items = load_items(fixtures / "items.csv", ITEM_MAPPING)
    assert [it.id for it in items] == ["SG-001", "SG-002", "SG-003", "SG-004", "SG-005"]
    tee, down, bag, cup, buds = items
    assert tee.title == "纯棉圆领短袖T恤 男款"
    assert tee.category == ["服装", "男装", "T恤"]
    assert tee.price == 79.0 and tee.stock == 120 and tee.brand == "优衣库"
    assert tee.attributes == {"color": "白色", "material": "纯棉"}
    assert tee.tags == ["夏季", "百搭"]
    assert down.price == 1299.0  # "1,299.00"
    assert bag.attributes == {"material": "牛皮"} and bag.stock is None  # empty cells are missing
    assert cup.title == '保温杯 500ml "不锈钢"' and cup.category == ["家居", "水杯"]
    assert cup.stock == 0 and not cup.in_stock
    assert buds.price is None
    assert "internal_note" in caplog.text  # unknown columns are reported, not silently kept


def test_items_jsonl_defaults(fixtures: Path) -> None:
    items = load_items(fixtures / "items.jsonl")
    assert [it.id for it in items] == ["SG-001", "SG-002", "3"]
    assert items[0].category == ["服装", "男装", "T恤"] and items[0].attributes == {"color": "白色"}
    assert items[1].category == ["服装", "女装", "羽绒服"]
    assert items[1].title_alt == "Light down jacket, hooded"
    assert items[1].attributes == {"color": "黑色"}  # known attribute at top level
    assert items[2].category == ["箱包", "双肩包"] and items[2].tags == ["通勤", "商务"]
    assert items[2].price is None


def test_items_parquet_round_trip(fixtures: Path, tmp_path: Path) -> None:
    expected = load_items(fixtures / "items.csv", ITEM_MAPPING)
    frame = pd.read_csv(fixtures / "items.csv", dtype=str, keep_default_na=False)
    frame["price_cny"] = [it.price for it in expected]  # a float column with a null
    frame["stock"] = pd.array([it.stock for it in expected], dtype="Int64")
    path = tmp_path / "items.parquet"
    frame.to_parquet(path, index=False)
    items = load_items(path, ITEM_MAPPING)
    assert items == expected
    assert all(type(it.title) is str for it in items)


def test_items_parquet_with_native_lists(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "title": ["连衣裙 碎花", "运动鞋"],
            "category": [["服装", "女装"], ["鞋靴"]],
            "price": [199.0, float("nan")],
            "attr_fit": ["修身", None],
            "created_at": pd.to_datetime(["2024-05-01", "2024-05-02"]),
        }
    )
    path = tmp_path / "catalog.parquet"
    frame.to_parquet(path, index=False)
    first, second = load_items(path)
    assert first.category == ["服装", "女装"] and first.attributes == {"fit": "修身"}
    assert second.price is None and second.attributes == {}
    assert first.created_at == 1714521600.0  # naive timestamps are UTC


def test_format_override_and_tsv(tmp_path: Path) -> None:
    path = write(tmp_path, "catalog.txt", "id\ttitle\n1\t茶杯\n")
    assert load_items(path, format="tsv")[0].title == "茶杯"
    with pytest.raises(DataError, match=r"suffix '\.txt'"):
        load_items(path)
    with pytest.raises(DataError, match="unknown format 'xlsx'"):
        load_items(path, format="xlsx")


# ---------------------------------------------------------------------------------------------- events and users
def test_events_csv(fixtures: Path) -> None:
    events = load_events(fixtures / "events.csv")
    assert [e.type for e in events] == [
        EventType.VIEW,
        EventType.CART,
        EventType.PURCHASE,
        EventType.VIEW,  # "pv"
        EventType.RATING,
    ]
    assert events[0].ts == 1714528800.0  # ISO time with an offset
    assert events[0].value == 1.0 and events[2].value == 2.0 and events[4].value == 4.5
    assert events[0].context == {"page": "home"} and events[2].context == {}


def test_events_jsonl_with_mapping(fixtures: Path) -> None:
    mapping = {"user": "uid", "item": "sku", "type": "action", "ts": "time"}
    events = load_events(fixtures / "events.jsonl", mapping)
    assert [(e.user, e.item, e.type) for e in events] == [
        ("u1", "SG-001", EventType.CLICK),
        ("u1", "SG-003", EventType.PURCHASE),
        ("u2", "SG-004", EventType.FAV),
    ]
    assert [e.ts for e in events] == [1714528800.0, 1714529100.0, 1714529000.5]
    assert events[0].session == "s1" and events[0].context == {"page": "home"}


def test_events_parquet_round_trip(fixtures: Path, tmp_path: Path) -> None:
    expected = load_events(fixtures / "events.csv")
    frame = pd.DataFrame(
        {
            "user": [e.user for e in expected],
            "item": [e.item for e in expected],
            "type": [e.type.value for e in expected],
            "ts": [e.ts for e in expected],
            "value": [e.value for e in expected],
            "page": [e.context.get("page") for e in expected],
        }
    )
    path = tmp_path / "events.parquet"
    frame.to_parquet(path, index=False)
    assert load_events(path) == expected


def test_users_csv_with_attribute_mapping(fixtures: Path) -> None:
    users = load_users(fixtures / "users.csv", {"id": "user_id", "attributes.city": "城市"})
    assert [u.id for u in users] == ["u1", "u2"]
    assert users[0].attributes == {"city": "杭州", "age_band": "25-34", "segment": "new"}
    assert users[1].attributes == {"city": "上海", "segment": "vip"}


def test_load_generic(fixtures: Path) -> None:
    data = load_generic(
        items=fixtures / "items.csv",
        events=fixtures / "events.jsonl",
        users=fixtures / "users.csv",
        item_mapping=ITEM_MAPPING,
        event_mapping={"user": "uid", "item": "sku", "type": "action", "ts": "time"},
        user_mapping={"id": "user_id"},
        name="my-shop",
    )
    assert (len(data.items), len(data.users), len(data.events)) == (5, 2, 3)
    ds = data.to_dataset()
    assert (ds.name, ds.n_items, ds.n_users) == ("my-shop", 5, 2)
    assert ds.items.id(0) == "SG-001"
    assert "not in the catalog" not in data.notes
    only_events = load_generic(events=fixtures / "events.csv")
    assert only_events.items == [] and len(only_events.events) == 5


# ---------------------------------------------------------------------------------------------- errors
def test_csv_bad_price_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", "sku,name,price_cny\nA1,毛巾,9.9\nA2,牙刷,-3\n")
    err = raises_at(lambda: load_items(path, SHORT_MAPPING), file=path, line=3, field="price_cny")
    assert "Item.price" in str(err)


def test_csv_empty_required_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", "id,title\nA1,毛巾\nA2,\n")
    raises_at(lambda: load_items(path), file=path, line=3, field="title")


def test_csv_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", 'id,title,price\nA1,"两行\n标题",1\n\nA2,毛巾,abc\n')
    raises_at(lambda: load_items(path), file=path, line=5, field="price")


def test_csv_wrong_field_count(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", "id,title\nA1,毛巾\nA2,牙刷,多余\n")
    err = raises_at(lambda: load_items(path), file=path, line=3, field=None)
    assert "expected 2 fields" in str(err)


def test_missing_required_column(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", "sku,price_cny\nA1,9.9\n")
    err = raises_at(lambda: load_items(path, ITEM_MAPPING), file=path, line=1, field="name")
    assert "missing required column 'name'" in str(err) and "Item.title" in str(err)


def test_missing_required_event_column(tmp_path: Path) -> None:
    path = write(tmp_path, "log.csv", "user,item,ts\nu1,A1,1\n")
    raises_at(lambda: load_events(path), file=path, line=1, field="type")


def test_mapped_optional_column_absent(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", "id,title\nA1,毛巾\n")
    raises_at(lambda: load_items(path, {"price": "price_cny"}), file=path, line=None, field="price_cny")


def test_mapping_to_unknown_field(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", "id,title\nA1,毛巾\n")
    with pytest.raises(DataError, match="not a Item field"):
        load_items(path, {"colour": "颜色"})


def test_duplicate_item_id(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.csv", "id,title\nA1,毛巾\nA2,牙刷\nA1,浴巾\n")
    err = raises_at(lambda: load_items(path), file=path, line=4, field="id")
    assert "first on line 2" in str(err)


def test_jsonl_invalid_json_names_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "events.jsonl",
        '{"user": "u1", "item": "A1", "type": "view", "ts": 1700000001}\n\n{"user": "u1", "item": \n',
    )
    err = raises_at(lambda: load_events(path), file=path, line=3, field=None)
    assert "invalid JSON" in str(err)


def test_jsonl_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, "events.jsonl", '{"user": "u1", "item": "A1", "type": "view", "ts": 1700000001}\n[1, 2]\n')
    raises_at(lambda: load_events(path), file=path, line=2, field=None)


def test_jsonl_unknown_event_type(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "events.jsonl",
        '{"user": "u1", "item": "A1", "type": "view", "ts": 1700000001}\n{"user": "u1", "item": "A1", "type": "hover", "ts": 1700000002}\n',
    )
    raises_at(lambda: load_events(path), file=path, line=2, field="type")


def test_jsonl_missing_field_with_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "events.jsonl", '{"uid": "u1", "sku": "A1", "action": "view"}\n')
    mapping = {"user": "uid", "item": "sku", "type": "action", "ts": "time"}
    err = raises_at(lambda: load_events(path, mapping), file=path, line=1, field="time")
    assert "Event.ts" in str(err)


def test_jsonl_bad_timestamp(tmp_path: Path) -> None:
    path = write(tmp_path, "events.ndjson", '{"user": "u1", "item": "A1", "type": "view", "ts": "yesterday"}\n')
    raises_at(lambda: load_events(path), file=path, line=1, field="ts")


def test_parquet_bad_row_names_row(tmp_path: Path) -> None:
    frame = pd.DataFrame({"sku": ["A1", "A2", "A3"], "name": ["毛巾", "牙刷", "浴巾"], "price_cny": [9.9, 5.0, -1.0]})
    path = tmp_path / "goods.parquet"
    frame.to_parquet(path, index=False)
    err = raises_at(lambda: load_items(path, SHORT_MAPPING), file=path, line=3, field="price_cny")
    assert "row 3" in str(err)


def test_parquet_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "goods.parquet"
    pd.DataFrame({"id": ["A1"], "price": [1.0]}).to_parquet(path, index=False)
    raises_at(lambda: load_items(path), file=path, line=None, field="title")


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = write(tmp_path, "goods.parquet", "id,title\n")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_items(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_items(tmp_path / "nope.csv")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "goods.csv"
    path.write_bytes("id,title\nA1,毛巾\n".encode("gbk"))
    with pytest.raises(DataError, match="UTF-8") as err:
        load_items(path)
    assert err.value.file == str(path)


def test_models_are_validated_not_constructed(fixtures: Path) -> None:
    items = load_items(fixtures / "items.csv", ITEM_MAPPING)
    assert all(isinstance(it, Item) for it in items)
    assert Item.model_validate(items[0].model_dump()) == items[0]
