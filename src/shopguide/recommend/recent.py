"""The order of a request's recent events, for models that read sequences.

``score(users, history)`` receives history as a sparse matrix, which has no order. ``recommend_batch``
publishes the request's recent events, in the order given, through :data:`RECENT_ITEMS` (a context
variable: private to the request's thread or task) so a sequence model can append them to what it
already knows of each shopper; models that do not care never look.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from functools import cached_property

import numpy as np

from shopguide.data.dataset import Dataset
from shopguide.recommend.explain import ACTION_RANK


class RecentItems:
    """A request's recent events per batch row, resolved to item indices (oldest first, impressions and
    unknown items skipped) only when a model asks: models that ignore order cost nothing on the hot path."""

    def __init__(
        self, data: Dataset | None, histories: Sequence[Sequence[str | tuple[str, str]] | None] | None, rows: int
    ) -> None:
        self._data, self._histories, self._n = data, histories, rows

    @classmethod
    def of_indices(cls, rows: list[np.ndarray]) -> RecentItems:
        """Already-resolved rows (e.g. an evaluation that feeds ordered sequences)."""
        recent = cls(None, None, len(rows))
        recent.__dict__["rows"] = rows
        return recent

    @cached_property
    def rows(self) -> list[np.ndarray]:
        out = []
        for r in range(self._n):
            events = (self._histories[r] if self._histories is not None else None) or ()
            idx = []
            for ev in events:
                item, kind = (ev, "view") if isinstance(ev, str) else ev
                i = self._data.items.index(str(item))
                if i is not None and ACTION_RANK.get(str(kind), 1) > 0:
                    idx.append(i)
            out.append(np.asarray(idx, dtype=np.int64))
        return out


#: The current ``recommend_batch`` call's recent events (None outside it).
RECENT_ITEMS: ContextVar[RecentItems | None] = ContextVar("shopguide_recent_items", default=None)


def merge_sequence(known: np.ndarray, recent: np.ndarray) -> np.ndarray:
    """``known`` followed by the part of ``recent`` it does not already end with.

    Recent events often overlap the end of the training sequence (the store keeps serving them after a
    retrain); the longest suffix of ``known`` that equals a prefix of ``recent`` is not repeated.
    """
    if len(recent) == 0:
        return known
    for overlap in range(min(len(known), len(recent)), 0, -1):
        if np.array_equal(known[-overlap:], recent[:overlap]):
            return np.concatenate([known, recent[overlap:]])
    return np.concatenate([known, recent])
