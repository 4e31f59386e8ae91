"""Metrics against hand-computed examples (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from shopguide.evaluate.metrics import (
    average_precision,
    coverage,
    hit_matrix,
    n_relevant,
    ranking_metrics,
)

N_ITEMS = 10


def truth_of(*rows: set[int]) -> sp.csr_matrix:
    r = [i for i, row in enumerate(rows) for _ in row]
    c = [item for row in rows for item in sorted(row)]
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(rows), N_ITEMS))


def test_worked_example_three_of_three() -> None:
    # topk [3, 1, 7], truth {1, 7, 9}: hits at ranks 2 and 3 -> hit vector [0, 1, 1]
    m = ranking_metrics(np.array([[3, 1, 7]]), truth_of({1, 7, 9}), ks=(3,))
    assert m["HR@3"][0] == 1.0  # at least one hit
    assert m["Precision@3"][0] == pytest.approx(2 / 3)  # 2 hits / K=3
    assert m["Recall@3"][0] == pytest.approx(2 / 3)  # 2 hits / 3 relevant
    # DCG = 1/log2(2+1) + 1/log2(3+1); ideal: min(K=3, R=3) = 3 hits at ranks 1..3
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["NDCG@3"][0] == pytest.approx(dcg / idcg)
    assert m["MRR@3"][0] == pytest.approx(1 / 2)  # first hit at rank 2
    # AP: precision@2 = 1/2 at the first hit, precision@3 = 2/3 at the second; (1/2 + 2/3) / R=3 = 7/18
    assert m["MAP@3"][0] == pytest.approx(7 / 18)


def test_map_divides_by_all_relevant_items_not_min_k() -> None:
    # K=2, topk [1, 5], truth {1, 7, 9}: one hit at rank 1 with precision@1 = 1
    hits = hit_matrix(np.array([[1, 5]]), truth_of({1, 7, 9}))
    n_rel = np.array([3])
    # MS Recommenders benchmark MAP (their old map_at_k, now `map`): 1 / R = 1/3
    assert average_precision(hits, n_rel)[0] == pytest.approx(1 / 3)
    # Spark / newer MS map_at_k: 1 / min(K=2, R=3) = 1/2
    assert average_precision(hits, n_rel, normalise="min_k")[0] == pytest.approx(1 / 2)
    # NDCG's ideal DCG is over min(K, R) = 2 items: 1 / (1 + 1/log2(3))
    m = ranking_metrics(np.array([[1, 5]]), truth_of({1, 7, 9}), ks=(2,))
    assert m["NDCG@2"][0] == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert m["Precision@2"][0] == pytest.approx(1 / 2)
    assert m["Recall@2"][0] == pytest.approx(1 / 3)


def test_padding_is_never_a_hit_and_precision_still_divides_by_k() -> None:
    topk = np.array([[-1, -1, -1], [4, -1, -1], [-1, 0, -1]])
    truth = truth_of({0}, {4}, {0, 2})
    hits = hit_matrix(topk, truth)
    assert hits.tolist() == [[False] * 3, [True, False, False], [False, True, False]]
    m = ranking_metrics(topk, truth, ks=(3,))
    assert m["HR@3"].tolist() == [0.0, 1.0, 1.0]
    assert m["Precision@3"] == pytest.approx([0.0, 1 / 3, 1 / 3])  # 1 hit / K=3 even with padding
    assert m["Recall@3"] == pytest.approx([0.0, 1.0, 1 / 2])
    # user 2: one hit at rank 2 -> DCG 1/log2(3); ideal over min(3, 2) = 2 items: 1 + 1/log2(3)
    assert m["NDCG@3"][2] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["MRR@3"] == pytest.approx([0.0, 1.0, 1 / 2])
    assert m["MAP@3"] == pytest.approx([0.0, 1.0, (1 / 2) / 2])  # precision@2 = 1/2, R = 2


def test_several_ks_come_from_one_ranking() -> None:
    # topk [5, 2, 8, 1], truth {1}: the only hit is at rank 4
    m = ranking_metrics(np.array([[5, 2, 8, 1]]), truth_of({1}), ks=(2, 4))
    assert m["HR@2"][0] == 0.0 and m["HR@4"][0] == 1.0
    assert m["NDCG@4"][0] == pytest.approx(1 / math.log2(5))  # ideal DCG of one item is 1
    assert m["MRR@4"][0] == pytest.approx(1 / 4)
    assert m["MAP@4"][0] == pytest.approx(1 / 4)  # one relevant item: MAP = MRR
    assert m["Precision@4"][0] == pytest.approx(1 / 4)


def test_narrow_topk_counts_as_padded() -> None:
    # only 2 recommendations for K=5: both relevant -> precision 2/5, recall 2/2
    m = ranking_metrics(np.array([[3, 4]]), truth_of({3, 4}), ks=(5,))
    assert m["Precision@5"][0] == pytest.approx(2 / 5)
    assert m["Recall@5"][0] == 1.0
    assert m["NDCG@5"][0] == pytest.approx(1.0)


def test_users_without_truth_score_zero() -> None:
    m = ranking_metrics(np.array([[1, 2]]), truth_of(set()), ks=(2,))
    assert all(v[0] == 0.0 for v in m.values())


def test_n_relevant_ignores_explicit_zeros() -> None:
    truth = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]]))
    truth.data[1] = 0.0  # an explicitly stored zero is not relevant
    assert n_relevant(truth).tolist() == [1, 0]


def test_coverage_counts_distinct_items_without_padding() -> None:
    # items {1, 2, 3} recommended out of 10 -> 3/10
    assert coverage(np.array([[1, 2, -1], [2, 3, -1]]), N_ITEMS) == pytest.approx(0.3)
