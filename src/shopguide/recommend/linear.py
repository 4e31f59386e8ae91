"""EASE (Steck 2019): a closed-form item-item linear autoencoder, strong on sparse implicit data."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.errors import ModelError
from shopguide.recommend.base import Recommender, strongest_action
from shopguide.recommend.explain import Reason


class EASE(Recommender):
    """B = argmin ||X - XB||² + λ||B||², diag(B) = 0; score = history @ B.

    Fitting inverts an n_items x n_items Gram matrix (float32 Cholesky), so it suits catalogues up to
    a few tens of thousands of items; ``max_items`` guards against accidental huge inversions.
    """

    source = "ease"

    def __init__(self, *, regularization: float = 250.0, binary: bool = True, max_items: int = 40_000) -> None:
        self.regularization = regularization
        self.binary = binary
        self.max_items = max_items

    def _prepare(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        matrix = matrix.astype(np.float32).tocsr()
        if self.binary:
            matrix = matrix.copy()
            matrix.data[:] = 1.0
        return matrix

    def _fit(self, dataset: Dataset) -> None:
        if dataset.n_items > self.max_items:
            raise ModelError(f"EASE needs a dense {dataset.n_items}² matrix; raise max_items to allow it")
        x = self._prepare(dataset.matrix)
        gram = (x.T @ x).toarray().astype(np.float32)
        gram[np.diag_indices_from(gram)] += self.regularization
        # gram is symmetric, so its transpose is the same matrix in Fortran order: LAPACK works in place
        chol, info = sl.lapack.spotrf(gram.T, lower=0, overwrite_a=True)
        if info != 0:
            raise ModelError(f"EASE Cholesky failed (info={info}); increase regularization")
        inv, info = sl.lapack.spotri(chol, lower=0, overwrite_c=True)
        if info != 0:
            raise ModelError(f"EASE inversion failed (info={info})")
        _mirror_upper(inv)  # potri fills the upper triangle only
        weights = np.ascontiguousarray(inv.T)  # symmetric: a free C-order view when inv is Fortran-ordered
        weights /= -np.diag(weights)[None, :]
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        h = self._prepare(history)
        scores = np.asarray(h @ self.weights_, dtype=np.float32)
        empty = np.diff(h.indptr) == 0
        scores[empty] = -np.inf
        return scores

    def similar_scores(self, item: int) -> np.ndarray:
        return self.weights_[item].copy()

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        hist_items = history.indices
        if len(hist_items) == 0:
            return Reason("similar_taste")
        best = int(hist_items[np.argmax(self.weights_[hist_items, item])])
        return Reason("because_you", **self.dataset_.item_names(best), action=strongest_action(actions, best))


def _mirror_upper(matrix: np.ndarray, block: int = 1024) -> None:
    """Copy the upper triangle onto the lower one in place, block by block (no n x n temporaries)."""
    n = matrix.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        diag = matrix[start:stop, start:stop]
        diag[:] = np.triu(diag) + np.triu(diag, 1).T
        matrix[stop:, start:stop] = matrix[start:stop, stop:].T
