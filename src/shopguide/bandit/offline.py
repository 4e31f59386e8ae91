"""Learn a policy offline from logged bandit feedback and decide, by off-policy evaluation, whether to ship it.

The pieces work on any :class:`~shopguide.bandit.ope.LoggedBandit` with a context matrix (rounds x features,
floats), dense action indices and optional slate positions, so the same code serves a public log and the shop's own
decision log:

* :class:`RidgeRewardModel` / :func:`ridge_reward_model`: a contextual reward model ``q(x, a[, k])`` for DM/DR
  (cross-fitted, the layout of :func:`~shopguide.bandit.ope.mean_reward_model`) and for greedy policies.
* :func:`fit_policy`: train a bandit policy by replaying the log through ``policy.update``.
* :func:`action_distribution`, :func:`greedy_distribution`, :func:`softmax_distribution`: target probabilities.
* :func:`compare` and :func:`guardrail`: a candidate's value with intervals, its paired difference to the current
  policy, and the promotion decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import numpy as np

from shopguide.bandit.ope import Estimate, LoggedBandit, _array, _target, _weights, dm, dr, ips, snips, switch_dr
from shopguide.errors import DataError

__all__ = [
    "Comparison",
    "GuardrailDecision",
    "LearningPolicy",
    "RidgeRewardModel",
    "action_distribution",
    "compare",
    "fit_policy",
    "greedy_distribution",
    "guardrail",
    "ridge_reward_model",
    "select_ridge",
    "softmax_distribution",
    "time_split",
]

_BOOT_CHUNK = 64


class LearningPolicy(Protocol):
    """What :func:`fit_policy` and :func:`action_distribution` need (every policy in policies.py / linear.py)."""

    arms: tuple[str, ...]

    def update(self, arm: int, reward: float, context: np.ndarray | None = None) -> bool: ...

    def probabilities(self, context: np.ndarray | None = None) -> np.ndarray: ...


P = TypeVar("P", bound=LearningPolicy)


def _contexts(data: LoggedBandit) -> np.ndarray:
    if data.context is None:
        raise DataError("the log has no contexts", field="context")
    return data.context.reshape(data.n_rounds, -1)


def _positions(data: LoggedBandit, n_positions: int | None) -> np.ndarray | None:
    if n_positions is None:
        return None
    if isinstance(n_positions, bool) or not isinstance(n_positions, int | np.integer) or n_positions < 1:
        raise DataError(f"must be a positive integer, got {n_positions!r}", field="n_positions")
    if data.position is None:
        raise DataError("n_positions given but the log has no positions", field="position")
    if data.position.max() >= n_positions:
        raise DataError(f"position {data.position.max()} out of range for {n_positions}", field="position")
    return data.position


def time_split(data: LoggedBandit, train_fraction: float = 0.7) -> tuple[LoggedBandit, LoggedBandit]:
    """The first ``train_fraction`` of the rounds (in logged order, i.e. time) and the rest, as two logs."""
    if not 0 < train_fraction < 1:
        raise DataError(f"must lie in (0, 1), got {train_fraction}", field="train_fraction")
    cut = round(data.n_rounds * train_fraction)
    if not 0 < cut < data.n_rounds:
        raise DataError(f"{data.n_rounds} rounds cannot be split at {train_fraction}", field="train_fraction")

    def part(rows: slice) -> LoggedBandit:
        return LoggedBandit(
            action=data.action[rows],
            reward=data.reward[rows],
            pscore=data.pscore[rows],
            position=None if data.position is None else data.position[rows],
            context=None if data.context is None else data.context[rows],
            n_actions=data.n_actions,
        )

    return part(slice(0, cut)), part(slice(cut, None))


# ---------------------------------------------------------------------------------------------- reward model
class RidgeRewardModel:
    """``q(x, a, k) = mean + bias[a, k] + (x - x_mean) . (shared + per_action[a])``, one ridge regression.

    Why one joint model rather than a disjoint ridge per action: each action sees only ``n / n_actions`` rounds,
    and with rare rewards (a 0.5 % click rate gives one or two clicks per item) a per-action fit is noise. Here the
    context effect ``shared`` is learnt from every round and each action's deviation ``per_action[a]`` is shrunk
    towards it (a hierarchical prior); ``bias`` (per action, or per action and position when ``n_positions`` is
    set) reduces the model to a shrunk :func:`~shopguide.bandit.ope.mean_reward_model` when the context says
    nothing. Every coefficient gets the same penalty ``ridge`` (in units of rounds: a cell bias fitted on ``m``
    rounds shrinks by ``m / (m + ridge)``), so put features on comparable scales. Predictions are clipped to the
    range of the training rewards. Cost: ``n_actions`` solves of size ``n_features`` and one of size
    ``n_cells + n_features`` (the per-action blocks are eliminated first), plus ``O(n * n_features^2)``.
    """

    def __init__(self, *, ridge: float = 1.0, n_positions: int | None = None) -> None:
        self.ridge = ridge
        self.n_positions = n_positions

    def fit(self, data: LoggedBandit) -> RidgeRewardModel:
        x, position = self._validated(data)
        return self._fit(x, data.action, position, data.reward, data.n_actions)

    def _validated(self, data: LoggedBandit) -> tuple[np.ndarray, np.ndarray | None]:
        """The context matrix and the positions (``None`` without ``n_positions``); checks the parameters."""
        try:
            ridge = float(self.ridge)
        except (TypeError, ValueError):
            ridge = np.nan
        if isinstance(self.ridge, bool) or not (np.isfinite(ridge) and ridge > 0):
            raise DataError(f"must be a positive finite number, got {self.ridge!r}", field="ridge")
        position = _positions(data, self.n_positions)
        return _contexts(data), position

    def _fit(
        self, x: np.ndarray, action: np.ndarray, position: np.ndarray | None, y: np.ndarray, n_actions: int
    ) -> RidgeRewardModel:
        n_pos = 1 if position is None else int(self.n_positions or 1)
        cells = action * n_pos + (0 if position is None else position)
        n_cells, d, lam = n_actions * n_pos, x.shape[1], float(self.ridge)
        self.n_actions_, self.n_features_ = n_actions, d
        self.mean_ = float(y.mean())
        self.reward_range_ = (float(y.min()), float(y.max()))
        self.x_mean_ = x.mean(axis=0)
        xc, yc = x - self.x_mean_, y - self.mean_
        # Ridge normal equations for w = [z, per_action], z = [bias (n_cells), shared (d)]. Each action's block
        # couples only to its own cells and to ``shared``, so it is eliminated first (a Schur complement):
        # n_actions solves of size d and one of size n_cells + d, not one of size n_cells + d * (n_actions + 1).
        nz = n_cells + d
        cell_sum = np.zeros((n_cells, d))
        np.add.at(cell_sum, cells, xc)
        gram = np.zeros((nz, nz))
        gram[:n_cells, :n_cells] = np.diag(np.bincount(cells, minlength=n_cells).astype(float))
        gram[:n_cells, n_cells:] = cell_sum
        gram[n_cells:, :n_cells] = cell_sum.T
        gram[n_cells:, n_cells:] = xc.T @ xc
        gram[np.diag_indices(nz)] += lam
        rhs = np.concatenate([np.bincount(cells, weights=yc, minlength=n_cells), xc.T @ yc])
        eliminated = []
        for a in range(n_actions):
            rows = action == a
            xa = xc[rows]
            gram_a = xa.T @ xa
            idx = np.r_[a * n_pos : (a + 1) * n_pos, n_cells:nz]  # the unknowns of z this block touches
            couple = np.vstack([cell_sum[a * n_pos : (a + 1) * n_pos], gram_a])
            sol = np.linalg.solve(gram_a + lam * np.eye(d), np.column_stack([couple.T, xa.T @ yc[rows]]))
            gram[np.ix_(idx, idx)] -= couple @ sol[:, :-1]
            rhs[idx] -= couple @ sol[:, -1]
            eliminated.append((idx, sol))
        w = np.linalg.solve(gram, rhs)
        self.coef_action_ = np.stack([sol[:, -1] - sol[:, :-1] @ w[idx] for idx, sol in eliminated])
        self.coef_shared_ = w[n_cells:]
        bias = w[:n_cells].reshape(n_actions, n_pos)
        self.bias_ = bias if position is not None else bias[:, 0]
        return self

    def predict(self, contexts: np.ndarray) -> np.ndarray:
        """``(m, n_actions)`` or, when fitted with positions, ``(m, n_actions, n_positions)`` predicted rewards."""
        if not hasattr(self, "coef_action_"):
            raise DataError("the reward model is not fitted", field="model")
        x = _array(contexts, "contexts", ndim=(1, 2)).reshape(len(contexts), -1)
        if x.shape[1] != self.n_features_:
            raise DataError(f"expected {self.n_features_} features, got {x.shape[1]}", field="contexts")
        xc = x - self.x_mean_
        q = self.mean_ + (xc @ self.coef_shared_)[:, None] + xc @ self.coef_action_.T
        q = q[:, :, None] + self.bias_ if self.bias_.ndim == 2 else q + self.bias_
        return np.clip(q, *self.reward_range_)


def ridge_reward_model(
    data: LoggedBandit, *, ridge: float = 1.0, n_folds: int = 3, seed: int = 0, n_positions: int | None = None
) -> np.ndarray:
    """:class:`RidgeRewardModel` predictions for every logged round, cross-fitted like ``mean_reward_model``.

    Returns ``(n_rounds, n_actions)`` or ``(n_rounds, n_actions, n_positions)``. ``n_folds=1`` fits in sample;
    otherwise rounds go to ``n_folds`` seeded random folds and each fold is predicted by a model fitted on the
    others (so DR's correction is not computed on residuals the model has already seen).
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or not 1 <= n_folds <= data.n_rounds:
        raise DataError(f"n_folds must lie in [1, {data.n_rounds}], got {n_folds!r}", field="n_folds")
    model = RidgeRewardModel(ridge=ridge, n_positions=n_positions)
    x, position = model._validated(data)
    if n_folds == 1:
        return model._fit(x, data.action, position, data.reward, data.n_actions).predict(x)
    fold = np.random.default_rng(seed).permutation(data.n_rounds) % n_folds
    out: np.ndarray | None = None
    for f in range(n_folds):
        train = fold != f
        pos = None if position is None else position[train]
        model._fit(x[train], data.action[train], pos, data.reward[train], data.n_actions)
        pred = model.predict(x[~train])
        if out is None:
            out = np.empty((data.n_rounds, *pred.shape[1:]))
        out[~train] = pred
    assert out is not None
    return out


def select_ridge(
    data: LoggedBandit,
    grid: Sequence[float] = (1.0, 10.0, 100.0, 1000.0, 10000.0),
    *,
    n_folds: int = 3,
    seed: int = 0,
    n_positions: int | None = None,
) -> float:
    """The ``ridge`` in ``grid`` with the smallest cross-fitted squared error on the logged rewards."""
    if not grid:
        raise DataError("needs at least one value", field="grid")
    rows = np.arange(data.n_rounds)
    pos = np.zeros(data.n_rounds, dtype=np.int64) if n_positions is None else data.position

    def error(lam: float) -> float:
        q = ridge_reward_model(data, ridge=lam, n_folds=n_folds, seed=seed, n_positions=n_positions)
        q = q if q.ndim == 3 else q[:, :, None]
        return float(np.mean((q[rows, data.action, pos] - data.reward) ** 2))

    return min(grid, key=error)


# ---------------------------------------------------------------------------------------------- policies
def fit_policy(policy: P, data: LoggedBandit, *, weighting: Literal["none", "ips"] = "none", seed: int = 0) -> P:
    """Train ``policy`` offline: replay the logged ``(action, reward, context)`` rounds through ``policy.update``.

    ``"none"`` replays every round once, in logged order. A disjoint per-arm model (LinUCB, linear Thompson, or a
    per-arm mean) learns arm ``a`` only from the rounds where ``a`` was logged, whose contexts follow
    ``p(x | a logged) ~ p(x) mu(a | x)``. Under a uniform random logger ``mu`` does not depend on ``x``, so those
    rounds are a random sample of the context population and each arm's fit is what it would be online (unbiased
    per arm; a plain mean is unbiased for the arm's value). When the logger's choice depends on the context (LinUCB,
    a rule, a policy that changed over time), each arm sees a skewed sample: a per-arm mean is biased, and a linear
    model fits the skewed population wherever it is misspecified. ``"ips"`` then corrects it: rounds are resampled
    with replacement (``n_rounds`` draws, seeded, kept in logged order) with probability ``~ 1 / pscore``, which
    turns the log into a sample from a uniform logger (``p(x) mu(a|x) / mu(a|x)``); it costs variance (repeats
    and omissions). When all propensities are equal, ``"ips"`` is ``"none"``. Positions are not modelled: every
    round is replayed, whatever its slot.
    """
    if weighting not in ("none", "ips"):
        raise DataError(f"must be 'none' or 'ips', got {weighting!r}", field="weighting")
    if len(policy.arms) != data.n_actions:
        raise DataError(f"the policy has {len(policy.arms)} arms, the log {data.n_actions} actions", field="n_actions")
    rounds = np.arange(data.n_rounds)
    if weighting == "ips" and np.ptp(data.pscore) > 0:
        weight = 1.0 / data.pscore
        rounds = np.sort(np.random.default_rng(seed).choice(data.n_rounds, data.n_rounds, p=weight / weight.sum()))
    x = None if data.context is None else _contexts(data)
    for i in rounds:
        policy.update(int(data.action[i]), float(data.reward[i]), None if x is None else x[i])
    return policy


def action_distribution(policy: LearningPolicy, contexts: np.ndarray, *, n_positions: int | None = None) -> np.ndarray:
    """``policy.probabilities(x)`` for every row of ``contexts``: ``(n, n_arms)``, or ``(n, n_arms, n_positions)``
    with the same distribution in every slot. Identical rows are computed once (probabilities are deterministic)."""
    x = _array(contexts, "contexts", ndim=(1, 2))
    x = x.reshape(len(x), -1)
    if n_positions is not None and (
        isinstance(n_positions, bool) or not isinstance(n_positions, int | np.integer) or n_positions < 1
    ):
        raise DataError(f"must be a positive integer, got {n_positions!r}", field="n_positions")
    unique, inverse = np.unique(x, axis=0, return_inverse=True)
    probs = np.stack([np.asarray(policy.probabilities(row), dtype=float) for row in unique])
    if probs.shape[1] != len(policy.arms) or np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0):
        raise DataError("the policy returned an invalid distribution", field="policy")
    dist = probs[inverse.reshape(-1)]
    return dist if n_positions is None else np.repeat(dist[:, :, None], n_positions, axis=2)


def _scores(scores: np.ndarray) -> np.ndarray:
    s = _array(scores, "scores", ndim=(2, 3))
    if s.shape[1] == 0:
        raise DataError("no actions", field="scores")
    return s


def greedy_distribution(scores: np.ndarray, *, epsilon: float = 0.0) -> np.ndarray:
    """Epsilon-greedy over ``scores`` (``(n, n_actions)`` or ``(n, n_actions, n_positions)``, argmax over actions):
    ``epsilon / n_actions`` on every action plus ``1 - epsilon`` split evenly over the top-scoring ones. A
    deterministic greedy policy (``epsilon=0``) puts all its mass on actions a uniform logger shows ``1 / n_actions``
    of the time, so its IPS estimate rests on that share of the rounds; ``epsilon`` buys variance with value."""
    s = _scores(scores)
    if not 0.0 <= epsilon <= 1.0:
        raise DataError(f"must lie in [0, 1], got {epsilon}", field="epsilon")
    best = s == s.max(axis=1, keepdims=True)
    return epsilon / s.shape[1] + (1.0 - epsilon) * best / best.sum(axis=1, keepdims=True)


def softmax_distribution(scores: np.ndarray, *, temperature: float) -> np.ndarray:
    """``exp(score / temperature)`` normalised over actions (axis 1); small temperatures approach greedy."""
    s = _scores(scores)
    if not (np.isfinite(temperature) and temperature > 0):
        raise DataError(f"must be a positive number, got {temperature}", field="temperature")
    z = np.exp((s - s.max(axis=1, keepdims=True)) / temperature)
    return z / z.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class Comparison:
    """One estimator's verdict on a candidate against a baseline (intervals at ``1 - alpha``).

    ``baseline_ci`` is ``None`` when the baseline was a fixed number. ``difference_ci`` comes from a paired
    bootstrap: candidate and baseline are re-estimated on the same resampled rounds. ``n_eff`` is the Kish
    effective number of rounds behind the candidate's importance weights, ``(sum w)^2 / sum w^2`` (``n / n_actions``
    for a deterministic policy under a uniform logger). When ``n_eff`` times the reward rate is a handful of
    events, the percentile bootstrap is unreliable: with no rewarded round among them it returns a zero-width
    interval, which says nothing about the policy. DM's intervals hold the reward model fixed and are too narrow
    to base a verdict on.
    """

    estimator: str
    value: float
    ci: tuple[float, float]
    baseline: float
    baseline_ci: tuple[float, float] | None
    difference: float
    difference_ci: tuple[float, float]
    n_eff: float

    @property
    def verdict(self) -> str:
        """``"better"`` (difference interval above 0), ``"worse"`` (below 0) or ``"indistinguishable"``."""
        lo, hi = self.difference_ci
        return "better" if lo > 0 else "worse" if hi < 0 else "indistinguishable"


_ESTIMATORS = ("ips", "snips", "dm", "dr", "switch_dr")
#: the estimators :func:`compare` runs unless told otherwise
DEFAULT_ESTIMATORS = ("ips", "snips", "dm", "dr")


def _estimate(name: str, data: LoggedBandit, dist: np.ndarray, q: np.ndarray | None, tau: float) -> Estimate:
    if name in ("dm", "dr", "switch_dr") and q is None:
        raise DataError(f"{name} needs a reward model", field="estimated_rewards")
    if name == "ips":
        return ips(data, dist)
    if name == "snips":
        return snips(data, dist)
    if name == "switch_dr":
        return switch_dr(data, dist, q, tau=tau)
    return dm(data, dist, q) if name == "dm" else dr(data, dist, q)


def _paired_draws(estimates: Sequence[Estimate], n_bootstrap: int, seed: int) -> np.ndarray:
    """``(len(estimates), n_bootstrap)`` bootstrap values, every estimate on the same resampled rounds."""
    rng = np.random.default_rng(seed)
    n = len(estimates[0].terms)
    out = np.empty((len(estimates), n_bootstrap))
    for start in range(0, n_bootstrap, _BOOT_CHUNK):
        size = min(_BOOT_CHUNK, n_bootstrap - start)
        idx = rng.integers(0, n, size=(size, n))
        for j, est in enumerate(estimates):
            num = est.terms[idx].sum(axis=1)
            if est.weights is None:
                out[j, start : start + size] = num / n
            else:
                den = est.weights[idx].sum(axis=1)
                out[j, start : start + size] = np.divide(num, den, out=np.zeros(size), where=den > 0)
    return out


def compare(
    candidate_dist: np.ndarray,
    baseline: float | np.ndarray,
    data: LoggedBandit,
    estimated_rewards: np.ndarray | None = None,
    *,
    estimators: Sequence[str] = DEFAULT_ESTIMATORS,
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    seed: int = 0,
    tau: float = 10.0,
) -> dict[str, Comparison]:
    """Value a candidate policy on ``data`` with each estimator and compare it with ``baseline``.

    ``baseline`` is the current policy's action distribution (estimated on the same log by the same estimator) or a
    known value (e.g. its on-policy reward). Percentile bootstrap intervals (seeded; all estimators and both
    policies share the resampled rounds); the reward model is held fixed. ``switch_dr`` (one of ``estimators``
    on request) corrects DM only where the importance weight is at most ``tau``.
    """
    if not 0 < alpha < 1:
        raise DataError(f"must lie in (0, 1), got {alpha}", field="alpha")
    if n_bootstrap < 1:
        raise DataError(f"must be positive, got {n_bootstrap}", field="n_bootstrap")
    unknown = [name for name in estimators if name not in _ESTIMATORS]
    if unknown or not estimators:
        raise DataError(f"unknown {unknown}; choose from {list(_ESTIMATORS)}", field="estimators")
    cand = _target(data, candidate_dist, "candidate_dist")
    if np.ndim(baseline) == 0:
        base_dist, base_value = None, _array(baseline, "baseline", ndim=0).item()
    else:
        base_dist, base_value = _target(data, baseline, "baseline"), 0.0
    q = None if estimated_rewards is None else _array(estimated_rewards, "estimated_rewards", ndim=(2, 3))
    w = _weights(data, cand)
    n_eff = float(w.sum() ** 2 / (w**2).sum()) if np.any(w > 0) else 0.0
    cands = [_estimate(name, data, cand, q, tau) for name in estimators]
    bases = [] if base_dist is None else [_estimate(name, data, base_dist, q, tau) for name in estimators]
    draws = _paired_draws(cands + bases, n_bootstrap, seed)
    quant = [alpha / 2, 1 - alpha / 2]
    out: dict[str, Comparison] = {}
    for j, (name, est) in enumerate(zip(estimators, cands, strict=True)):
        c_draws = draws[j]
        if base_dist is None:
            b_draws, b_val, b_ci = base_value, base_value, None
        else:
            b_draws, b_val = draws[len(cands) + j], bases[j].value
            b_ci = _interval(b_draws, quant)
        out[name] = Comparison(
            estimator=name,
            value=est.value,
            ci=_interval(c_draws, quant),
            baseline=b_val,
            baseline_ci=b_ci,
            difference=est.value - b_val,
            difference_ci=_interval(c_draws - b_draws, quant),
            n_eff=n_eff,
        )
    return out


def _interval(draws: Any, quant: list[float]) -> tuple[float, float]:
    lo, hi = np.quantile(draws, quant)
    return float(lo), float(hi)


@dataclass(frozen=True)
class GuardrailDecision:
    """Whether to promote the candidate, and why."""

    promote: bool
    estimator: str
    criterion: str
    lower_bound: float
    threshold: float
    reason: str


def guardrail(
    comparisons: Mapping[str, Comparison],
    *,
    estimator: str = "snips",
    criterion: Literal["value", "difference"] = "value",
    margin: float = 0.0,
    min_n_eff: float = 0.0,
) -> GuardrailDecision:
    """Promote a candidate only when the off-policy evidence says it is not worse than the current policy.

    ``"value"``: the lower bound of the candidate's value interval must be ``>=`` the current policy's point
    estimate plus ``margin``. ``"difference"``: the lower bound of the paired difference interval must be
    ``> margin`` (the candidate beats the current policy). A candidate whose estimate rests on fewer than
    ``min_n_eff`` effective rounds (:attr:`Comparison.n_eff`) is refused whatever its interval says. Use ``"dr"``
    when a good reward model exists.
    """
    if estimator not in comparisons:
        raise DataError(f"no comparison for {estimator!r}; have {sorted(comparisons)}", field="estimator")
    if criterion not in ("value", "difference"):
        raise DataError(f"must be 'value' or 'difference', got {criterion!r}", field="criterion")
    c = comparisons[estimator]
    if criterion == "value":
        lower, threshold = c.ci[0], c.baseline + margin
        promote = lower >= threshold
        what = f"candidate value lower bound {lower:.6g} {'>=' if promote else '<'} current {threshold:.6g}"
    else:
        lower, threshold = c.difference_ci[0], margin
        promote = lower > threshold
        what = f"difference lower bound {lower:.6g} {'>' if promote else '<='} {threshold:.6g}"
    if c.n_eff < min_n_eff:
        promote = False
        what = f"too little evidence: {c.n_eff:.1f} effective rounds < {min_n_eff:g}"
    reason = f"{estimator}: {what}: {'promote' if promote else 'keep the current policy'}"
    return GuardrailDecision(promote, estimator, criterion, float(lower), float(threshold), reason)
