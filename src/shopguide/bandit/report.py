"""What operators see of the learning loop: each decision point's state, and each experiment's result.

Both read the store only (the CLI and the admin API call the same functions):

* :func:`points_status`: per decision point its switch, policy, version, logged decisions (open / closed), the
  observed reward rate per arm with a Wilson interval, and the policy's current arm probabilities for a typical
  context (a returning shopper in the afternoon) — what the policy would do now.
* :func:`experiment_report`: per variant the shoppers assigned (the unit of randomisation), decisions, closed
  decisions, the reward rate (share of closed decisions with a reward) with its interval and its difference to
  the control, and the sample-ratio-mismatch check of shoppers per variant against the configured split.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from shopguide.bandit.decisions import DecisionRecord, PolicyRow
from shopguide.bandit.experiments import Experiment, srm_check, variant_summary
from shopguide.bandit.features import DecisionContext
from shopguide.bandit.learner import context_vector, policy_of
from shopguide.bandit.stats import wilson_interval

TYPICAL_CONTEXT = DecisionContext(hour=15, device=None, returning=True, session_actions=3)


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def arm_rates(decisions: Iterable[DecisionRecord]) -> dict[str, dict[str, Any]]:
    """Per arm over closed, attributable decisions: count, rewarded, rate and its 95 % Wilson interval."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in decisions:
        if d.closed_at is None or (d.outcome or {}).get("unattributable"):
            continue
        counts[d.arm][0] += 1
        counts[d.arm][1] += int((d.reward or 0.0) > 0)
    out = {}
    for arm, (n, k) in sorted(counts.items()):
        low, high = wilson_interval(k, n)
        out[arm] = {"decisions": n, "rewarded": k, "rate": _finite(k / n), "low": _finite(low), "high": _finite(high)}
    return out


def point_status(store: Any, row: PolicyRow, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """One decision point as the operator sees it (see the module docstring)."""
    policy = policy_of(row)
    latest = store.decisions(row.name, limit=1)
    context = DecisionContext.from_json(latest[0].context) if latest else TYPICAL_CONTEXT
    probs = policy.probabilities(context_vector(policy, context))
    return {
        "point": row.name,
        "enabled": row.enabled,
        "policy": row.config["kind"],
        "params": row.config.get("params", {}),
        "arms": list(row.config["arms"]),
        "version": row.version,
        "updated_at": row.updated_at,
        "decisions": counts or {"open": 0, "closed": 0},
        "arm_rates": arm_rates(store.decisions(row.name, closed=True, limit=100_000)),
        "probabilities": {arm: round(float(p), 4) for arm, p in zip(policy.arms, probs, strict=True)},
        "probabilities_context": context.to_json(),
    }


def points_status(store: Any) -> list[dict[str, Any]]:
    """Every stored decision point's status."""
    counts = store.decision_counts()
    return [point_status(store, row, counts.get(row.name)) for row in store.policies()]


def experiment_report(store: Any, experiment: Experiment) -> dict[str, Any]:
    """The experiment's result from its logged decisions (see the module docstring)."""
    units: dict[str, set[str]] = defaultdict(set)
    made: dict[str, int] = defaultdict(int)
    trials: dict[str, int] = {v.name: 0 for v in experiment.variants}
    successes: dict[str, int] = {v.name: 0 for v in experiment.variants}
    for d in store.decisions(experiment.point, experiment=experiment.name):
        if d.variant is None:
            continue
        made[d.variant] += 1
        units[d.variant].add(d.user_id or d.session_id or d.id)
        if d.closed_at is not None and not (d.outcome or {}).get("unattributable") and d.variant in trials:
            trials[d.variant] += 1
            successes[d.variant] += int((d.reward or 0.0) > 0)
    srm = srm_check({name: len(ids) for name, ids in units.items()}, experiment)
    summaries = {s.name: s for s in variant_summary(successes, trials)} if any(trials.values()) else {}
    variants = []
    for v in experiment.variants:
        s = summaries.get(v.name)
        variants.append({
            "variant": v.name, "weight": v.weight, "arm": v.arm, "shoppers": len(units.get(v.name, ())),
            "decisions": made.get(v.name, 0), "closed": trials[v.name], "rewarded": successes[v.name],
            **({} if s is None else {
                "rate": _finite(s.rate), "rate_low": _finite(s.rate_low), "rate_high": _finite(s.rate_high),
                "diff": _finite(s.diff), "diff_low": _finite(s.diff_low), "diff_high": _finite(s.diff_high),
                "p_value": _finite(s.p_value), "control": s.is_control,
            }),
        })  # fmt: skip
    srm_json = asdict(srm)
    srm_json["unexpected"] = list(srm.unexpected)
    for key in ("statistic", "p_value"):
        srm_json[key] = _finite(srm_json[key]) if srm_json[key] is not None else None
    return {"experiment": experiment.to_dict(), "variants": variants, "srm": srm_json}
