"""Off-policy estimators: the value of a target policy from bandit feedback logged by another policy.

Notation: round ``i`` logged action ``a_i`` (at slate position ``k_i`` when there are positions) with reward
``r_i`` and logging propensity ``p_i``; the target policy puts probability ``pi(a | i)`` on action ``a``
(``action_dist[i, a]``, or ``action_dist[i, a, k_i]`` with positions); ``w_i = pi(a_i | i) / p_i``;
``q(i, a)`` is a reward model's prediction (``estimated_rewards``, same layout as ``action_dist``).

=============  ==========================================================================
``ips``        ``mean(w_i r_i)``
``snips``      ``sum(w_i r_i) / sum(w_i)``
``dm``         ``mean(sum_a pi(a | i) q(i, a))``
``dr``         ``dm`` term ``+ w_i (r_i - q(i, a_i))``
``switch_dr``  ``dr`` with the correction only where ``w_i <= tau`` (``tau=inf``: DR, ``tau=0``: DM)
=============  ==========================================================================

Each returns an :class:`Estimate` whose :meth:`Estimate.ci` is a seeded percentile bootstrap over rounds.
:func:`mean_reward_model` is the simple reward model for DM/DR: the mean logged reward per action (and
position), in sample or cross-fitted. It ignores the context, so DM with it is biased whenever rewards depend on
the context. The bootstrap resamples rounds with the reward model held fixed: DM's interval omits the model's
own uncertainty and is too narrow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shopguide.errors import DataError

__all__ = [
    "Estimate",
    "LoggedBandit",
    "dm",
    "dr",
    "evaluate",
    "ips",
    "mean_reward_model",
    "on_policy",
    "snips",
    "switch_dr",
]

_SUM_TOL = 1e-6
_BOOT_CHUNK = 64


def _array(value: object, name: str, *, ndim: int | tuple[int, ...], dtype: type = float) -> np.ndarray:
    arr = np.asarray(value)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in dims:
        raise DataError(f"expected {' or '.join(f'{d}-d' for d in dims)} array, got shape {arr.shape}", field=name)
    if dtype is int:
        integral = np.issubdtype(arr.dtype, np.integer) or (
            np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
        )
        if not integral:
            raise DataError("must hold integers (NaN or fractional values found)", field=name)
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise DataError(f"must be numeric, got dtype {arr.dtype}", field=name)
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise DataError("holds NaN or infinite values", field=name)
    return arr


@dataclass(frozen=True, eq=False)
class LoggedBandit:
    """Logged bandit feedback, one entry per round. Validated on construction (:class:`DataError` names the field).

    ``action`` and ``position`` are dense 0-based indices; ``pscore`` is the logging policy's probability of the
    logged action (at the logged position), in (0, 1]; ``n_actions`` defaults to ``max(action) + 1``.
    """

    action: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    position: np.ndarray | None = None
    context: np.ndarray | None = None
    n_actions: int = field(default=0)

    def __post_init__(self) -> None:
        action = _array(self.action, "action", ndim=1, dtype=int)
        n = len(action)
        if n == 0:
            raise DataError("no rounds logged", field="action")
        checked: dict[str, np.ndarray | None] = {
            "action": action,
            "reward": _array(self.reward, "reward", ndim=1),
            "pscore": _array(self.pscore, "pscore", ndim=1),
            "position": None if self.position is None else _array(self.position, "position", ndim=1, dtype=int),
            "context": None if self.context is None else _array(self.context, "context", ndim=(1, 2)),
        }
        for name, arr in checked.items():
            if arr is not None and len(arr) != n:
                raise DataError(f"has {len(arr)} rounds, action has {n}", field=name)
        pscore = checked["pscore"]
        assert pscore is not None
        if np.any(pscore <= 0) or np.any(pscore > 1):
            raise DataError("propensities must lie in (0, 1]", field="pscore")
        if action.min() < 0:
            raise DataError("actions must be non-negative indices", field="action")
        position = checked["position"]
        if position is not None and position.min() < 0:
            raise DataError("positions must be non-negative indices", field="position")
        n_actions = int(self.n_actions) or int(action.max()) + 1
        if action.max() >= n_actions:
            raise DataError(f"action {action.max()} out of range for n_actions={n_actions}", field="action")
        for name, arr in checked.items():
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "n_actions", n_actions)

    @property
    def n_rounds(self) -> int:
        return len(self.action)


@dataclass(frozen=True, eq=False)
class Estimate:
    """A policy value estimated as ``sum(terms) / sum(weights)`` (``weights=None``: the mean of ``terms``)."""

    name: str
    terms: np.ndarray
    weights: np.ndarray | None = None

    @property
    def value(self) -> float:
        return self._reduce(self.terms, self.weights)

    @staticmethod
    def _reduce(terms: np.ndarray, weights: np.ndarray | None) -> float:
        if weights is None:
            return float(terms.mean())
        total = float(weights.sum())
        return float(terms.sum() / total) if total > 0 else 0.0

    def bootstrap(self, n_bootstrap: int = 1000, *, seed: int = 0) -> np.ndarray:
        """``n_bootstrap`` values of this estimate on rounds resampled with replacement (seeded)."""
        if n_bootstrap < 1:
            raise ValueError("n_bootstrap must be positive")
        rng = np.random.default_rng(seed)
        n = len(self.terms)
        out = np.empty(n_bootstrap)
        for start in range(0, n_bootstrap, _BOOT_CHUNK):
            size = min(_BOOT_CHUNK, n_bootstrap - start)
            idx = rng.integers(0, n, size=(size, n))
            num = self.terms[idx].sum(axis=1)
            if self.weights is None:
                out[start : start + size] = num / n
            else:
                den = self.weights[idx].sum(axis=1)
                out[start : start + size] = np.divide(num, den, out=np.zeros(size), where=den > 0)
        return out

    def ci(self, alpha: float = 0.05, n_bootstrap: int = 1000, *, seed: int = 0) -> tuple[float, float]:
        """Percentile bootstrap ``1 - alpha`` confidence interval of the value (seeded)."""
        if not 0 < alpha < 1:
            raise ValueError("alpha must lie in (0, 1)")
        lo, hi = np.quantile(self.bootstrap(n_bootstrap, seed=seed), [alpha / 2, 1 - alpha / 2])
        return float(lo), float(hi)

    def __repr__(self) -> str:
        return f"Estimate({self.name!r}, value={self.value:.6g}, n_rounds={len(self.terms)})"


def _target(data: LoggedBandit, action_dist: object, name: str = "action_dist") -> np.ndarray:
    """``action_dist`` validated against ``data``: shape, non-negative, each distribution sums to one."""
    dist = _array(action_dist, name, ndim=(2, 3))
    if dist.shape[0] != data.n_rounds or dist.shape[1] != data.n_actions:
        raise DataError(f"shape {dist.shape} does not start with ({data.n_rounds}, {data.n_actions})", field=name)
    if np.any(dist < 0):
        raise DataError("probabilities must be non-negative", field=name)
    if not np.allclose(dist.sum(axis=1), 1.0, atol=_SUM_TOL):
        raise DataError("probabilities over actions must sum to 1", field=name)
    if dist.ndim == 3:
        if data.position is None:
            raise DataError("action_dist has a position axis but the log has no positions", field="position")
        if data.position.max() >= dist.shape[2]:
            raise DataError(
                f"position {data.position.max()} out of range for {dist.shape[2]} positions", field="position"
            )
    return dist


def _at_position(data: LoggedBandit, arr: np.ndarray) -> np.ndarray:
    """The (n_rounds, n_actions) slice of a 2-d or 3-d array at each round's logged position."""
    if arr.ndim == 2:
        return arr
    assert data.position is not None
    return arr[np.arange(data.n_rounds), :, data.position]


def _weights(data: LoggedBandit, dist: np.ndarray) -> np.ndarray:
    return _at_position(data, dist)[np.arange(data.n_rounds), data.action] / data.pscore


def _rewards_model(data: LoggedBandit, dist: np.ndarray, estimated_rewards: object) -> np.ndarray:
    q = _array(estimated_rewards, "estimated_rewards", ndim=(2, 3))
    if q.shape != dist.shape and q.shape != dist.shape[:2]:
        raise DataError(f"shape {q.shape} matches neither {dist.shape} nor {dist.shape[:2]}", field="estimated_rewards")
    return _at_position(data, q)


def on_policy(data: LoggedBandit) -> Estimate:
    """The logging policy's own value: the mean logged reward."""
    return Estimate("on_policy", data.reward)


def ips(data: LoggedBandit, action_dist: object) -> Estimate:
    """Inverse propensity scoring: unbiased when the logging policy covers the target's actions."""
    dist = _target(data, action_dist)
    return Estimate("ips", _weights(data, dist) * data.reward)


def snips(data: LoggedBandit, action_dist: object) -> Estimate:
    """Self-normalised IPS: IPS divided by the mean importance weight (slightly biased, lower variance)."""
    w = _weights(data, _target(data, action_dist))
    return Estimate("snips", w * data.reward, w)


def _dm_terms(data: LoggedBandit, dist: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (_at_position(data, dist) * q).sum(axis=1)


def dm(data: LoggedBandit, action_dist: object, estimated_rewards: object) -> Estimate:
    """Direct method: the reward model's expected reward under the target policy."""
    dist = _target(data, action_dist)
    return Estimate("dm", _dm_terms(data, dist, _rewards_model(data, dist, estimated_rewards)))


def switch_dr(data: LoggedBandit, action_dist: object, estimated_rewards: object, *, tau: float) -> Estimate:
    """Switch doubly robust (Wang et al. 2017): DM plus the IPS correction on rounds with ``w_i <= tau``."""
    if not tau >= 0:
        raise DataError(f"tau must be non-negative, got {tau}", field="tau")
    dist = _target(data, action_dist)
    q = _rewards_model(data, dist, estimated_rewards)
    w = _weights(data, dist)
    correction = np.where(w <= tau, w * (data.reward - q[np.arange(data.n_rounds), data.action]), 0.0)
    return Estimate("dr" if tau == np.inf else "switch_dr", _dm_terms(data, dist, q) + correction)


def dr(data: LoggedBandit, action_dist: object, estimated_rewards: object) -> Estimate:
    """Doubly robust: DM plus the importance-weighted residual of the logged action's reward."""
    return switch_dr(data, action_dist, estimated_rewards, tau=np.inf)


def _cell_means(cells: np.ndarray, reward: np.ndarray, size: int, prior: float) -> np.ndarray:
    sums = np.bincount(cells, weights=reward, minlength=size)
    counts = np.bincount(cells, minlength=size)
    return np.divide(sums, counts, out=np.full(size, prior), where=counts > 0)


def mean_reward_model(
    data: LoggedBandit,
    *,
    n_positions: int | None = None,
    prior: float | None = None,
    n_folds: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Mean logged reward per action (per action and position when ``n_positions`` is given), for every round.

    Returns ``(n_rounds, n_actions)`` or ``(n_rounds, n_actions, n_positions)``. Cells without data get ``prior``
    (default: the overall mean reward). ``n_folds=1`` fits in sample; ``n_folds > 1`` cross-fits: rounds are split
    into ``n_folds`` seeded random folds and each fold is predicted from the other folds' means. (In sample, when the
    importance weight is constant per cell, DR's correction sums to zero and DR equals DM; cross-fitting avoids that.)
    """
    if n_folds < 1 or n_folds > data.n_rounds:
        raise DataError(f"n_folds must lie in [1, {data.n_rounds}], got {n_folds}", field="n_folds")
    prior = float(data.reward.mean()) if prior is None else prior
    if n_positions is None:
        cells, shape = data.action, (data.n_actions,)
    else:
        if data.position is None:
            raise DataError("n_positions given but the log has no positions", field="position")
        if data.position.max() >= n_positions:
            raise DataError(f"position {data.position.max()} out of range for {n_positions}", field="position")
        cells, shape = data.action * n_positions + data.position, (data.n_actions, n_positions)
    size = int(np.prod(shape))
    if n_folds == 1:
        return np.broadcast_to(_cell_means(cells, data.reward, size, prior).reshape(shape), (data.n_rounds, *shape))
    fold = np.random.default_rng(seed).permutation(data.n_rounds) % n_folds
    out = np.empty((data.n_rounds, size))
    for f in range(n_folds):
        train = fold != f
        out[fold == f] = _cell_means(cells[train], data.reward[train], size, prior)
    return out.reshape(data.n_rounds, *shape)


def evaluate(
    data: LoggedBandit, action_dist: object, estimated_rewards: object, *, tau: float = 10.0
) -> dict[str, Estimate]:
    """Every estimator on the same inputs, keyed ``ips``, ``snips``, ``dm``, ``dr``, ``switch_dr``."""
    return {
        "ips": ips(data, action_dist),
        "snips": snips(data, action_dist),
        "dm": dm(data, action_dist, estimated_rewards),
        "dr": dr(data, action_dist, estimated_rewards),
        "switch_dr": switch_dr(data, action_dist, estimated_rewards, tau=tau),
    }
