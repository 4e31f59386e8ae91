"""Evaluation protocols: what a model is fitted on, what it conditions on, and what it must find.

An :class:`EvalTask` fixes everything the runner needs: the training Dataset, the evaluated users, the
history rows each user's scores are conditioned on (those items are also masked before ranking) and the
ground-truth items. The protocols reproduce the published ones (see ``shared/data/README.md``):

- :func:`loo_protocol` — S3-Rec / BSARec leave-one-out with full ranking (Amazon Beauty anchors).
- :func:`stratified_protocol` — Microsoft Recommenders' per-user stratified 75/25 split (ML-100K anchors).
- :func:`temporal_protocol` — a global time split, for data with meaningful timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.data.splits import leave_one_out, stratified_split, temporal_split


@dataclass(frozen=True, eq=False)
class EvalTask:
    """One evaluation: fit on ``train``; for each of ``users`` score all items given ``history``; mask the
    history items; rank; compare with ``truth``.

    ``users`` are the user indices passed to ``model.score`` (``-1`` for users without training events);
    ``history`` and ``truth`` are CSR matrices whose rows are aligned with ``users`` (``n_items`` columns).
    ``history_data`` is the Dataset the history rows come from (time order for sequence models).
    ``validation`` is the matching tuning task, when the protocol has one.
    """

    name: str
    protocol: str
    train: Dataset
    users: np.ndarray
    history: sp.csr_matrix
    truth: sp.csr_matrix
    history_data: Dataset
    dataset: str = "dataset"
    notes: str = ""
    flags: dict[str, object] = field(default_factory=dict)
    validation: EvalTask | None = None

    def __post_init__(self) -> None:
        n = len(self.users)
        n_items = self.train.n_items
        for label, m in (("history", self.history), ("truth", self.truth)):
            if m.shape != (n, n_items):
                raise ValueError(f"{label} has shape {m.shape}, expected {(n, n_items)}")

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return self.train.n_items

    def __repr__(self) -> str:
        return f"EvalTask({self.name!r}: {self.n_users} users, {self.n_items} items, {self.protocol})"


def _rows(matrix: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix[users], dtype=np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _task_users(target: Dataset) -> np.ndarray:
    """Users with at least one positive row in ``target``, ascending."""
    return np.unique(target.user_idx[target.positive]).astype(np.int64)


def _make_task(
    name: str,
    protocol: str,
    train: Dataset,
    history_data: Dataset,
    target: Dataset,
    *,
    source: Dataset,
    drop_seen_truth: bool = False,
    notes: str = "",
    flags: dict[str, object] | None = None,
    validation: EvalTask | None = None,
) -> EvalTask:
    users = _task_users(target)
    history = _rows(history_data.matrix, users)
    truth = _rows(target.binary_matrix, users)
    if drop_seen_truth:
        truth = (truth - truth.multiply(history > 0)).tocsr()
        truth.eliminate_zeros()
        keep = np.diff(truth.indptr) > 0
        users, history, truth = users[keep], history[keep], truth[keep]
    known = np.diff(train.matrix.indptr)[users] > 0
    return EvalTask(
        name=name,
        protocol=protocol,
        train=train,
        users=np.where(known, users, -1).astype(np.int64),
        history=history,
        truth=truth,
        history_data=history_data,
        dataset=source.name,
        notes=notes,
        flags=dict(flags or {}),
        validation=validation,
    )


def loo_protocol(data: Dataset, *, refit_with_valid: bool = False, min_history: int = 3) -> EvalTask:
    """Leave-one-out with full ranking, exactly as S3-Rec / BSARec evaluate Amazon Beauty.

    Per user (time order): the last item is the test target, the second-last the validation target.
    The model is fitted on the items before the last two (plus the validation item when
    ``refit_with_valid``; published numbers do not do that and refitting raises scores by 10-15%).
    At test time a user's history is everything before the last item, those items are masked, and the
    target is ranked against all items. Every user with a test item is evaluated (users with fewer than
    ``min_history`` positive events stay in train only). ``.validation`` is the tuning task: history =
    train, truth = the validation item.
    """
    split = leave_one_out(data, min_history=min_history)
    before_test = split.train.with_rows(split.valid, name=f"{data.name}:train+valid")
    fit_on = before_test if refit_with_valid else split.train
    validation = _make_task(
        f"{data.name}:loo-valid",
        "leave-one-out validation (second-last item, full ranking, history = train, masked)",
        split.train,
        split.train,
        split.valid,
        source=data,
        notes="for tuning: fitted on items before the last two",
    )
    fitted = "train + valid (refit)" if refit_with_valid else "items before the last two"
    return _make_task(
        f"{data.name}:loo-test",
        "leave-one-out (last item, full ranking over all items, history = all but last, masked)",
        fit_on,
        before_test,
        split.test,
        source=data,
        notes=f"model fitted on {fitted}; history = everything before the last item",
        flags={"refit_with_valid": refit_with_valid, "min_history": min_history},
        validation=validation,
    )


def stratified_protocol(data: Dataset, *, ratio: float = 0.75, seed: int = 42) -> EvalTask:
    """Microsoft Recommenders' benchmark protocol: per-user stratified random split, seen items removed.

    Each user's positive events are split ``ratio`` / ``1 - ratio`` at random (seeded); the model is
    fitted on train; history = the user's train items (masked); truth = the user's test items; users =
    those with test items. As in the MS Recommenders ML-100K benchmark (``benchmark_utils.py``: cornac
    ``Dataset.from_uir`` on raw ratings, ``python_stratified_split(ratio=0.75, seed=42)``, no threshold),
    every rating counts as relevant: a MovieLens rating of 1 is as positive as a 5.
    """
    split = stratified_split(data, ratio=ratio, seed=seed)
    return _make_task(
        f"{data.name}:stratified-test",
        f"stratified {ratio:g}/{1 - ratio:g} per-user random split (seed {seed}), train items masked",
        split.train,
        split.train,
        split.test,
        source=data,
        notes="every positive event (every rating) in test is relevant; no rating threshold",
        flags={"ratio": ratio, "seed": seed},
    )


def temporal_protocol(
    data: Dataset,
    *,
    test_fraction: float = 0.2,
    valid_fraction: float = 0.0,
    drop_seen_truth: bool = True,
) -> EvalTask:
    """Global time split: fit on everything before a cut-off, predict what each user does after it.

    History = the user's events before the test period (train + validation), masked. With
    ``drop_seen_truth`` test items the user already had in the history are removed from the truth (they
    are masked and could never be hit); users left without truth are skipped. Users with no training
    events are passed to the model as ``-1``. ``.validation`` exists when ``valid_fraction > 0``.
    """
    split = temporal_split(data, test_fraction=test_fraction, valid_fraction=valid_fraction)
    validation = None
    history_data = split.train
    if len(split.valid):
        validation = _make_task(
            f"{data.name}:temporal-valid",
            f"temporal validation slice ({valid_fraction:g}), history = train, masked",
            split.train,
            split.train,
            split.valid,
            source=data,
            drop_seen_truth=drop_seen_truth,
        )
        history_data = split.train.with_rows(split.valid, name=f"{data.name}:train+valid")
    return _make_task(
        f"{data.name}:temporal-test",
        f"temporal split (latest {test_fraction:g} of events), history = all events before, masked",
        split.train,
        history_data,
        split.test,
        source=data,
        drop_seen_truth=drop_seen_truth,
        notes="truth excludes items already in the history" if drop_seen_truth else "",
        flags={"test_fraction": test_fraction, "valid_fraction": valid_fraction},
        validation=validation,
    )
