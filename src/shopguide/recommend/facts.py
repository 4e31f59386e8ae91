"""Facts about shoppers and items that reasons are made of: strongest action per item, shared traits."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import EVENT_TYPES, Dataset
from shopguide.recommend.explain import ACTION_RANK

_ACTION_BY_CODE = np.array([ACTION_RANK[t.value] for t in EVENT_TYPES], dtype=np.int8)


def strongest_actions(data: Dataset) -> sp.csr_matrix:
    """CSR of the strongest action rank (view=1 ... purchase=5) per user-item pair."""
    keep = data.positive
    u, i = data.user_idx[keep], data.item_idx[keep]
    rank = _ACTION_BY_CODE[data.event_type[keep]].astype(np.float32)
    order = np.lexsort((rank, i, u))
    u, i, rank = u[order], i[order], rank[order]
    last = np.ones(len(u), dtype=bool)
    if len(u) > 1:
        last[:-1] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    return sp.csr_matrix((rank[last], (u[last], i[last])), shape=(data.n_users, data.n_items))


def row_value(row: sp.csr_matrix, col: int) -> float:
    """``row[0, col]`` of a one-row CSR with sorted indices, without scipy's slow scalar indexing."""
    pos = np.searchsorted(row.indices, col)
    return float(row.data[pos]) if pos < len(row.indices) and row.indices[pos] == col else 0.0


def strongest_action(actions: sp.csr_matrix, item: int) -> int:
    """The shopper's strongest action rank on ``item`` (at least 1: "viewed")."""
    return max(int(row_value(actions, item)), 1)


def shared_traits(data: Dataset, a: int, b: int) -> tuple[str, ...]:
    """What two catalog items have in common, for "similar to X: same brand, same style" reasons."""
    ma, mb = data.item(a), data.item(b)
    if ma is None or mb is None:
        return ()
    traits = []
    if ma.brand and ma.brand == mb.brand:
        traits.append("same brand")
    if ma.leaf_category and ma.leaf_category == mb.leaf_category:
        traits.append("same category")
    for key, label in (("style", "same style"), ("color", "same colour"), ("material", "same material")):
        if ma.attributes.get(key) and ma.attributes.get(key) == mb.attributes.get(key):
            traits.append(label)
    if ma.price and mb.price and abs(ma.price - mb.price) <= 0.2 * max(ma.price, mb.price):
        traits.append("similar price")
    return tuple(traits[:3])
