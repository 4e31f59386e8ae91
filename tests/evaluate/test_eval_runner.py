"""The runner ranks, masks history and averages exactly; sampled mode is labelled and seeded."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Event
from shopguide.errors import ConfigError, ModelError
from shopguide.evaluate import (
    EvalTask,
    evaluate,
    loo_protocol,
    results_table,
    sample_negatives,
    to_json,
    top_k,
)


class Oracle:
    """Scores every item from a fixed (n_users x n_items) matrix; counts fits and score calls."""

    def __init__(self, table: np.ndarray) -> None:
        self.table = np.asarray(table, dtype=np.float32)
        self.fitted_on: Dataset | None = None
        self.calls: list[np.ndarray] = []

    def fit(self, dataset: Dataset) -> Oracle:
        self.fitted_on = dataset
        return self

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        self.calls.append(np.asarray(users).copy())
        return self.table[users]  # fancy indexing: the runner may write into a copy only


def ev(user: str, item: str, ts: float) -> Event:
    return Event(user=user, item=item, type="view", ts=ts)


@pytest.fixture
def data() -> Dataset:
    # items a..f (indices 0..5); u1: a b c d -> test d, history a b c;  u2: b c e -> test e, history b c
    events = [ev("u1", x, t) for t, x in enumerate("abcd")] + [ev("u2", x, t) for t, x in enumerate("bce")]
    events.append(ev("u3", "f", 0))
    return Dataset.from_events(events, name="tiny")


def table_for(data: Dataset, rows: dict[str, dict[str, float]]) -> np.ndarray:
    t = np.zeros((data.n_users, data.n_items), dtype=np.float32)
    for user, scores in rows.items():
        for item, s in scores.items():
            t[data.users.index(user), data.items.index(item)] = s
    return t


def test_perfect_oracle_gets_hr_at_1(data: Dataset) -> None:
    task = loo_protocol(data)
    model = Oracle(table_for(data, {"u1": {"d": 9}, "u2": {"e": 9}}))
    res = evaluate(model, task, ks=(1, 3))
    assert model.fitted_on is task.train
    assert res.n_users == 2
    assert res.metrics["HR@1"] == 1.0 and res.metrics["NDCG@3"] == pytest.approx(1.0)
    assert res.mode == "full ranking"


def test_history_items_are_masked(data: Dataset) -> None:
    # a history item (c) scores highest for both users; masked, the target comes first
    model = Oracle(table_for(data, {"u1": {"c": 100, "a": 50, "d": 9}, "u2": {"c": 100, "b": 50, "e": 9}}))
    res = evaluate(model, loo_protocol(data), ks=(1,))
    assert res.metrics["HR@1"] == 1.0
    assert res.metrics["MRR@1"] == 1.0


def test_metrics_are_exact_averages_over_users(data: Dataset) -> None:
    # u1: target d ranked 1st.  u2: history b, c masked; unmasked order a(5) > f(4) > e(3) -> e at rank 3
    model = Oracle(table_for(data, {"u1": {"d": 9}, "u2": {"b": 9, "c": 8, "a": 5, "f": 4, "e": 3}}))
    res = evaluate(model, loo_protocol(data), ks=(1, 3))
    m = res.metrics
    assert m["HR@1"] == pytest.approx(0.5)  # (1 + 0) / 2
    assert m["HR@3"] == pytest.approx(1.0)
    assert m["NDCG@3"] == pytest.approx((1 + 1 / math.log2(4)) / 2)  # (1/log2(2) + 1/log2(4)) / 2
    assert m["MRR@3"] == pytest.approx((1 + 1 / 3) / 2)
    assert m["MAP@3"] == pytest.approx((1 + 1 / 3) / 2)  # one relevant item: MAP = MRR
    assert m["Precision@3"] == pytest.approx((1 / 3 + 1 / 3) / 2)
    # top-3 lists: u1 [d, e, f] (a b c masked; e, f tie at 0 -> lower index first), u2 [a, f, e]
    assert m["Coverage@3"] == pytest.approx(4 / 6)  # {a, d, e, f} of 6 items
    assert m["Coverage@1"] == pytest.approx(2 / 6)  # {d, a}
    assert res.std_errors["HR@1"] == pytest.approx(np.std([1, 0], ddof=1) / math.sqrt(2))
    assert list(m) == [
        "HR@1", "Recall@1", "Precision@1", "NDCG@1", "MRR@1", "MAP@1",
        "HR@3", "Recall@3", "Precision@3", "NDCG@3", "MRR@3", "MAP@3",
        "Coverage@1", "Coverage@3",
    ]  # fmt: skip


def test_batch_size_does_not_change_results() -> None:
    rng = np.random.default_rng(0)
    events = [ev(f"u{u}", f"i{i}", t) for u in range(40) for t, i in enumerate(rng.choice(60, 6, replace=False))]
    data = Dataset.from_events(events)
    model = Oracle(rng.integers(0, 5, size=(data.n_users, data.n_items)))  # many ties
    task = loo_protocol(data)
    one = evaluate(model, task, ks=(5, 10), batch_size=1)
    big = evaluate(model, task, ks=(5, 10), batch_size=1024)
    assert one.metrics == big.metrics
    assert len(model.calls) == 40 + 1


def test_progress_and_fit_flag(data: Dataset) -> None:
    seen: list[tuple[int, int]] = []
    model = Oracle(table_for(data, {}))
    res = evaluate(
        model, loo_protocol(data), ks=(2,), batch_size=1, fit=False, progress=lambda d, t: seen.append((d, t))
    )
    assert model.fitted_on is None and res.fit_seconds == 0.0
    assert seen == [(1, 2), (2, 2)]


def test_top_k_ties_padding_and_order() -> None:
    s = np.array(
        [
            [1.0, 3.0, 3.0, 2.0, 3.0],  # ties: lowest indices first -> 1, 2, 4 ... then 3
            [-np.inf, 5.0, -np.inf, -np.inf, -np.inf],  # one scorable item
            [0.0, 0.0, 0.0, 0.0, 0.0],  # all tied -> 0, 1, 2, 3
        ],
        dtype=np.float32,
    )
    assert top_k(s, 4).tolist() == [[1, 2, 4, 3], [1, -1, -1, -1], [0, 1, 2, 3]]
    assert top_k(s[:1], 7).tolist() == [[1, 2, 4, 3, 0, -1, -1]]  # wider than the catalogue


def test_bad_scores_shape_is_a_model_error(data: Dataset) -> None:
    class Broken(Oracle):
        def score(self, users, history):
            return np.zeros((len(users), 2))

    with pytest.raises(ModelError):
        evaluate(Broken(np.zeros((1, 1))), loo_protocol(data))
    with pytest.raises(ConfigError):
        evaluate(Oracle(np.zeros((3, 6))), loo_protocol(data), ks=(0,))


def random_task(seed: int = 1) -> tuple[EvalTask, np.ndarray]:
    rng = np.random.default_rng(seed)
    events = [ev(f"u{u}", f"i{i}", t) for u in range(30) for t, i in enumerate(rng.choice(200, 5, replace=False))]
    data = Dataset.from_events(events)
    return loo_protocol(data), rng.random((data.n_users, data.n_items))


def test_sampled_mode_is_labelled_and_seeded() -> None:
    task, table = random_task()
    model = Oracle(table)
    full = evaluate(model, task, ks=(10,))
    a = evaluate(model, task, ks=(10,), sampled_negatives=20, seed=7)
    b = evaluate(model, task, ks=(10,), sampled_negatives=20, seed=7, batch_size=4)
    c = evaluate(model, task, ks=(10,), sampled_negatives=20, seed=8)
    assert a.mode == "sampled-20 (NOT comparable with full ranking)"
    assert full.mode == "full ranking"
    assert a.metrics == b.metrics  # same seed -> same numbers, whatever the batch size
    assert a.metrics != c.metrics
    assert "Coverage@10" not in a.metrics
    assert a.metrics["HR@10"] > full.metrics["HR@10"]  # 21 candidates instead of ~200


def test_sampled_mode_ranks_against_exactly_n_negatives() -> None:
    task, _ = random_task()
    # the target scores lowest of all items; with N=5 negatives it is 6th of 6, with N=20 21st of 21
    truth_rows = [task.truth[r].indices for r in range(task.n_users)]
    table = np.ones((task.train.n_users, task.n_items))
    for r, u in enumerate(task.users):
        table[u, truth_rows[r]] = 0.0
    model = Oracle(table)
    few = evaluate(model, task, ks=(6, 10), sampled_negatives=5)
    many = evaluate(model, task, ks=(10,), sampled_negatives=20)
    assert few.metrics["HR@10"] == 1.0
    assert few.metrics["MRR@6"] == pytest.approx(1 / 6)
    assert many.metrics["HR@10"] == 0.0


def test_report_table_and_json(data: Dataset, tmp_path) -> None:
    res = evaluate(Oracle(table_for(data, {"u1": {"d": 9}})), loo_protocol(data), ks=(1,))
    table = results_table([res], metrics=["HR@1", "NDCG@1"])
    assert [c.header for c in table.columns][:6] == ["model", "task", "mode", "users", "HR@1", "NDCG@1"]
    assert table.row_count == 1
    path = to_json([res], tmp_path / "out" / "results.json")
    loaded = json.loads(path.read_text())
    assert loaded[0]["metrics"]["HR@1"] == pytest.approx(0.5)
    assert loaded[0]["model"] == "Oracle" and loaded[0]["mode"] == "full ranking"
    assert loaded[0]["flags"]["refit_with_valid"] is False


def test_sample_negatives_is_uniform_without_replacement_and_avoids_excluded_items() -> None:
    m, n_neg = 50, 10
    excluded = sp.csr_matrix(([1.0] * 4, ([0, 0, 1, 1], [0, 1, 2, 3])), shape=(2, m))
    counts = np.zeros(m)
    for seed in range(300):
        neg = sample_negatives(np.array([5, 6]), excluded, n_neg, seed)
        assert all(len(set(row)) == n_neg for row in neg.tolist())  # no repeats
        assert not {0, 1} & set(neg[0]) and not {2, 3} & set(neg[1])
        counts += np.bincount(neg[0], minlength=m)
    # each of the 48 allowed items is drawn 300 * 10 / 48 = 62.5 times on average
    allowed = counts[2:]
    assert counts[:2].sum() == 0 and allowed.min() > 35 and allowed.max() < 95
    # a row's draws depend on its key and the seed only, not on the other rows of the batch
    alone = sample_negatives(np.array([6]), excluded[1], n_neg, 3)
    assert alone.tolist() == sample_negatives(np.array([5, 6]), excluded, n_neg, 3)[1:].tolist()


def test_sample_negatives_in_crowded_rows() -> None:
    m = 30
    # row 0 may use only items 7 and 9; row 1 only 5 items of 30 (needs the dense fallback or many draws)
    ex0 = [i for i in range(m) if i not in (7, 9)]
    ex1 = list(range(25))
    excluded = sp.csr_matrix((np.ones(len(ex0) + len(ex1)), ([0] * len(ex0) + [1] * len(ex1), ex0 + ex1)), shape=(2, m))
    neg = sample_negatives(np.array([0, 1]), excluded, 4, seed=1)
    assert sorted(neg[0][:2]) == [7, 9] and neg[0][2:].tolist() == [-1, -1]
    assert set(neg[1]) <= set(range(25, 30)) and len(set(neg[1])) == 4


def test_sample_negatives_dense_path_for_tiny_catalogues() -> None:
    # 2 * n_neg + 16 draws exceed 8 * n_items, so every allowed item is ranked by its hash directly
    excluded = sp.csr_matrix(([1.0], ([0], [1])), shape=(1, 3))
    neg = sample_negatives(np.array([0]), excluded, 5, seed=0)
    assert sorted(neg[0][:2]) == [0, 2] and neg[0][2:].tolist() == [-1, -1, -1]
