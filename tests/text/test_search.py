"""Lexical search over the bilingual catalog: Chinese and English queries, filters, odd input."""

from __future__ import annotations

import pytest

from shopguide.data.demo import ATTRIBUTE_VALUES, BRAND_NAMES, CATEGORY_NAMES, build_catalog
from shopguide.data.schema import Item
from shopguide.errors import DataError
from shopguide.text.search import SearchHit, SearchIndex, fold_plural

NAMES = {**ATTRIBUTE_VALUES, **CATEGORY_NAMES, **BRAND_NAMES}


@pytest.fixture(scope="module")
def items() -> dict[str, Item]:
    return {it.id: it for it in build_catalog(seed=7)}


@pytest.fixture(scope="module")
def index(items) -> SearchIndex:
    return SearchIndex.build(list(items.values()), attribute_names=NAMES)


def _types(items, hits: list[SearchHit]) -> list[str]:
    return [items[h.item_id].leaf_category for h in hits]


def test_red_dress_in_chinese_finds_the_red_dress_first(items, index):
    hits = index.search("红色连衣裙", 5)
    top = items[hits[0].item_id]
    assert top.leaf_category == "连衣裙" and "红" in top.attributes["color"]
    assert set(_types(items, hits)) == {"连衣裙"}
    assert "连衣裙" in hits[0].matched_terms and "红色" in hits[0].matched_terms
    assert hits[0].score > hits[1].score


def test_white_shirt_in_both_languages_finds_shirts_not_t_shirts(items, index):
    for query in ("白衬衫", "white shirt", "ｗｈｉｔｅ　ＳＨＩＲＴ"):  # the last one full-width
        hits = index.search(query, 5)
        assert _types(items, hits) == ["衬衫"] * 5, query
    assert index.search("white shirt") == index.search("ｗｈｉｔｅ　ｓｈｉｒｔ")
    assert "白色" in index.query_terms("白衬衫")  # colour shorthand 白 -> 白色


def test_rain_boots_in_english_and_chinese(items, index):
    for query in ("rain boots", "Rain Boot", "雨靴"):
        hits = index.search(query, 5)
        assert _types(items, hits) == ["雨靴"] * 5, query
    assert set(index.search("rain boots", 3)[0].matched_terms) == {"rain", "boot"}


def test_colour_words_decide_between_items_of_one_type():
    shirts = [
        Item(id="s-black", title="北辰 纯棉衬衫 黑色", category=["服装", "衬衫"], attributes={"color": "黑色"}),
        Item(id="s-white", title="北辰 纯棉衬衫 白色", category=["服装", "衬衫"], attributes={"color": "白色"}),
        Item(id="t-white", title="北辰 纯棉T恤 白色", category=["服装", "T恤"], attributes={"color": "白色"}),
        Item(id="mug", title="栖居 陶瓷马克杯", category=["家居", "马克杯"]),
    ]
    index = SearchIndex.build(shirts, attribute_names={"白色": "White", "黑色": "Black", "衬衫": "Shirts"})
    assert [h.item_id for h in index.search("白衬衫")][:2] == ["s-white", "s-black"]
    assert [h.item_id for h in index.search("white shirt")][:2] == ["s-white", "s-black"]
    assert "mug" not in {h.item_id for h in index.search("white shirt")}


def test_filters_category_price_and_stock(items, index):
    shoes = index.search("black", 50, category="鞋靴")
    assert shoes and all(items[h.item_id].category[0] == "鞋靴" for h in shoes)
    assert {h.item_id for h in index.search("black", 50, category="Shoes")} == {h.item_id for h in shoes}
    cheap = index.search("连衣裙", 50, max_price=300)
    assert cheap and all(items[h.item_id].price <= 300 for h in cheap)
    dear = index.search("连衣裙", 50, min_price=300)
    assert dear and all(items[h.item_id].price >= 300 for h in dear)
    assert index.search("连衣裙", 5, category="数码") == []
    sold_out = next(it for it in items.values() if not it.in_stock)
    query = sold_out.title
    assert sold_out.id not in {h.item_id for h in index.search(query, 50)}
    assert index.search(query, 1, in_stock_only=False)[0].item_id == sold_out.id


def test_bad_queries(index):
    for query in ("", "   ", "\u3000"):
        with pytest.raises(DataError) as err:
            index.search(query)
        assert err.value.field == "q"
    with pytest.raises(DataError):
        index.search("shirt", 0)
    assert index.search("!!!") == []
    assert index.search("zzzz-no-such-word") == []


def test_plural_folding():
    assert [fold_plural(w) for w in ("boots", "dresses", "shoes", "men's", "glass", "berries", "ml")] == [
        "boot",
        "dress",
        "shoe",
        "men",
        "glass",
        "berry",
        "ml",
    ]
