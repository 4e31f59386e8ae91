"""Top-k neighbour similarity between the rows of a sparse matrix: cosine or Pearson, with shrinkage.

Written here rather than taken from ``implicit``'s ItemItemRecommender because we need Pearson,
shrinkage and a blockwise top-k that also works for user-user similarity; ``implicit``'s BM25 / TF-IDF
weighting functions are reused.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from implicit.nearest_neighbours import bm25_weight, tfidf_weight

from shopguide.errors import ConfigError

SIMILARITIES = ("cosine", "pearson")
WEIGHTINGS = ("none", "idf", "bm25")


def binarize(matrix: sp.csr_matrix | sp.spmatrix) -> sp.csr_matrix:
    """A float32 CSR copy with every stored value set to 1 (one construction: this is on the request path)."""
    matrix = matrix.tocsr()
    return sp.csr_matrix(
        (np.ones(len(matrix.data), dtype=np.float32), matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape
    )


def weight_rows(matrix: sp.csr_matrix, weighting: str, *, bm25_k1: float = 1.2, bm25_b: float = 0.75) -> sp.csr_matrix:
    """Re-weight a (vectors x features) matrix: features seen in many vectors count less (IDF / BM25)."""
    if weighting == "none":
        return matrix.astype(np.float32).tocsr()
    if weighting == "idf":
        return tfidf_weight(matrix.tocoo()).tocsr().astype(np.float32)
    if weighting == "bm25":
        return bm25_weight(matrix.tocoo(), K1=bm25_k1, B=bm25_b).tocsr().astype(np.float32)
    raise ConfigError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")


def row_stats(matrix: sp.csr_matrix, similarity: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (mean, scale) so that sim(a, b) = (a.b - n*mean_a*mean_b) / (scale_a*scale_b)."""
    n_cols = matrix.shape[1]
    sums = np.asarray(matrix.sum(axis=1)).ravel().astype(np.float64)
    sq = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel().astype(np.float64)
    if similarity == "cosine":
        return np.zeros_like(sums), np.sqrt(sq)
    if similarity == "pearson":
        mean = sums / n_cols
        var = np.maximum(sq - n_cols * mean**2, 0.0)
        return mean, np.sqrt(var)
    raise ConfigError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")


def similarity_block(
    dots: np.ndarray,
    mean_a: np.ndarray,
    scale_a: np.ndarray,
    mean_b: np.ndarray,
    scale_b: np.ndarray,
    n_cols: int,
    shrinkage: float,
) -> np.ndarray:
    """Turn a dense block of dot products into similarities (cosine or Pearson, shrunk toward 0)."""
    num = dots - n_cols * np.outer(mean_a, mean_b)
    den = np.outer(scale_a, scale_b) + shrinkage
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0).astype(np.float32)


def topk_rows(block: np.ndarray, k: int, min_similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the k largest entries per row above ``min_similarity``."""
    k = min(k, block.shape[1])
    idx = np.argpartition(-block, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(block, idx, axis=1)
    vals = np.where(vals > min_similarity, vals, 0.0)
    return idx, vals


def knn_similarity(
    vectors: sp.csr_matrix,
    *,
    similarity: str = "cosine",
    k: int = 100,
    shrinkage: float = 0.0,
    min_similarity: float = 0.0,
    block_size: int = 1024,
    progress=None,
) -> sp.csr_matrix:
    """Sparse (n x n) matrix whose row i holds the top-k most similar rows of ``vectors`` (self excluded)."""
    vectors = vectors.tocsr().astype(np.float32)
    n, n_cols = vectors.shape
    mean, scale = row_stats(vectors, similarity)
    gram = (vectors @ vectors.T).tocsr()
    rows, cols, vals = [], [], []
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        dots = gram[start:stop].toarray().astype(np.float64)
        block = similarity_block(dots, mean[start:stop], scale[start:stop], mean, scale, n_cols, shrinkage)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # no self-similarity
        if similarity == "cosine":
            block[dots == 0] = -np.inf  # never co-occurred: not a neighbour
        idx, v = topk_rows(block, k, min_similarity)
        keep = v > 0
        rows.append(np.nonzero(keep)[0] + start)
        cols.append(idx[keep])
        vals.append(v[keep])
        if progress is not None:
            progress(stop, n)
    out = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n), dtype=np.float32
    )
    out.sort_indices()
    return out
