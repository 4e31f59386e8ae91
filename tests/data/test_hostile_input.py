"""Hostile input at the edge: numbers that are not numbers, times outside the window, control characters,
malformed files. Each bad record is refused alone with its field and a reason; a bad row of a file is a
DataError naming the file, line and field, and nothing of the file is imported."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from shopguide.data.loaders import load_amazon, load_events, load_items, load_movielens, load_taobao, load_users
from shopguide.data.schema import (
    EARLIEST_EVENT_TS,
    ID_PATTERN,
    MAX_EVENT_AHEAD_S,
    Event,
    EventType,
    Item,
    User,
    validate_record,
)
from shopguide.errors import DataError

NOW = 1_800_000_000.0  # the receiving clock of these tests: 2027-01-15
OK_TS = 1_700_000_000.0
BASE = {"user": "u1", "item": "i1", "type": "view", "ts": OK_TS}


def rejected(record: dict, model: type = Event) -> DataError:
    with pytest.raises(DataError) as err:
        validate_record(model, record, file=None, line=None, now=NOW)
    return err.value


def accepted(record: dict, model: type = Event):
    return validate_record(model, record, file=None, line=None, now=NOW)


# ---------------------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    "ts",
    [math.nan, math.inf, -math.inf, "NaN", "nan", "Infinity", "-Infinity", "inf", " NaN "],
)
def test_non_finite_times_are_refused(ts) -> None:
    err = rejected({**BASE, "ts": ts})
    assert err.field == "ts"
    assert "finite" in err.message


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "NaN", "Infinity", "-inf"])
def test_non_finite_values_are_refused(value) -> None:
    err = rejected({**BASE, "value": value})
    assert err.field == "value"
    assert "finite" in err.message


def test_the_time_window_edges() -> None:
    assert accepted({**BASE, "ts": EARLIEST_EVENT_TS}).ts == EARLIEST_EVENT_TS
    assert accepted({**BASE, "ts": "2000-01-01T00:00:00Z"}).ts == EARLIEST_EVENT_TS
    assert accepted({**BASE, "ts": NOW + MAX_EVENT_AHEAD_S}).ts == NOW + MAX_EVENT_AHEAD_S

    early = rejected({**BASE, "ts": EARLIEST_EVENT_TS - 1})
    assert early.field == "ts"
    assert early.message == "1999-12-31T23:59:59Z is before 2000-01-01, the earliest event time accepted"
    late = rejected({**BASE, "ts": NOW + MAX_EVENT_AHEAD_S + 1})
    assert late.field == "ts" and "more than a day in the future" in late.message
    assert "1e+20" in rejected({**BASE, "ts": 1e20}).message
    assert rejected({**BASE, "ts": -1e20}).field == "ts"
    assert rejected({**BASE, "ts": 0}).field == "ts"


def test_times_that_are_not_numbers_are_a_data_error_not_a_crash() -> None:
    for ts in ([1], {"a": 1}, True, 10**400, "yesterday", "1" * 5000):
        assert rejected({**BASE, "ts": ts}).field == "ts"


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("purchase", -1, "must not be negative, got -1"),
        ("purchase", 1e9 + 1, "must be at most 1,000,000,000, got 1e+09"),
        ("view", -0.5, "must not be negative, got -0.5"),
        ("rating", 11, "a rating must lie between 0 and 10, got 11"),
        ("rating", -1, "a rating must lie between 0 and 10, got -1"),
    ],
)
def test_absurd_values_are_refused_per_event_type(kind: str, value: float, reason: str) -> None:
    err = rejected({**BASE, "type": kind, "value": value})
    assert (err.field, err.message) == ("value", reason)


def test_plausible_values_pass() -> None:
    assert accepted({**BASE, "type": "rating", "value": 4.5}).value == 4.5
    assert accepted({**BASE, "type": "purchase", "value": 3}).value == 3.0
    assert accepted({**BASE, "type": "purchase", "value": 1e9}).value == 1e9


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", math.nan), ("price", "Infinity"), ("price", 1e10), ("price", -1), ("stock", -5), ("stock", 10**12),
     ("created_at", 1e20), ("created_at", math.inf)],
)  # fmt: skip
def test_absurd_item_numbers_are_refused(field: str, value) -> None:
    err = rejected({"id": "sku-1", "title": "a tea cup", field: value}, Item)
    assert err.field == field


# ---------------------------------------------------------------------------------------------- ids and text
@pytest.mark.parametrize("bad", ["a\x00b", "a\x01", "\x7fx", "a\x85b", "tab\there", "a b", "a/b", "x" * 129])
@pytest.mark.parametrize("field", ["user", "item"])
def test_ids_with_control_characters_whitespace_or_slashes_are_refused(field: str, bad: str) -> None:
    assert rejected({**BASE, field: bad}).field == field


def test_the_id_pattern_refuses_control_characters() -> None:
    import re

    pattern = re.compile(ID_PATTERN)
    assert pattern.fullmatch("demo-0001") and pattern.fullmatch("商品_42") and pattern.fullmatch("a.b:c")
    for bad in ("a\x00", "\x1fb", "a\x7f", "a\x9f", "a b", "a/b"):
        assert not pattern.fullmatch(bad)


@pytest.mark.parametrize("field", ["id", "session"])
def test_event_and_session_ids_refuse_control_characters(field: str) -> None:
    err = rejected({**BASE, field: "s-1\x00"})
    assert err.field == field and "U+0000" in err.message
    assert accepted({**BASE, field: "s-1 with a space"}) is not None


def test_free_text_keeps_line_breaks_and_tabs_and_refuses_other_controls() -> None:
    item = accepted({"id": "sku-1", "title": "mug\t350ml", "description": "line one\r\nline two\tend"}, Item)
    assert item.title == "mug\t350ml"
    assert item.description == "line one\nline two\tend"
    for field in ("title", "title_alt", "brand", "description"):
        err = rejected({"id": "sku-1", "title": "t", field: "bad\x00text"}, Item)
        assert err.field == field and "U+0000" in err.message
    assert rejected({"id": "sku-1", "title": "t", "category": ["home", "cups\x1b"]}, Item).field == "category"
    assert rejected({"id": "sku-1", "title": "t", "tags": ["a\nb"]}, Item).field == "tags"
    assert rejected({"id": "sku-1", "title": "t", "attributes": {"colo\x00r": "red"}}, Item).field == "attributes"
    assert rejected({"id": "u1", "attributes": {"city": "x\x00"}}, User).field == "attributes"


# ---------------------------------------------------------------------------------------------- context
@pytest.mark.parametrize(
    ("context", "reason"),
    [
        ({"page": {"nested": 1}}, "the value of 'page' must be a string, a number or a boolean"),
        ({"page": [1, 2]}, "the value of 'page' must be a string, a number or a boolean"),
        ({"position": math.nan}, "the value of 'position' must be a finite number, not nan"),
        ({"position": math.inf}, "the value of 'position' must be a finite number, not inf"),
        ({"page": "home\x00"}, "context 'page' contains a control character (U+0000) (line breaks and tabs are allowed)"),
        ({"k" * 65: "v"}, "a context key must have 1 to 64 characters, got 65"),
        ({"page": "x" * 2001}, "the value of 'page' is longer than 2000 characters"),
        ({f"k{i}": "v" for i in range(51)}, "at most 50 context keys, got 51"),
    ],
)  # fmt: skip
def test_absurd_context_is_refused(context: dict, reason: str) -> None:
    err = rejected({**BASE, "context": context})
    assert (err.field, err.message) == ("context", reason)


def test_personal_data_in_context_is_masked_before_storing() -> None:
    event = accepted({**BASE, "context": {"note": "call me at 13812345678", "mail": "a.b@example.com", "page": "home"}})
    assert "13812345678" not in event.context["note"] and "[phone]" in event.context["note"]
    assert event.context["mail"] == "[email]"
    assert event.context["page"] == "home"


def test_models_built_in_code_are_not_the_edge() -> None:
    """Rows read back from the store are built without the edge rules: what an older version stored never
    makes a read fail (analytics skip what they cannot use)."""
    legacy = Event(user="u1", item="i1", type=EventType.VIEW, ts=math.inf, value=math.nan)
    assert math.isinf(legacy.ts) and math.isnan(legacy.value)


# ---------------------------------------------------------------------------------------------- files
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def raises_at(call, *, file: Path, line: int | None, field: str | None) -> DataError:
    with pytest.raises(DataError) as err:
        call()
    assert err.value.file == str(file)
    assert (err.value.line, err.value.field) == (line, field)
    return err.value


@pytest.mark.parametrize(
    ("cell", "field"),
    [("NaN", "ts"), ("Infinity", "ts"), ("1e20", "ts"), ("946684799", "ts"), ("-1", "ts")],
)
def test_csv_events_with_bad_times_name_file_line_and_field(tmp_path: Path, cell: str, field: str) -> None:
    path = write(tmp_path / "events.csv", f"user,item,type,ts\nu1,i1,view,1700000000\nu1,i2,view,{cell}\n")
    raises_at(lambda: load_events(path), file=path, line=3, field=field)


def test_jsonl_events_with_nan_and_infinity_literals(tmp_path: Path) -> None:
    path = write(
        tmp_path / "events.jsonl",
        '{"user": "u1", "item": "i1", "type": "view", "ts": 1700000000}\n'
        '{"user": "u1", "item": "i1", "type": "purchase", "ts": 1700000001, "value": NaN}\n',
    )
    err = raises_at(lambda: load_events(path), file=path, line=2, field="value")
    assert "finite" in err.message
    path = write(tmp_path / "more.jsonl", '{"user": "u1", "item": "i1", "type": "view", "ts": -Infinity}\n')
    raises_at(lambda: load_events(path), file=path, line=1, field="ts")


def test_csv_rating_outside_the_scale(tmp_path: Path) -> None:
    path = write(
        tmp_path / "events.csv", "user,item,type,ts,value\nu1,i1,rating,1700000000,4\nu1,i2,rating,1700000000,50\n"
    )
    err = raises_at(lambda: load_events(path), file=path, line=3, field="value")
    assert "rating" in err.message


def test_a_context_column_with_a_control_character_names_the_column(tmp_path: Path) -> None:
    path = write(tmp_path / "events.csv", "user,item,type,ts,page\nu1,i1,view,1700000000,home\x07\n")
    raises_at(lambda: load_events(path), file=path, line=2, field="context")


def test_a_nul_in_an_item_id_names_the_mapped_column(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", "sku,name\nok-1,a cup\nbad\x00id,a pot\n")
    err = raises_at(lambda: load_items(path, {"id": "sku", "title": "name"}), file=path, line=3, field="sku")
    assert "control characters" in err.message


def test_users_with_control_characters_in_attributes(tmp_path: Path) -> None:
    path = write(tmp_path / "users.jsonl", '{"id": "u1", "city": "杭州"}\n{"id": "u2", "city": "x\\u0000"}\n')
    raises_at(lambda: load_users(path), file=path, line=2, field="attributes")


# ---------------------------------------------------------------------------------------------- malformed CSV
@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('user,item,type,ts\nu1,i1,view,1700000000\nu1,"i2,view,1700000000\nu2,i3,view,1700000000\n', 3,
         "malformed row: a quoted field opened on this line is never closed"),
        ('user,item,type,ts\nu1,"i1"x,view,1700000000\n', 2, "malformed row: ',' expected after '\"'"),
    ],
)  # fmt: skip
def test_csv_with_malformed_quoting_fails_naming_the_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = write(tmp_path / "events.csv", text)
    err = raises_at(lambda: load_events(path), file=path, line=line, field=None)
    assert err.message == reason


def test_unterminated_quote_in_an_items_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", 'id,title\nsku-1,"a cup\nsku-2,a pot\n')
    raises_at(lambda: load_items(path), file=path, line=2, field=None)


def test_unterminated_quote_in_the_amazon_items_tsv(tmp_path: Path, fixtures: Path) -> None:
    data = tmp_path / "s3rec"
    shutil.copytree(fixtures / "s3rec", data)
    tsv = data / "mini_items_joined.tsv"
    tsv.write_text(tsv.read_text(encoding="utf-8") + '7\tB000TEST07\t"Open quote\tBeauty\t\t\t\t\n', encoding="utf-8")
    raises_at(lambda: load_amazon(data, dataset="Mini"), file=tsv, line=len(tsv.read_text().splitlines()), field=None)


def test_deeply_nested_or_huge_json_is_a_data_error(tmp_path: Path) -> None:
    path = write(tmp_path / "events.jsonl", "[" * 100_000 + "\n")
    raises_at(lambda: load_events(path), file=path, line=None, field=None)
    path = write(tmp_path / "more.jsonl", '{"user": "u1", "item": "i1", "type": "view", "ts": ' + "9" * 5000 + "}\n")
    raises_at(lambda: load_events(path), file=path, line=1, field=None)


# ---------------------------------------------------------------------------------------------- public formats
def test_taobao_refuses_absurd_times_and_ids(tmp_path: Path) -> None:
    good = "1,2,3,pv,1511544070\n"
    for row, field in (
        ("1,2,3,pv,99999999999999999999\n", "timestamp"),
        ("1,2,3,pv,-5\n", "timestamp"),
        ("1 x,2,3,pv,1511544070\n", "user_id"),
        ("1,2\x00,3,pv,1511544070\n", "item_id"),
        ("1,2,3/4,pv,1511544070\n", "category_id"),
    ):
        path = write(tmp_path / "UserBehavior.csv", good + row)
        raises_at(lambda path=path: load_taobao(path), file=path, line=2, field=field)


def test_movielens_refuses_ratings_off_the_scale_and_non_ascii_digits(tmp_path: Path, fixtures: Path) -> None:
    data = tmp_path / "ml"
    shutil.copytree(fixtures / "ml-mini", data)
    ratings = data / "u.data"
    original = ratings.read_text(encoding="latin-1")
    for row, field in (("1\t1\t9\t881250949", "rating"), ("1\t1\t0\t881250949", "rating"),
                       ("1\t1\t3\t99999999999", "timestamp"), ("1\t1²\t3\t881250949", "item_id")):  # fmt: skip
        ratings.write_text(original + row + "\n", encoding="latin-1")
        line = len(original.splitlines()) + 1
        raises_at(lambda: load_movielens(data), file=ratings, line=line, field=field)


def test_amazon_refuses_non_ascii_digits_and_bad_attribute_lists(tmp_path: Path, fixtures: Path) -> None:
    data = tmp_path / "s3rec"
    shutil.copytree(fixtures / "s3rec", data)
    seq = data / "Mini.txt"
    seq.write_text(seq.read_text(encoding="utf-8") + "4 ²\n", encoding="utf-8")
    raises_at(lambda: load_amazon(data, dataset="Mini"), file=seq, line=4, field="item_id")
    shutil.copy(fixtures / "s3rec" / "Mini.txt", seq)
    attrs = data / "Mini_item2attributes.json"
    attrs.write_text('{"1": 5}', encoding="utf-8")
    raises_at(lambda: load_amazon(data, dataset="Mini"), file=attrs, line=None, field="1")
    attrs.write_text('{"1": ["a b"]}', encoding="utf-8")
    raises_at(lambda: load_amazon(data, dataset="Mini"), file=attrs, line=None, field="1")


# ---------------------------------------------------------------------------------------------- training data
def test_legacy_rating_values_are_clamped_into_the_scale_for_training() -> None:
    from shopguide.data.dataset import Dataset

    rows = [("u1", "a", math.nan), ("u1", "b", math.inf), ("u2", "a", -math.inf), ("u2", "b", 50.0), ("u3", "a", 4.0)]
    data = Dataset.from_events(Event(user=u, item=i, type=EventType.RATING, value=v, ts=1.7e9) for u, i, v in rows)
    assert data.row_weights.tolist() == [0.0, 10.0, 0.0, 10.0, 4.0]
    assert np.isfinite(data.matrix.data).all()
