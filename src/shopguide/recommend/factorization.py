"""Matrix factorisation through ``implicit``: ALS (implicit feedback) and BPR (pairwise ranking).

At request time ALS folds the shopper's current history in exactly (one least-squares solve per user,
``implicit``'s ``recalculate_user``), so new shoppers and fresh session events are served without
retraining. BPR has no closed-form fold-in: known shoppers use their learned factors plus the mean
factor of any extra items; new shoppers use the mean factor of their history items.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from shopguide.data.dataset import Dataset
from shopguide.recommend.base import Recommender, strongest_action
from shopguide.recommend.explain import Reason

log = logging.getLogger(__name__)


def _quiet_implicit() -> None:
    logging.getLogger("implicit").setLevel(logging.ERROR)


class _Factorization(Recommender):
    """Shared scoring for factor models: score = user_factor . item_factor."""

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        factors = self._user_factors(users, history).astype(np.float64)
        # float64 product: the same user gets the same float32 scores whatever the batch size
        scores = (factors @ self._item_factors_t64()).astype(np.float32)
        empty = np.flatnonzero(np.diff(history.indptr) == 0)
        unknown_empty = empty[users[empty] < 0]
        scores[unknown_empty] = -np.inf  # nothing to go on
        return scores

    def _user_factors(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError

    def _item_factors_t64(self) -> np.ndarray:
        cached = getattr(self, "item_factors_t64_", None)
        if cached is None:
            cached = self.item_factors_t64_ = np.ascontiguousarray(self.item_factors_.T, dtype=np.float64)
        return cached

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("item_factors_t64_", None)  # derived; rebuilt on first use
        return state

    def similar_scores(self, item: int) -> np.ndarray:
        norms = np.linalg.norm(self.item_factors_, axis=1) + 1e-9
        return (self.item_factors_ @ self.item_factors_[item]) / (norms * norms[item])

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        if history.nnz == 0:
            return Reason("similar_taste")
        hist_items = history.indices
        f = self.item_factors_
        sims = f[hist_items] @ f[item] / (np.linalg.norm(f[hist_items], axis=1) * np.linalg.norm(f[item]) + 1e-9)
        best = int(hist_items[np.argmax(sims)])
        return Reason("because_you", **self.dataset_.item_names(best), action=strongest_action(actions, best))


class ALS(_Factorization):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) via ``implicit``; confidence = 1 + alpha * weight."""

    source = "als"

    def __init__(
        self,
        *,
        factors: int = 128,
        regularization: float = 10.0,
        alpha: float = 20.0,
        iterations: int = 20,
        binary: bool = True,
        seed: int = 42,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.binary = binary
        self.seed = seed

    def _prepare(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        matrix = matrix.astype(np.float32).tocsr()
        if self.binary:
            matrix.data[:] = 1.0
        return matrix

    def _fit(self, dataset: Dataset) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        _quiet_implicit()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the BLAS-threads advice is handled below
            self.model_ = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
            )
        with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, not BLAS's
            self.model_.fit(self._prepare(dataset.matrix), show_progress=False)
        self.item_factors_ = np.asarray(self.model_.item_factors, dtype=np.float32)

    def _user_factors(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        # one thread for a handful of users: spinning up a thread team costs more than the solves
        self.model_.num_threads = 1 if history.shape[0] < 256 else 0
        return self.model_.recalculate_user(np.arange(history.shape[0]), self._prepare(history))


class BPR(_Factorization):
    """Bayesian Personalised Ranking (Rendle et al. 2009) via ``implicit``; single-threaded so seeds reproduce."""

    source = "bpr"

    def __init__(
        self,
        *,
        factors: int = 128,
        learning_rate: float = 0.01,
        regularization: float = 0.001,
        iterations: int = 100,
        seed: int = 42,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.seed = seed

    def _fit(self, dataset: Dataset) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        _quiet_implicit()
        self.model_ = BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            num_threads=1,
            random_state=self.seed,
        )
        self.model_.fit(dataset.binary_matrix, show_progress=False)
        # implicit appends a bias column to both factor matrices; keep them as they are (dot includes bias)
        self.item_factors_ = np.asarray(self.model_.item_factors, dtype=np.float32)
        self.user_factors_ = np.asarray(self.model_.user_factors, dtype=np.float32)
        self.train_rows_ = dataset.binary_matrix

    def _user_factors(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        out = np.zeros((len(users), self.item_factors_.shape[1]), dtype=np.float32)
        known = users >= 0
        out[known] = self.user_factors_[users[known]]
        h = history.copy().astype(np.float32)
        h.data[:] = 1.0
        if known.any():  # only items beyond the training history move a known shopper
            h[np.flatnonzero(known)] = h[np.flatnonzero(known)] - self.train_rows_[users[known]]
            h.data = np.maximum(h.data, 0)
            h.eliminate_zeros()
        counts = np.asarray(h.sum(axis=1)).ravel()
        extra = (h @ self.item_factors_) / np.maximum(counts, 1.0)[:, None]
        return np.where(known[:, None], out + 0.5 * extra, extra).astype(np.float32)
