"""Item side information for the sequence model: brand, every category level, price band and tags.

Each item gets a bag of feature ids; the network averages their embeddings and adds the mean to the
item's own embedding, so rare and brand-new items borrow from the items that share their traits.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from shopguide.data.dataset import Dataset


@dataclass(frozen=True)
class ItemFeatures:
    """A ragged item -> feature-id table (``offsets`` into ``ids``) plus the feature names."""

    names: list[str]
    ids: np.ndarray
    offsets: np.ndarray

    @property
    def n_features(self) -> int:
        return len(self.names)

    def of(self, item: int) -> list[str]:
        return [self.names[f] for f in self.ids[self.offsets[item] : self.offsets[item + 1]]]


def price_band(price: float | None) -> str | None:
    """Half-octave price bands (…, 8-11, 11-16, 16-22, …): similar prices share a band in any currency."""
    if price is None or price <= 0:
        return None
    return f"price:{math.floor(2 * math.log2(price))}"


def raw_features(dataset: Dataset, item: int) -> list[str]:
    meta = dataset.item(item)
    if meta is None:
        return []
    feats = [f"cat:{'/'.join(meta.category[: level + 1])}" for level in range(len(meta.category))]
    if meta.brand:
        feats.append(f"brand:{meta.brand.casefold()}")
    band = price_band(meta.price)
    if band:
        feats.append(band)
    feats += [f"tag:{tag}" for tag in meta.tags]
    return list(dict.fromkeys(feats))


def item_features(dataset: Dataset, *, min_items: int = 2) -> ItemFeatures:
    """Features shared by at least ``min_items`` items (a feature of one item says nothing it's id doesn't)."""
    per_item = [raw_features(dataset, i) for i in range(dataset.n_items)]
    counts = Counter(f for feats in per_item for f in feats)
    names = sorted(f for f, c in counts.items() if c >= min_items)
    index = {name: k for k, name in enumerate(names)}
    ids: list[int] = []
    offsets = [0]
    for feats in per_item:
        ids += [index[f] for f in feats if f in index]
        offsets.append(len(ids))
    return ItemFeatures(names, np.asarray(ids, dtype=np.int64), np.asarray(offsets, dtype=np.int64))
