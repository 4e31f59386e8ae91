"""A tiny checkerboard world for recommender contract checks (used by the test suite; reusable by plugins).

Two tastes: A-shoppers buy red shirts, B-shoppers buy blue phone cases. One A-shopper has not yet seen
one A-item (the withheld pair); every sensible recommender must put it first for them.
"""

from __future__ import annotations

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Event, Item

A_ITEMS = [f"a{i}" for i in range(4)]
B_ITEMS = [f"b{i}" for i in range(4)]
A_USERS = [f"ua{u}" for u in range(5)]
B_USERS = [f"ub{u}" for u in range(3)]
WITHHELD = ("ua0", "a3")


def checkerboard_items() -> list[Item]:
    items = [
        Item(
            id=i,
            title=f"Red cotton shirt {i} 红色纯棉衬衫",
            category=["服装", "衬衫"],
            brand="Lumora",
            price=199.0,
            attributes={"color": "red", "material": "cotton", "style": "casual"},
        )
        for i in A_ITEMS
    ]
    items += [
        Item(
            id=i,
            title=f"Blue phone case {i} 蓝色手机壳",
            category=["数码", "手机壳"],
            brand="Voltix",
            price=49.0,
            attributes={"color": "blue", "material": "silicone"},
        )
        for i in B_ITEMS
    ]
    items.append(
        Item(
            id="sold-out",
            title="Red cotton shirt sold out 红色衬衫",
            category=["服装", "衬衫"],
            brand="Lumora",
            price=199.0,
            stock=0,
        )
    )
    items.append(
        Item(
            id="new-shirt",
            title="Red cotton shirt new arrival 红色纯棉衬衫 新品",
            category=["服装", "衬衫"],
            brand="Lumora",
            price=189.0,
            attributes={"color": "red", "material": "cotton"},
        )
    )
    return items


def checkerboard_events() -> list[Event]:
    events = []
    ts = 0.0
    for users, items in ((A_USERS, A_ITEMS), (B_USERS, B_ITEMS)):
        for u in users:
            for i in items:
                if (u, i) == WITHHELD:
                    continue
                ts += 1
                events.append(Event(user=u, item=i, type="purchase" if i == "a0" else "view", ts=ts))
    # everyone in A also looked at the sold-out shirt: it would rank high if stock were ignored
    for u in A_USERS:
        ts += 1
        events.append(Event(user=u, item="sold-out", type="view", ts=ts))
    return events


def checkerboard() -> Dataset:
    """The checkerboard as a Dataset (catalog includes an out-of-stock and a brand-new shirt)."""
    return Dataset.from_events(checkerboard_events(), checkerboard_items(), name="checkerboard")
