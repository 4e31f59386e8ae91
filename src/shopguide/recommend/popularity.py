"""Popularity recommenders: global and per-category, with exponential time decay."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.recommend.base import Recommender
from shopguide.recommend.explain import Reason

_DAY = 86_400.0


def decayed_popularity(data: Dataset, half_life_days: float | None) -> np.ndarray:
    """Sum of event weights per item, each halved every ``half_life_days`` before the newest event."""
    keep = data.positive
    weights = data.row_weights[keep].astype(np.float64)
    if half_life_days and len(data.ts):
        age_days = (data.ts.max() - data.ts[keep]) / _DAY
        weights = weights * np.exp2(-age_days / half_life_days)
    return np.bincount(data.item_idx[keep], weights=weights, minlength=data.n_items).astype(np.float32)


def _period(half_life_days: float | None) -> str:
    return "week" if half_life_days and half_life_days <= 14 else "now"


class Popularity(Recommender):
    """The same time-decayed bestseller list for everyone. Never personalised, never empty."""

    source = "popular"

    def __init__(self, *, half_life_days: float | None = 7.0) -> None:
        self.half_life_days = half_life_days

    def _fit(self, dataset: Dataset) -> None:
        self.item_scores_ = decayed_popularity(dataset, self.half_life_days)

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.item_scores_, (len(users), len(self.item_scores_))).copy()

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        return Reason("popular", period=_period(self.half_life_days))


class CategoryPopularity(Popularity):
    """Bestsellers of the categories the shopper engages with, weighted by their share of the history.

    Items outside the shopper's categories score ``-inf`` (so the fallback chain continues with global
    popularity); a shopper without history gets nothing from this source.
    """

    source = "category_popular"

    def _fit(self, dataset: Dataset) -> None:
        super()._fit(dataset)
        labels, codes = np.unique(dataset.item_category.astype(str), return_inverse=True)
        self.category_labels_ = labels
        self.item_category_code_ = codes.astype(np.int64)
        n_cat = len(labels)
        # item -> category one-hot, ignoring unknown ('') categories
        known = labels[codes] != ""
        self.item_to_category_ = sp.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (np.flatnonzero(known), codes[known])),
            shape=(dataset.n_items, n_cat),
        )
        # normalise within category so that a small category's bestseller can compete
        totals = np.bincount(codes, weights=self.item_scores_, minlength=n_cat)
        self.share_in_category_ = (self.item_scores_ / np.maximum(totals[codes], 1e-9)).astype(np.float32)

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        affinity = np.asarray((history @ self.item_to_category_).todense(), dtype=np.float32)
        row_sum = affinity.sum(axis=1, keepdims=True)
        affinity = np.divide(affinity, row_sum, out=np.zeros_like(affinity), where=row_sum > 0)
        per_item = affinity[:, self.item_category_code_]
        scores = per_item * self.share_in_category_[None, :]
        return np.where(per_item > 0, scores, -np.inf).astype(np.float32)

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        return Reason(
            "popular_in",
            category=str(self.category_labels_[self.item_category_code_[item]]),
            period=_period(self.half_life_days),
        )
