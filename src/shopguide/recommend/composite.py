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

#: The default ladder: personalised -> item-CF on recent items -> category popular -> global popular.
DEFAULT_CHAIN = ("hybrid", "recent_item_knn", "category_popular", "popular")

#: Composite owners are encoded as ``step * OWNER_STRIDE + component`` so nested composites keep the source.
OWNER_STRIDE = 1024


def minmax_rows(scores: np.ndarray) -> np.ndarray:
    """Scale each row's finite scores to [0, 1]; ``-inf`` stays ``-inf``."""
    finite = np.isfinite(scores)
    low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
    high = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
    span = np.where(np.isfinite(high - low) & (high > low), high - low, 1.0)
    scaled = (scores - np.where(np.isfinite(low), low, 0.0)) / span
    return np.where(finite, scaled, -np.inf).astype(np.float32)


class Hybrid(Recommender):
    """Weighted sum of the components' per-user min-max normalised scores.

    ``models`` are recommenders, registry names or ``{"model": name, "params": {...}}`` specs
    (default: item-CF + 0.3 x TF-IDF content).
    """

    source = "hybrid"

    def __init__(
        self, *, models: list[Recommender | str | dict] | None = None, weights: list[float] | None = None
    ) -> None:
        self.models = models
        self.weights = weights

    def _components(self) -> tuple[list[Recommender], list[float]]:
        from shopguide.recommend.content import ContentTfidf
        from shopguide.recommend.neighbors import ItemKNN
        from shopguide.recommend.registry import build_model

        models = self.models if self.models is not None else [ItemKNN(), ContentTfidf()]
        models = [build_model(m) for m in models]
        weights = self.weights if self.weights is not None else [1.0] + [0.3] * (len(models) - 1)
        if len(models) != len(weights) or not models:
            raise ConfigError("Hybrid needs one weight per model and at least one model")
        return models, weights

    def _fit(self, dataset: Dataset) -> None:
        self.models_, self.weights_ = self._components()
        for model in self.models_:
            model.fit(dataset)

    def _blend(self, parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Weighted sum, and the owner: the component that scored the item and contributed most."""
        total = np.zeros(parts[0].shape, dtype=np.float32)
        any_finite = np.zeros(parts[0].shape, dtype=bool)
        best = np.full(parts[0].shape, -np.inf, dtype=np.float32)
        owner = np.zeros(parts[0].shape, dtype=np.int32)
        for k, (weight, part) in enumerate(zip(self.weights_, parts, strict=True)):
            finite = np.isfinite(part)
            total += weight * np.where(finite, part, 0.0)
            any_finite |= finite
            if weight > 0:  # ties (e.g. every score normalised to 0) go to the heavier component
                claim = np.where(finite, weight * part + 1e-6 * weight, -np.inf)
                better = claim > best
                best[better], owner[better] = claim[better], k
        return np.where(any_finite, total, -np.inf).astype(np.float32), owner

    def _score_and_owner(self, users: np.ndarray, history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        return self._blend([minmax_rows(m.score(users, history)) for m in self.models_])

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        return self._score_and_owner(users, history)[0]

    def _similar_and_owner(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        total, owner = self._blend([minmax_rows(m.similar_scores(item)[None, :]) for m in self.models_])
        return total[0], owner[0]

    def similar_scores(self, item: int) -> np.ndarray:
        return self._similar_and_owner(item)[0]

    def _attribute(
        self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int, owner: int | None
    ) -> tuple[str, Reason]:
        return self.models_[int(owner or 0)]._attribute(actions, history, item, None)

    def _similar_attribute(self, anchor: int, item: int, owner: int | None) -> tuple[str, Reason]:
        return self.models_[int(owner or 0)]._similar_attribute(anchor, item, None)


class FallbackChain(Recommender):
    """Ordered sources: each fills what the ones before it could not; a failing source is skipped.

    In ranking terms, every item the first source scores comes before every item only the second one
    scores, and so on. The default chain is hybrid -> item-CF on recent items -> category popular ->
    global popular, so an unknown shopper still gets a full list.
    """

    source = "fallback"

    def __init__(self, *, steps: list[Recommender | str | dict] | None = None) -> None:
        self.steps = steps

    def _fit(self, dataset: Dataset) -> None:
        from shopguide.recommend.registry import build_model

        names = self.steps if self.steps is not None else list(DEFAULT_CHAIN)
        self.steps_ = [build_model(s) for s in names]
        for step in self.steps_:
            step.fit(dataset)

    def _chain(self, parts) -> tuple[np.ndarray, np.ndarray]:
        """Stack the steps' scores: each step only fills items that no earlier step scored.

        ``parts`` yields ``(scores, inner_owner)`` per step (``None`` for a failed step). The owner
        encodes the step and the step's own component as ``step * OWNER_STRIDE + inner``.
        """
        n_steps = len(self.steps_)
        combined: np.ndarray | None = None
        owner: np.ndarray | None = None
        for k, part in enumerate(parts):
            if part is None:
                continue
            scores, inner = part
            scores = minmax_rows(np.atleast_2d(scores))
            if combined is None:
                combined = np.full(scores.shape, -np.inf, dtype=np.float32)
                owner = np.full(scores.shape, -1, dtype=np.int32)
            free = ~np.isfinite(combined) & np.isfinite(scores)
            combined[free] = (n_steps - k) + 0.999 * scores[free]
            owner[free] = k * OWNER_STRIDE + (np.atleast_2d(inner)[free] if inner is not None else 0)
            if np.isfinite(combined).all():
                break
        return combined, owner

    def _guarded(self, call, step: Recommender):
        try:
            return call()
        except Exception:  # a broken source must never break the list: skip it, log it
            log.exception("fallback step failed", extra={"step": step.source})
            return None

    def _score_and_owner(self, users: np.ndarray, history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        parts = (self._guarded(lambda s=s: s._score_and_owner(users, history), s) for s in self.steps_)
        combined, owner = self._chain(parts)
        if combined is None:  # every step failed
            combined = np.full((len(users), self.dataset_.n_items), -np.inf, dtype=np.float32)
        return combined, owner

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        return self._score_and_owner(users, history)[0]

    def _similar_and_owner(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        parts = (self._guarded(lambda s=s: s._similar_and_owner(item), s) for s in self.steps_)
        combined, owner = self._chain(parts)
        if combined is None:
            return np.full(self.dataset_.n_items, -np.inf, dtype=np.float32), None
        return combined[0], owner[0]

    def similar_scores(self, item: int) -> np.ndarray:
        return self._similar_and_owner(item)[0]

    def _step(self, owner: int | None) -> tuple[Recommender, int | None]:
        if owner is None or owner < 0:
            return self.steps_[-1], None
        k, inner = divmod(int(owner), OWNER_STRIDE)
        return self.steps_[k], inner

    def _attribute(
        self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int, owner: int | None
    ) -> tuple[str, Reason]:
        step, inner = self._step(owner)
        return step._attribute(actions, history, item, inner)

    def _similar_attribute(self, anchor: int, item: int, owner: int | None) -> tuple[str, Reason]:
        step, inner = self._step(owner)
        return step._similar_attribute(anchor, item, inner)
