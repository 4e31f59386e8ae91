"""The learner: closes decisions whose reward window has passed, reads their outcomes from the events, and
updates each decision point's policy in the store.

One pass (:meth:`Learner.step`):

1. read the open decisions made more than ``window + grace`` ago (:meth:`RewardRule.closes_before`);
2. for each shopper among them, read their events from the earliest of those decisions to the end of the
   latest one's window (one indexed query per shopper) and their decisions since then, credit each event to
   one decision per point (:meth:`RewardRule.assign`), and compute every decision's :class:`Outcome`;
3. per decision point: load the stored policy, apply each reward (oldest first, ``event_id`` = the decision id)
   and write the new state with a compare-and-set **in the same transaction that closes those decisions**.
   When another worker wrote first, the pass re-reads and retries; a decision closed by the other worker is no
   longer open and is not applied again. So every decision counts exactly once, replayed events never count
   twice (the event store ignores a repeated event id), and delayed events count as long as they arrive
   within the grace period.

A decision without a shopper id (an anonymous chat) cannot be linked to any event: it is closed with no
reward, and neither the policy nor off-policy evaluation uses it.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shopguide.bandit.decisions import Closing, DecisionRecord, Outcome, PointConfig, PolicyRow, RewardRule
from shopguide.bandit.features import N_FEATURES, DecisionContext, encode
from shopguide.bandit.policies import BasePolicy, make_policy, policy_from_state

log = logging.getLogger(__name__)

#: policies in the service remember this many applied decision ids (exactly-once is the store's transaction;
#: this is a second guard that keeps the stored state small)
SEEN_DECISIONS = 2000
MAX_RETRIES = 5


def config_json(cfg: PointConfig) -> dict[str, Any]:
    """A decision point's config as stored."""
    return {"arms": list(cfg.arms), "kind": cfg.kind, "params": dict(cfg.params)}


def point_from_row(row: PolicyRow) -> PointConfig:
    """The stored decision point as a config (its ``enabled`` flag is the stored switch)."""
    return PointConfig(row.name, tuple(row.config["arms"]), row.config["kind"], row.config.get("params", {}),
                       enabled=row.enabled)  # fmt: skip


def fresh_policy(cfg: PointConfig) -> BasePolicy:
    """A new policy for a decision point (contextual kinds get the service's feature length)."""
    params = {"max_seen_events": SEEN_DECISIONS, **cfg.params}
    if cfg.contextual:
        params.setdefault("n_features", N_FEATURES)
    return make_policy(cfg.kind, cfg.arms, **params)


def policy_of(row: PolicyRow) -> BasePolicy:
    """The stored policy of a decision point: its learned state, or a fresh one (also when the state was learned
    on another feature layout than :mod:`shopguide.bandit.features` encodes now)."""
    if row.state is None:
        return fresh_policy(point_from_row(row))
    learned = row.state.get("params", {}).get("n_features")
    if learned is not None and learned != N_FEATURES:
        log.warning("the stored policy was learned on %s features, the service encodes %s; starting afresh",
                    learned, N_FEATURES, extra={"point": row.name})  # fmt: skip
        return fresh_policy(point_from_row(row))
    return policy_from_state(row.state)


def context_vector(policy: BasePolicy, context: Any) -> Any:
    """What ``policy`` takes as a context: the encoded features for contextual kinds, else None."""
    if getattr(policy, "n_features", None) is None:
        return None
    ctx = context if isinstance(context, DecisionContext) else DecisionContext.from_json(context)
    return encode(ctx)


@dataclass
class LearnReport:
    """What one pass did: decisions closed (with and without a reward), policies updated, write conflicts."""

    closed: int = 0
    rewarded: int = 0
    unattributable: int = 0
    updates: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"closed": self.closed, "rewarded": self.rewarded, "unattributable": self.unattributable,
                "updates": dict(self.updates), "conflicts": self.conflicts}  # fmt: skip


class Learner:
    """Closes decisions and updates policies in ``store`` (see the module docstring)."""

    def __init__(self, store: Any, rule: RewardRule, *, batch: int = 5000) -> None:
        self.store = store
        self.rule = rule
        self.batch = batch

    def step(self, now: float | None = None) -> LearnReport:
        """One pass at time ``now`` (default: the clock)."""
        now = time.time() if now is None else now
        report = LearnReport()
        for _ in range(MAX_RETRIES):
            due = self.store.open_decisions(self.rule.closes_before(now), limit=self.batch)
            if not due:
                return report
            outcomes = self._outcomes(due)
            lost = False
            by_point: dict[str, list[DecisionRecord]] = defaultdict(list)
            for d in due:
                by_point[d.point].append(d)
            for point, decisions in by_point.items():
                if not self._apply(point, decisions, outcomes, report):
                    lost = True
            if not lost and len(due) < self.batch:
                return report
            if lost:
                report.conflicts += 1
        return report

    def _outcomes(self, due: Sequence[DecisionRecord]) -> dict[str, Outcome | None]:
        by_user: dict[str, list[DecisionRecord]] = defaultdict(list)
        outcomes: dict[str, Outcome | None] = {}
        for d in due:
            if d.user_id is None:
                outcomes[d.id] = None
            else:
                by_user[d.user_id].append(d)
        for user, decisions in by_user.items():
            start = min(d.ts for d in decisions)
            end = max(d.ts for d in decisions) + self.rule.window_s
            events = [ev for ev in self.store.iter_events(since_ts=start, user=user) if ev.ts <= end]
            # every decision of the shopper that may compete for those events (later ones, open or closed)
            rivals = self.store.decisions(user_id=user, since_ts=start)
            credited = self.rule.assign({d.id: d for d in [*rivals, *decisions]}.values(), events)
            for d in decisions:
                outcomes[d.id] = self.rule.outcome(d, credited.get(d.id, ()))
        return outcomes

    def _apply(
        self, point: str, decisions: list[DecisionRecord], outcomes: dict[str, Outcome | None], report: LearnReport
    ) -> bool:
        closing = []
        for d in decisions:
            outcome = outcomes[d.id]
            if outcome is None:
                closing.append(Closing(d.id, 0.0, {"unattributable": True}))
            else:
                closing.append(Closing(d.id, outcome.reward, outcome.to_json()))
        row = self.store.policy(point)
        if row is None:  # a point no longer configured: close its decisions, nothing to learn
            self.store.close_decisions(closing)
            report.closed += len(closing)
            return True
        policy = policy_of(row)
        applied = 0
        for d in sorted(decisions, key=lambda d: (d.ts, d.id)):
            outcome = outcomes[d.id]
            if outcome is None or d.arm not in policy.arms:
                continue
            try:
                applied += policy.update(d.arm, outcome.reward, context_vector(policy, d.context), event_id=d.id)
            except Exception:  # a reward the policy cannot take (e.g. out of range) must not stop the others
                log.exception("could not apply a reward", extra={"point": point, "decision": d.id})
        version = self.store.save_policy(
            point, expected_version=row.version, state=policy.to_state(), keep_state=True, closing=closing
        )
        if version is None:
            log.info("another worker updated the policy first; retrying", extra={"point": point})
            return False
        report.closed += len(closing)
        report.rewarded += sum(1 for c in closing if c.reward > 0)
        report.unattributable += sum(1 for d in decisions if outcomes[d.id] is None)
        report.updates[point] = report.updates.get(point, 0) + applied
        log.info("policy updated", extra={"point": point, "version": version, "updates": applied})
        return True
