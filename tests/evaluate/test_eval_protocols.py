"""Protocols put the right items into train, history and truth."""

from __future__ import annotations

import numpy as np
import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Event
from shopguide.evaluate.protocols import loo_protocol, stratified_protocol, temporal_protocol


def ev(user: str, item: str, ts: float, type_: str = "view", value: float = 1.0) -> Event:
    return Event(user=user, item=item, type=type_, ts=ts, value=value)


@pytest.fixture
def three_users() -> Dataset:
    # u1: a b c d  -> train a b, valid c, test d
    # u2: b c e    -> train b,   valid c, test e
    # u3: a e      -> too short (min_history 3): train only, not evaluated
    events = [
        ev("u1", "a", 1), ev("u1", "b", 2), ev("u1", "c", 3), ev("u1", "d", 4),
        ev("u2", "b", 1), ev("u2", "c", 2), ev("u2", "e", 3),
        ev("u3", "a", 1), ev("u3", "e", 2),
    ]  # fmt: skip
    return Dataset.from_events(events, name="tiny")


def items_of(data: Dataset, matrix, row: int) -> set[str]:
    return set(data.items.ids(matrix[row].indices))


def train_items(data: Dataset, task, user: str) -> set[str]:
    return items_of(data, task.train.matrix, data.users.index(user))


def test_loo_test_task(three_users: Dataset) -> None:
    d = three_users
    task = loo_protocol(d)
    assert d.users.ids(task.users) == ["u1", "u2"]
    # weights are fitted on the items before the last two; u3 keeps everything
    assert train_items(d, task, "u1") == {"a", "b"}
    assert train_items(d, task, "u2") == {"b"}
    assert train_items(d, task, "u3") == {"a", "e"}
    # history at test time = everything before the last item; truth = the last item
    assert [items_of(d, task.history, r) for r in range(2)] == [{"a", "b", "c"}, {"b", "c"}]
    assert [items_of(d, task.truth, r) for r in range(2)] == [{"d"}, {"e"}]
    assert task.flags["refit_with_valid"] is False
    assert task.dataset == "tiny"
    assert task.history_data.sequence(d.users.index("u1")).tolist() == d.items.indices("abc").tolist()


def test_loo_validation_task(three_users: Dataset) -> None:
    d = three_users
    val = loo_protocol(d).validation
    assert val is not None
    assert d.users.ids(val.users) == ["u1", "u2"]
    assert [items_of(d, val.history, r) for r in range(2)] == [{"a", "b"}, {"b"}]
    assert [items_of(d, val.truth, r) for r in range(2)] == [{"c"}, {"c"}]


def test_loo_refit_with_valid_trains_on_everything_before_the_test_item(three_users: Dataset) -> None:
    d = three_users
    task = loo_protocol(d, refit_with_valid=True)
    assert train_items(d, task, "u1") == {"a", "b", "c"}
    assert [items_of(d, task.truth, r) for r in range(2)] == [{"d"}, {"e"}]
    assert task.flags["refit_with_valid"] is True


def ratings(n_users: int = 8, n_items: int = 12, seed: int = 3) -> Dataset:
    rng = np.random.default_rng(seed)
    events = [
        ev(f"u{u}", f"i{i}", float(t), "rating", float(rng.integers(1, 6)))
        for u in range(n_users)
        for t, i in enumerate(rng.choice(n_items, size=8, replace=False))
    ]
    return Dataset.from_events(events, name="ratings")


def test_stratified_protocol_masks_train_and_counts_every_rating() -> None:
    d = ratings()
    task = stratified_protocol(d, ratio=0.75, seed=42)
    assert task.n_users == 8
    for r, u in enumerate(task.users):
        hist, truth = set(task.history[r].indices), set(task.truth[r].indices)
        assert hist == set(task.train.matrix[u].indices)  # history = the user's train items
        assert len(hist) == 6 and len(truth) == 2  # round(8 * 0.75) = 6 train, 2 test
        assert not hist & truth
    # every rating is relevant, a 1-star rating included (no threshold), and truth is binary
    assert task.truth.nnz == 16 and set(task.truth.data) == {1.0}
    again = stratified_protocol(d, ratio=0.75, seed=42)
    assert (again.truth != task.truth).nnz == 0


def test_temporal_protocol_history_truth_and_cold_users() -> None:
    events = [
        ev("u1", "a", 1), ev("u1", "b", 2), ev("u1", "a", 9), ev("u1", "c", 10),
        ev("u2", "b", 3), ev("u2", "d", 11),
        ev("u3", "c", 4), ev("u3", "c", 12),
        ev("u4", "a", 5), ev("u4", "d", 6), ev("u4", "b", 7), ev("u4", "e", 8), ev("u5", "e", 13),
    ]  # fmt: skip
    d = Dataset.from_events(events)
    task = temporal_protocol(d, test_fraction=5 / 13)  # the 5 latest events (ts 9..13) are test
    # u1's repeat of "a" is dropped from the truth (it is masked history); u3 only repeats, so is skipped
    users = ["u1", "u2", "u5"]
    rows = {u: r for r, u in enumerate(users)}
    assert [d.users.ids([u])[0] if u >= 0 else "cold" for u in task.users] == ["u1", "u2", "cold"]
    assert items_of(d, task.truth, rows["u1"]) == {"c"}
    assert items_of(d, task.truth, rows["u2"]) == {"d"}
    assert items_of(d, task.truth, rows["u5"]) == {"e"}
    assert items_of(d, task.history, rows["u1"]) == {"a", "b"}
    assert task.history[rows["u5"]].nnz == 0
