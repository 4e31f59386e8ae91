"""Shared data and pandas helpers for the analytics tests (a uniquely named module: no clash with
other folders' conftest modules when the whole suite runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import reference as ref

from shopguide.data.schema import Event, EventType, Item

SHARED = Path(__file__).parents[2].parent / "shared" / "data"
TAOBAO = SHARED / "taobao-userbehavior-sample"
SOURCES = ("item_knn", "popular", "content", "category_popular")
INTENTS = ("recommend", "search", "bundle")
TRAFFIC = ("home", "search", "push")


def with_impressions(events: list[Event], items: list[Item], seed: int = 5) -> list[Event]:
    """The demo events plus impressions: one shortly before most views (so clicks, carts and purchases can
    be attributed), some never followed up, each with a source, strategy, traffic source, an experiment arm
    by user, and a guide intent on some; a few late views fall outside the 24 h window."""
    rng = np.random.default_rng(seed)
    item_ids = [it.id for it in items]
    out = list(events)
    for n, ev in enumerate(events):
        if ev.type is not EventType.VIEW or rng.random() < 0.15:
            continue
        variant = "control" if int(ev.user.split("-")[-1]) % 2 else "treatment"
        source = str(rng.choice(SOURCES))
        context = {
            "source": source,
            "strategy": "fallback" if source != "content" else "hybrid",
            "traffic_source": str(rng.choice(TRAFFIC)),
            "experiment": "exp-ranking",
            "variant": variant,
        }
        if rng.random() < 0.3:
            context["intent"] = str(rng.choice(INTENTS))
        gap = float(rng.choice([5.0, 30.0, 90.0, 2 * 86400.0], p=[0.5, 0.3, 0.15, 0.05]))
        out.append(Event(id=f"imp-{n}", user=ev.user, item=ev.item, type=EventType.IMPRESSION, ts=ev.ts - gap,
                         session=ev.session, context=context))  # fmt: skip
        other = item_ids[int(rng.integers(len(item_ids)))]
        out.append(Event(id=f"imp-{n}-x", user=ev.user, item=other, type=EventType.IMPRESSION, ts=ev.ts - gap,
                         session=ev.session, context=context))  # fmt: skip
    return out


def events_frame(events: list[Event], items: list[Item]) -> pd.DataFrame:
    """One row per event with its item's categories and price and the context keys (pandas only)."""
    cat = {it.id: (it.category[0] if it.category else None) for it in items}
    leaf = {it.id: (it.category[-1] if it.category else None) for it in items}
    price = {it.id: it.price for it in items}
    keys = ("source", "strategy", "intent", "traffic_source", "experiment", "variant", "device")
    df = pd.DataFrame(
        {
            "user": [e.user for e in events],
            "item": [e.item for e in events],
            "type": [e.type.value for e in events],
            "value": [e.value for e in events],
            "ts": [e.ts for e in events],
            "session": [e.session for e in events],
            **{k: [e.context.get(k) for e in events] for k in keys},
        }
    )
    df["category"] = df["item"].map(cat)
    df["leaf"] = df["item"].map(leaf)
    df["price"] = df["item"].map(price).astype("float64")
    return ref.with_day(df)
