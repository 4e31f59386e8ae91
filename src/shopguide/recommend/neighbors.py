"""Neighbourhood collaborative filtering: item-based and user-based, cosine or Pearson.

Item-based: item-item top-k neighbour lists are precomputed at fit time; a request is one sparse
product ``history @ S``. User-based: the shopper's history is compared with every training user at
request time (one sparse product), so a brand-new shopper with a few session events is served too.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.recommend.base import Recommender, strongest_action
from shopguide.recommend.explain import Reason
from shopguide.recommend.similarity import (
    binarize,
    knn_similarity,
    row_stats,
    similarity_block,
    topk_rows,
    weight_rows,
)


class ItemKNN(Recommender):
    """Item-based CF: score(i) = sum over history items j of w_j * sim(j, i), sim kept for j's top-k."""

    source = "item_knn"

    def __init__(
        self,
        *,
        similarity: str = "cosine",
        k: int = 200,
        shrinkage: float = 20.0,
        weighting: str = "none",
        binary: bool = True,
        normalize: bool = False,
        recent: int | None = None,
    ) -> None:
        self.similarity = similarity
        self.k = k
        self.shrinkage = shrinkage
        self.weighting = weighting
        self.binary = binary
        self.normalize = normalize
        self.recent = recent

    def _fit(self, dataset: Dataset) -> None:
        matrix = binarize(dataset.matrix) if self.binary else dataset.matrix
        item_vectors = weight_rows(matrix.T.tocsr(), self.weighting)
        self.neighbors_ = knn_similarity(item_vectors, similarity=self.similarity, k=self.k, shrinkage=self.shrinkage)
        if self.normalize:  # optional: each item's neighbour weights sum to 1 (off by default: worse on ML and Beauty)
            sums = np.asarray(self.neighbors_.sum(axis=1)).ravel()
            self.neighbors_ = (sp.diags(1.0 / np.maximum(sums, 1e-9)) @ self.neighbors_).tocsr().astype(np.float32)
        self.neighbors_csc_ = self.neighbors_.tocsc()

    def _prepare(self, history: sp.csr_matrix) -> sp.csr_matrix:
        return binarize(history) if self.binary else history

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        h = self._prepare(history)
        scores = (h @ self.neighbors_).toarray().astype(np.float32)
        return np.where(scores > 0, scores, -np.inf)

    def _history_rows(self, uidx, extra):
        hist, actions = super()._history_rows(uidx, extra)
        if self.recent:  # keep only each shopper's most recent items (plus the request's own events)
            hist = _keep_recent(self.dataset_, uidx, hist, self.recent, extra)
        return hist, actions

    def similar_scores(self, item: int) -> np.ndarray:
        row = self.neighbors_[item].toarray().ravel()
        return np.where(row > 0, row, -np.inf).astype(np.float32)

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        """The history item that contributed most to ``item``'s score (numpy on the CSC arrays: hot path)."""
        csc = self.neighbors_csc_
        start, stop = csc.indptr[item], csc.indptr[item + 1]
        anchors, sims = csc.indices[start:stop], csc.data[start:stop]
        hist_items = history.indices
        pos = np.minimum(np.searchsorted(hist_items, anchors), max(len(hist_items) - 1, 0))
        hit = (hist_items[pos] == anchors) if len(hist_items) else np.zeros(len(anchors), dtype=bool)
        if not hit.any():
            return Reason("similar_taste")
        weights = np.ones(int(hit.sum()), dtype=np.float32) if self.binary else history.data[pos[hit]]
        best = int(anchors[hit][np.argmax(sims[hit] * weights)])
        return Reason("because_you", **self.dataset_.item_names(best), action=strongest_action(actions, best))


class UserKNN(Recommender):
    """User-based CF: score(i) = sum over the k most similar shoppers v of sim(u, v) * x_vi."""

    source = "user_knn"

    def __init__(
        self,
        *,
        similarity: str = "cosine",
        k: int = 100,
        shrinkage: float = 50.0,
        weighting: str = "none",
        binary: bool = True,
    ) -> None:
        self.similarity = similarity
        self.k = k
        self.shrinkage = shrinkage
        self.weighting = weighting
        self.binary = binary

    def _fit(self, dataset: Dataset) -> None:
        matrix = binarize(dataset.matrix) if self.binary else dataset.matrix
        self.user_vectors_ = weight_rows(matrix, self.weighting)
        self.user_mean_, self.user_scale_ = row_stats(self.user_vectors_, self.similarity)
        self.user_vectors_t_ = self.user_vectors_.T.tocsr()
        self.ratings_ = matrix

    def _neighbours(self, users: np.ndarray, history: sp.csr_matrix) -> sp.csr_matrix:
        h = binarize(history) if self.binary else history.astype(np.float32)
        if self.weighting != "none":  # weight the query like the training rows: reuse the item IDF
            idf = _column_idf(self.ratings_)
            h = (h @ sp.diags(idf)).tocsr().astype(np.float32)
        mean, scale = row_stats(h, self.similarity)
        dots = (h @ self.user_vectors_t_).toarray().astype(np.float64)
        sims = similarity_block(dots, mean, scale, self.user_mean_, self.user_scale_, h.shape[1], self.shrinkage)
        known = users >= 0
        sims[np.flatnonzero(known), users[known]] = 0.0  # a shopper is not their own neighbour
        if self.similarity == "cosine":
            sims[dots == 0] = 0.0
        idx, vals = topk_rows(sims, self.k, 0.0)
        rows = np.repeat(np.arange(len(users)), idx.shape[1])
        return sp.csr_matrix((vals.ravel(), (rows, idx.ravel())), shape=sims.shape, dtype=np.float32)

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        neigh = self._neighbours(users, history)
        scores = (neigh @ self.ratings_).toarray().astype(np.float32)
        return np.where(scores > 0, scores, -np.inf)

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        return Reason("similar_taste")


def _column_idf(matrix: sp.csr_matrix) -> np.ndarray:
    df = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
    return np.log(matrix.shape[0] / np.maximum(df, 1.0)).astype(np.float32) + 1.0


def _keep_recent(data: Dataset, uidx: np.ndarray, hist: sp.csr_matrix, recent: int, extra) -> sp.csr_matrix:
    """Restrict each known user's history row to their ``recent`` latest items (extra events always kept)."""
    hist = hist.tocsr(copy=True)
    keep = np.ones(hist.nnz, dtype=bool)
    for row, u in enumerate(uidx):
        if u < 0:
            continue
        wanted = data.sequence(int(u))[-recent:]
        if extra is not None and extra[row]:
            ids = data.items.indices(e if isinstance(e, str) else e[0] for e in extra[row])
            wanted = np.concatenate([wanted, ids[ids >= 0]])
        start, stop = hist.indptr[row], hist.indptr[row + 1]
        keep[start:stop] = np.isin(hist.indices[start:stop], wanted)
    hist.data = np.where(keep, hist.data, 0).astype(hist.data.dtype)
    hist.eliminate_zeros()
    return hist
