"""The knowledge graph on the demo catalog: facts, comparisons, filters, substitute and complement edges."""

from __future__ import annotations

import numpy as np
import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.demo import COMPLEMENTS, demo_data
from shopguide.data.schema import Event, Item
from shopguide.guide.kg import KnowledgeGraph
from shopguide.recommend.pairing import PairingIndex


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    demo = demo_data()
    data = Dataset.from_events(demo.events, demo.items, demo.users)
    return KnowledgeGraph.build(data, PairingIndex.build(data))


def test_nodes_and_edges_come_from_the_catalog(kg: KnowledgeGraph) -> None:
    stats = kg.stats()
    assert stats["items"] == 486
    assert stats["mined_complement_edges"] > 0 and stats["complement_type_edges"] >= sum(map(len, COMPLEMENTS.values()))
    shirts = kg.by_value["category:衬衫"]
    assert len(shirts) == 9 and all(kg.item(kg.dataset.items.id(int(i))).leaf_category == "衬衫" for i in shirts)
    black = kg.by_value["color:黑色"]
    assert all(kg.columns["color"][i] == "黑色" for i in black)


def test_attributes_are_the_items_own_facts(kg: KnowledgeGraph) -> None:
    item = kg.item("demo-0001")
    facts = kg.attributes("demo-0001")
    assert facts["price"] == item.price and facts["brand"] == item.brand and facts["stock"] == item.stock
    assert facts["product_type"] == "衬衫"
    assert {k: facts[k] for k in item.attributes} == item.attributes
    assert kg.attributes("no-such-item") == {}
    assert kg.title("demo-0001", "en") == item.title_alt and kg.title("demo-0001", "zh") == item.title
    assert kg.label("黑色", "en") == "Black" and kg.label("黑色", "zh") == "黑色"


def test_compare_splits_shared_and_different_facts(kg: KnowledgeGraph) -> None:
    a, b = kg.attributes("demo-0001"), kg.attributes("demo-0002")
    comp = kg.compare("demo-0001", "demo-0002")
    assert comp.shared["product_type"] == "衬衫"
    assert comp.different["price"] == (a["price"], b["price"])
    for key, value in comp.shared.items():
        assert a[key] == b[key] == value
    for key, (va, vb) in comp.different.items():
        assert va == a.get(key) and vb == b.get(key) and va != vb
    assert "stock" not in comp.shared and "stock" not in comp.different


def test_select_filters_by_slots_and_negations(kg: KnowledgeGraph) -> None:
    mask = kg.select(product_type="衬衫", price_max=200, attributes={"color": "黑色"})
    ids = [kg.dataset.items.id(int(i)) for i in np.flatnonzero(mask)]
    assert ids and all(
        kg.item(i).leaf_category == "衬衫" and kg.item(i).price <= 200 and kg.item(i).attributes["color"] == "黑色"
        for i in ids
    )
    not_black = kg.select(product_type="衬衫", exclude_values={"color": ["黑色"]})
    assert (
        not_black.sum()
        == kg.select(product_type="衬衫").sum() - kg.select(product_type="衬衫", attributes={"color": "黑色"}).sum()
    )
    # gender keeps unisex and unspecified items; material matches a shorter word (棉 -> 纯棉)
    women = kg.select(attributes={"gender": "女"})
    assert all(kg.columns["gender"][i] in ("女", "中性", "") for i in np.flatnonzero(women))
    assert kg.select(attributes={"material": "棉"}).sum() >= kg.select(attributes={"material": "纯棉"}).sum() > 0
    assert kg.select(attributes={"size": "XXL"}).sum() > 0
    assert kg.select(category="no-such-category").sum() == 0
    assert not kg.select(exclude_items=["demo-0001"])[kg.index("demo-0001")]
    assert kg.values_of("color", kg.select(product_type="衬衫"))[0] in kg.columns["color"]


def test_substitutes_are_same_type_and_close(kg: KnowledgeGraph) -> None:
    subs = kg.substitutes("demo-0001", 3)
    assert len(subs) == 3 and all(kg.item(r.item).leaf_category == "衬衫" for r in subs)
    assert [r.score for r in subs] == sorted((r.score for r in subs), reverse=True)
    assert "demo-0001" not in {r.item for r in subs}
    anchor_gender = kg.item("demo-0001").attributes["gender"]
    assert all(kg.item(r.item).attributes.get("gender") in (anchor_gender, "中性", None) for r in subs)
    assert "相似" in subs[0].reason.text("zh") and "similar to" in subs[0].reason.text("en")
    assert kg.substitutes("no-such-item") == []
    assert subs[0].item not in {r.item for r in kg.substitutes("demo-0001", 3, exclude=[subs[0].item])}


def test_complements_follow_rules_with_reasons(kg: KnowledgeGraph) -> None:
    recs = kg.complements("demo-0001", 4)
    assert len(recs) == 4
    partners = set(COMPLEMENTS["衬衫"]) | {t for t, others in COMPLEMENTS.items() if "衬衫" in others}
    mined = set(kg.dataset.items.id(int(i)) for i in kg.pairing.co[kg.index("demo-0001")].indices)
    for rec in recs:
        assert kg.item(rec.item).leaf_category in partners or rec.item in mined
        assert rec.reason.text("zh") and rec.reason.text("en")
    trousers = kg.complements("demo-0001", 2, product_type="西裤")
    assert trousers and all(kg.item(r.item).leaf_category == "西裤" for r in trousers)


def test_a_tiny_catalog_without_pairing() -> None:
    items = [
        Item(id="a", title="A", category=["服装", "衬衫"], price=100, attributes={"color": "白色"}),
        Item(id="b", title="B", category=["服装", "衬衫"], price=110, attributes={"color": "白色"}),
        Item(id="c", title="C", category=["服装", "西裤"], price=300, stock=0),
    ]
    data = Dataset.from_events([Event(user="u", item="a", type="view", ts=1.0)], items)
    kg = KnowledgeGraph.build(data, None, names={})
    assert [r.item for r in kg.substitutes("a")] == ["b"]
    assert kg.complements("a") == []
    assert not kg.select(product_type="西裤").any()  # out of stock
    assert kg.label("白色", "en") == "白色"
