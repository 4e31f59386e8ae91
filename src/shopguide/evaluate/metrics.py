"""Top-K ranking metrics, vectorised over a batch of users.

Inputs are a ``topk`` array ``(n_users, K)`` of item indices, best first (``-1`` pads short lists), and the
ground truth as a CSR matrix ``truth`` (``n_users x n_items``; every stored non-zero entry is relevant).
Every metric returns one value per user; averaging is the caller's job (see ``runner``).

Definitions (binary relevance; ``hits`` = relevant items among the top K, ``R`` = number of relevant items):

- ``HR@K``        1 if ``hits > 0`` else 0.
- ``Recall@K``    ``hits / R``.
- ``Precision@K`` ``hits / K`` (Microsoft Recommenders ``precision_at_k``: always divided by K).
- ``NDCG@K``      ``sum_{hit at rank r} 1/log2(r+1)`` over the ideal DCG of ``min(K, R)`` hits at the top.
- ``MRR@K``       ``1/r`` of the first hit, 0 without one.
- ``MAP@K``       ``sum_{hit at rank r} precision@r / R``: the Microsoft Recommenders definition behind their
  published ML-100K benchmark table (BiVAE MAP 0.146, BPR 0.132, SAR 0.1106). That is ``map_at_k`` in
  ``reco_utils/evaluation/python_evaluation.py`` (recommenders-team/recommenders @1564033) and, after PR #2004
  (2023) renamed it, ``map``; note the divisor is *all* relevant items ``R``, not ``min(K, R)``.
  The newer ``map_at_k`` (Spark ``meanAveragePrecisionAt``) divides by ``min(K, R)``; pass
  ``normalise="min_k"`` to :func:`average_precision` for it. With one relevant item the two agree (= MRR).
- ``Coverage@K``  distinct recommended items over all users / ``n_items`` (catalogue coverage; one number).

:func:`top_k` turns a score matrix into the ``topk`` array these functions take.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import scipy.sparse as sp

METRIC_NAMES: tuple[str, ...] = ("HR", "Recall", "Precision", "NDCG", "MRR", "MAP")


def _binary_truth(truth: sp.spmatrix) -> sp.csr_matrix:
    t = sp.csr_matrix(truth, copy=True)
    t.eliminate_zeros()
    t.sum_duplicates()
    return t


def n_relevant(truth: sp.spmatrix) -> np.ndarray:
    """Number of relevant items per user (stored non-zeros per row)."""
    return np.diff(_binary_truth(truth).indptr).astype(np.int64)


def hit_matrix(topk: np.ndarray, truth: sp.spmatrix) -> np.ndarray:
    """Boolean ``(n_users, K)``: whether ``topk[u, j]`` is relevant for user ``u`` (padding ``-1`` never is)."""
    topk = np.asarray(topk)
    t = _binary_truth(truth)
    n, k = topk.shape
    if t.shape[0] != n:
        raise ValueError(f"topk has {n} rows but truth has {t.shape[0]}")
    n_items = t.shape[1]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(t.indptr))
    truth_keys = np.sort(rows * n_items + t.indices.astype(np.int64))
    valid = (topk >= 0) & (topk < n_items)
    keys = np.arange(n, dtype=np.int64)[:, None] * n_items + np.where(valid, topk, 0).astype(np.int64)
    if len(truth_keys) == 0:
        return np.zeros((n, k), dtype=bool)
    pos = np.minimum(np.searchsorted(truth_keys, keys), len(truth_keys) - 1)
    return valid & (truth_keys[pos] == keys)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def hit_rate(hits: np.ndarray) -> np.ndarray:
    """HR@K per user: 1.0 when any of the top K is relevant."""
    return hits.any(axis=1).astype(np.float64)


def recall(hits: np.ndarray, n_rel: np.ndarray) -> np.ndarray:
    """Recall@K per user: hits / number of relevant items (0 for users without relevant items)."""
    return _safe_div(hits.sum(axis=1), n_rel)


def precision(hits: np.ndarray, k: int | None = None) -> np.ndarray:
    """Precision@K per user: hits / K (K defaults to the width of ``hits``)."""
    return hits.sum(axis=1) / float(k or hits.shape[1])


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def ndcg(hits: np.ndarray, n_rel: np.ndarray) -> np.ndarray:
    """NDCG@K per user with binary gains, log2 discount, ideal DCG over ``min(K, n_rel)`` items."""
    k = hits.shape[1]
    disc = _discounts(k)
    dcg = hits @ disc
    ideal_cum = np.concatenate([[0.0], np.cumsum(disc)])
    idcg = ideal_cum[np.minimum(np.asarray(n_rel, dtype=np.int64), k)]
    return _safe_div(dcg, idcg)


def mrr(hits: np.ndarray) -> np.ndarray:
    """MRR@K per user: 1 / rank of the first relevant item in the top K, 0 when none."""
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1.0), 0.0)


def average_precision(
    hits: np.ndarray, n_rel: np.ndarray, *, normalise: Literal["relevant", "min_k"] = "relevant"
) -> np.ndarray:
    """AP@K per user: the sum of precision@rank at each hit, divided by ``n_rel`` (MS Recommenders benchmark
    MAP, the default) or by ``min(K, n_rel)`` (``normalise="min_k"``, Spark / MS Recommenders >= 1.2 map_at_k).
    """
    k = hits.shape[1]
    prec_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1, dtype=np.float64)
    total = (prec_at_rank * hits).sum(axis=1)
    n_rel = np.asarray(n_rel, dtype=np.int64)
    if normalise == "relevant":
        return _safe_div(total, n_rel)
    if normalise == "min_k":
        return _safe_div(total, np.minimum(n_rel, k))
    raise ValueError(f"normalise must be 'relevant' or 'min_k', got {normalise!r}")


def coverage(topk: np.ndarray, n_items: int) -> float:
    """Catalogue coverage: distinct recommended items (padding ignored) / ``n_items``."""
    items = np.asarray(topk).ravel()
    items = items[(items >= 0) & (items < n_items)]
    return float(len(np.unique(items))) / n_items if n_items else 0.0


def ranking_metrics(topk: np.ndarray, truth: sp.spmatrix, ks: Iterable[int] | None = None) -> dict[str, np.ndarray]:
    """Per-user arrays ``{"HR@k", "Recall@k", "Precision@k", "NDCG@k", "MRR@k", "MAP@k"}`` for each k.

    ``topk`` must be at least ``max(ks)`` wide, or is treated as padded with ``-1`` beyond its width.
    """
    topk = np.asarray(topk)
    ks = tuple(ks) if ks is not None else (topk.shape[1],)
    if any(k <= 0 for k in ks):
        raise ValueError(f"every k must be positive, got {ks}")
    width = max(ks)
    if topk.shape[1] < width:
        pad = np.full((topk.shape[0], width - topk.shape[1]), -1, dtype=topk.dtype)
        topk = np.hstack([topk, pad])
    hits_all = hit_matrix(topk[:, :width], truth)
    n_rel = n_relevant(truth)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        hits = hits_all[:, :k]
        out[f"HR@{k}"] = hit_rate(hits)
        out[f"Recall@{k}"] = recall(hits, n_rel)
        out[f"Precision@{k}"] = precision(hits, k)
        out[f"NDCG@{k}"] = ndcg(hits, n_rel)
        out[f"MRR@{k}"] = mrr(hits)
        out[f"MAP@{k}"] = average_precision(hits, n_rel)
    return out


# ---------------------------------------------------------------- top-K selection
def _top_k_exact(scores: np.ndarray, kk: int) -> np.ndarray:
    """``(n, kk)`` indices of the largest scores, best first, lower index first among ties."""
    m = scores.shape[1]
    part = np.argpartition(scores, m - kk, axis=1)[:, m - kk :]
    thresh = np.take_along_axis(scores, part[:, :1], axis=1)  # the kk-th largest score of each row
    in_cand = (np.take_along_axis(scores, part, axis=1) == thresh).sum(axis=1)
    in_row = (scores == thresh).sum(axis=1)
    tied = np.flatnonzero((in_row > in_cand) & np.isfinite(thresh[:, 0]))
    if len(tied):  # boundary ties: take the lowest indices among the tied items
        s, t = scores[tied], thresh[tied]
        eq = s == t
        need = kk - (s > t).sum(axis=1, keepdims=True)
        chosen = (s > t) | (eq & (np.cumsum(eq, axis=1) <= need))
        part[tied] = np.nonzero(chosen)[1].reshape(len(tied), kk)
    return _sorted(scores, part)


def _sorted(scores: np.ndarray, idx: np.ndarray) -> np.ndarray:
    vals = np.take_along_axis(scores, idx, axis=1)
    return np.take_along_axis(idx, np.lexsort((idx, -vals), axis=1), axis=1)


def _top_k_blocks(scores: np.ndarray, kk: int, block: int = 16) -> np.ndarray:
    """Same answer as ``_top_k_exact``, in a few linear passes instead of a full partition of each row.

    The kk-th largest block maximum ``t`` is a lower bound of the kk-th largest score, so every item of
    the top kk (ties included) scores ``>= t``; usually only a few dozen items do. Rows where many do
    (heavy ties, mostly ``-inf``) take the exact path.
    """
    n, m = scores.shape
    nb = m // block
    maxima = scores[:, : nb * block].reshape(n, block, nb).max(axis=1)  # block j: items j, j + nb, ...
    if nb * block < m:
        maxima = np.hstack([maxima, scores[:, nb * block :].max(axis=1, keepdims=True)])
    t = np.partition(maxima, maxima.shape[1] - kk, axis=1)[:, maxima.shape[1] - kk, None]
    cand = scores >= t
    counts = cand.sum(axis=1)
    limit = max(8 * kk, 256)
    fast = (counts <= limit) & np.isfinite(t[:, 0])
    out = np.empty((n, kk), dtype=np.int64)
    slow = np.flatnonzero(~fast)
    if len(slow):
        out[slow] = _top_k_exact(scores[slow], kk)
    rows = np.flatnonzero(fast)
    if len(rows):
        r, c = np.nonzero(cand if len(rows) == n else cand[rows])
        width = int(counts[rows].max())
        starts = np.concatenate([[0], np.cumsum(counts[rows])[:-1]])
        pos = np.arange(len(r)) - np.repeat(starts, counts[rows])
        idx = np.full((len(rows), width), m, dtype=np.int64)  # m: an index after every real item
        vals = np.full((len(rows), width), -np.inf, dtype=scores.dtype)
        idx[r, pos] = c
        vals[r, pos] = scores[rows[r], c]
        order = np.lexsort((idx, -vals), axis=1)[:, :kk]
        out[rows] = np.take_along_axis(idx, order, axis=1)
    return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Row-wise indices of the ``k`` largest scores, best first; ties go to the lower index; ``-1`` marks
    positions without a scorable item (score ``-inf``). ``scores`` must not hold NaN.
    """
    n, m = scores.shape
    kk = min(k, m)
    if kk <= 0 or n == 0:
        return np.full((n, k), -1, dtype=np.int64)
    idx = _top_k_blocks(scores, kk) if m >= 64 * kk else _top_k_exact(scores, kk)
    idx[~(np.take_along_axis(scores, idx, axis=1) > -np.inf)] = -1
    if kk < k:
        idx = np.hstack([idx, np.full((n, k - kk), -1, dtype=np.int64)])
    return idx
