"""A seeded shopper simulator: latent tastes, sessions, and a browse -> click -> cart -> buy funnel.

Each shopper has 1-3 favourite top-level categories, a price tier (where in each product type's price band
they like to buy), a style, one or two colours and a gender. A session focuses on one category (mostly a
favourite), views a few items drawn by a softmax over a taste score (category, style, colour, price fit,
gender, item popularity, same product type as the previous view) or, sometimes, at random. A purchase may
start a follow-up session among the product types that go with it (:data:`COMPLEMENTS`), which gives the data
co-purchase structure. Out-of-stock items are viewed but never carted or bought.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shopguide.data.demo.catalog import REFERENCE_TIME, price_position
from shopguide.data.demo.vocab import COMPLEMENTS, PRODUCT_TYPES
from shopguide.data.schema import Event, EventType, Item, User
from shopguide.errors import ConfigError, DataError

CITIES = ("上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京")
AGE_BANDS = ("18-24", "25-34", "35-44", "45+")
PRICE_TIERS: dict[str, float] = {"budget": 0.2, "mid": 0.5, "premium": 0.8}
_STYLES = {
    "女": ("简约", "优雅", "甜美", "休闲", "复古", "街头"),
    "男": ("简约", "商务", "休闲", "运动", "街头", "户外"),
}
_CATEGORY_PRIOR = {
    "女": {"服装": 3.0, "美妆": 3.0, "鞋靴": 2.0, "箱包": 2.0, "配饰": 2.0, "家居": 1.5, "食品": 1.5, "母婴": 1.0},
    "男": {"数码": 3.0, "运动户外": 2.5, "服装": 2.5, "鞋靴": 2.0, "食品": 1.5, "配饰": 1.2, "美妆": 0.4},
}
# Local (UTC+8) hour-of-day activity: quiet at night, a lunch bump, an evening peak.
_HOURS = np.array([2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 8, 7, 5, 5, 5, 6, 7, 9, 11, 12, 10, 5], dtype=float)

EXPLORE_RATE = 0.12  # sessions focused on a non-favourite category
RANDOM_VIEW_RATE = 0.10  # views of a uniformly random item
FOCUS_BONUS, SAME_TYPE_BONUS = 4.5, 1.5
CLICK_RATE, CART_RATE, PURCHASE_RATE = 0.30, 0.34, 0.42  # per view, per click, per cart
FOLLOW_UP_RATE = 0.5

_Raw = tuple[float, int, EventType, str]  # (ts, item index, event type, why the item was shown)


@dataclass(frozen=True)
class Taste:
    """A shopper's latent tastes (never written into the data; kept for tests and analyses)."""

    user: str
    gender: str
    age_band: str
    city: str
    categories: dict[str, float]
    price_tier: str
    style: str
    colors: tuple[str, ...]
    activity: float
    device: str


@dataclass
class Simulation:
    """Everything a run produced; ``sources`` tells, per event id, why its item was shown.

    Sources: ``taste`` (favourite-category session), ``explore`` (other-category session, still by taste),
    ``random`` (uniform pick) and ``complement`` (follow-up after a purchase).
    """

    users: list[User]
    events: list[Event]
    tastes: list[Taste]
    sources: dict[str, str] = field(default_factory=dict)


class _Catalog:
    """The catalog as arrays, for vectorised scoring."""

    def __init__(self, catalog: list[Item], rng: np.random.Generator) -> None:
        self.items = catalog
        self.tops = sorted({it.category[0] if it.category else "" for it in catalog})
        self.types = sorted({it.leaf_category or "" for it in catalog})
        self.top = np.array([self.tops.index(it.category[0] if it.category else "") for it in catalog])
        self.type = np.array([self.types.index(it.leaf_category or "") for it in catalog])
        attr = [it.attributes for it in catalog]
        self.style = np.array([a.get("style", "") for a in attr], dtype=object)
        self.color = np.array([a.get("color", "") for a in attr], dtype=object)
        self.gender = np.array([a.get("gender", "") for a in attr], dtype=object)
        self.brand = np.array([it.brand or "" for it in catalog], dtype=object)
        self.in_stock = np.array([it.in_stock for it in catalog], dtype=bool)
        self.position = self._positions(catalog)
        self.popularity = rng.normal(0.0, 0.7, len(catalog))

    def _positions(self, catalog: list[Item]) -> np.ndarray:
        observed: dict[str, list[float]] = {}
        for it in catalog:
            if it.price:
                observed.setdefault(it.leaf_category or "", []).append(it.price)
        out = np.full(len(catalog), 0.5)
        for i, it in enumerate(catalog):
            leaf = it.leaf_category or ""
            if not it.price:
                continue
            known = PRODUCT_TYPES.get(leaf)
            band = known.price if known else (min(observed[leaf]), max(observed[leaf]))
            out[i] = price_position(it.price, band)
        return out


def draw_tastes(catalog: list[Item], n_users: int, rng: np.random.Generator) -> list[Taste]:
    """Draw ``n_users`` shoppers' latent tastes over the categories and colours present in ``catalog``."""
    tops = sorted({it.category[0] for it in catalog if it.category})
    color_counts: dict[str, int] = {}
    for it in catalog:
        if c := it.attributes.get("color"):
            color_counts[c] = color_counts.get(c, 0) + 1
    colors = sorted(color_counts)
    color_p = np.array([color_counts[c] for c in colors], dtype=float)
    width = max(3, len(str(n_users)))
    tastes = []
    for u in range(n_users):
        gender = "女" if rng.random() < 0.56 else "男"
        age_band = str(rng.choice(AGE_BANDS, p=[0.25, 0.38, 0.24, 0.13]))
        prior = np.array([_CATEGORY_PRIOR[gender].get(t, 0.7) for t in tops])
        if age_band == "25-34" and "母婴" in tops:
            prior[tops.index("母婴")] *= 2.5
        k = min(len(tops), int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25])))
        favs = rng.choice(len(tops), size=k, replace=False, p=prior / prior.sum())
        weights = rng.dirichlet(np.full(k, 2.0))
        picked = (
            rng.choice(
                len(colors), size=min(len(colors), int(rng.integers(1, 3))), replace=False, p=color_p / color_p.sum()
            )
            if colors
            else []
        )
        tastes.append(
            Taste(
                user=f"shopper-{u + 1:0{width}d}",
                gender=gender,
                age_band=age_band,
                city=str(rng.choice(CITIES)),
                categories={tops[int(c)]: float(w) for c, w in zip(favs, weights, strict=True)},
                price_tier=str(rng.choice(list(PRICE_TIERS), p=[0.4, 0.42, 0.18])),
                style=str(rng.choice(_STYLES[gender])),
                colors=tuple(colors[int(c)] for c in picked),
                activity=float(rng.gamma(1.3, 6.0 / 1.3)),
                device="app" if rng.random() < 0.7 else "web",
            )
        )
    return tastes


class _Shopper:
    """Simulates one shopper's sessions; raw events are (ts, item index, type, source)."""

    def __init__(self, cat: _Catalog, taste: Taste, rng: np.random.Generator) -> None:
        self.cat, self.taste, self.rng = cat, taste, rng
        self.price_pref = PRICE_TIERS[taste.price_tier] + rng.normal(0.0, 0.06)
        self.fit = np.abs(cat.position - self.price_pref)
        other = {"女": "男", "男": "女"}[taste.gender]
        self.gender_ok = cat.gender != other
        self.base = (
            0.8 * cat.popularity
            + 1.0 * (cat.style == taste.style)
            + 0.8 * np.isin(cat.color, list(taste.colors))
            - 2.5 * self.fit
            - 3.0 * ~self.gender_ok
        )
        self.fav_tops = [cat.tops.index(t) for t in taste.categories]
        self.fav_weights = np.array(list(taste.categories.values()))

    def _pick(self, logits: np.ndarray, allowed: np.ndarray) -> int:
        w = np.exp(logits - logits[allowed].max()) * allowed
        cum = np.cumsum(w)
        return int(np.searchsorted(cum, self.rng.random() * cum[-1], side="right"))

    def _funnel(self, i: int, t: float, source: str, raw: list[_Raw], cart: list[tuple[int, str]]) -> float:
        """Events that follow the view of item ``i`` at ``t``; returns the time of the last one."""
        rng, fit = self.rng, self.fit[i]
        boost = {"random": 0.5, "complement": 1.2}.get(source, 1.05)
        clicked = rng.random() < CLICK_RATE * boost * (1.15 - 0.6 * fit)
        if clicked:
            t += rng.uniform(2, 12)
            raw.append((t, i, EventType.CLICK, source))
        if rng.random() < (0.08 if clicked else 0.035):
            t += rng.uniform(3, 20)
            raw.append((t, i, EventType.FAV, source))
        cart_rate = CART_RATE * (1.3 if source == "complement" else 1.0) * (1.2 - 0.8 * fit)
        if clicked and self.cat.in_stock[i] and rng.random() < cart_rate:
            t += rng.uniform(5, 40)
            raw.append((t, i, EventType.CART, source))
            cart.append((i, source))
        return t

    def session(self, start: float, focus: int | None, targets: np.ndarray | None, brand: str = "") -> list[_Raw]:
        """One session from ``start``: focused on top category ``focus``, or on the ``targets`` item mask."""
        rng, cat = self.rng, self.cat
        raw: list[_Raw] = []
        cart: list[tuple[int, str]] = []
        seen = np.zeros(len(cat.items), dtype=bool)
        if targets is not None:
            n_views, logits = int(rng.integers(2, 6)), self.base + 0.7 * (cat.brand == brand)
            source = "complement"
        else:
            n_views = min(15, 1 + int(rng.poisson(3.5)))
            logits = self.base + FOCUS_BONUS * (cat.top == focus)
            source = "taste" if focus in self.fav_tops else "explore"
        t, last_type = start, -1
        for _ in range(n_views):
            if targets is not None:
                allowed, why = targets & ~seen, source
            elif rng.random() < RANDOM_VIEW_RATE:
                allowed, why = ~seen, "random"
            else:
                allowed, why = ~seen, source
            if not allowed.any():
                break
            if why == "random":
                i = int(rng.choice(np.flatnonzero(allowed)))
            else:
                i = self._pick(logits + SAME_TYPE_BONUS * (cat.type == last_type), allowed)
            seen[i], last_type = True, cat.type[i]
            t += 8 + rng.exponential(35)
            raw.append((t, i, EventType.VIEW, why))
            t = self._funnel(i, t, why, raw, cart)
        for i, why in cart:
            if rng.random() < PURCHASE_RATE * (1.1 - 0.5 * self.fit[i]):
                t += rng.uniform(30, 180)
                raw.append((t, i, EventType.PURCHASE, why))
        return raw

    def focus(self) -> int:
        """The top category a new session browses: mostly a favourite, sometimes another."""
        others = [k for k in range(len(self.cat.tops)) if k not in self.fav_tops]
        if others and self.rng.random() < EXPLORE_RATE:
            return int(self.rng.choice(others))
        return int(self.rng.choice(self.fav_tops, p=self.fav_weights))

    def complements_of(self, i: int) -> np.ndarray | None:
        """Item mask of the product types that go with item ``i`` (None when there are none)."""
        wanted = [
            self.cat.types.index(t)
            for t in COMPLEMENTS.get(self.cat.types[self.cat.type[i]], [])
            if t in self.cat.types
        ]
        mask = np.isin(self.cat.type, wanted) & self.gender_ok
        return mask if mask.any() else None


def _session_starts(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    day = rng.integers(0, days, n)
    local = rng.choice(24, size=n, p=_HOURS / _HOURS.sum()) * 3600 + rng.uniform(0, 3600, n)
    start = REFERENCE_TIME - days * 86400 + day * 86400 + (local - 8 * 3600) % 86400
    return np.sort(np.minimum(start, REFERENCE_TIME - 7200))


def simulate_detailed(catalog: list[Item], n_users: int = 600, days: int = 60, seed: int = 42) -> Simulation:
    """Simulate ``n_users`` shoppers over the ``days`` before :data:`REFERENCE_TIME`; see the module docstring."""
    if not catalog:
        raise DataError("cannot simulate shoppers on an empty catalog")
    if n_users < 1 or days < 1:
        raise ConfigError(f"n_users and days must be positive (got n_users={n_users}, days={days})")
    rng = np.random.default_rng(seed)
    cat = _Catalog(catalog, rng)
    tastes = draw_tastes(catalog, n_users, rng)
    users: list[User] = []
    events: list[Event] = []
    sources: dict[str, str] = {}
    for taste in tastes:
        users.append(
            User(
                id=taste.user,
                attributes={
                    "simulated": "true",
                    "gender": taste.gender,
                    "age_band": taste.age_band,
                    "city": taste.city,
                },
            )
        )
        shopper = _Shopper(cat, taste, rng)
        sessions: list[tuple[float, list[_Raw]]] = []
        n_sessions = max(1, int(rng.poisson(taste.activity * days / 60)))
        for start in _session_starts(rng, n_sessions, days):
            raw = shopper.session(float(start), shopper.focus(), None)
            sessions.append((float(start), raw))
            bought = [e[1] for e in raw if e[2] is EventType.PURCHASE]
            if bought and rng.random() < FOLLOW_UP_RATE:
                item = bought[int(rng.integers(len(bought)))]
                follow = raw[-1][0] + rng.uniform(600, 3 * 86400)
                targets = shopper.complements_of(item)
                if targets is not None and follow < REFERENCE_TIME - 7200:
                    sessions.append((follow, shopper.session(follow, None, targets, str(cat.brand[item]))))
        sessions.sort(key=lambda s: s[0])
        for n, (_, raw) in enumerate(sessions, start=1):
            sid = f"s-{taste.user}-{n}"
            device = taste.device if rng.random() < 0.85 else {"app": "web", "web": "app"}[taste.device]
            for k, (ts, i, etype, source) in enumerate(raw):
                eid = f"{sid}-{k:03d}"
                events.append(
                    Event(
                        id=eid,
                        user=taste.user,
                        item=catalog[i].id,
                        type=etype,
                        ts=float(round(ts)),
                        session=sid,
                        context={"simulated": "true", "device": device},
                    )
                )
                sources[eid] = source
    events.sort(key=lambda e: (e.ts, e.id))
    return Simulation(users=users, events=events, tastes=tastes, sources=sources)


def simulate(catalog: list[Item], n_users: int = 600, days: int = 60, seed: int = 42) -> tuple[list[User], list[Event]]:
    """Simulated shoppers and their events (sorted by time); deterministic in ``seed``."""
    sim = simulate_detailed(catalog, n_users=n_users, days=days, seed=seed)
    return sim.users, sim.events
