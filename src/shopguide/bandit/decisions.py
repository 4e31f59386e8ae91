"""Decision points, logged decisions and how rewards are read from behaviour events.

A **decision point** is a place in the service where a policy chooses among named strategies (arms): the
feed's leading strategy for a placement (``feed:home``, ``feed:cart`` ...) or the guide's next move on a vague
request (``guide:vague``: ask a clarifying question, or show results). Its :class:`PointConfig` says which
policy kind and parameters it uses and whether it is on.

Every served decision is a :class:`DecisionRecord` (an *impression* of the decision): the point, the policy and
its version, the arm, the propensity of that arm, the raw context, the items shown, the experiment variant, and
the request id the client sends back with the events it logs. A decision stays *open* until its reward window
has passed; the learner then reads its outcome from the events (:class:`RewardRule`), closes it and updates
the policy, in one transaction (see :mod:`shopguide.bandit.learner`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from shopguide.errors import ConfigError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*:[a-z0-9_-]{1,48}$")
#: the strategies of the feed's decision points (see :mod:`shopguide.service.feed_strategies`)
FEED_ARMS = ("model", "context_mix", "category_popular", "popular")
#: the guide's moves on a vague request
GUIDE_ARMS = ("ask", "show")
#: the event types that count as an outcome of a decision, in increasing order of value
OUTCOME_TYPES = ("view", "click", "fav", "cart", "purchase")
POLICY_KINDS = ("epsilon_greedy", "ucb1", "bernoulli_thompson", "linucb", "linear_thompson")
CONTEXTUAL_KINDS = ("linucb", "linear_thompson")
#: policy parameters the decision point sets itself (its arms, the service's feature length)
RESERVED_PARAMS = frozenset({"arms", "n_features", "max_seen_events"})


@dataclass(frozen=True)
class PointConfig:
    """How one decision point chooses: the arms, the policy kind and its parameters, and whether it is on."""

    name: str
    arms: tuple[str, ...]
    kind: str = "linear_thompson"
    params: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = False

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ConfigError(f"a decision point is named like 'feed:home' or 'guide:vague', got {self.name!r}")
        if self.kind not in POLICY_KINDS:
            raise ConfigError(f"unknown policy kind {self.kind!r}; choose one of: {', '.join(POLICY_KINDS)}")
        if len(self.arms) < 2 or len(set(self.arms)) != len(self.arms):
            raise ConfigError(f"{self.name}: a decision needs at least two distinct arms, got {list(self.arms)}")
        known = GUIDE_ARMS if self.name.startswith("guide:") else FEED_ARMS
        unknown = [a for a in self.arms if a not in known]
        if unknown:
            raise ConfigError(f"{self.name}: unknown arms {unknown}; this point knows {list(known)}")
        reserved = sorted(set(self.params) & RESERVED_PARAMS)
        if reserved:
            raise ConfigError(f"{self.name}: policy parameters may not set {reserved} (the point decides them)")
        object.__setattr__(self, "arms", tuple(self.arms))
        object.__setattr__(self, "params", dict(self.params))

    @property
    def contextual(self) -> bool:
        return self.kind in CONTEXTUAL_KINDS

    def with_enabled(self, enabled: bool) -> PointConfig:
        return replace(self, enabled=enabled)


@dataclass(frozen=True)
class DecisionRecord:
    """One served decision, as logged (and, once closed, with its reward and outcome)."""

    id: str
    point: str
    ts: float
    arm: str
    propensity: float
    policy: str
    policy_version: int
    context: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[str, ...] = ()
    user_id: str | None = None
    session_id: str | None = None
    experiment: str | None = None
    variant: str | None = None
    reward: float | None = None
    outcome: Mapping[str, Any] | None = None
    closed_at: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.propensity <= 1.0 or not math.isfinite(self.propensity):
            raise ConfigError(f"a propensity lies in (0, 1], got {self.propensity}")

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def to_json(self) -> dict[str, Any]:
        """For logs and the admin API."""
        return {
            "id": self.id, "point": self.point, "ts": self.ts, "arm": self.arm, "propensity": self.propensity,
            "policy": self.policy, "policy_version": self.policy_version, "context": dict(self.context),
            "items": list(self.items), "user_id": self.user_id, "session_id": self.session_id,
            "experiment": self.experiment, "variant": self.variant, "reward": self.reward,
            "outcome": dict(self.outcome) if self.outcome is not None else None, "closed_at": self.closed_at,
        }  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What followed a decision within its window: counts per outcome type, the purchase value, the reward."""

    counts: Mapping[str, int]
    value: float
    reward: float

    def to_json(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "value": self.value}


@dataclass(frozen=True)
class RewardRule:
    """How a decision's reward is read from the events that follow it.

    An event can be an outcome of a decision when it is one of :data:`OUTCOME_TYPES`, happened within
    ``window_s`` after the decision, comes from the decision's shopper and — for a decision that showed items —
    is about one of those items (:meth:`attributed`). Each event is credited once per decision point
    (:meth:`assign`): to the decision whose id it carries as ``context.request_id`` if it carries one, else to
    the shopper's latest eligible decision of that point before it (a shopper who reloads the feed is credited
    on the list they acted on, never on every list that showed the item). The reward is the largest weight among
    the credited events' types (a click then a purchase counts once, as a purchase), in [0, 1]: by default any
    engagement is 1, i.e. the reward is the engagement rate, which Bernoulli Thompson sampling needs. Purchase
    values are summed into the outcome.

    A decision is closed once ``window_s + grace_s`` have passed (``grace_s`` waits for events that arrive
    late: clients batch them); an event that arrives after its decision closed is not counted again.
    """

    window_s: float = 1800.0
    grace_s: float = 60.0
    weights: Mapping[str, float] = field(
        default_factory=lambda: {"view": 1.0, "click": 1.0, "fav": 1.0, "cart": 1.0, "purchase": 1.0}
    )

    def __post_init__(self) -> None:
        if not math.isfinite(self.window_s) or self.window_s <= 0:
            raise ConfigError(f"the reward window must be positive seconds, got {self.window_s}")
        if not math.isfinite(self.grace_s) or self.grace_s < 0:
            raise ConfigError(f"the reward grace period must be >= 0 seconds, got {self.grace_s}")
        for name, weight in self.weights.items():
            if name not in OUTCOME_TYPES:
                raise ConfigError(f"reward weights name unknown event type {name!r}; known: {list(OUTCOME_TYPES)}")
            if not 0.0 <= float(weight) <= 1.0:
                raise ConfigError(f"the reward weight of {name!r} must lie in [0, 1], got {weight}")
        object.__setattr__(self, "weights", {k: float(v) for k, v in self.weights.items()})

    def closes_before(self, now: float) -> float:
        """Decisions made before this time are ready to be closed at ``now``."""
        return now - self.window_s - self.grace_s

    def attributed(self, decision: DecisionRecord, event: Any) -> bool:
        """Whether ``event`` (an :class:`~shopguide.data.schema.Event`) may be an outcome of ``decision``."""
        etype = getattr(event.type, "value", event.type)
        if etype not in OUTCOME_TYPES or not decision.ts <= event.ts <= decision.ts + self.window_s:
            return False
        request_id = event.context.get("request_id")
        if request_id:
            return request_id == decision.id
        same_shopper = (decision.user_id is not None and event.user == decision.user_id) or (
            decision.session_id is not None and event.session == decision.session_id
        )
        return same_shopper and (not decision.items or event.item in decision.items)

    def assign(self, decisions: Iterable[DecisionRecord], events: Iterable[Any]) -> dict[str, list[Any]]:
        """Each event credited to at most one decision per point: the one it names by request id, else the latest
        eligible one before it. ``decisions`` should hold every decision of the shopper that can compete (also
        those still open or already closed); returns decision id -> its events."""
        by_point: dict[str, list[DecisionRecord]] = {}
        for d in sorted(decisions, key=lambda d: (d.ts, d.id)):
            by_point.setdefault(d.point, []).append(d)
        credited: dict[str, list[Any]] = {}
        for event in events:
            for ordered in by_point.values():
                for d in reversed(ordered):  # the latest first
                    if self.attributed(d, event):
                        credited.setdefault(d.id, []).append(event)
                        break
        return credited

    def outcome(self, decision: DecisionRecord, events: Iterable[Any]) -> Outcome:
        """The outcome of ``decision`` from the events credited to it (others among ``events`` are ignored)."""
        counts: dict[str, int] = {}
        value = 0.0
        reward = 0.0
        for event in events:
            if not self.attributed(decision, event):
                continue
            etype = getattr(event.type, "value", event.type)
            counts[etype] = counts.get(etype, 0) + 1
            if etype == "purchase":
                value += float(event.value)
            reward = max(reward, self.weights.get(etype, 0.0))
        return Outcome(counts, round(value, 6), reward)


@dataclass(frozen=True)
class PolicyRow:
    """A decision point as stored: its config (arms, kind, params), learned state (None: fresh) and version."""

    name: str
    version: int
    enabled: bool
    config: dict[str, Any]
    state: dict[str, Any] | None
    updated_at: float


@dataclass(frozen=True)
class Closing:
    """A decision to close: its reward and outcome (JSON object)."""

    decision_id: str
    reward: float
    outcome: Mapping[str, Any]


def dumps(value: Any) -> str:
    """Compact JSON for the store."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
