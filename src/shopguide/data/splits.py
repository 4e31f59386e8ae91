"""Train / validation / test splits. Every split is seeded and returns Datasets sharing the vocabularies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopguide.data.dataset import Dataset
from shopguide.errors import ConfigError


@dataclass(frozen=True)
class Split:
    """The parts of a split. ``valid`` may be empty (zero rows)."""

    train: Dataset
    valid: Dataset
    test: Dataset
    protocol: str


def _group_starts(sorted_users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and length of each run of equal values in a sorted array."""
    if len(sorted_users) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(sorted_users)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [len(sorted_users)]]))
    return starts, lengths


def leave_one_out(data: Dataset, *, min_history: int = 3) -> Split:
    """Per user, time order: the last positive event is test, the second-last validation, the rest train.

    Users with fewer than ``min_history`` positive events keep all of them in train. Zero-weight events
    (impressions) stay in train. This is the protocol of the S3-Rec / BSARec numbers on Amazon Beauty.
    """
    order = data.order  # positive rows sorted by (user, ts), stable
    users = data.user_idx[order]
    starts, lengths = _group_starts(users)
    eligible = lengths >= min_history
    ends = starts + lengths
    test_rows = order[ends[eligible] - 1]
    valid_rows = order[ends[eligible] - 2]
    in_train = np.ones(len(data), dtype=bool)
    in_train[test_rows] = False
    in_train[valid_rows] = False
    return Split(
        train=data.subset(in_train, name=f"{data.name}:train"),
        valid=data.subset(np.sort(valid_rows), name=f"{data.name}:valid"),
        test=data.subset(np.sort(test_rows), name=f"{data.name}:test"),
        protocol="leave-one-out",
    )


def stratified_split(data: Dataset, *, ratio: float = 0.75, seed: int = 42, min_rows: int = 1) -> Split:
    """Per-user random split: each user's positive rows are shuffled and the first ``ratio`` go to train.

    The Microsoft Recommenders ``python_stratified_split`` protocol (train size rounded per user).
    Users with fewer than ``min_rows`` positive rows go entirely to train. ``valid`` is empty.
    """
    if not 0.0 < ratio < 1.0:
        raise ConfigError(f"ratio must be between 0 and 1, got {ratio}")
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(data.positive)
    rows = rows[np.lexsort((rng.random(len(rows)), data.user_idx[rows]))]  # random order within user
    starts, lengths = _group_starts(data.user_idx[rows])
    n_train = np.where(lengths >= min_rows, np.round(lengths * ratio).astype(np.int64), lengths)
    rank = np.arange(len(rows)) - np.repeat(starts, lengths)
    to_test = rank >= np.repeat(n_train, lengths)
    in_train = np.ones(len(data), dtype=bool)
    in_train[rows[to_test]] = False
    return Split(
        train=data.subset(in_train, name=f"{data.name}:train"),
        valid=data.subset(np.zeros(0, dtype=np.int64), name=f"{data.name}:valid"),
        test=data.subset(np.sort(rows[to_test]), name=f"{data.name}:test"),
        protocol=f"stratified-{ratio:g}",
    )


def temporal_split(data: Dataset, *, test_fraction: float = 0.2, valid_fraction: float = 0.0) -> Split:
    """Global time split: the latest ``test_fraction`` of events is test, the slice before it validation."""
    if not 0.0 < test_fraction < 1.0 or not 0.0 <= valid_fraction < 1.0 - test_fraction:
        raise ConfigError("test_fraction and valid_fraction must be fractions that sum below 1")
    order = np.argsort(data.ts, kind="stable")
    n = len(order)
    n_test = round(n * test_fraction)
    n_valid = round(n * valid_fraction)
    cut_valid, cut_test = n - n_test - n_valid, n - n_test
    return Split(
        train=data.subset(np.sort(order[:cut_valid]), name=f"{data.name}:train"),
        valid=data.subset(np.sort(order[cut_valid:cut_test]), name=f"{data.name}:valid"),
        test=data.subset(np.sort(order[cut_test:]), name=f"{data.name}:test"),
        protocol=f"temporal-{test_fraction:g}",
    )
