"""Composite recommenders: a weighted Hybrid of scores and the ordered FallbackChain.

Both keep track of which component produced each item's score, so every returned item names its
real source and carries that component's reason.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.errors import ConfigError
from shopguide.recommend.base import Recommender
from shopguide.recommend.explain import Reason

log = logging.getLogger(__name__)


def minmax_rows(scores: np.ndarray) -> np.ndarray:
    """Scale each row's finite scores to [0, 1]; ``-inf`` stays ``-inf``."""
    finite = np.isfinite(scores)
    low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
    high = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
    span = np.where(np.isfinite(high - low) & (high > low), high - low, 1.0)
    scaled = (scores - np.where(np.isfinite(low), low, 0.0)) / span
    return np.where(finite, scaled, -np.inf).astype(np.float32)


class Hybrid(Recommender):
    """Weighted sum of the components' per-user min-max normalised scores."""

    source = "hybrid"

    def __init__(self, *, models: list[Recommender] | None = None, weights: list[float] | None = None) -> None:
        self.models = models
        self.weights = weights

    def _components(self) -> tuple[list[Recommender], list[float]]:
        from shopguide.recommend.content import ContentTfidf
        from shopguide.recommend.neighbors import ItemKNN

        models = self.models if self.models is not None else [ItemKNN(), ContentTfidf()]
        weights = self.weights if self.weights is not None else [1.0] + [0.3] * (len(models) - 1)
        if len(models) != len(weights) or not models:
            raise ConfigError("Hybrid needs one weight per model and at least one model")
        return models, weights

    def _fit(self, dataset: Dataset) -> None:
        self.models_, self.weights_ = self._components()
        for model in self.models_:
            model.fit(dataset)

    def _blend(self, parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        contrib = np.stack([w * np.where(np.isfinite(p), p, 0.0) for w, p in zip(self.weights_, parts, strict=True)])
        any_finite = np.any(np.stack([np.isfinite(p) for p in parts]), axis=0)
        total = np.where(any_finite, contrib.sum(axis=0), -np.inf).astype(np.float32)
        return total, contrib.argmax(axis=0)

    def _score_and_owner(self, users: np.ndarray, history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        return self._blend([minmax_rows(m.score(users, history)) for m in self.models_])

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        return self._score_and_owner(users, history)[0]

    def similar_scores(self, item: int) -> np.ndarray:
        parts = [minmax_rows(m.similar_scores(item)[None, :]) for m in self.models_]
        return self._blend(parts)[0][0]

    def _attribute(self, user: int, history: sp.csr_matrix, item: int, owner: int | None) -> tuple[str, Reason]:
        model = self.models_[int(owner or 0)]
        return model._attribute(user, history, item, None)


class FallbackChain(Recommender):
    """Ordered sources: each fills what the ones before it could not; a failing source is skipped.

    In ranking terms, every item the first source scores comes before every item only the second one
    scores, and so on. The default chain is hybrid -> item-CF on recent items -> category popular ->
    global popular, so an unknown shopper still gets a full list.
    """

    source = "fallback"

    def __init__(self, *, steps: list[Recommender] | None = None) -> None:
        self.steps = steps

    def _fit(self, dataset: Dataset) -> None:
        from shopguide.recommend.neighbors import ItemKNN
        from shopguide.recommend.popularity import CategoryPopularity, Popularity

        self.steps_ = (
            self.steps if self.steps is not None else [Hybrid(), ItemKNN(recent=5), CategoryPopularity(), Popularity()]
        )
        for step in self.steps_:
            step.fit(dataset)

    def _score_and_owner(self, users: np.ndarray, history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        n_steps = len(self.steps_)
        combined = np.full((len(users), self.dataset_.n_items), -np.inf, dtype=np.float32)
        owner = np.full(combined.shape, -1, dtype=np.int16)
        for k, step in enumerate(self.steps_):
            try:
                part = minmax_rows(step.score(users, history))
            except Exception:  # a broken source must never break the list: skip it, log it
                log.exception("fallback step failed", extra={"step": step.source})
                continue
            free = ~np.isfinite(combined) & np.isfinite(part)
            combined[free] = (n_steps - k) + 0.999 * part[free]
            owner[free] = k
            if np.isfinite(combined).all():
                break
        return combined, owner

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        return self._score_and_owner(users, history)[0]

    def similar_scores(self, item: int) -> np.ndarray:
        return self.steps_[0].similar_scores(item)

    def _attribute(self, user: int, history: sp.csr_matrix, item: int, owner: int | None) -> tuple[str, Reason]:
        step = self.steps_[int(owner) if owner is not None and owner >= 0 else -1]
        return step._attribute(user, history, item, None)
