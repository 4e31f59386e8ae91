"""The built-in DEMO catalog and a seeded shopper simulator.

Everything here is the project's own invention and is labelled as such (:func:`demo_label`): the brands and
products are made up from hand-written bilingual vocabularies, and the behaviour is simulated. It exists so
that every part of shopguide can be tried, tested and demonstrated without outside data.

::

    items = build_catalog(seed=7)                      # 486 items in 10 categories, 67 product types
    users, events = simulate(items, n_users=600, days=60, seed=42)
    data = demo_data()                                  # DemoData(items, users, events, label)
"""

from __future__ import annotations

from typing import NamedTuple

from shopguide.data.demo.catalog import REFERENCE_TIME, build_catalog, demo_label, price_position
from shopguide.data.demo.simulator import Simulation, Taste, draw_tastes, simulate, simulate_detailed
from shopguide.data.demo.vocab import (
    ATTRIBUTE_VALUES,
    BRAND_NAMES,
    BRANDS,
    CATEGORY_NAMES,
    COMPLEMENTS,
    PRODUCT_TYPES,
    TOP_CATEGORIES,
    price_band,
)
from shopguide.data.schema import Event, Item, User

__all__ = [
    "ATTRIBUTE_VALUES",
    "BRANDS",
    "BRAND_NAMES",
    "CATEGORY_NAMES",
    "COMPLEMENTS",
    "PRODUCT_TYPES",
    "REFERENCE_TIME",
    "TOP_CATEGORIES",
    "DemoData",
    "Simulation",
    "Taste",
    "build_catalog",
    "demo_data",
    "demo_label",
    "draw_tastes",
    "price_band",
    "price_position",
    "simulate",
    "simulate_detailed",
]


class DemoData(NamedTuple):
    """The demo catalog, its simulated shoppers and their events, with the label to show next to them."""

    items: list[Item]
    users: list[User]
    events: list[Event]
    label: str


def demo_data(seed: int = 42, *, catalog_seed: int = 7, n_users: int = 600, days: int = 60) -> DemoData:
    """Build the demo catalog (``catalog_seed``) and simulate shoppers on it (``seed``)."""
    items = build_catalog(catalog_seed)
    users, events = simulate(items, n_users=n_users, days=days, seed=seed)
    return DemoData(items=items, users=users, events=events, label=demo_label())
