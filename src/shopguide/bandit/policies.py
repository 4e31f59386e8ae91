"""Bandit policies that choose among named strategies (arms) and learn from rewards.

Every policy follows one small protocol (:class:`BanditPolicy`)::

    decision = policy.choose(context, rng)          # -> Decision(arm, arm_name, propensity, probabilities)
    policy.update(decision.arm, reward, context, event_id="evt-42")   # replaying evt-42 changes nothing

* **Propensity.** ``Decision.propensity`` is the probability the policy had of choosing that arm in its current
  state (for off-policy evaluation). Deterministic-score policies (epsilon-greedy, UCB1, LinUCB) compute it exactly:
  ties between best arms are broken uniformly at random and the tie mass is split evenly. Sampling policies
  (Thompson) estimate it by Monte Carlo: ``propensity_draws`` posterior draws from a *fresh* generator seeded with
  ``propensity_seed`` on every call, so the same state and context always give the same estimate and the caller's
  generator is not consumed (standard error at most ``0.5 / sqrt(propensity_draws)``, 0.011 at the default 2000).
* **Exploration floor.** ``min_explore`` mixes the policy's distribution with the uniform one:
  ``p = (1 - min_explore) * p_policy + min_explore / n_arms``, so every arm has at least ``min_explore / n_arms``;
  ``choose`` samples exactly this mixture and the propensity reflects it. Epsilon-greedy also takes ``max_explore``,
  a cap on epsilon.
* **Idempotent updates.** An ``update`` with an ``event_id`` already seen is ignored (returns ``False``). The policy
  remembers the last ``max_seen_events`` ids (default 100,000, oldest evicted first); they are part of the state.
* **State.** ``to_state()`` is a plain JSON object with ``kind`` and ``version``; :func:`policy_from_state` rebuilds
  the policy exactly (floats survive JSON unchanged), so a restored policy makes identical decisions.
* **Randomness.** Every stochastic step uses the ``numpy.random.Generator`` the caller passes in.

Context-free policies ignore a context if one is given; the contextual ones live in :mod:`shopguide.bandit.linear`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from shopguide.errors import ConfigError, DataError

STATE_VERSION = 1
_KINDS: dict[str, type[BasePolicy]] = {}


@dataclass(frozen=True)
class Decision:
    """One choice: the arm (index and name), its propensity, and the full distribution it was drawn from."""

    arm: int
    arm_name: str
    propensity: float
    probabilities: tuple[float, ...]


@runtime_checkable
class BanditPolicy(Protocol):
    """What the guide and the feed need from a policy."""

    arms: tuple[str, ...]

    def choose(self, context: np.ndarray | None, rng: np.random.Generator) -> Decision: ...

    def update(
        self, arm: int | str, reward: float, context: np.ndarray | None = None, *, event_id: str | None = None
    ) -> bool: ...

    def to_state(self) -> dict[str, Any]: ...


def _check_fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {value}")
    return value


def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


def _vector(stats: dict[str, Any], key: str, n: int, dtype: type = float) -> np.ndarray:
    """``stats[key]`` as an array of length ``n``; a ``ValueError`` otherwise (reported by ``policy_from_state``)."""
    value = np.asarray(stats[key], dtype=dtype)
    if value.shape != (n,):
        raise ValueError(f"{key} has shape {value.shape}, expected ({n},)")
    return value


def _argmax_share(scores: np.ndarray) -> np.ndarray:
    """The greedy distribution: mass 1 split evenly over the arms with the highest score."""
    best = scores == scores.max()
    return best / best.sum()


def _sample(probs: np.ndarray, rng: np.random.Generator) -> int:
    """Draw an index from ``probs`` with one uniform; arms with probability 0 are never drawn."""
    cdf = np.cumsum(probs)
    return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(probs) - 1)


class BasePolicy:
    """Shared machinery: arms, the exploration floor, idempotent updates and state. Subclasses set ``kind`` and
    implement ``_select``, ``_policy_probabilities``, ``_apply``, ``_params``, ``_stats`` and ``_load_stats``."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _KINDS[cls.kind] = cls

    def __init__(self, arms: Sequence[str], *, min_explore: float = 0.0, max_seen_events: int = 100_000) -> None:
        if isinstance(arms, str) or not arms or not all(isinstance(a, str) and a for a in arms):
            raise ConfigError("arms must be a non-empty list of non-empty names")
        if len(set(arms)) != len(arms):
            raise ConfigError(f"arms must be unique, got {list(arms)}")
        if int(max_seen_events) < 0:
            raise ConfigError(f"max_seen_events must be >= 0, got {max_seen_events}")
        self.arms = tuple(arms)
        self.min_explore = _check_fraction("min_explore", min_explore)
        self.max_seen_events = int(max_seen_events)
        self._index = {name: i for i, name in enumerate(self.arms)}
        self._seen: OrderedDict[str, None] = OrderedDict()

    @property
    def n_arms(self) -> int:
        return len(self.arms)

    # -- the protocol -------------------------------------------------------------------------------------------
    def choose(self, context: np.ndarray | None, rng: np.random.Generator) -> Decision:
        """Choose an arm for ``context``: with probability ``min_explore`` uniformly, otherwise by the policy."""
        ctx = self._check_context(context)
        if self.min_explore > 0 and rng.random() < self.min_explore:
            arm = int(rng.integers(self.n_arms))
        else:
            arm = self._select(ctx, rng)
        probs = self.probabilities(ctx)
        return Decision(arm, self.arms[arm], float(probs[arm]), tuple(float(p) for p in probs))

    def probabilities(self, context: np.ndarray | None = None) -> np.ndarray:
        """The probability of each arm for ``context`` in the current state, floor included; sums to 1."""
        p = self._policy_probabilities(self._check_context(context))
        return (1.0 - self.min_explore) * p + self.min_explore / self.n_arms

    def update(
        self, arm: int | str, reward: float, context: np.ndarray | None = None, *, event_id: str | None = None
    ) -> bool:
        """Learn from one reward. Returns ``False`` (and changes nothing) when ``event_id`` was already applied."""
        if event_id is not None and event_id in self._seen:
            return False
        index = self.arm_index(arm)
        reward = float(reward)
        if not math.isfinite(reward):
            raise DataError(f"reward must be a finite number, got {reward}", field="reward")
        self._apply(index, reward, self._check_context(context))
        if event_id is not None and self.max_seen_events > 0:
            self._seen[event_id] = None
            while len(self._seen) > self.max_seen_events:
                self._seen.popitem(last=False)
        return True

    def arm_index(self, arm: int | str) -> int:
        """The index of ``arm`` given by name or index; a :class:`DataError` on field ``arm`` if unknown."""
        if isinstance(arm, str):
            if arm not in self._index:
                raise DataError(f"unknown arm {arm!r}; arms are {list(self.arms)}", field="arm")
            return self._index[arm]
        if isinstance(arm, bool) or not isinstance(arm, int | np.integer) or not 0 <= int(arm) < self.n_arms:
            raise DataError(f"arm index must be in [0, {self.n_arms}), got {arm!r}", field="arm")
        return int(arm)

    # -- state --------------------------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """A plain JSON object holding everything needed to rebuild this policy exactly."""
        return {
            "kind": self.kind,
            "version": STATE_VERSION,
            "arms": list(self.arms),
            "params": {"min_explore": self.min_explore, "max_seen_events": self.max_seen_events, **self._params()},
            "stats": self._stats(),
            "seen_events": list(self._seen),
        }

    # -- hooks --------------------------------------------------------------------------------------------------
    def _check_context(self, context: np.ndarray | None) -> np.ndarray | None:
        return None  # context-free: a context, if given, is ignored

    def _select(self, context: np.ndarray | None, rng: np.random.Generator) -> int:
        return _sample(self._policy_probabilities(context), rng)

    def _policy_probabilities(self, context: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def _apply(self, arm: int, reward: float, context: np.ndarray | None) -> None:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {}

    def _stats(self) -> dict[str, Any]:
        raise NotImplementedError

    def _load_stats(self, stats: dict[str, Any]) -> None:
        raise NotImplementedError


class SamplingPolicy(BasePolicy):
    """A policy that chooses the arm with the highest sampled score; propensities are Monte Carlo estimates
    (see the module docstring). Subclasses implement ``_draw_scores(context, rng, size) -> (size, n_arms)``."""

    def __init__(
        self,
        arms: Sequence[str],
        *,
        min_explore: float = 0.0,
        max_seen_events: int = 100_000,
        propensity_draws: int = 2000,
        propensity_seed: int = 0,
    ) -> None:
        super().__init__(arms, min_explore=min_explore, max_seen_events=max_seen_events)
        if int(propensity_draws) < 1:
            raise ConfigError(f"propensity_draws must be >= 1, got {propensity_draws}")
        self.propensity_draws = int(propensity_draws)
        self.propensity_seed = int(propensity_seed)

    def _select(self, context: np.ndarray | None, rng: np.random.Generator) -> int:
        return int(np.argmax(self._draw_scores(context, rng, 1)[0]))

    def _policy_probabilities(self, context: np.ndarray | None) -> np.ndarray:
        draws = self._draw_scores(context, np.random.default_rng(self.propensity_seed), self.propensity_draws)
        counts = np.bincount(np.argmax(draws, axis=1), minlength=self.n_arms)
        return counts / self.propensity_draws

    def _draw_scores(self, context: np.ndarray | None, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {"propensity_draws": self.propensity_draws, "propensity_seed": self.propensity_seed}


class _CountingPolicy(BasePolicy):
    """Keeps per-arm pull counts and reward sums."""

    def __init__(self, arms: Sequence[str], **kwargs: Any) -> None:
        super().__init__(arms, **kwargs)
        self.counts_ = np.zeros(self.n_arms, dtype=np.int64)
        self.sums_ = np.zeros(self.n_arms)

    def _apply(self, arm: int, reward: float, context: np.ndarray | None) -> None:
        self.counts_[arm] += 1
        self.sums_[arm] += reward

    def means(self) -> np.ndarray:
        """Mean reward per arm (0 for arms never rewarded)."""
        return np.divide(self.sums_, self.counts_, out=np.zeros(self.n_arms), where=self.counts_ > 0)

    def _stats(self) -> dict[str, Any]:
        return {"counts": self.counts_.tolist(), "sums": self.sums_.tolist()}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        self.counts_ = _vector(stats, "counts", self.n_arms, np.int64)
        self.sums_ = _vector(stats, "sums", self.n_arms)


class EpsilonGreedy(_CountingPolicy):
    """With probability ``min(epsilon, max_explore)`` a uniform arm, otherwise the best mean (ties split)."""

    kind = "epsilon_greedy"

    def __init__(
        self,
        arms: Sequence[str],
        *,
        epsilon: float = 0.1,
        max_explore: float = 1.0,
        min_explore: float = 0.0,
        max_seen_events: int = 100_000,
    ) -> None:
        super().__init__(arms, min_explore=min_explore, max_seen_events=max_seen_events)
        self.epsilon = _check_fraction("epsilon", epsilon)
        self.max_explore = _check_fraction("max_explore", max_explore)
        if self.max_explore < self.min_explore:
            raise ConfigError(f"max_explore ({self.max_explore}) must be >= min_explore ({self.min_explore})")

    @property
    def effective_epsilon(self) -> float:
        return min(self.epsilon, self.max_explore)

    def _select(self, context: np.ndarray | None, rng: np.random.Generator) -> int:
        if rng.random() < self.effective_epsilon:
            return int(rng.integers(self.n_arms))
        return _sample(_argmax_share(self.means()), rng)

    def _policy_probabilities(self, context: np.ndarray | None) -> np.ndarray:
        eps = self.effective_epsilon
        return eps / self.n_arms + (1.0 - eps) * _argmax_share(self.means())

    def _params(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "max_explore": self.max_explore}


class UCB1(_CountingPolicy):
    """UCB1 (Auer et al. 2002): untried arms first, then ``mean + c * sqrt(2 ln t / n_arm)``; rewards in [0, 1]."""

    kind = "ucb1"

    def __init__(
        self, arms: Sequence[str], *, c: float = 1.0, min_explore: float = 0.0, max_seen_events: int = 100_000
    ) -> None:
        super().__init__(arms, min_explore=min_explore, max_seen_events=max_seen_events)
        self.c = _check_positive("c", c, allow_zero=True)

    def scores(self) -> np.ndarray:
        """The upper confidence bound of each arm (``inf`` for arms never tried)."""
        total = int(self.counts_.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            bonus = self.c * np.sqrt(2.0 * math.log(max(total, 1)) / self.counts_)
        return np.where(self.counts_ > 0, self.means() + bonus, np.inf)

    def _policy_probabilities(self, context: np.ndarray | None) -> np.ndarray:
        return _argmax_share(self.scores())

    def _params(self) -> dict[str, Any]:
        return {"c": self.c}


class BernoulliThompson(SamplingPolicy):
    """Thompson sampling with a ``Beta(prior_alpha, prior_beta)`` prior per arm; a reward ``r`` in [0, 1] adds
    ``r`` to alpha and ``1 - r`` to beta."""

    kind = "bernoulli_thompson"

    def __init__(
        self,
        arms: Sequence[str],
        *,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
        min_explore: float = 0.0,
        max_seen_events: int = 100_000,
        propensity_draws: int = 2000,
        propensity_seed: int = 0,
    ) -> None:
        super().__init__(
            arms,
            min_explore=min_explore,
            max_seen_events=max_seen_events,
            propensity_draws=propensity_draws,
            propensity_seed=propensity_seed,
        )
        self.prior_alpha = _check_positive("prior_alpha", prior_alpha)
        self.prior_beta = _check_positive("prior_beta", prior_beta)
        self.alpha_ = np.full(self.n_arms, self.prior_alpha)
        self.beta_ = np.full(self.n_arms, self.prior_beta)

    def _draw_scores(self, context: np.ndarray | None, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.beta(self.alpha_, self.beta_, size=(size, self.n_arms))

    def _apply(self, arm: int, reward: float, context: np.ndarray | None) -> None:
        if not 0.0 <= reward <= 1.0:
            raise DataError(f"reward must be in [0, 1] for Bernoulli Thompson sampling, got {reward}", field="reward")
        self.alpha_[arm] += reward
        self.beta_[arm] += 1.0 - reward

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "prior_alpha": self.prior_alpha, "prior_beta": self.prior_beta}

    def _stats(self) -> dict[str, Any]:
        return {"alpha": self.alpha_.tolist(), "beta": self.beta_.tolist()}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        self.alpha_ = _vector(stats, "alpha", self.n_arms)
        self.beta_ = _vector(stats, "beta", self.n_arms)


def policy_from_state(state: dict[str, Any]) -> BasePolicy:
    """Rebuild a policy from :meth:`BasePolicy.to_state` output; a :class:`DataError` names the bad field."""
    from shopguide.bandit import linear  # noqa: F401  (registers the contextual kinds)

    if not isinstance(state, dict):
        raise DataError(f"policy state must be a JSON object, got {type(state).__name__}")
    for key in ("kind", "version", "arms", "params", "stats"):
        if key not in state:
            raise DataError("missing from policy state", field=key)
    if state["version"] != STATE_VERSION:
        raise DataError(f"unsupported policy state version {state['version']!r}", field="version")
    cls = _KINDS.get(state["kind"])
    if cls is None:
        raise DataError(f"unknown policy kind {state['kind']!r}; known: {sorted(_KINDS)}", field="kind")
    try:
        policy = cls(state["arms"], **state["params"])
        policy._load_stats(state["stats"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"invalid {state['kind']} state: {exc}", field="stats") from exc
    policy._seen = OrderedDict.fromkeys(state.get("seen_events", []))
    return policy


def make_policy(kind: str, arms: Sequence[str], **params: Any) -> BasePolicy:
    """A fresh policy of ``kind`` (e.g. ``"linear_thompson"``) over ``arms``; a :class:`ConfigError` names a bad
    kind or parameter."""
    from shopguide.bandit import linear  # noqa: F401  (registers the contextual kinds)

    cls = _KINDS.get(kind)
    if cls is None:
        raise ConfigError(f"unknown policy kind {kind!r}; known: {sorted(_KINDS)}")
    try:
        return cls(arms, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid parameters for {kind}: {exc}") from exc
