"""搭配 bundles: items that go with an anchor item, from co-carts/co-purchases and category rules.

Two sources, in this order of trust:

1. *Mined* complement edges: two items carted or bought by the same shopper within ``window_days``
   (the Dataset has no sessions, so a short window of one user stands in for one), counted once per
   shopper and kept with at least ``min_support`` shoppers. These rank first ("often bought together").
2. *Rules*: product type -> complementary product types (``COMPLEMENTS`` of the demo vocabulary by
   default, keyed by leaf category); reverse edges count a little less. Candidates are scored by
   popularity, colour/style harmony (same style, or a neutral colour that goes with anything) and
   price-band proximity (where each item sits within its own product type's prices).

A bundle never holds the anchor's own product type, keeps at most one item per type while it can
(two at most), skips out-of-stock items, and never pairs men's with women's items from rules.
Building is vectorised numpy; a request scores a few dozen candidates.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import TYPE_CODE, Dataset
from shopguide.data.schema import EventType
from shopguide.errors import ConfigError, NotFoundError
from shopguide.recommend.base import Recommendation
from shopguide.recommend.explain import Reason

log = logging.getLogger(__name__)

#: Colours that go with anything.
NEUTRAL_COLORS = frozenset(
    {"黑色", "白色", "灰色", "米色", "藏青色", "卡其色", "black", "white", "grey", "gray", "beige"}
)
#: Styles that sit well next to any other.
NEUTRAL_STYLES = frozenset({"简约", "minimalist"})
_UNISEX = frozenset({"中性", "unisex"})
_PAIR_EVENTS = (TYPE_CODE[EventType.CART], TYPE_CODE[EventType.PURCHASE])
_MAX_OFFSET = 200  # a shopper's events compared with at most this many later ones (bounds heavy users)


def mine_pairs(dataset: Dataset, *, window_days: float = 3.0, min_support: int = 2) -> sp.csr_matrix:
    """Symmetric item x item matrix: how many shoppers carted/bought both items within ``window_days``."""
    rows = np.flatnonzero(np.isin(dataset.event_type, _PAIR_EVENTS))
    rows = rows[np.lexsort((dataset.ts[rows], dataset.user_idx[rows]))]
    u, i, t = dataset.user_idx[rows], dataset.item_idx[rows].astype(np.int64), dataset.ts[rows]
    window, parts = window_days * 86400.0, []
    for d in range(1, min(len(rows), _MAX_OFFSET + 1)):
        close = (u[d:] == u[:-d]) & (t[d:] - t[:-d] <= window)
        if not close.any():  # sorted by (user, time): no closer pair at a larger offset either
            break
        keep = close & (i[d:] != i[:-d])
        a, b = i[:-d][keep], i[d:][keep]
        parts.append(np.stack([u[:-d][keep].astype(np.int64), np.minimum(a, b), np.maximum(a, b)], axis=1))
    n = dataset.n_items
    if not parts:
        return sp.csr_matrix((n, n), dtype=np.float32)
    triples = np.unique(np.concatenate(parts), axis=0)  # one vote per shopper and pair
    keys, support = np.unique(triples[:, 1] * n + triples[:, 2], return_counts=True)
    keys, support = keys[support >= min_support], support[support >= min_support].astype(np.float32)
    a, b = keys // n, keys % n
    co = sp.csr_matrix((np.concatenate([support, support]), (np.concatenate([a, b]), np.concatenate([b, a]))), (n, n))
    co.sort_indices()
    return co


def _price_positions(types: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """Each item's percentile (0..1) among the prices of its own product type; 0.5 when unknown."""
    pos = np.full(len(types), 0.5)
    for t in set(types) - {""}:
        idx = np.flatnonzero((types == t) & np.isfinite(prices))
        if len(idx) > 1:
            ranks = np.argsort(np.argsort(prices[idx], kind="stable"), kind="stable")
            pos[idx] = ranks / (len(idx) - 1)
    return pos


class PairingIndex:
    """Complement edges of one catalog; :meth:`bundle` answers "what goes with this item"."""

    source = "pairing"

    def __init__(self, dataset: Dataset, co: sp.csr_matrix, partners: Mapping[str, list[tuple[str, float]]],
                 *, max_per_type: int = 2) -> None:  # fmt: skip
        self.dataset, self.co, self.partners, self.max_per_type = dataset, co, dict(partners), max_per_type
        meta = dataset.item_meta
        self._types = dataset.item_category
        attr = [(m.attributes if m else {}) for m in meta]
        self._style = [a.get("style", "").lower() for a in attr]
        self._color = [a.get("color", "").lower() for a in attr]
        self._gender = [a.get("gender", "").lower() for a in attr]
        prices = np.array([m.price if m and m.price is not None else np.nan for m in meta], dtype=np.float64)
        self._price_pos = _price_positions(self._types, prices)
        pop = dataset.item_popularity.astype(np.float64)
        self._pop = np.log1p(pop) / math.log1p(max(pop.max(initial=0.0), 1.0))
        self._by_type: dict[str, np.ndarray] = {}
        for t in set(self._types) - {""}:
            self._by_type[t] = np.flatnonzero(self._types == t)

    @classmethod
    def build(
        cls,
        dataset: Dataset,
        complements: Mapping[str, list[str]] | None = None,
        *,
        min_support: int = 2,
        window_days: float = 3.0,
        max_per_type: int = 2,
    ) -> PairingIndex:
        """Mine co-cart/co-purchase pairs and index the category rules (``None``: the demo COMPLEMENTS)."""
        if min_support < 1 or window_days < 0 or max_per_type < 1:
            raise ConfigError("min_support and max_per_type must be >= 1 and window_days >= 0")
        if complements is None:
            from shopguide.data.demo import COMPLEMENTS as complements
        partners: dict[str, list[tuple[str, float]]] = {}
        for anchor, others in complements.items():  # direct rules: earlier in the list = a little stronger
            partners[anchor] = [(o, max(0.75, 1.0 - 0.05 * k)) for k, o in enumerate(others) if o != anchor]
        for anchor, others in complements.items():  # reverse rules, where not stated directly
            for other in others:
                if other != anchor and anchor not in {t for t, _ in partners.setdefault(other, [])}:
                    partners[other].append((anchor, 0.7))
        co = mine_pairs(dataset, window_days=window_days, min_support=min_support)
        log.info("pairing index: %d mined pairs, %d product types with rules", co.nnz // 2, len(partners))
        return cls(dataset, co, partners, max_per_type=max_per_type)

    # ------------------------------------------------------------------ scoring
    def _clash(self, a: int, c: int) -> bool:
        ga, gc = self._gender[a], self._gender[c]
        return bool(ga and gc and ga != gc and ga not in _UNISEX and gc not in _UNISEX)

    def _harmony(self, a: int, c: int) -> tuple[float, list[str]]:
        traits: list[str] = []
        sa, sc, ca, cc = self._style[a], self._style[c], self._color[a], self._color[c]
        if sa and sa == sc:
            style = 1.0
            traits.append("same style")
        else:
            style = 0.5 if not (sa and sc) else 0.7 if {sa, sc} & NEUTRAL_STYLES else 0.2
        if cc and cc == ca:
            color = 1.0
            traits.append("same colour")
        elif cc in NEUTRAL_COLORS:
            color = 0.9
            traits.append("neutral colour")
        else:
            color = 0.7 if ca in NEUTRAL_COLORS else 0.5 if not (ca and cc) else 0.3
        return 0.5 * style + 0.5 * color, traits

    def _rule_candidates(self, a: int, blocked: np.ndarray) -> list[tuple[float, int, Reason]]:
        names = self.dataset.item_names(a)
        out = []
        for ctype, weight in self.partners.get(self._types[a], []):
            for c in self._by_type.get(ctype, ()):
                if blocked[c] or self._clash(a, c):
                    continue
                harmony, traits = self._harmony(a, c)
                closeness = 1.0 - abs(self._price_pos[a] - self._price_pos[c])
                if closeness >= 0.8:
                    traits.append("same price range")
                score = weight * (0.35 * self._pop[c] + 0.35 * harmony + 0.30 * closeness)
                out.append(
                    (score, int(c), Reason("goes_with", **names, traits=tuple(traits[:2]) or ("classic pairing",)))
                )
        return out

    # ------------------------------------------------------------------ raw-id API
    def bundle(
        self, item_id: str, n: int = 4, *, exclude: Iterable[str] = (), in_stock_only: bool = True
    ) -> list[Recommendation]:
        """Up to ``n`` items that go with ``item_id``: mined pairs first, then rule-based, varied by type.

        Raises NotFoundError for an unknown item; returns [] when nothing is known to go with it.
        """
        data = self.dataset
        a = data.items.index(str(item_id))
        if a is None:
            raise NotFoundError(f"unknown item {item_id!r}")
        if n <= 0:
            return []
        blocked = data.unavailable_items.copy() if in_stock_only else np.zeros(data.n_items, dtype=bool)
        ex = data.items.indices(exclude)
        blocked[ex[ex >= 0]] = True
        blocked[a] = True
        atype = self._types[a]
        if atype:
            blocked[self._by_type[atype]] = True  # never the anchor's own product type
        row = self.co[a]
        names = data.item_names(a)
        mined = [(1.0 + float(s) + 0.01 * self._pop[c], int(c), Reason("bought_together", **names))
                 for c, s in zip(row.indices, row.data, strict=True) if not blocked[c]]  # fmt: skip
        blocked[row.indices] = True
        ranked = sorted(mined, key=lambda x: (-x[0], x[1])) + sorted(
            self._rule_candidates(a, blocked), key=lambda x: (-x[0], x[1])
        )
        return [Recommendation(data.items.id(c), round(s, 6), self.source, r) for s, c, r in self._varied(ranked, n)]

    def _varied(self, ranked: list[tuple[float, int, Reason]], n: int) -> list[tuple[float, int, Reason]]:
        """Best first, one item per product type while the list can be filled, then up to ``max_per_type``."""
        chosen: list[tuple[float, int, Reason]] = []
        taken: set[int] = set()
        per_type: dict[Any, int] = {}
        for cap in sorted({1, self.max_per_type}):
            for cand in ranked:
                c = cand[1]
                key = self._types[c] or c
                if len(chosen) >= n:
                    return chosen
                if c not in taken and per_type.get(key, 0) < cap:
                    chosen.append(cand)
                    taken.add(c)
                    per_type[key] = per_type.get(key, 0) + 1
        return chosen
