"""Contextual bandits with a ridge-regression model per arm (disjoint models, Li et al. 2010).

Each arm keeps ``A = ridge * I + sum(x x^T)`` and ``b = sum(r x)`` over the contexts it was rewarded in; its
estimate is ``theta = A^-1 b``. :class:`LinUCB` chooses the highest ``x.theta + alpha * sqrt(x^T A^-1 x)``;
:class:`LinearThompson` samples ``theta ~ N(theta, v^2 A^-1)`` (Agrawal & Goyal 2013), whose score for a context
is the scalar ``x.theta + v * sqrt(x^T A^-1 x) * z`` with ``z ~ N(0, 1)``, and chooses the highest draw.

Contexts are 1-d float vectors of length ``n_features``; a missing, misshapen or non-finite context raises a
:class:`~shopguide.errors.DataError` on field ``context``. The state stores ``A`` and ``b``, never the inverse,
so a restored policy computes bit-identical scores. See :mod:`shopguide.bandit.policies` for the shared protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shopguide.bandit.policies import BasePolicy, SamplingPolicy, _argmax_share, _check_positive
from shopguide.errors import ConfigError, DataError


class _RidgeArms:
    """Per-arm ridge statistics (mixin state for the two linear policies)."""

    n_arms: int
    n_features: int

    def _init_ridge(self, n_features: int, ridge: float) -> None:
        if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
            raise ConfigError(f"n_features must be a positive integer, got {n_features!r}")
        self.n_features = n_features
        self.ridge = _check_positive("ridge", ridge)
        self.A_ = np.tile(self.ridge * np.eye(n_features), (self.n_arms, 1, 1))
        self.b_ = np.zeros((self.n_arms, n_features))
        self._inv: np.ndarray | None = None

    def _check_context(self, context: np.ndarray | None) -> np.ndarray:
        if context is None:
            raise DataError(f"a context vector of {self.n_features} features is required", field="context")
        try:
            x = np.asarray(context, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"context must be numeric: {exc}", field="context") from exc
        if x.shape != (self.n_features,):
            raise DataError(f"expected a vector of {self.n_features} features, got shape {x.shape}", field="context")
        if not np.all(np.isfinite(x)):
            raise DataError("context has NaN or infinite values", field="context")
        return x

    def _mean_and_width(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per arm: the estimate ``x.theta`` and ``sqrt(x^T A^-1 x)``."""
        if self._inv is None:
            self._inv = np.linalg.inv(self.A_)
        theta = np.einsum("kij,kj->ki", self._inv, self.b_)
        width = np.sqrt(np.maximum(np.einsum("i,kij,j->k", x, self._inv, x), 0.0))
        return theta @ x, width

    def _apply(self, arm: int, reward: float, context: np.ndarray | None) -> None:
        assert context is not None  # _check_context guarantees it
        self.A_[arm] += np.outer(context, context)
        self.b_[arm] += reward * context
        self._inv = None

    def _stats(self) -> dict[str, Any]:
        return {"A": self.A_.tolist(), "b": self.b_.tolist()}

    def _load_stats(self, stats: dict[str, Any]) -> None:
        A = np.asarray(stats["A"], dtype=float)
        b = np.asarray(stats["b"], dtype=float)
        if A.shape != self.A_.shape or b.shape != self.b_.shape:
            raise ValueError(f"A/b shapes {A.shape}/{b.shape} do not match {self.A_.shape}/{self.b_.shape}")
        self.A_, self.b_, self._inv = A, b, None


class LinUCB(_RidgeArms, BasePolicy):
    """Disjoint LinUCB: the arm with the highest ``x.theta + alpha * sqrt(x^T A^-1 x)`` (ties split evenly)."""

    kind = "linucb"

    def __init__(
        self,
        arms: Sequence[str],
        n_features: int,
        *,
        alpha: float = 1.0,
        ridge: float = 1.0,
        min_explore: float = 0.0,
        max_seen_events: int = 100_000,
    ) -> None:
        BasePolicy.__init__(self, arms, min_explore=min_explore, max_seen_events=max_seen_events)
        self.alpha = _check_positive("alpha", alpha, allow_zero=True)
        self._init_ridge(n_features, ridge)

    def scores(self, context: np.ndarray) -> np.ndarray:
        """The upper confidence bound of each arm for ``context``."""
        mean, width = self._mean_and_width(self._check_context(context))
        return mean + self.alpha * width

    def _policy_probabilities(self, context: np.ndarray | None) -> np.ndarray:
        assert context is not None
        return _argmax_share(self.scores(context))

    def _params(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "alpha": self.alpha, "ridge": self.ridge}


class LinearThompson(_RidgeArms, SamplingPolicy):
    """Linear Thompson sampling with a Gaussian posterior ``N(theta, v^2 A^-1)`` per arm."""

    kind = "linear_thompson"

    def __init__(
        self,
        arms: Sequence[str],
        n_features: int,
        *,
        v: float = 1.0,
        ridge: float = 1.0,
        min_explore: float = 0.0,
        max_seen_events: int = 100_000,
        propensity_draws: int = 2000,
        propensity_seed: int = 0,
    ) -> None:
        SamplingPolicy.__init__(
            self,
            arms,
            min_explore=min_explore,
            max_seen_events=max_seen_events,
            propensity_draws=propensity_draws,
            propensity_seed=propensity_seed,
        )
        self.v = _check_positive("v", v, allow_zero=True)
        self._init_ridge(n_features, ridge)

    def _draw_scores(self, context: np.ndarray | None, rng: np.random.Generator, size: int) -> np.ndarray:
        assert context is not None
        mean, width = self._mean_and_width(context)
        return mean + self.v * width * rng.standard_normal((size, self.n_arms))

    def _params(self) -> dict[str, Any]:
        return {**SamplingPolicy._params(self), "n_features": self.n_features, "v": self.v, "ridge": self.ridge}
