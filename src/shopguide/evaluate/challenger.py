"""Champion / challenger: compare two models on the store's most recent events and decide on promotion.

The protocol is the same for both models and never lets either see the held-out events:

1. **Recent time split** (:func:`recent_task`, built on
   :func:`~shopguide.evaluate.protocols.temporal_protocol`): the events are ordered by time and the
   latest ``holdout`` share of them is held out; ``cutoff_ts`` is the time of the first held-out event.
2. **Refit on the past only**: both models are fresh copies with their own parameters
   (:func:`fresh_copy`), fitted on the events before the cutoff. The champion's served weights, which
   were trained on everything, are never scored.
3. **Same shoppers, same items, same metric**: every shopper with a positive held-out event on an item
   they had not interacted with before the cutoff is evaluated. A model ranks the whole catalogue given
   the shopper's events before the cutoff (those items are masked); the truth is the new items. A model is
   scored as it serves (:class:`AsServed`): items it cannot score come after the ones it can, in bestseller
   order, as ``Recommender.recommend`` fills short lists, so that a pure model is not judged on empty lists
   for new shoppers that a fallback chain would fill. NDCG@10 decides, HR@10 is reported, both with the
   number of evaluated shoppers.
4. **Decision** (:func:`decide`): promote only when at least ``min_users`` shoppers were evaluated, the
   challenger's NDCG@10 beats the champion's by more than ``margin`` (relative: 0.05 = 5 % better) and
   by at least ``min_z`` standard errors of the difference (the two per-shopper standard errors combined
   as if independent, which overstates the noise of this paired comparison: a conservative test). With
   too few evaluated shoppers nothing is fitted or promoted, and the reason says so.

The result is an :class:`Evaluation`; ``to_dict()`` is what a bundle's manifest stores under
``"evaluation"``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.errors import ConfigError, ModelError, ShopguideError
from shopguide.evaluate.protocols import EvalTask, temporal_protocol
from shopguide.evaluate.runner import evaluate
from shopguide.recommend.base import Recommender

log = logging.getLogger(__name__)

K = 10
METRIC = f"NDCG@{K}"
HIT_RATE = f"HR@{K}"


class TrainingCancelled(ShopguideError):
    """A training or evaluation was stopped between two steps because the service is shutting down."""


@dataclass(frozen=True)
class ChallengeConfig:
    """How a challenger is judged (see the module docstring)."""

    holdout: float = 0.1
    min_users: int = 50
    margin: float = 0.0
    min_z: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.holdout < 0.5:
            raise ConfigError(f"the held-out share of events must be in (0, 0.5), got {self.holdout}")
        if self.min_users < 1:
            raise ConfigError(f"the minimum number of evaluated shoppers must be at least 1, got {self.min_users}")
        if self.margin < 0 or self.min_z < 0:
            raise ConfigError(f"margin and min_z must not be negative, got {self.margin} and {self.min_z}")


@dataclass(frozen=True)
class Scorecard:
    """One model's result on the held-out events: ``metrics`` holds NDCG@10 and HR@10, ``std_errors`` their
    standard errors over the evaluated shoppers."""

    model: str
    version: str | None
    metrics: dict[str, float]
    std_errors: dict[str, float]
    fit_seconds: float

    @property
    def ndcg(self) -> float:
        return self.metrics[METRIC]


@dataclass(frozen=True)
class Evaluation:
    """A champion / challenger comparison and its decision (stored in the challenger's bundle manifest)."""

    protocol: str
    metric: str
    cutoff_ts: float | None
    n_users: int
    n_train_events: int
    n_test_events: int
    champion: Scorecard | None
    challenger: Scorecard | None
    promoted: bool
    reason: str
    z: float | None = None
    config: dict[str, float] = field(default_factory=dict)
    #: what the saved challenger was fitted on ("events before the cutoff" or "all events")
    fitted_on: str = ""
    evaluated_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Evaluation:
        cards = {k: Scorecard(**values[k]) if values.get(k) else None for k in ("champion", "challenger")}
        return cls(**{**values, **cards})

    def refused(self, reason: str) -> Evaluation:
        """The same comparison, not promoted, for ``reason`` (e.g. the champion changed meanwhile)."""
        return replace(self, promoted=False, reason=reason)


def recent_task(data: Dataset, holdout: float) -> EvalTask:
    """The recent time split of ``data``: fit on the events before the cutoff, find each shopper's new items
    after it (see the module docstring)."""
    return temporal_protocol(data, test_fraction=holdout, drop_seen_truth=True)


def fresh_copy(model: Recommender) -> Recommender:
    """An unfitted recommender with ``model``'s parameters (how the champion is refitted on the past only)."""
    try:
        return type(model)(**model.get_params())
    except TypeError as exc:
        raise ModelError(f"cannot rebuild {type(model).__name__} from its parameters: {exc}") from None


def check_stop(stop: threading.Event | None) -> None:
    """TrainingCancelled when ``stop`` is set."""
    if stop is not None and stop.is_set():
        raise TrainingCancelled("training was stopped")


def stop_between_epochs(model: Recommender, stop: threading.Event | None) -> None:
    """Let a model that trains in epochs (the sequential model's ``on_epoch``) stop after the current epoch."""
    if stop is not None and hasattr(model, "on_epoch"):

        def check(*_: Any) -> None:
            check_stop(stop)

        model.on_epoch = check  # type: ignore[attr-defined]


class AsServed:
    """``model`` scored as it serves: every item it cannot score (``-inf`` / NaN) is ranked after the ones it
    can, in the order of the fitted data's bestsellers (the base class's filling of short lists)."""

    def __init__(self, model: Recommender) -> None:
        self.model = model

    def get_params(self) -> dict[str, Any]:
        return self.model.get_params()

    def fit(self, dataset: Dataset) -> AsServed:
        self.model.fit(dataset)
        popularity = dataset.item_popularity.astype(np.float32)
        self.filler_ = popularity / (popularity.max(initial=0.0) + 1.0)  # in [0, 1), bestsellers highest
        return self

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        scores = np.array(self.model.score(users, history), dtype=np.float32, copy=True)
        finite = np.isfinite(scores)
        if finite.all():
            return scores
        lowest = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
        lowest[~np.isfinite(lowest)] = 0.0
        return np.where(finite, scores, lowest - 2.0 + self.filler_[None, :])


def score_on(
    task: EvalTask, model: Recommender, *, label: str, version: str | None, stop: threading.Event | None = None
) -> Scorecard:
    """Fit ``model`` on the task's past and score it on the held-out shoppers."""
    check_stop(stop)
    stop_between_epochs(model, stop)
    result = evaluate(AsServed(model), task, ks=(K,), fit=True, batch_size=256)
    if hasattr(model, "on_epoch"):
        model.on_epoch = None  # type: ignore[attr-defined]
    return Scorecard(
        model=label,
        version=version,
        metrics={name: result.metrics[name] for name in (METRIC, HIT_RATE)},
        std_errors={name: result.std_errors[name] for name in (METRIC, HIT_RATE)},
        fit_seconds=round(result.fit_seconds, 3),
    )


def decide(
    champion: Scorecard | None, challenger: Scorecard, n_users: int, config: ChallengeConfig
) -> tuple[bool, str, float | None]:
    """``(promoted, reason, z)`` for a challenger against the champion on ``n_users`` shoppers."""
    if champion is None:
        return True, "no active model to compare with", None
    ours, theirs = challenger.ndcg, champion.ndcg
    se = math.hypot(challenger.std_errors[METRIC], champion.std_errors[METRIC])
    z = (ours - theirs) / se if se > 0 else (math.inf if ours > theirs else 0.0)
    z_text = "inf" if math.isinf(z) else f"{z:.2f}"
    gain = f"{(ours - theirs) / theirs:+.1%}" if theirs > 0 else f"{ours - theirs:+.4f}"
    said = f"{METRIC} {ours:.4f} vs {theirs:.4f} ({gain}, z={z_text}) on {n_users} shoppers"
    if n_users < config.min_users:
        return False, f"too little data: {n_users} shoppers evaluated (fewer than {config.min_users})", z
    if not ours > theirs * (1.0 + config.margin):
        return False, f"{said}: not better than the champion by more than {config.margin:.1%}", z
    if z < config.min_z:
        return False, f"{said}: within noise (z < {config.min_z:g})", z
    return True, f"{said}: better than the champion", z


def challenge(
    data: Dataset,
    challenger: Recommender,
    champion: Recommender | None,
    *,
    config: ChallengeConfig | None = None,
    challenger_name: str | None = None,
    champion_version: str | None = None,
    stop: threading.Event | None = None,
) -> Evaluation:
    """Fit ``challenger`` (in place) and a fresh copy of ``champion`` on the past of ``data``, score both on
    the same held-out shoppers and decide. ``stop`` is checked between steps (and between epochs of the
    sequential model): :class:`TrainingCancelled`. With too few shoppers to evaluate nothing is fitted."""
    config = config or ChallengeConfig()
    task = recent_task(data, config.holdout)
    n_test = len(data) - len(task.train)
    cutoff = float(np.sort(data.ts)[len(task.train)]) if n_test else None  # the first held-out event's time
    base = {
        "protocol": "recent time split: " + task.protocol,
        "metric": METRIC,
        "cutoff_ts": cutoff,
        "n_users": task.n_users,
        "n_train_events": len(task.train),
        "n_test_events": n_test,
        "config": asdict(config),
    }
    if task.n_users < config.min_users:
        few = f"{task.n_users} shoppers with new items after the cutoff (fewer than {config.min_users})"
        reason = f"too little data: {few}"
        return Evaluation(**base, champion=None, challenger=None, promoted=False, reason=reason)
    theirs = None
    if champion is not None:
        theirs = score_on(task, fresh_copy(champion), label=champion.source, version=champion_version, stop=stop)
    ours = score_on(task, challenger, label=challenger_name or challenger.source, version=None, stop=stop)
    promoted, reason, z = decide(theirs, ours, task.n_users, config)
    finite_z = None if z is None or math.isinf(z) else round(z, 4)
    evaluation = Evaluation(**base, champion=theirs, challenger=ours, promoted=promoted, reason=reason, z=finite_z)
    log.info("challenger evaluated", extra={"promoted": promoted, "reason": reason, "users": task.n_users})
    return evaluation
