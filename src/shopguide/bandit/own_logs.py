"""Off-policy evaluation of a candidate policy on the shop's own decision log, and its guarded promotion.

Protocol (:func:`evaluate_candidate`):

1. the closed, attributable decisions the point's policy made (optionally since a time; an experiment's
   fixed-arm decisions are left out: they give the other arms no support), oldest first, become a
   :class:`~shopguide.bandit.ope.LoggedBandit`: the arm served, its logged propensity, the reward, and the
   context's features (:mod:`shopguide.bandit.features`);
2. a time split: the candidate policy learns offline from the first ``train_fraction`` of the rounds
   (:func:`shopguide.bandit.offline.fit_policy`), and is valued on the rest;
3. on those later rounds, the candidate and the **current** policy (as stored now) are valued by IPS,
   self-normalised IPS, DM, DR and switch-DR (tau 10; a cross-fitted ridge reward model on the context), with
   paired bootstrap
   intervals (:func:`shopguide.bandit.offline.compare`), next to the reward the logging policy actually got;
4. the guardrail (:func:`shopguide.bandit.offline.guardrail`): the candidate may be promoted only when the
   lower bound of its value interval (by ``estimator``, SNIPS by default) is at least the current policy's
   estimate, on at least ``min_effective`` effective rounds.

:func:`promote` applies the verdict: the candidate, refitted on every logged round, replaces the point's
policy (compare-and-set; every worker follows); it refuses when the guardrail said no, unless forced.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopguide.bandit.decisions import DecisionRecord, PointConfig
from shopguide.bandit.features import encode_all
from shopguide.bandit.learner import config_json, fresh_policy, point_from_row, policy_of
from shopguide.bandit.offline import action_distribution, compare, fit_policy, guardrail, ridge_reward_model, time_split
from shopguide.bandit.ope import LoggedBandit
from shopguide.bandit.stats import wilson_interval
from shopguide.errors import ConflictError, DataError, NotFoundError

log = logging.getLogger(__name__)
ESTIMATORS = ("ips", "snips", "dm", "dr", "switch_dr")
PROMOTE_TRIES = 5


def logged_rounds(decisions: Sequence[DecisionRecord], arms: Sequence[str]) -> tuple[LoggedBandit, int]:
    """The usable rounds of ``decisions`` as a log over ``arms`` (closed, attributable, arm known, chosen by a
    policy rather than fixed by an experiment), and how many decisions were left out."""
    index = {a: i for i, a in enumerate(arms)}
    kept = [d for d in decisions  # an experiment's fixed arm (propensity 1) gives the other arms no support
            if d.closed_at is not None and d.arm in index and d.policy != "fixed"
            and not (d.outcome or {}).get("unattributable")]  # fmt: skip
    if not kept:
        raise DataError("no closed decision made by the policy, with a known arm and shopper, is logged yet",
                        field="decisions")  # fmt: skip
    data = LoggedBandit(
        action=np.array([index[d.arm] for d in kept]),
        reward=np.array([float(d.reward or 0.0) for d in kept]),
        pscore=np.array([d.propensity for d in kept]),
        context=encode_all([d.context for d in kept]),
        n_actions=len(arms),
    )
    return data, len(decisions) - len(kept)


@dataclass(frozen=True)
class Candidate:
    """A policy to value: its kind and parameters (the arms are the point's)."""

    kind: str
    params: dict[str, Any]

    def config(self, point: PointConfig) -> PointConfig:
        return PointConfig(point.name, point.arms, self.kind, self.params, enabled=point.enabled)


def evaluate_candidate(
    store: Any,
    point: str,
    candidate: Candidate,
    *,
    since_ts: float | None = None,
    train_fraction: float = 0.7,
    estimator: str = "snips",
    min_effective: float = 30.0,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The off-policy report of ``candidate`` against the current policy of ``point`` (module docstring)."""
    row = store.policy(point)
    if row is None:
        raise NotFoundError(f"no decision point {point!r}")
    if estimator not in ESTIMATORS:
        raise DataError(f"unknown estimator {estimator!r}; choose one of {list(ESTIMATORS)}", field="estimator")
    current_cfg = point_from_row(row)
    cfg = candidate.config(current_cfg)
    data, left_out = logged_rounds(store.decisions(point, since_ts=since_ts, closed=True), cfg.arms)
    train, test = time_split(data, train_fraction)
    model = fit_policy(fresh_policy(cfg), train, weighting="ips", seed=seed)
    contexts = test.context
    assert contexts is not None
    cand_dist = action_distribution(model, contexts)
    base_dist = action_distribution(policy_of(row), contexts)
    q = ridge_reward_model(test, n_folds=3, seed=seed)
    comparisons = compare(cand_dist, base_dist, test, q, estimators=ESTIMATORS, n_bootstrap=n_bootstrap, seed=seed)
    verdict = guardrail(comparisons, estimator=estimator, criterion="value", min_n_eff=min_effective)
    rewarded = int((test.reward > 0).sum())
    low, high = wilson_interval(rewarded, test.n_rounds)
    return {
        "point": point,
        "candidate": {"kind": cfg.kind, "params": dict(cfg.params)},
        "current": {"kind": current_cfg.kind, "params": dict(current_cfg.params), "version": row.version},
        "rounds": {"train": train.n_rounds, "test": test.n_rounds, "left_out": left_out},
        "logged_reward": {"value": float(test.reward.mean()), "ci": [low, high]},
        "estimates": {
            name: {
                "candidate": c.value,
                "candidate_ci": list(c.ci),
                "current": c.baseline,
                "current_ci": list(c.baseline_ci) if c.baseline_ci else None,
                "difference": c.difference,
                "difference_ci": list(c.difference_ci),
                "verdict": c.verdict,
                "effective_rounds": c.n_eff,
            }
            for name, c in comparisons.items()
        },
        "guardrail": {
            "promote": verdict.promote,
            "estimator": verdict.estimator,
            "lower_bound": verdict.lower_bound,
            "threshold": verdict.threshold,
            "reason": verdict.reason,
        },
    }


def promote(
    store: Any, point: str, candidate: Candidate, report: dict[str, Any], *, force: bool = False, seed: int = 0
) -> dict[str, Any]:
    """Make ``candidate`` (refitted on every logged round) the point's policy when ``report``'s guardrail
    allows it or ``force``; the new version, or the refusal."""
    if not report["guardrail"]["promote"] and not force:
        return {"promoted": False, "reason": report["guardrail"]["reason"]}
    for _ in range(PROMOTE_TRIES):  # the learner writes the point every few seconds: refit and retry
        row = store.policy(point)
        if row is None:
            raise NotFoundError(f"no decision point {point!r}")
        cfg = candidate.config(point_from_row(row))
        data, _ = logged_rounds(store.decisions(point, closed=True), cfg.arms)
        model = fit_policy(fresh_policy(cfg), data, weighting="ips", seed=seed)
        state = model.to_state()
        version = store.save_policy(point, expected_version=row.version, config=config_json(cfg), state=state)
        if version is not None:
            break
    else:
        raise ConflictError(f"{point} kept changing while promoting ({PROMOTE_TRIES} tries); try again")
    reason = "forced by the operator" if force and not report["guardrail"]["promote"] else report["guardrail"]["reason"]
    log.info("policy promoted", extra={"point": point, "kind": cfg.kind, "version": version, "forced": force})
    return {"promoted": True, "version": version, "reason": reason}
