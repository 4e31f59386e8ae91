"""The protocols on the real files in ../shared/data (skipped when they are absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopguide.data.dataset import TYPE_CODE, Dataset
from shopguide.data.schema import EventType
from shopguide.data.vocab import Vocab
from shopguide.evaluate import evaluate, loo_protocol, stratified_protocol

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = pytest.mark.slow


def _dataset(rows: list[tuple[str, str, float, float]], kind: EventType, name: str) -> Dataset:
    users, items = Vocab(), Vocab()
    u = np.array([users.add(r[0]) for r in rows], dtype=np.int32)
    i = np.array([items.add(r[1]) for r in rows], dtype=np.int32)
    n = len(rows)
    return Dataset(
        users=users,
        items=items,
        user_idx=u,
        item_idx=i,
        event_type=np.full(n, TYPE_CODE[kind], dtype=np.int8),
        value=np.array([r[2] for r in rows], dtype=np.float32),
        ts=np.array([r[3] for r in rows], dtype=np.float64),
        name=name,
    )


@pytest.fixture(scope="module")
def beauty() -> Dataset:
    path = DATA / "amazon-beauty" / "Beauty.txt"
    if not path.exists():
        pytest.skip(f"{path} not found")
    rows = []
    for line in path.read_text().splitlines():
        user, *seq = line.split()
        rows += [(user, item, 1.0, float(t)) for t, item in enumerate(seq)]
    return _dataset(rows, EventType.PURCHASE, "beauty")


class Popularity:
    """Scores items by how many training users have them."""

    def fit(self, dataset: Dataset) -> Popularity:
        self.pop_ = dataset.item_popularity.astype(np.float32)
        return self

    def score(self, users: np.ndarray, history) -> np.ndarray:
        return np.broadcast_to(self.pop_, (len(users), len(self.pop_)))


def test_beauty_loo_matches_the_published_protocol(beauty: Dataset) -> None:
    task = loo_protocol(beauty)
    assert (task.n_users, task.n_items) == (22363, 12101)  # every user is evaluated over all items
    assert task.truth.nnz == 22363 and task.validation.truth.nnz == 22363
    seq_len = np.diff(beauty.sequences.indptr)[task.users]
    assert np.array_equal(np.diff(task.history.indptr), seq_len - 1)  # history = all but the last item
    assert task.train.matrix.nnz == 198502 - 2 * 22363  # weights never see the last two items
    res = evaluate(Popularity(), task, ks=(10, 20))
    assert res.n_users == 22363 and res.mode == "full ranking"
    hits = round(res.metrics["HR@10"] * 22363)
    assert res.metrics["HR@10"] == pytest.approx(hits / 22363)
    assert 0.005 < res.metrics["HR@10"] < 0.03  # popularity is a weak baseline under full ranking
    sampled = evaluate(Popularity(), task, ks=(10,), sampled_negatives=99, seed=1)
    assert sampled.metrics["HR@10"] > 5 * res.metrics["HR@10"]  # why sampled numbers are not comparable


def test_movielens_stratified_protocol_counts_every_rating() -> None:
    path = DATA / "movielens-100k" / "u.data"
    if not path.exists():
        pytest.skip(f"{path} not found")
    rows = [(u, i, float(r), float(t)) for u, i, r, t in (ln.split("\t") for ln in path.read_text().splitlines())]
    data = _dataset(rows, EventType.RATING, "ml-100k")
    task = stratified_protocol(data, ratio=0.75, seed=42)
    per_user = np.bincount(data.user_idx, minlength=data.n_users)
    expected_test = (per_user - np.round(per_user * 0.75)).sum()
    assert task.n_users == 943
    assert task.truth.nnz == expected_test and task.history.nnz == 100000 - expected_test
    assert task.truth.multiply(task.history).nnz == 0
