"""Context re-ranking: conditions from time, place and weather; boosts with reasons; injected candidates."""

from __future__ import annotations

import json

import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.demo import demo_data
from shopguide.data.schema import Item
from shopguide.errors import ConfigError, DataError
from shopguide.recommend.base import Recommendation
from shopguide.recommend.context import (
    DEFAULT_RULES,
    Context,
    ContextIndex,
    ContextReranker,
    ContextRules,
    candidates_for,
    parse_weather,
)
from shopguide.recommend.explain import Reason

RAIN_TYPES = {"雨伞", "雨靴", "冲锋衣"}


def _item(item_id: str, ptype: str, top: str = "服装", **kw) -> Item:
    return Item(id=item_id, title=f"{ptype} {item_id}", category=[top, ptype], **kw)


@pytest.fixture(scope="module")
def demo():
    return demo_data()


@pytest.fixture(scope="module")
def catalog() -> dict[str, Item]:
    items = [
        _item("shirt", "衬衫", attributes={"season": "四季"}),
        _item("tee", "T恤", tags=["summer"]),
        _item("umbrella", "雨伞", top="配饰", tags=["rain", "waterproof", "uv"]),
        _item("boots", "雨靴", top="鞋靴", tags=["rain", "waterproof", "uv"]),
        _item("down", "羽绒服", tags=["warm"], attributes={"season": "冬季"}),
        _item("bag", "双肩包", top="箱包"),
    ]
    return {it.id: it for it in items}


def _recs(*pairs: tuple[str, float]) -> list[Recommendation]:
    return [Recommendation(item, score, "item_knn", Reason("similar_taste")) for item, score in pairs]


def test_weather_words_in_chinese_and_english_and_temperature():
    assert parse_weather("小雨") == {"rain"}
    assert parse_weather("下雨") == {"rain"}
    assert parse_weather("下雪") == {"snow", "cold"}
    assert parse_weather("Cold and WINDY") == {"cold", "windy"}
    assert parse_weather("晴") == {"sunny"}
    assert parse_weather("热") == {"hot"}
    assert parse_weather("ｒａｉｎ") == {"rain"}  # full-width
    assert parse_weather("rainbow cake") == set()  # English matches whole words only
    assert parse_weather(None, 3.0) == {"cold"}
    assert parse_weather(None, 31.5) == {"hot"}
    assert parse_weather(None, 20.0) == set()


def test_conditions_from_time_hemisphere_and_place():
    evening = Context(local_time="2026-07-20T19:30:00", city="Shanghai")
    assert evening.conditions() == {"season=summer", "time=evening", "city=shanghai"}
    south = Context(local_time="2026-07-20T08:00:00", hemisphere="south")
    assert south.conditions() == {"season=winter", "time=morning"}
    assert Context(local_time="2026-01-05T23:00").conditions() == {"season=winter", "time=night"}
    # observed weather beats the calendar: no summer boost on a snowy July day
    assert Context(local_time="2026-07-20T12:00", weather="下雪").conditions() == {
        "weather=snow",
        "weather=cold",
        "time=afternoon",
    }
    assert Context().conditions() == frozenset()


def test_parse_names_the_bad_field():
    assert Context.parse({"weather": "雨", "temperature_c": "", "local_time": ""}).conditions() == {"weather=rain"}
    with pytest.raises(DataError) as err:
        Context.parse({"local_time": "yesterday"})
    assert err.value.field == "local_time"
    with pytest.raises(DataError) as err:
        Context.parse(hemisphere="east")
    assert err.value.field == "hemisphere"


def test_rules_load_from_a_json_dict_and_reject_bad_ones():
    rules = ContextRules.from_dict(json.loads(json.dumps({"rules": DEFAULT_RULES})))
    assert len(rules.rules) == len(DEFAULT_RULES)
    custom = ContextRules.from_dict([{"when": "city=harbin", "factor": 2, "product_types": ["羽绒服"]}])
    assert custom.active(Context(city="Harbin")) == ((0, "harbin"),)
    for bad in ([{"when": "rain"}], [{"when": "weather=rain", "factor": -1}], [{"when": "weather=rain", "tags": 3}]):
        with pytest.raises(ConfigError, match="context rule 0"):
            ContextRules.from_dict(bad)
    with pytest.raises(ConfigError):
        ContextRules.from_dict({"rules": "weather=rain"})


def test_rain_boosts_rain_gear_with_a_context_reason(catalog):
    recs = _recs(("shirt", 1.0), ("tee", 0.9), ("umbrella", 0.7), ("bag", 0.66), ("boots", 0.65))
    ranked = ContextReranker().rerank(recs, catalog, Context(weather="下雨"), n=4)
    assert [r.item for r in ranked] == ["umbrella", "boots", "shirt", "tee"]
    top = ranked[0]
    assert top.score == pytest.approx(0.7 * 1.6)
    assert top.source == "item_knn"  # the source stays; the context is in the reason
    assert top.reason.kind == "context"
    assert top.reason.text("en") == "fits today's rain: rain gear, waterproof"
    assert top.reason.text("zh") == "下雨天适用：雨具、防水"
    assert ranked[2].reason == Reason("similar_taste") and ranked[2].score == 1.0


def test_index_and_mapping_give_the_same_ranking(catalog):
    recs = _recs(("down", 1.0), ("shirt", 0.9), ("tee", 0.8), ("umbrella", 0.8))
    ctx = Context(local_time="2026-07-01T14:00", weather="晴")
    reranker = ContextReranker()
    via_map = reranker.rerank(recs, catalog, ctx)
    via_index = reranker.rerank(recs, ContextIndex(catalog.values(), reranker.rules), ctx)
    assert via_map == via_index
    # summer: the T-shirt is boosted, the down jacket demoted below unboosted items, keeping its reason
    assert [r.item for r in via_map] == ["tee", "umbrella", "shirt", "down"]
    assert via_map[-1].score == pytest.approx(0.6) and via_map[-1].reason.kind == "similar_taste"
    assert via_map[0].reason.text("en") == "fits summer: summer wear"


def test_no_conditions_or_no_match_keeps_order_and_ties_stay_stable(catalog):
    recs = _recs(("shirt", 0.5), ("bag", 0.5), ("tee", 0.4))
    reranker = ContextReranker()
    assert reranker.rerank(recs, catalog, Context()) == recs
    assert reranker.rerank(recs, catalog, Context(weather="rain"), n=2) == recs[:2]
    negative = reranker.rerank(_recs(("bag", -0.5), ("boots", -1.0)), catalog, Context(weather="rain"))
    assert [r.item for r in negative] == ["bag", "boots"]
    assert negative[1].score == pytest.approx(-1.0 / 1.6)  # a boost moves a negative score up, not down


def test_candidates_on_a_rainy_day_fit_the_rain_and_are_in_stock(demo):
    items = {it.id: it for it in demo.items}
    ctx = Context(weather="rain")
    ids = candidates_for(ctx, demo.items)
    assert ids, "the demo catalog has umbrellas and rain boots"
    for item_id in ids:
        item = items[item_id]
        assert item.in_stock
        assert item.leaf_category in RAIN_TYPES or {"rain", "waterproof", "雨天"} & set(item.tags)
    assert {"雨伞", "雨靴"} <= {items[i].leaf_category for i in ids}
    out_of_stock = [it.id for it in demo.items if it.leaf_category in RAIN_TYPES and not it.in_stock]
    assert not set(out_of_stock) & set(ids)


def test_index_recommendations_are_labelled_context_and_ordered_by_popularity(demo):
    data = Dataset.from_events(demo.events, demo.items, demo.users)
    index = ContextIndex(data)
    recs = index.recommendations(Context(weather="雨"), 5, exclude=["demo-0100"])
    assert len(recs) == 5 and all(r.source == "context" and r.reason.kind == "context" for r in recs)
    assert "demo-0100" not in {r.item for r in recs}
    pop = {data.items.id(i): p for i, p in enumerate(data.item_popularity)}
    same_factor = [r for r in recs if r.score == recs[0].score]
    assert [pop[r.item] for r in same_factor] == sorted((pop[r.item] for r in same_factor), reverse=True)
    assert candidates_for(Context(weather="雨"), index, n=3) == [
        r.item for r in index.recommendations(Context(weather="雨"), 3)
    ]
