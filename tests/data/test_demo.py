"""The demo catalog and shopper simulator: plausible items, realistic funnels, real taste structure."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import pairwise

import numpy as np
import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.demo import (
    ATTRIBUTE_VALUES,
    BRAND_NAMES,
    BRANDS,
    CATEGORY_NAMES,
    COMPLEMENTS,
    PRODUCT_TYPES,
    REFERENCE_TIME,
    TOP_CATEGORIES,
    DemoData,
    Simulation,
    build_catalog,
    demo_data,
    demo_label,
    price_band,
    price_position,
    simulate,
    simulate_detailed,
)
from shopguide.data.schema import KNOWN_ATTRIBUTES, EventType, Item
from shopguide.errors import ConfigError, DataError

DAY = 86400.0
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def items() -> list[Item]:
    return build_catalog()


@pytest.fixture(scope="module")
def sim(items: list[Item]) -> Simulation:
    return simulate_detailed(items)


@pytest.fixture(scope="module")
def by_id(items: list[Item]) -> dict[str, Item]:
    return {it.id: it for it in items}


# ---------------------------------------------------------------------------------------------- catalog
def test_catalog_size_and_categories(items: list[Item]) -> None:
    assert 360 <= len(items) <= 500
    tops = Counter(it.category[0] for it in items)
    assert len(tops) >= 10
    assert all(n >= 30 for n in tops.values()), tops
    assert len({it.category[1] for it in items}) == len(PRODUCT_TYPES)


def test_every_item_is_complete_and_plausible(items: list[Item]) -> None:
    for it in items:
        assert re.fullmatch(r"demo-\d{4}", it.id)
        assert CJK.search(it.title), it.title
        assert it.title_alt and it.title_alt.isascii() and it.title_alt[0].isupper(), it.title_alt
        assert it.brand in BRAND_NAMES and it.title.startswith(it.brand)
        assert it.title_alt.startswith(BRAND_NAMES[it.brand])
        assert CJK.search(it.description) and it.description.endswith("。")
        top, leaf = it.category
        assert PRODUCT_TYPES[leaf].top == top and top in TOP_CATEGORIES
        lo, hi = price_band(leaf)
        assert it.price is not None and 0 < lo <= it.price <= hi, (it.title, it.price)
        assert round(it.price * 10) % 10 in (0, 9)  # 49.9, 299.0
        assert it.attributes and set(it.attributes) <= set(KNOWN_ATTRIBUTES)
        for key in ("color", "material", "style", "season", "gender", "occasion"):
            if key in it.attributes:
                assert it.attributes[key] in ATTRIBUTE_VALUES, (key, it.attributes[key])
        assert it.stock is not None and it.stock >= 0
        assert it.created_at is not None and REFERENCE_TIME - 180 * DAY <= it.created_at <= REFERENCE_TIME


def test_titles_read_like_the_attributes(items: list[Item], by_id: dict[str, Item]) -> None:
    shirt = next(it for it in items if it.category[1] == "衬衫")
    assert shirt.title.endswith(shirt.attributes["color"])
    assert shirt.title_alt.endswith(ATTRIBUTE_VALUES[shirt.attributes["color"]])
    assert "衬衫" in shirt.title and "Shirt" in shirt.title_alt
    phone = next(it for it in items if it.category[1] == "手机")
    assert phone.attributes["size"] in phone.title  # storage is part of a phone's name
    umbrellas = [it for it in items if it.category[1] == "雨伞"]
    assert all({"rain", "waterproof"} <= set(it.tags) for it in umbrellas)
    dresses = [it for it in items if it.category[1] == "连衣裙"]
    assert {it.attributes["gender"] for it in dresses} == {"女"}


def test_ids_and_titles_unique_and_some_out_of_stock(items: list[Item]) -> None:
    assert len({it.id for it in items}) == len(items)
    assert len({it.title for it in items}) == len(items)
    out = sum(not it.in_stock for it in items)
    assert 3 <= out <= 0.1 * len(items)


def test_premium_brands_price_higher(items: list[Item]) -> None:
    tiers = {b.zh: b.tier for group in BRANDS.values() for b in group}
    pos = defaultdict(list)
    for it in items:
        pos[tiers[it.brand]].append(price_position(it.price or 0, price_band(it.category[1])))
    assert np.mean(pos[0]) + 0.2 < np.mean(pos[1]) < np.mean(pos[2]) - 0.2


def test_catalog_is_deterministic(items: list[Item]) -> None:
    again = build_catalog(7)
    assert [it.model_dump() for it in again] == [it.model_dump() for it in items]
    other = build_catalog(8)
    assert [it.title for it in other] != [it.title for it in items]


def test_vocabulary_is_bilingual_and_complements_exist(items: list[Item]) -> None:
    leaves = {it.category[1] for it in items}
    tops = {it.category[0] for it in items}
    assert (leaves | tops) <= set(CATEGORY_NAMES)
    assert all(name.isascii() for name in CATEGORY_NAMES.values())
    assert CATEGORY_NAMES["衬衫"] == "Shirts" and CATEGORY_NAMES["数码"] == "Electronics"
    for kind, partners in COMPLEMENTS.items():
        assert kind in leaves
        assert partners and set(partners) <= leaves and kind not in partners
    assert {"手机壳", "耳机", "充电器"} <= set(COMPLEMENTS["手机"])
    assert {"运动袜", "运动T恤"} <= set(COMPLEMENTS["跑步鞋"])


def test_label() -> None:
    assert "Demo" in demo_label() and "simulated" in demo_label()


# ---------------------------------------------------------------------------------------------- simulator
def test_users(sim: Simulation) -> None:
    assert len(sim.users) == 600
    assert [u.id for u in sim.users[:2]] == ["shopper-001", "shopper-002"]
    for u in sim.users:
        assert u.attributes["simulated"] == "true"
        assert u.attributes["gender"] in ("男", "女")
        assert u.attributes["age_band"] in ("18-24", "25-34", "35-44", "45+")
        assert CJK.search(u.attributes["city"])
    active = {e.user for e in sim.events}
    assert active == {u.id for u in sim.users}


def test_events_are_well_formed(sim: Simulation, by_id: dict[str, Item]) -> None:
    users = {u.id for u in sim.users}
    assert len({e.id for e in sim.events}) == len(sim.events)
    for e in sim.events:
        assert e.user in users and e.item in by_id
        assert REFERENCE_TIME - 60 * DAY <= e.ts < REFERENCE_TIME
        assert e.context["simulated"] == "true" and e.context["device"] in ("app", "web")
        assert e.session and e.session.startswith(f"s-{e.user}-")
    assert [e.ts for e in sim.events] == sorted(e.ts for e in sim.events)


def test_sessions_are_time_ordered(sim: Simulation) -> None:
    sessions: dict[str, list] = defaultdict(list)
    for e in sim.events:
        sessions[e.session].append(e)
    first_ts: dict[str, dict[int, float]] = defaultdict(dict)
    for sid, evs in sessions.items():
        in_order = sorted(evs, key=lambda e: e.id)  # ids count up in the order events happened
        ts = [e.ts for e in in_order]
        assert all(a < b for a, b in pairwise(ts)), sid
        assert in_order[0].type is EventType.VIEW
        user, n = sid.removeprefix("s-").rsplit("-", 1)
        first_ts[user][int(n)] = ts[0]
    for numbers in first_ts.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
        starts = [numbers[n] for n in sorted(numbers)]
        assert starts == sorted(starts)  # sessions are numbered chronologically


def test_funnel_rates(sim: Simulation) -> None:
    n = Counter(e.type for e in sim.events)
    views = n[EventType.VIEW]
    assert views > n[EventType.CLICK] > n[EventType.CART] > n[EventType.PURCHASE] > 0
    assert 0.25 <= n[EventType.CLICK] / views <= 0.35
    assert 0.08 <= n[EventType.CART] / views <= 0.12
    assert 0.03 <= n[EventType.FAV] / views <= 0.07
    assert 0.30 <= n[EventType.PURCHASE] / n[EventType.CART] <= 0.50


def test_purchases_follow_carts_and_are_in_stock(sim: Simulation, by_id: dict[str, Item]) -> None:
    carted = {(e.session, e.item) for e in sim.events if e.type is EventType.CART}
    purchases = [e for e in sim.events if e.type is EventType.PURCHASE]
    assert purchases
    for e in purchases:
        assert by_id[e.item].in_stock
        assert (e.session, e.item) in carted
    oos = {it.id for it in by_id.values() if not it.in_stock}
    assert any(e.item in oos for e in sim.events if e.type is EventType.VIEW)  # seen, never bought


def test_views_concentrate_on_latent_favourites(sim: Simulation, items: list[Item], by_id) -> None:
    tops = Counter(it.category[0] for it in items)
    views = defaultdict(list)
    for e in sim.events:
        if e.type is EventType.VIEW:
            views[e.user].append(by_id[e.item].category[0])
    shares, chance = [], []
    for taste in sim.tastes:
        seen = views[taste.user]
        if len(seen) >= 5:
            shares.append(np.mean([top in taste.categories for top in seen]))
            chance.append(sum(tops[t] for t in taste.categories) / len(items))
    assert len(shares) > 300
    assert np.mean(shares) > 0.6
    assert np.mean(shares) > 2.5 * np.mean(chance)
    sources = Counter(sim.sources[e.id] for e in sim.events if e.type is EventType.VIEW)
    total = sum(sources.values())
    assert sources["random"] / total < 0.2
    assert sources["taste"] > 3 * sources["random"]


def test_price_tier_shows_in_purchases(sim: Simulation, by_id: dict[str, Item]) -> None:
    tier = {t.user: t.price_tier for t in sim.tastes}
    pos = defaultdict(list)
    for e in sim.events:
        if e.type is EventType.PURCHASE:
            it = by_id[e.item]
            pos[tier[e.user]].append(price_position(it.price or 0, price_band(it.category[1])))
    assert np.mean(pos["budget"]) + 0.1 < np.mean(pos["mid"]) < np.mean(pos["premium"]) - 0.1


def test_purchases_lead_to_complements(sim: Simulation, by_id: dict[str, Item]) -> None:
    bought: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for e in sim.events:
        if e.type is EventType.PURCHASE:
            bought[e.user].append((e.ts, by_id[e.item].category[1]))
    pairs = 0
    for history in bought.values():
        for k, (ts, kind) in enumerate(history):
            pairs += any(later in COMPLEMENTS.get(kind, ()) for t2, later in history[k + 1 :] if t2 > ts)
    assert pairs >= 30
    comp = [e for e in sim.events if e.type is EventType.VIEW and sim.sources[e.id] == "complement"]
    assert comp
    for e in comp:  # follow-up sessions only browse what goes with an earlier purchase
        earlier = {kind for ts, kind in bought[e.user] if ts < e.ts}
        assert any(by_id[e.item].category[1] in COMPLEMENTS.get(k, ()) for k in earlier)


def test_simulation_is_deterministic(items: list[Item]) -> None:
    a = simulate(items, n_users=80, days=30, seed=3)
    b = simulate(items, n_users=80, days=30, seed=3)
    c = simulate(items, n_users=80, days=30, seed=4)
    assert [u.model_dump() for u in a[0]] == [u.model_dump() for u in b[0]]
    assert [e.model_dump() for e in a[1]] == [e.model_dump() for e in b[1]]
    assert [e.model_dump() for e in a[1]] != [e.model_dump() for e in c[1]]
    assert all(REFERENCE_TIME - 30 * DAY <= e.ts < REFERENCE_TIME for e in a[1])


def test_simulator_runs_on_any_catalog() -> None:
    catalog = [
        Item(id=f"x{i}", title=f"Thing {i}", category=["Stuff", f"kind{i % 3}"], price=10.0 + i) for i in range(12)
    ]
    users, events = simulate(catalog, n_users=20, days=10, seed=1)
    assert len(users) == 20 and events
    assert {e.item for e in events} <= {it.id for it in catalog}


def test_simulator_rejects_bad_input(items: list[Item]) -> None:
    with pytest.raises(DataError, match="empty catalog"):
        simulate([])
    with pytest.raises(ConfigError, match="n_users"):
        simulate(items, n_users=0)


def test_demo_data_loads_into_a_dataset() -> None:
    data = demo_data(n_users=50)
    assert isinstance(data, DemoData) and data.label == demo_label()
    ds = Dataset.from_events(data.events, data.items, data.users, name="demo")
    assert ds.n_items == len(data.items) and ds.n_users == 50 and len(ds) == len(data.events)
    assert ds.unavailable_items.sum() == sum(not it.in_stock for it in data.items)
