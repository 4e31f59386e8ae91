"""Offline evaluation: metrics, the published protocols, a batched runner and reports.

Typical use::

    task = loo_protocol(dataset)              # S3-Rec / BSARec leave-one-out, full ranking
    result = evaluate(model, task, ks=(10, 20))
    console.print(results_table([result]))
"""

from __future__ import annotations

from shopguide.evaluate.metrics import (
    METRIC_NAMES,
    average_precision,
    coverage,
    hit_matrix,
    hit_rate,
    mrr,
    n_relevant,
    ndcg,
    precision,
    ranking_metrics,
    recall,
    top_k,
)
from shopguide.evaluate.protocols import EvalTask, loo_protocol, stratified_protocol, temporal_protocol
from shopguide.evaluate.report import results_table, to_json
from shopguide.evaluate.runner import FULL_RANKING, EvalResult, evaluate, sample_negatives

__all__ = [
    "FULL_RANKING",
    "METRIC_NAMES",
    "EvalResult",
    "EvalTask",
    "average_precision",
    "coverage",
    "evaluate",
    "hit_matrix",
    "hit_rate",
    "loo_protocol",
    "mrr",
    "n_relevant",
    "ndcg",
    "precision",
    "ranking_metrics",
    "recall",
    "results_table",
    "sample_negatives",
    "stratified_protocol",
    "temporal_protocol",
    "to_json",
    "top_k",
]
