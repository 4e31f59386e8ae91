"""Property-based tests of every importer: arbitrary bytes never raise anything but DataError, and valid
generated rows come back exactly. Examples are derandomised (the same on every run) and few enough to keep
the suite fast; nothing here depends on the machine's speed."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopguide.data.loaders import load_amazon, load_events, load_items, load_movielens, load_taobao, load_users
from shopguide.data.schema import EARLIEST_EVENT_TS, ID_PATTERN, EventType
from shopguide.errors import DataError

FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
ROUND_TRIP = settings(max_examples=100, deadline=None, derandomize=True, database=None)

# ---------------------------------------------------------------------------------------------- strategies
#: Pieces that steer random bytes towards the parsers' corners: quotes, separators, numbers that are not
#: numbers, control characters, broken UTF-8, JSON punctuation.
PIECES = [b",", b'"', b"\n", b"\r\n", b"\r", b"\t", b"|", b" ", b"\x00", b"\x1b", b"\x7f", b"\xff", b"\xc3",
          b"\xe4\xb8\xad", b"NaN", b"Infinity", b"-inf", b"1e20", b"1700000000", b"-1", b"99999999999999999999",
          b"u1", b"i1", b"view", b"buy", b"pv", b"rating", b"{", b"}", b"[", b"]", b":", b"null", b"true",
          b'"ts"', b'"user"', b"/", b"\xc2\xb2", b"\\u0000"]  # fmt: skip
junk = st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join))


def fuzz_file(name: str, header: bytes = b"") -> st.SearchStrategy[bytes]:
    """Bytes for ``name``: sometimes after a valid header, so that parsing reaches row validation."""
    return st.one_of(junk, junk.map(lambda body: header + body)) if header else junk


def only_data_errors(call: Callable[[], object]) -> None:
    """Run ``call``; a DataError is a fine answer, any other exception fails the test."""
    with contextlib.suppress(DataError):
        call()


_ID = re.compile(ID_PATTERN)
ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda s: _ID.fullmatch(s) is not None and s == s.strip()
)
#: Words that no scrubbing touches (no digits, no "@") and that survive stripping.
words = st.text(st.sampled_from("abcdefxyzABC商品红色棉 -_.'\"#"), min_size=1, max_size=16).map(str.strip).filter(bool)
context_keys = st.sampled_from(["page", "source", "placement", "device", "lang"])


@st.composite
def events(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from([t.value for t in EventType]))
    high = 10.0 if kind == "rating" else 1e9
    return {
        "user": draw(ids),
        "item": draw(ids),
        "type": kind,
        "value": draw(st.floats(0, high, allow_nan=False)),
        "ts": draw(st.floats(EARLIEST_EVENT_TS, 1_700_000_000.0, allow_nan=False)),
        "session": draw(st.none() | ids),
        "context": draw(st.dictionaries(context_keys, words, max_size=3)),
    }


@st.composite
def items(draw: st.DrawFn) -> dict:
    name = st.text(st.sampled_from("abcxyz商品红色棉 -_"), min_size=1, max_size=10).map(str.strip).filter(bool)
    return {
        "id": draw(ids),
        "title": draw(words),
        "price": draw(st.none() | st.floats(0, 1e9, allow_nan=False)),
        "category": draw(st.lists(name, max_size=3)),
        "tags": draw(st.lists(name, max_size=3)),
        "attributes": draw(st.dictionaries(st.sampled_from(["color", "size", "material"]), words, max_size=2)),
    }


def unique_ids(rows: list[dict]) -> list[dict]:
    return list({row["id"]: row for row in rows}.values())


# ---------------------------------------------------------------------------------------------- fuzzing
EVENT_HEADER = b"user,item,type,ts,value,session,page\n"


@FUZZ
@given(data=fuzz_file("events.csv", EVENT_HEADER), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".json"]))
def test_own_event_files_raise_only_data_errors(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"events{suffix}"
        path.write_bytes(data)
        only_data_errors(lambda: load_events(path))


@FUZZ
@given(data=fuzz_file("items.csv", b"id,title,price,category,tags,color\n"), suffix=st.sampled_from([".csv", ".jsonl"]))
def test_own_item_and_user_files_raise_only_data_errors(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"rows{suffix}"
        path.write_bytes(data)
        only_data_errors(lambda: load_items(path))
        only_data_errors(lambda: load_users(path))


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(data=junk)
def test_parquet_files_raise_only_data_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"
        path.write_bytes(b"PAR1" + data + b"PAR1")
        only_data_errors(lambda: load_events(path))


@FUZZ
@given(data=fuzz_file("UserBehavior.csv", b"1,2,3,pv,1511544070\n"))
def test_taobao_raises_only_data_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "UserBehavior.csv"
        path.write_bytes(data)
        only_data_errors(lambda: load_taobao(path))


@FUZZ
@given(
    ratings=fuzz_file("u.data", b"1\t1\t5\t881250949\n"),
    movies=fuzz_file("u.item", b"1|Toy Story (1995)|01-Jan-1995||http://x|0|1\n"),
    genres=st.none() | fuzz_file("u.genre", b"unknown|0\nAction|1\n"),
    users=st.none() | fuzz_file("u.user", b"1|24|M|technician|85711\n"),
)
def test_movielens_raises_only_data_errors(ratings: bytes, movies: bytes, genres: bytes | None, users) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "u.data").write_bytes(ratings)
        (folder / "u.item").write_bytes(movies)
        if genres is not None:
            (folder / "u.genre").write_bytes(genres)
        if users is not None:
            (folder / "u.user").write_bytes(users)
        only_data_errors(lambda: load_movielens(folder))


AMAZON_HEADER = b"s3rec_item_id\tasin\ttitle\tsales_type\tsales_rank\tcategories\tprice\tbrand\n"


@FUZZ
@given(
    sequences=fuzz_file("Mini.txt", b"1 1 2 3\n"),
    catalog=st.none() | fuzz_file("mini_items_joined.tsv", AMAZON_HEADER),
    users=st.none() | fuzz_file("mini_users_map.tsv", b"s3rec_user_id\treviewerID\n1\tA1\n"),
    attributes=st.none() | fuzz_file("Mini_item2attributes.json", b'{"1": [1, 2]'),
)
def test_amazon_raises_only_data_errors(sequences: bytes, catalog, users, attributes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Mini.txt").write_bytes(sequences)
        for name, data in (
            ("mini_items_joined.tsv", catalog),
            ("mini_users_map.tsv", users),
            ("Mini_item2attributes.json", attributes),
        ):
            if data is not None:
                (folder / name).write_bytes(data)
        only_data_errors(lambda: load_amazon(folder, dataset="Mini"))


# ---------------------------------------------------------------------------------------------- round trips
def expected_events(rows: list[dict]) -> list[tuple]:
    return [(r["user"], r["item"], r["type"], r["value"], r["ts"], r["session"], r["context"]) for r in rows]


def loaded_events(events_: list) -> list[tuple]:
    return [(e.user, e.item, e.type.value, e.value, e.ts, e.session, e.context) for e in events_]


@ROUND_TRIP
@given(rows=st.lists(events(), min_size=1, max_size=8))
def test_valid_event_rows_round_trip_through_csv(rows: list[dict]) -> None:
    keys = ["page", "source", "placement", "device", "lang"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user", "item", "type", "value", "ts", "session", *keys])
    for r in rows:
        writer.writerow(
            [r["user"], r["item"], r["type"], repr(r["value"]), repr(r["ts"]), r["session"] or ""]
            + [r["context"].get(k, "") for k in keys]
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        path.write_text(out.getvalue(), encoding="utf-8", newline="")
        assert loaded_events(load_events(path)) == expected_events(rows)


@ROUND_TRIP
@given(rows=st.lists(events(), min_size=1, max_size=8))
def test_valid_event_rows_round_trip_through_jsonl(rows: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        assert loaded_events(load_events(path)) == expected_events(rows)


def item_tuples(rows) -> list[tuple]:
    return [(r["id"], r["title"], r["price"], r["category"], r["tags"], r["attributes"]) for r in rows]


@ROUND_TRIP
@given(rows=st.lists(items(), min_size=1, max_size=6).map(unique_ids))
def test_valid_item_rows_round_trip_through_csv_and_jsonl(rows: list[dict]) -> None:
    attrs = ["color", "size", "material"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "title", "price", "category", "tags", *attrs])
    for r in rows:
        price = "" if r["price"] is None else repr(r["price"])
        writer.writerow(
            [r["id"], r["title"], price, " > ".join(r["category"]), "|".join(r["tags"])]
            + [r["attributes"].get(k, "") for k in attrs]
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "items.csv"
        path.write_text(out.getvalue(), encoding="utf-8", newline="")
        loaded = load_items(path)
        assert item_tuples(it.model_dump() for it in loaded) == item_tuples(rows)
        path = Path(tmp) / "items.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        assert item_tuples(it.model_dump() for it in load_items(path)) == item_tuples(rows)


digits = st.integers(1, 10**9).map(str)
taobao_rows = st.lists(
    st.tuples(digits, digits, digits, st.sampled_from(["pv", "cart", "fav", "buy"]), st.integers(0, 4_102_444_799)),
    min_size=1,
    max_size=10,
)


@ROUND_TRIP
@given(rows=taobao_rows)
def test_valid_taobao_rows_round_trip(rows: list[tuple]) -> None:
    kinds = {"pv": "view", "cart": "cart", "fav": "fav", "buy": "purchase"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "UserBehavior.csv"
        path.write_text("".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
        data = load_taobao(path)
    assert [(e.user, e.item, e.type.value, e.value, e.ts) for e in data.events] == [
        (u, i, kinds[b], 1.0, float(ts)) for u, i, _, b, ts in rows
    ]
    first_category = {}
    for _, i, c, _, _ in rows:
        first_category.setdefault(i, c)
    assert {it.id: it.category for it in data.items} == {i: [c] for i, c in first_category.items()}


@ROUND_TRIP
@given(
    rows=st.lists(st.tuples(digits, digits, st.integers(1, 5), st.integers(0, 4_102_444_799)), min_size=1, max_size=10)
)
def test_valid_movielens_ratings_round_trip(rows: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "u.data").write_text("".join("\t".join(map(str, r)) + "\n" for r in rows), encoding="latin-1")
        (folder / "u.item").write_text("", encoding="latin-1")
        data = load_movielens(folder)
    assert [(e.user, e.item, e.type, e.value, e.ts) for e in data.events] == [
        (u, i, EventType.RATING, float(stars), float(ts)) for u, i, stars, ts in rows
    ]


@ROUND_TRIP
@given(sequences=st.dictionaries(digits, st.lists(digits, max_size=6), min_size=1, max_size=6))
def test_valid_amazon_sequences_round_trip(sequences: dict[str, list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text = "".join(" ".join([user, *seq]) + "\n" for user, seq in sequences.items())
        (folder / "Mini.txt").write_text(text, encoding="utf-8")
        data = load_amazon(folder, dataset="Mini")
    expected = [(u, it, float(pos)) for u, seq in sequences.items() for pos, it in enumerate(seq)]
    assert [(e.user, e.item, e.ts) for e in data.events] == expected
    assert [u.id for u in data.users] == list(sequences)
