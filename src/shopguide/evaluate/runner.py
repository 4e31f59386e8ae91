"""Run a recommender through an :class:`~shopguide.evaluate.protocols.EvalTask` and average the metrics.

The hot path is batched and vectorised: one ``model.score`` call per batch of users, history masking by
fancy indexing, top-K by :func:`~shopguide.evaluate.metrics.top_k` (a block-maximum prefilter, exact
``np.argpartition`` for rows with heavy ties). Ties are broken by lower item index and per-user values are
averaged once at the end, so results do not depend on the batch size. Items scored ``-inf`` (unscorable or
masked) are never recommended: a user with fewer than K scorable items gets a padded (shorter) list.
NaN scores count as ``-inf``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.errors import ConfigError, ModelError
from shopguide.evaluate.metrics import METRIC_NAMES, ranking_metrics, top_k
from shopguide.evaluate.protocols import EvalTask

log = logging.getLogger(__name__)

FULL_RANKING = "full ranking"


class Scorer(Protocol):
    """What the runner needs from a model (every shopguide Recommender qualifies)."""

    def fit(self, dataset: Dataset) -> Any: ...

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray: ...


@dataclass
class EvalResult:
    """The averaged metrics of one model on one task, with timings. ``to_dict`` gives plain JSON types.

    ``std_errors`` holds the standard error of each per-user mean (std / sqrt(n_users)), so that two
    results can be told apart from noise; coverage has none.
    """

    model: str
    params: dict[str, Any]
    protocol: str
    task: str
    dataset: str
    mode: str
    n_users: int
    metrics: dict[str, float]
    fit_seconds: float
    eval_seconds: float
    std_errors: dict[str, float] = field(default_factory=dict)
    notes: str = ""
    flags: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=repr))


def _mask(scores: np.ndarray, rows: sp.csr_matrix) -> None:
    """Set ``scores[r, i] = -inf`` for every stored entry ``(r, i)`` of ``rows`` (in place)."""
    r = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    scores[r, rows.indices] = -np.inf


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays: a fast, well-mixed, stateless hash."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def sample_negatives(row_keys: np.ndarray, excluded: sp.csr_matrix, n_neg: int, seed: int) -> np.ndarray:
    """``(len(row_keys), n_neg)`` items per row, uniform without replacement among the items not stored in
    that row of ``excluded``; ``-1`` pads rows with fewer allowed items.

    Row ``r``'s draws are a pure function of ``(seed, row_keys[r])``, so results do not depend on batching.
    """
    b, m = excluded.shape
    ex = sp.csr_matrix(excluded, copy=True)
    ex.sum_duplicates()
    ex_keys = np.sort(np.repeat(np.arange(b, dtype=np.int64), np.diff(ex.indptr)) * m + ex.indices)
    n_allowed = m - np.diff(ex.indptr)
    base = _mix(_mix(np.asarray(row_keys).astype(np.uint64)) ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF))
    out = np.full((b, n_neg), -1, dtype=np.int64)
    todo, width = np.arange(b), 2 * n_neg + 16
    while len(todo) and width <= 8 * m:  # rejection sampling from a per-row hash stream
        j = np.arange(width, dtype=np.uint64)
        draws = (_mix(base[todo, None] + j * np.uint64(0xD1B54A32D192ED03)) % np.uint64(m)).astype(np.int64)
        keys = todo[:, None] * m + draws
        pos = np.minimum(np.searchsorted(ex_keys, keys), max(len(ex_keys) - 1, 0))
        valid = ex_keys[pos] != keys if len(ex_keys) else np.ones(keys.shape, dtype=bool)
        order = np.argsort(draws, axis=1, kind="stable")  # a repeated draw is valid only the first time
        sd = np.take_along_axis(draws, order, axis=1)
        dup = np.zeros_like(valid)
        np.put_along_axis(dup, order, np.hstack([np.zeros((len(todo), 1), bool), sd[:, 1:] == sd[:, :-1]]), 1)
        valid &= ~dup
        count = np.cumsum(valid, axis=1)
        done = count[:, -1] >= np.minimum(n_neg, n_allowed[todo])
        full = done & (count[:, -1] >= n_neg)
        if full.any():
            pick = valid[full] & (count[full] <= n_neg)
            out[todo[full]] = draws[full][pick].reshape(-1, n_neg)
        short = done & ~full  # every allowed item was drawn: keep them all
        for r in np.flatnonzero(short):
            got = draws[r][valid[r]]
            out[todo[r], : len(got)] = got
        todo, width = todo[~done], width * 4
    for r in todo:  # very crowded rows: rank every allowed item by its hash
        keys = _mix(base[r] + np.arange(m, dtype=np.uint64))
        keys[ex.indices[ex.indptr[r] : ex.indptr[r + 1]]] = np.iinfo(np.uint64).max
        got = np.argsort(keys, kind="stable")[: min(n_neg, int(n_allowed[r]))]
        out[r, : len(got)] = got
    return out


def _candidates(negatives: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """Per row: sorted candidate item indices (negatives + truth items), padded with ``n_items``."""
    b, m = truth.shape
    n_truth = np.diff(truth.indptr)
    width = negatives.shape[1] + int(n_truth.max(initial=0))
    cand = np.full((b, width), m, dtype=np.int64)
    cand[:, : negatives.shape[1]] = np.where(negatives >= 0, negatives, m)
    rows = np.repeat(np.arange(b), n_truth)
    cols = negatives.shape[1] + np.arange(len(rows)) - np.repeat(truth.indptr[:-1], n_truth)
    cand[rows, cols] = truth.indices
    return np.sort(cand, axis=1)


def _params(model: Any) -> dict[str, Any]:
    get = getattr(model, "get_params", None)
    return dict(get()) if callable(get) else {}


def evaluate(
    model: Scorer,
    task: EvalTask,
    ks: Sequence[int] = (10, 20),
    batch_size: int = 1024,
    fit: bool = True,
    progress: Callable[[int, int], None] | None = None,
    *,
    sampled_negatives: int | None = None,
    seed: int = 0,
) -> EvalResult:
    """Fit ``model`` on ``task.train`` (unless ``fit`` is false), score every task user, average metrics.

    Full ranking over all items is the default. ``sampled_negatives=N`` instead ranks each user's truth
    items against N items sampled uniformly (seeded by ``seed``) among those the user has not interacted
    with; the result's ``mode`` says so, because such numbers are NOT comparable with full ranking.
    ``progress(done, total)`` is called after every batch.
    """
    ks = tuple(sorted(set(int(k) for k in ks)))
    if not ks or ks[0] <= 0:
        raise ConfigError(f"ks must be positive integers, got {ks}")
    if batch_size <= 0:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    if sampled_negatives is not None and sampled_negatives <= 0:
        raise ConfigError(f"sampled_negatives must be positive, got {sampled_negatives}")
    fit_seconds = 0.0
    if fit:
        started = time.perf_counter()
        model.fit(task.train)
        fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    n_items = task.n_items
    keep = np.flatnonzero(np.diff(task.truth.indptr) > 0)
    if len(keep) < task.n_users:
        log.warning("skipping %d task users without truth items", task.n_users - len(keep))
    users, history, truth = task.users[keep], task.history[keep], task.truth[keep]
    total, width = len(users), max(ks)
    names = [f"{name}@{k}" for k in ks for name in METRIC_NAMES]
    per_user = {name: np.zeros(total, dtype=np.float64) for name in names}
    covered = {k: np.zeros(n_items, dtype=bool) for k in ks}
    for start in range(0, total, batch_size):
        stop = min(start + batch_size, total)
        hist_b, truth_b = history[start:stop], truth[start:stop]
        raw = model.score(users[start:stop], hist_b)
        if np.shape(raw) != (stop - start, n_items):
            raise ModelError(f"score returned shape {np.shape(raw)}, expected {(stop - start, n_items)}")
        scores = np.array(raw, dtype=np.float32, copy=True)
        scores[np.isnan(scores)] = -np.inf
        _mask(scores, hist_b)
        if sampled_negatives is None:
            topk = top_k(scores, width)
        else:  # rank only the truth items and the sampled negatives
            excluded = (hist_b + truth_b).tocsr()
            negatives = sample_negatives(np.arange(start, stop), excluded, sampled_negatives, seed)
            cand = _candidates(negatives, truth_b)
            padded = np.hstack([scores, np.full((stop - start, 1), -np.inf, dtype=np.float32)])
            pos = top_k(np.take_along_axis(padded, cand, axis=1), width)
            topk = np.where(pos >= 0, np.take_along_axis(cand, np.maximum(pos, 0), axis=1), -1)
        for name, values in ranking_metrics(topk, truth_b, ks).items():
            per_user[name][start:stop] = values
        for k in ks:
            items = topk[:, :k]
            covered[k][items[items >= 0]] = True
        if progress is not None:
            progress(stop, total)

    ordered = {name: float(per_user[name].mean()) if total else 0.0 for name in names}
    std_errors = {name: float(per_user[name].std(ddof=1) / np.sqrt(total)) if total > 1 else 0.0 for name in names}
    if sampled_negatives is None:
        for k in ks:
            ordered[f"Coverage@{k}"] = float(covered[k].sum()) / n_items if n_items else 0.0
        mode = FULL_RANKING
    else:
        mode = f"sampled-{sampled_negatives} (NOT comparable with full ranking)"
    eval_seconds = time.perf_counter() - started
    log.info("evaluated %s on %s: %d users in %.2fs", type(model).__name__, task.name, total, eval_seconds)
    return EvalResult(
        model=type(model).__name__,
        params=_params(model),
        protocol=task.protocol,
        task=task.name,
        dataset=task.dataset,
        mode=mode,
        n_users=total,
        metrics=ordered,
        fit_seconds=fit_seconds,
        eval_seconds=eval_seconds,
        std_errors=std_errors,
        notes=task.notes,
        flags=dict(task.flags)
        if sampled_negatives is None
        else dict(task.flags, negatives=sampled_negatives, seed=seed),
    )
