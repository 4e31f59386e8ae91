"""Small, pure statistics for A/B results: intervals and tests of proportions (standard library only).

* :func:`wilson_interval` -- the Wilson score interval of one proportion.
* :func:`two_proportion_p` -- two-sided p-value of the pooled two-proportion z-test.
* :func:`newcombe_interval` -- Newcombe's hybrid score interval (his method 10, 1998) for the *difference*
  of two independent proportions, built from the two Wilson intervals.
* :func:`ratio_interval` -- the Katz log interval (1978) for the *ratio* of two proportions; minus one it is
  the interval of a relative lift.
* :func:`chi2_sf` -- the upper tail of the chi-square distribution (for goodness-of-fit tests).

Every function returns NaN (or a pair of NaNs) where the quantity is undefined (no trials, no successes for a
ratio), never raises on such data. ``analytics.strategy`` imports these; they live here so that ``bandit``
needs nothing from ``analytics``.
"""

from __future__ import annotations

import math

#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054
_NAN = float("nan")


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (NaNs for zero trials)."""
    if trials <= 0:
        return _NAN, _NAN
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return centre - half, centre + half


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (NaN when undefined)."""
    if n1 <= 0 or n2 <= 0:
        return _NAN
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return _NAN
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Interval of ``x1/n1 - x2/n2`` by Newcombe's hybrid score method (NaNs when either has no trials).

    With Wilson intervals ``(l1, u1)`` and ``(l2, u2)`` and ``d = p1 - p2``:
    ``d - sqrt((p1 - l1)^2 + (u2 - p2)^2)`` .. ``d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``. Unlike the Wald
    interval it stays inside [-1, 1] and behaves at rates near 0, as CTRs are.
    """
    if n1 <= 0 or n2 <= 0:
        return _NAN, _NAN
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def ratio_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Interval of ``(x1/n1) / (x2/n2)`` by the Katz log method: ``exp(ln RR +- z * se)`` with
    ``se = sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)`` (NaNs when either side has no trials or no successes)."""
    if n1 <= 0 or n2 <= 0 or x1 <= 0 or x2 <= 0:
        return _NAN, _NAN
    log_rr = math.log((x1 / n1) / (x2 / n2))
    se = math.sqrt(max(0.0, 1 / x1 - 1 / n1 + 1 / x2 - 1 / n2))
    return math.exp(log_rr - z * se), math.exp(log_rr + z * se)


def chi2_sf(statistic: float, dof: int) -> float:
    """``P(X >= statistic)`` for ``X`` chi-square with ``dof`` degrees of freedom (NaN for ``dof < 1``)."""
    if dof < 1 or math.isnan(statistic):
        return _NAN
    from scipy.stats import chi2  # imported on use: serving imports this module for assignment only

    return float(chi2.sf(statistic, dof))
