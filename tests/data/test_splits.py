"""Splits: leave-one-out, stratified per-user ratio, temporal; seeded and exact."""

from __future__ import annotations

import numpy as np
import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Event
from shopguide.data.splits import leave_one_out, stratified_split, temporal_split
from shopguide.errors import ConfigError


def make(per_user: dict[str, list[str]]) -> Dataset:
    events, ts = [], 0
    for user, items in per_user.items():
        for item in items:
            ts += 1
            events.append(Event(user=user, item=item, type="view", ts=ts))
    return Dataset.from_events(events)


def pairs(d: Dataset) -> set[tuple[str, str]]:
    return {(d.users.id(u), d.items.id(i)) for u, i in zip(d.user_idx, d.item_idx, strict=True)}


def test_leave_one_out_takes_last_as_test_and_second_last_as_valid():
    d = make({"u1": ["a", "b", "c", "d"], "u2": ["c", "a", "e"], "short": ["a", "b"]})
    split = leave_one_out(d)
    assert pairs(split.test) == {("u1", "d"), ("u2", "e")}
    assert pairs(split.valid) == {("u1", "c"), ("u2", "a")}
    assert pairs(split.train) == {("u1", "a"), ("u1", "b"), ("u2", "c"), ("short", "a"), ("short", "b")}
    assert split.train.items is d.items


def test_leave_one_out_uses_time_not_row_order():
    events = [Event(user="u", item=i, type="view", ts=t) for i, t in (("late", 9), ("early", 1), ("mid", 5))]
    split = leave_one_out(Dataset.from_events(events))
    assert pairs(split.test) == {("u", "late")} and pairs(split.valid) == {("u", "mid")}


def test_stratified_split_is_per_user_seeded_and_rounded():
    d = make({f"u{k}": [f"i{j}" for j in range(8)] for k in range(5)})
    a = stratified_split(d, ratio=0.75, seed=3)
    b = stratified_split(d, ratio=0.75, seed=3)
    c = stratified_split(d, ratio=0.75, seed=4)
    assert pairs(a.test) == pairs(b.test)
    assert pairs(a.test) != pairs(c.test)
    counts = np.bincount(a.test.user_idx, minlength=d.n_users)
    assert counts.tolist() == [2] * 5  # 8 * 0.25 per user
    assert not pairs(a.train) & pairs(a.test)
    assert len(a.train) + len(a.test) == len(d)
    with pytest.raises(ConfigError):
        stratified_split(d, ratio=1.5)


def test_temporal_split_cuts_at_a_global_time():
    d = make({"u1": ["a", "b", "c", "d", "e"], "u2": ["f", "g", "h", "i", "j"]})
    split = temporal_split(d, test_fraction=0.2, valid_fraction=0.1)
    assert len(split.test) == 2 and len(split.valid) == 1 and len(split.train) == 7
    assert split.train.ts.max() < split.valid.ts.min() <= split.valid.ts.max() < split.test.ts.min()
