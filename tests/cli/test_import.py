"""``shopguide import``: own files land in the store exactly; a bad file imports nothing and says where."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguide.store import open_store

ITEMS_CSV = """\
id,title,category,brand,price,color
tea-01,西湖龙井 明前特级 250g,食品>茶叶,山岚,268,
mug-02,手绘青花瓷马克杯 350ml,家居>杯具,窑里,59.9,蓝色
bag-03,帆布托特包 大容量,箱包>托特包,布森,129,米色
"""

EVENTS_JSONL = """\
{"user": "u-li", "item": "tea-01", "type": "view", "ts": 1700000000}
{"user": "u-li", "item": "tea-01", "type": "purchase", "ts": "2023-11-14T22:20:00Z"}
{"user": "u-wang", "item": "mug-02", "type": "add_to_cart", "ts": 1700000300, "page": "首页"}
{"user": "u-wang", "item": "bag-03", "type": "pv", "ts": 1700000400}
"""

USERS_CSV = """\
id,city
u-li,杭州
u-wang,上海
"""

GOOD_EVENTS = [
    ("u-li", "tea-01", "view", 1700000000.0),
    ("u-li", "tea-01", "purchase", 1700000400.0),
    ("u-wang", "mug-02", "cart", 1700000300.0),
    ("u-wang", "bag-03", "view", 1700000400.0),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def own_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return (
        _write(tmp_path / "items.csv", ITEMS_CSV),
        _write(tmp_path / "events.jsonl", EVENTS_JSONL),
        _write(tmp_path / "users.csv", USERS_CSV),
    )


def _events(url: str) -> list[tuple[str, str, str, float]]:
    with open_store(url) as st:
        return sorted((e.user, e.item, e.type.value, e.ts) for e in st.iter_events())


def _import_own(cli, own_files, store_url):
    items, events, users = own_files
    return cli("import", "files", "--items", items, "--events", events, "--users", users, "--store", store_url)


def test_import_files_writes_exactly_the_rows(cli, own_files, store_url, stats):
    run = _import_own(cli, own_files, store_url)

    assert run.code == 0, run.out
    assert "3 items, 2 users, 4 events (0 duplicates skipped)" in run.out
    counts = stats(store_url)
    assert counts["items"] == 3
    assert counts["users"] == 2
    assert counts["events"] == 4
    assert (counts["events_view"], counts["events_purchase"], counts["events_cart"]) == (2, 1, 1)
    assert _events(store_url) == sorted(GOOD_EVENTS)
    with open_store(store_url) as st:
        tea = st.get_item("tea-01")
        mug = st.get_item("mug-02")
        assert tea.title == "西湖龙井 明前特级 250g"
        assert tea.category == ["食品", "茶叶"]
        assert tea.price == 268.0
        assert tea.attributes == {}  # an empty cell is missing, not ""
        assert mug.attributes == {"color": "蓝色"}
        assert st.get_user("u-li").attributes == {"city": "杭州"}
        (cart,) = [e for e in st.iter_events(user="u-wang") if e.item == "mug-02"]
        assert cart.context == {"page": "首页"}  # unknown event columns become context


def test_importing_the_same_events_twice_stores_them_once(cli, own_files, store_url, stats):
    assert _import_own(cli, own_files, store_url).code == 0
    before = stats(store_url)

    run = _import_own(cli, own_files, store_url)

    assert run.code == 0, run.out
    assert "0 events (4 duplicates skipped)" in run.out
    assert stats(store_url) == before


def test_item_mapping_renames_columns(cli, tmp_path, store_url):
    items = _write(tmp_path / "skus.csv", "sku,name,价格\nk1,羊毛围巾 灰色,199\nk2,真丝眼罩,89\n")

    run = cli(
        "import",
        "files",
        "--items",
        items,
        "--item-mapping",
        '{"id": "sku", "title": "name", "price": "价格"}',
        "--store",
        store_url,
    )

    assert run.code == 0, run.out
    with open_store(store_url) as st:
        assert [(it.id, it.title, it.price) for it in st.iter_items()] == [
            ("k1", "羊毛围巾 灰色", 199.0),
            ("k2", "真丝眼罩", 89.0),
        ]


BAD_EVENTS = {
    # file name, content (line 1 is the header for CSV), the field the message must name
    "bad_ts": (
        "events.csv",
        "user,item,type,ts\n"
        "u-li,tea-01,view,1700000000\n"
        "u-li,mug-02,view,1700000100\n"
        "u-wang,bag-03,view,yesterday-ish\n"
        "u-wang,tea-01,view,1700000300\n",
        "ts",
    ),
    "unknown_type": (
        "events.jsonl",
        '{"user": "u-li", "item": "tea-01", "type": "view", "ts": 1700000000}\n'
        '{"user": "u-li", "item": "mug-02", "type": "view", "ts": 1700000100}\n'
        '{"user": "u-li", "item": "bag-03", "type": "cart", "ts": 1700000200}\n'
        '{"user": "u-wang", "item": "bag-03", "type": "teleport", "ts": 1700000300}\n',
        "type",
    ),
    "missing_user": (
        "events.csv",
        "user,item,type,ts\nu-li,tea-01,view,1700000000\nu-li,mug-02,view,1700000100\n,bag-03,view,1700000200\n",
        "user",
    ),
    "nan_value": (
        "events.jsonl",
        '{"user": "u-li", "item": "tea-01", "type": "view", "ts": 1700000000}\n'
        '{"user": "u-li", "item": "mug-02", "type": "view", "ts": 1700000100}\n'
        '{"user": "u-li", "item": "bag-03", "type": "cart", "ts": 1700000200}\n'
        '{"user": "u-wang", "item": "bag-03", "type": "purchase", "ts": 1700000300, "value": NaN}\n',
        "value",
    ),
    "infinite_ts": (
        "events.csv",
        "user,item,type,ts\nu-li,tea-01,view,1700000000\nu-li,mug-02,view,1700000100\nu-li,bag-03,view,Infinity\n",
        "ts",
    ),
    "ts_1e20": (
        "events.csv",
        "user,item,type,ts\nu-li,tea-01,view,1700000000\nu-li,mug-02,view,1700000100\nu-li,bag-03,view,1e20\n",
        "ts",
    ),
    "nul_in_user": (
        "events.jsonl",
        '{"user": "u-li", "item": "tea-01", "type": "view", "ts": 1700000000}\n'
        '{"user": "u-li", "item": "mug-02", "type": "view", "ts": 1700000100}\n'
        '{"user": "u-li", "item": "bag-03", "type": "cart", "ts": 1700000200}\n'
        '{"user": "u-wang\\u0000", "item": "bag-03", "type": "view", "ts": 1700000300}\n',
        "user",
    ),
}


@pytest.mark.parametrize("store_had_data", [False, True], ids=["empty-store", "store-with-data"])
@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_corrupt_events_file_names_file_line_field_and_imports_nothing(
    cli, tmp_path, own_files, store_url, stats, case, store_had_data
):
    if store_had_data:
        assert _import_own(cli, own_files, store_url).code == 0
    before = stats(store_url)
    events_before = _events(store_url)
    name, content, field = BAD_EVENTS[case]
    (tmp_path / "bad").mkdir()
    bad = _write(tmp_path / "bad" / name, content)
    new_items = _write(tmp_path / "new_items.csv", "id,title\nnew-1,全新商品 一号\n")

    run = cli("import", "files", "--items", new_items, "--events", bad, "--store", store_url)

    assert run.code == 2, run.out
    assert str(bad) in run.out
    assert "line 4" in run.out
    assert f"field '{field}'" in run.out
    assert "Traceback" not in run.out
    assert stats(store_url) == before  # not even the valid items file was written
    assert _events(store_url) == events_before


def test_unterminated_quote_names_file_and_line_and_imports_nothing(cli, tmp_path, store_url, stats):
    bad = _write(tmp_path / "items.csv", 'id,title\nk1,羊毛围巾\nk2,"真丝眼罩\nk3,帆布包\n')

    run = cli("import", "files", "--items", bad, "--store", store_url)

    assert run.code == 2, run.out
    assert str(bad) in run.out and "line 3" in run.out
    assert "never closed" in run.out
    assert stats(store_url)["items"] == 0


def test_bad_item_mapping_json_is_a_usage_error(cli, own_files, store_url, stats):
    items, _, _ = own_files

    run = cli("import", "files", "--items", items, "--item-mapping", "{id: sku", "--store", store_url)

    assert run.code == 2, run.out
    assert "--item-mapping must be a JSON object" in run.out
    assert "Traceback" not in run.out
    assert stats(store_url)["items"] == 0


def test_item_mapping_that_is_not_an_object_is_a_usage_error(cli, own_files, store_url):
    items, _, _ = own_files

    run = cli("import", "files", "--items", items, "--item-mapping", '["id", "sku"]', "--store", store_url)

    assert run.code == 2, run.out
    assert "--item-mapping must be a JSON object" in run.out


def test_item_mapping_naming_an_unknown_field_is_a_usage_error(cli, own_files, store_url):
    items, _, _ = own_files

    run = cli("import", "files", "--items", items, "--item-mapping", '{"colour": "color"}', "--store", store_url)

    assert run.code == 2, run.out
    assert str(items) in run.out
    assert "'colour'" in run.out
    assert "Item field" in run.out


def test_public_format_without_a_path_is_a_usage_error(cli, store_url, stats):
    run = cli("import", "amazon", "--store", store_url)

    assert run.code == 2, run.out
    assert "'amazon' needs the data path" in run.out


def test_files_without_any_file_is_a_usage_error(cli, store_url):
    run = cli("import", "files", "--store", store_url)

    assert run.code == 2, run.out
    assert "at least one of --items, --events, --users" in run.out


def test_missing_file_is_named(cli, tmp_path, store_url):
    missing = tmp_path / "nowhere" / "events.csv"

    run = cli("import", "files", "--events", missing, "--store", store_url)

    assert run.code == 2, run.out
    assert str(missing) in run.out
    assert "file not found" in run.out
