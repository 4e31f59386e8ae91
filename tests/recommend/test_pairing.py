"""搭配 bundles: complementary product types, mined co-purchases first, stock and variety respected."""

from __future__ import annotations

from collections import Counter

import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.demo import COMPLEMENTS, demo_data
from shopguide.data.schema import Event
from shopguide.errors import NotFoundError
from shopguide.recommend.pairing import PairingIndex, mine_pairs

DAY = 86400.0
SHIRT, SHIRT_2 = "demo-0001", "demo-0002"  # a men's shirt and another shirt


@pytest.fixture(scope="module")
def demo():
    return demo_data()


@pytest.fixture(scope="module")
def data(demo) -> Dataset:
    return Dataset.from_events(demo.events, demo.items, demo.users)


@pytest.fixture(scope="module")
def index(data) -> PairingIndex:
    return PairingIndex.build(data)


def _type(data: Dataset, item_id: str) -> str:
    return data.item_meta[data.items.index(item_id)].leaf_category


def _first(demo, ptype: str, skip: int = 0) -> str:
    return [it.id for it in demo.items if it.leaf_category == ptype and it.in_stock][skip]


def test_a_shirt_goes_with_trousers_and_shoes_never_another_shirt(data, index):
    assert _type(data, SHIRT) == "衬衫"
    bundle = index.bundle(SHIRT, 4)
    types = [_type(data, r.item) for r in bundle]
    assert len(bundle) == 4
    assert "衬衫" not in types
    assert {"西裤", "牛仔裤", "皮鞋"} & set(types)
    assert len(set(types)) == 4  # varied: one item per complementary type while it can
    assert all(r.source == "pairing" for r in bundle)
    for rec in bundle:
        assert rec.reason.kind in {"goes_with", "bought_together"}
        shirt = data.item_meta[data.items.index(SHIRT)]
        en, zh = rec.reason.text("en"), rec.reason.text("zh")
        assert en.startswith((f"goes with {shirt.title_alt}: ", f"often bought together with {shirt.title_alt}"))
        assert zh.startswith((f"与「{shirt.title}」搭配：", f"常与「{shirt.title}」一起购买"))
    goes = next(r for r in bundle if r.reason.kind == "goes_with")
    assert goes.reason.traits and "：" in goes.reason.text("zh")


def test_rules_never_pair_mens_with_womens_items(demo, data, index):
    womens = next(it for it in demo.items if it.leaf_category == "衬衫" and it.attributes.get("gender") == "女")
    for rec in index.bundle(womens.id, 8):
        meta = data.item_meta[data.items.index(rec.item)]
        assert meta.attributes.get("gender") in (None, "女", "中性")


def test_bundles_skip_out_of_stock_items_unless_asked(demo, data, index):
    sold_out = {it.id for it in demo.items if not it.in_stock}
    assert sold_out
    shown_anyway = set()
    for item in demo.items:
        assert not sold_out & {r.item for r in index.bundle(item.id, 8)}
        shown_anyway |= sold_out & {r.item for r in index.bundle(item.id, 8, in_stock_only=False)}
    assert shown_anyway


def test_exclude_and_per_type_cap(data, index):
    first = index.bundle(SHIRT, 4)
    again = index.bundle(SHIRT, 4, exclude=[first[0].item])
    assert first[0].item not in {r.item for r in again}
    many = index.bundle(SHIRT, 30)
    assert max(Counter(_type(data, r.item) for r in many).values()) <= 2
    assert index.bundle(SHIRT, 0) == []


def test_unknown_item_raises_and_item_without_rules_is_empty(demo, data):
    plain = PairingIndex.build(data, complements={})
    with pytest.raises(NotFoundError):
        plain.bundle("no-such-item")
    blocks = _first(demo, "积木")
    assert "积木" not in COMPLEMENTS
    assert PairingIndex.build(data.subset(slice(0, 0)), complements=COMPLEMENTS).bundle(blocks) == []


def _tiny(demo, events: list[tuple[str, str, str, float]]) -> Dataset:
    evs = [Event(user=u, item=i, type=t, ts=1_700_000_000 + d * DAY) for u, i, t, d in events]
    return Dataset.from_events(evs, demo.items)


def test_a_mined_pair_ranks_first_as_bought_together(demo):
    mug, tea, nuts = _first(demo, "马克杯"), _first(demo, "茶叶"), _first(demo, "坚果")
    data = _tiny(
        demo,
        [
            ("u1", SHIRT, "cart", 0.0), ("u1", mug, "purchase", 1.0),
            ("u2", SHIRT, "purchase", 3.0), ("u2", mug, "purchase", 4.5),
            ("u1", SHIRT_2, "purchase", 0.5), ("u2", SHIRT_2, "cart", 4.0),    # same type as the anchor
            ("u3", SHIRT, "purchase", 0.0), ("u3", tea, "purchase", 5.0),       # more than 3 days apart
            ("u4", SHIRT, "purchase", 0.0), ("u4", tea, "purchase", 5.0),
            ("u5", SHIRT, "cart", 0.0), ("u5", nuts, "cart", 0.5),              # one shopper only
            ("u6", SHIRT, "view", 0.0), ("u6", nuts, "view", 0.5),              # views do not count
        ],
    )  # fmt: skip
    index = PairingIndex.build(data)
    bundle = index.bundle(SHIRT, 4)
    top = bundle[0]
    assert top.item == mug and top.reason.kind == "bought_together"
    shirt = data.item_meta[data.items.index(SHIRT)]
    assert top.reason.text("en") == f"often bought together with {shirt.title_alt}"  # English title in English
    assert top.reason.text("zh") == f"常与「{shirt.title}」一起购买"
    assert [r.reason.kind for r in bundle[1:]] == ["goes_with"] * 3
    assert not {SHIRT_2, tea, nuts} & {r.item for r in bundle}
    assert index.bundle(mug, 1)[0].item == SHIRT  # edges go both ways


def test_mining_counts_shoppers_not_events(demo):
    mug = _first(demo, "马克杯")
    data = _tiny(demo, [("u1", SHIRT, "cart", 0.0), ("u1", mug, "cart", 0.1)] * 3)
    a, b = data.items.index(SHIRT), data.items.index(mug)
    assert mine_pairs(data, min_support=1)[a, b] == 1
    assert mine_pairs(data, min_support=2).nnz == 0
