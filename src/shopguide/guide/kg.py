"""The product knowledge graph: items, brands, categories and attribute values, with complement and
substitute edges, built once per served model from its Dataset and PairingIndex.

Nodes are plain strings (``item:demo-0001``, ``brand:栖木``, ``category:衬衫``, ``color:黑色``); edges are
kept as per-item columns (one object array per attribute field) and dicts of index arrays, so filtering a
catalog by slots is a few vectorised comparisons. Complement edges come from the PairingIndex (mined
co-cart / co-purchase pairs plus category rules such as shirt -> trousers, phone -> case); substitute edges
join items of the same product type with close prices and shared attributes (top ``k`` per item).
Every answer is a fact read from the catalog or an edge: the graph never makes anything up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Item
from shopguide.recommend.base import Recommendation, shared_traits
from shopguide.recommend.explain import Reason
from shopguide.recommend.pairing import PairingIndex

log = logging.getLogger(__name__)

#: Attribute fields an item may carry (``Item.attributes`` keys) that the graph indexes as value nodes.
ATTRIBUTE_FIELDS = ("color", "material", "style", "season", "gender", "occasion", "size")
#: Fields a comparison and an attribute answer talk about, in the order they are shown.
FACT_FIELDS = ("price", "brand", "product_type", *ATTRIBUTE_FIELDS, "stock")
_UNISEX = frozenset({"中性", "unisex"})
#: Value hierarchy edges (a kind of): asking for, or ruling out, the parent covers the children.
PARENT_VALUES: dict[str, str] = {"头层牛皮": "真皮", "麂皮": "真皮", "白鹅绒": "羽绒", "白鸭绒": "羽绒", "羊绒": "羊毛"}
#: Basic hues whose shades a negation covers ("not red" is not 番茄红 either).
_HUES = frozenset("红橙黄绿青蓝紫粉灰棕褐黑白")
_SUB_FIELDS = ("style", "material", "color", "occasion", "season", "brand")


@dataclass(frozen=True)
class Comparison:
    """What two items share and where they differ (values as in the catalog)."""

    a: str
    b: str
    shared: dict[str, Any] = field(default_factory=dict)
    different: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def as_list(value: Any) -> list[Any]:
    """A slot value as a list (slots hold one value or several)."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple | set) else [value]


_SIZE_RANGE = re.compile(r"^(\d+(?:\.\d+)?)\s*[-~～–]\s*(\d+(?:\.\d+)?)$")


def size_fits(wanted: str, sizes: str) -> bool:
    """Whether a size asked for is one of an item's sizes: listed ("L" in "S/M/L") or, for a number, inside a
    listed range ("38" in "35-44", "27" in "26-30")."""
    wanted = wanted.strip().lower()
    for part in (p.strip().lower() for p in sizes.split("/")):
        if part == wanted:
            return True
        bounds = _SIZE_RANGE.match(part)
        numeric = re.fullmatch(r"\d+(?:\.\d+)?", wanted)
        if bounds and numeric and float(bounds.group(1)) <= float(wanted) <= float(bounds.group(2)):
            return True
    return False


def _matches(values: np.ndarray, wanted: str, name: str) -> np.ndarray:
    """Items whose ``name`` value fits ``wanted``: equal, one containing the other (棉 / 纯棉), a size in a
    size range (L in S/M/L), or for gender an unisex or unspecified item."""
    wanted = str(wanted).strip().lower()
    out = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        v = v.lower()
        if name == "gender":
            out[i] = v == wanted or not v or v in _UNISEX
        elif name == "size":
            out[i] = size_fits(wanted, v)
        else:
            parent = PARENT_VALUES.get(v, "").lower()
            out[i] = bool(v) and (v == wanted or wanted in v or (len(v) >= 2 and v in wanted) or parent == wanted)
    return out


class KnowledgeGraph:
    """Item - brand - category - attribute graph of one catalog, with complement and substitute edges."""

    def __init__(
        self,
        dataset: Dataset,
        pairing: PairingIndex | None = None,
        *,
        names: Mapping[str, str] | None = None,
        substitutes_k: int = 5,
    ) -> None:
        self.dataset, self.pairing = dataset, pairing
        self.names = dict(names or {})
        meta = dataset.item_meta
        self.n_items = len(meta)
        self.leaf = np.array([(m.leaf_category or "") if m else "" for m in meta], dtype=object)
        self.top = np.array([(m.category[0] if m and m.category else "") for m in meta], dtype=object)
        self.brand = np.array([(m.brand or "") if m else "" for m in meta], dtype=object)
        self.price = np.array([m.price if m and m.price is not None else np.nan for m in meta], dtype=np.float64)
        self.columns = {f: np.array([(m.attributes.get(f, "") if m else "") for m in meta], dtype=object)
                        for f in ATTRIBUTE_FIELDS}  # fmt: skip
        self.created = np.array([(m.created_at or 0.0) if m else 0.0 for m in meta], dtype=np.float64)
        self.available = np.array([m is not None and m.in_stock for m in meta], dtype=bool)
        self.popularity = dataset.item_popularity.astype(np.float64)
        # edges: value node -> item indices
        self.by_value: dict[str, np.ndarray] = {}
        groups: dict[str, list[int]] = {}
        for i, m in enumerate(meta):
            for node in self._item_nodes(m):
                groups.setdefault(node, []).append(i)
        self.by_value = {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
        self.complement_types: dict[str, list[str]] = (
            {t: [o for o, _ in others] for t, others in pairing.partners.items()} if pairing else {}
        )
        self.substitute_edges = self._substitute_edges(substitutes_k)
        self._match_cache: dict[tuple[str, str], np.ndarray] = {}
        log.info("knowledge graph: %s", self.stats())

    @classmethod
    def build(
        cls, dataset: Dataset, pairing: PairingIndex | None = None, *, names: Mapping[str, str] | None = None
    ) -> KnowledgeGraph:
        """The graph of ``dataset``; ``names`` maps Chinese catalog words to English (default: demo vocab)."""
        if names is None:
            from shopguide.data.demo import ATTRIBUTE_VALUES, BRAND_NAMES, CATEGORY_NAMES

            names = {**ATTRIBUTE_VALUES, **CATEGORY_NAMES, **BRAND_NAMES}
        return cls(dataset, pairing, names=names)

    @staticmethod
    def _item_nodes(meta: Item | None) -> Iterable[str]:
        if meta is None:
            return
        if meta.brand:
            yield f"brand:{meta.brand}"
        for c in meta.category:
            yield f"category:{c}"
        for f in ATTRIBUTE_FIELDS:
            if meta.attributes.get(f):
                yield f"{f}:{meta.attributes[f]}"

    def stats(self) -> dict[str, int]:
        """Node and edge counts."""
        return {
            "items": self.n_items,
            "value_nodes": len(self.by_value),
            "attribute_edges": int(sum(len(v) for v in self.by_value.values())),
            "complement_type_edges": sum(len(v) for v in self.complement_types.values()),
            "mined_complement_edges": int(self.pairing.co.nnz // 2) if self.pairing else 0,
            "substitute_edges": sum(len(v) for v in self.substitute_edges.values()),
        }

    # ------------------------------------------------------------------ facts
    def index(self, item_id: str) -> int | None:
        return self.dataset.items.index(str(item_id))

    def item(self, item_id: str) -> Item | None:
        """The catalog item (None when unknown)."""
        idx = self.index(item_id)
        return self.dataset.item(idx) if idx is not None else None

    def has_category(self, name: Any) -> bool:
        """Whether ``name`` (or every name of a list) is a category (any level of a path) in this catalog."""
        return all(f"category:{n}" in self.by_value for n in as_list(name)) and bool(as_list(name))

    def label(self, value: Any, lang: str) -> str:
        """A catalog word in ``lang`` (English names from the names map; the word itself otherwise)."""
        if isinstance(value, list | tuple):
            return "/".join(self.label(v, lang) for v in value)
        text = str(value)
        return self.names.get(text, text) if lang == "en" else text

    def title(self, item_id: str, lang: str) -> str:
        """The item's title in ``lang`` (the second-language title for English when it has one)."""
        meta = self.item(item_id)
        if meta is None:
            return item_id
        return meta.title_alt if lang == "en" and meta.title_alt else meta.title

    def attributes(self, item_id: str) -> dict[str, Any]:
        """Every known fact of an item, in :data:`FACT_FIELDS` order (missing facts left out)."""
        meta = self.item(item_id)
        if meta is None:
            return {}
        facts: dict[str, Any] = {
            "price": meta.price,
            "brand": meta.brand,
            "product_type": meta.leaf_category,
            **{f: meta.attributes.get(f) for f in ATTRIBUTE_FIELDS},
            "stock": meta.stock,
        }
        return {k: v for k, v in facts.items() if v not in (None, "")}

    def types_of(self, item_ids: Iterable[str]) -> set[str]:
        """The product types of ``item_ids`` (unknown items left out)."""
        return {t for t in (self.attributes(i).get("product_type") for i in item_ids) if t}

    def compare(self, a: str, b: str) -> Comparison:
        """Shared and different facts of two items (a fact only one of them has counts as different)."""
        fa, fb = self.attributes(a), self.attributes(b)
        shared, different = {}, {}
        for key in FACT_FIELDS:
            va, vb = fa.get(key), fb.get(key)
            if (va is None and vb is None) or key == "stock":
                continue
            if va == vb:
                shared[key] = va
            else:
                different[key] = (va, vb)
        return Comparison(a, b, shared, different)

    def values_of(self, name: str, mask: np.ndarray | None = None) -> list[str]:
        """Distinct values of an attribute (or ``brand``) among the items of ``mask``, most common first."""
        column = self.brand if name == "brand" else self.columns.get(name)
        if column is None:
            return []
        values = column[mask] if mask is not None else column
        counts: dict[str, int] = {}
        for v in values:
            if v:
                counts[v] = counts.get(v, 0) + 1
        return sorted(counts, key=lambda v: (-counts[v], v))

    # ------------------------------------------------------------------ filtering
    def select(
        self,
        *,
        product_type: str | Sequence[str] | None = None,
        category: str | Sequence[str] | None = None,
        price_min: float | None = None,
        price_max: float | None = None,
        attributes: Mapping[str, Any] | None = None,
        exclude_values: Mapping[str, Iterable[str]] | None = None,
        exclude_items: Iterable[str] = (),
        in_stock: bool = True,
    ) -> np.ndarray:
        """Boolean mask of available items fitting every constraint; a list of values means any of them;
        ``exclude_values`` are negations; ``in_stock=False`` counts sold-out items too."""
        mask = self.available.copy() if in_stock else np.array([m is not None for m in self.dataset.item_meta])
        for names in (product_type, category):
            if names:
                in_cat = np.zeros(self.n_items, dtype=bool)
                for name in as_list(names):
                    in_cat[self.by_value.get(f"category:{name}", np.zeros(0, dtype=np.int64))] = True
                mask &= in_cat
        with np.errstate(invalid="ignore"):
            if price_min is not None:
                mask &= self.price >= float(price_min)
            if price_max is not None:
                mask &= self.price <= float(price_max)
        for name, value in (attributes or {}).items():
            mask &= np.logical_or.reduce([self._column_match(name, v) for v in as_list(value)] or [mask])
        for name, values in (exclude_values or {}).items():
            for value in values:
                if name in ("product_type", "category"):
                    mask &= ~(self.leaf == value) & ~(self.top == value)
                elif name == "color":  # "not red" rules out the shades of red too (番茄红, 酒红色)
                    mask &= ~self._column_match(name, value) & ~self._hue_match(value)
                elif name != "gender":
                    mask &= ~self._column_match(name, value)
        ex = self.dataset.items.indices(list(exclude_items))
        mask[ex[ex >= 0]] = False
        return mask

    def _hue_match(self, value: str) -> np.ndarray:
        """Items whose colour is a shade of the basic colour ``value`` (红色 -> 番茄红, 酒红色; 蓝色 -> 浅蓝色)."""
        hue = str(value).removesuffix("色")
        column = self.columns.get("color")
        if column is None or len(hue) != 1 or hue not in _HUES:
            return np.zeros(self.n_items, dtype=bool)
        return np.array([bool(v) and str(v).removesuffix("色").endswith(hue) for v in column])

    def _column_match(self, name: str, value: str) -> np.ndarray:
        if name == "brand":
            wanted = str(value).lower()
            return np.array([b.lower() == wanted or self.names.get(b, "").lower() == wanted for b in self.brand])
        if name not in self.columns:
            return np.ones(self.n_items, dtype=bool)  # not a catalog attribute: no constraint
        key = (name, str(value))
        if key not in self._match_cache:
            if len(self._match_cache) > 4096:
                self._match_cache.clear()
            self._match_cache[key] = _matches(self.columns[name], value, name)
        return self._match_cache[key]

    # ------------------------------------------------------------------ edges
    def _substitute_edges(self, k: int) -> dict[int, list[tuple[int, float]]]:
        edges: dict[int, list[tuple[int, float]]] = {}
        if k <= 0:
            return edges
        for t in set(self.leaf) - {""}:
            idx = np.flatnonzero(self.leaf == t)
            if len(idx) < 2:
                continue
            cols = [self.brand[idx] if f == "brand" else self.columns[f][idx] for f in _SUB_FIELDS]
            same = sum((c[:, None] == c[None, :]) & (c[:, None] != "") for c in cols) / len(cols)
            p = self.price[idx]
            with np.errstate(invalid="ignore", divide="ignore"):
                close = 1.0 - np.abs(p[:, None] - p[None, :]) / np.maximum(p[:, None], p[None, :])
            score = 0.5 * same + 0.5 * np.nan_to_num(close, nan=0.5)
            g = self.columns["gender"][idx]
            clash = (g[:, None] != g[None, :]) & (g[:, None] != "") & (g[None, :] != "")
            clash &= ~np.isin(g, list(_UNISEX))[:, None] & ~np.isin(g, list(_UNISEX))[None, :]
            score[clash] = -np.inf
            np.fill_diagonal(score, -np.inf)
            for row, a in enumerate(idx):
                order = np.lexsort((idx, -score[row]))[:k]
                edges[int(a)] = [(int(idx[j]), float(score[row, j])) for j in order if np.isfinite(score[row, j])]
        return edges

    def substitutes(self, item_id: str, n: int = 5, *, exclude: Iterable[str] = ()) -> list[Recommendation]:
        """Items of the same product type with close prices and shared attributes, best first."""
        a = self.index(item_id)
        if a is None:
            return []
        blocked = set(exclude)
        names = self.dataset.item_names(a)
        out = []
        for c, score in self.substitute_edges.get(a, []):
            cid = self.dataset.items.id(c)
            if self.available[c] and cid not in blocked:
                traits = shared_traits(self.dataset, a, c)
                out.append(
                    Recommendation(cid, round(score, 6), "substitute", Reason("similar_to", **names, traits=traits))
                )
        return out[:n]

    def complements(
        self, item_id: str, n: int = 4, *, exclude: Iterable[str] = (), product_type: str | None = None
    ) -> list[Recommendation]:
        """What goes with an item (搭配), each with why; ``product_type`` keeps one complementary type."""
        if self.pairing is None or self.index(item_id) is None:
            return []
        recs = self.pairing.bundle(item_id, max(n * 4, 16) if product_type else n, exclude=exclude)
        if product_type:
            recs = [r for r in recs if product_type in self._path(r.item)]
        return recs[:n]

    def _path(self, item_id: str) -> list[str]:
        meta = self.item(item_id)
        return list(meta.category) if meta else []
