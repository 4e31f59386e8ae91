"""The learning loop as a serving worker runs it: decide, log, learn, and follow the shared state.

:class:`LearningLoop` holds, per decision point, the policy as last stored; every worker (and replica) reads
the same rows, so they decide alike and learn together:

* :meth:`LearningLoop.decide` chooses an arm for a request. An enabled A/B experiment on the point assigns the
  shopper to a variant first (deterministic hashing): a variant with a fixed arm serves it (propensity 1,
  policy ``fixed``), a variant without one lets the policy choose. A point that is switched off and has no
  running experiment decides nothing (the caller serves its default). Propensities of the same state and
  context are cached (Thompson sampling estimates them by Monte Carlo), so a decision costs a few
  microseconds once a context has been seen.
* :meth:`LearningLoop.log` queues the decision with the items it showed; a background thread writes the queue
  in batches every ``flush_seconds`` (and at shutdown), off the request path.
* :meth:`LearningLoop.learn` runs one :class:`~shopguide.bandit.learner.Learner` pass; the background thread
  does it every ``learn_seconds``. Any worker may learn: the store's compare-and-set keeps them consistent.
* :meth:`LearningLoop.refresh` reloads the policies and experiments when their fingerprint in the store moved
  (checked at most every ``refresh_seconds``): switching a point or an experiment on or off, or promoting a
  policy, takes effect in every worker without a restart.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopguide.bandit.decisions import DecisionRecord, PointConfig, RewardRule
from shopguide.bandit.experiments import Experiment, assign
from shopguide.bandit.features import DecisionContext, encode
from shopguide.bandit.learner import Learner, LearnReport, config_json, point_from_row, policy_of
from shopguide.bandit.policies import BasePolicy
from shopguide.errors import ConflictError, NotFoundError

log = logging.getLogger(__name__)
_PROBABILITY_CACHE = 4096


#: request ids are letters only: a client sends them back in ``context``, where the edge's PII scrubber masks
#: digit runs that look like phone, ID or card numbers (a hex id did, now and then)
_ID_LETTERS = "abcdefghjkmnpqrstuvwxyz"
_ID_LENGTH = 24  # 23 ** 24 > 2 ** 108


def new_request_id() -> str:
    """A fresh decision id, ``d_`` and 24 random letters (no digits, so never mistaken for personal data)."""
    return "d_" + "".join(secrets.choice(_ID_LETTERS) for _ in range(_ID_LENGTH))


@dataclass(frozen=True)
class Choice:
    """A decision made for one request (not yet logged): what to serve and how it was chosen."""

    point: str
    request_id: str
    arm: str
    propensity: float
    policy: str
    policy_version: int
    context: DecisionContext
    experiment: str | None = None
    variant: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What the response tells the client (it sends ``request_id`` back with the events it logs)."""
        return {
            "point": self.point, "request_id": self.request_id, "arm": self.arm,
            "propensity": round(self.propensity, 6), "policy": self.policy, "policy_version": self.policy_version,
            "experiment": self.experiment, "variant": self.variant,
        }  # fmt: skip


@dataclass
class _Point:
    config: PointConfig
    version: int
    policy: BasePolicy
    probabilities: OrderedDict[bytes, np.ndarray]


class LearningLoop:
    """Decision points shared through the store (see the module docstring)."""

    def __init__(
        self,
        store: Any,
        points: Iterable[PointConfig],
        rule: RewardRule | None = None,
        *,
        seed: int | None = None,
        refresh_seconds: float = 2.0,
        flush_seconds: float = 1.0,
        learn_seconds: float = 10.0,
        max_queue: int = 100_000,
        on_log: Callable[[Choice], None] | None = None,
    ) -> None:
        """``on_log``: called with every logged choice (the service counts them in its metrics)."""
        self.store = store
        self.configured = {p.name: p for p in points}
        self.rule = rule or RewardRule()
        self.refresh_seconds = refresh_seconds
        self.flush_seconds = flush_seconds
        self.learn_seconds = learn_seconds
        self.max_queue = max_queue
        self.on_log = on_log
        self.dropped = 0
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # held across a write: a second flush waits for the first
        self._queue: list[DecisionRecord] = []
        self._points: dict[str, _Point] = {}
        self._experiments: dict[str, Experiment] = {}
        self._generation: tuple | None = None
        self._checked = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_report: LearnReport | None = None

    # ---------------------------------------------------------------- state
    def ensure_points(self) -> None:
        """Store the configured decision points that the store does not hold yet (with their configured
        on/off switch); stored ones keep their state and switch. Then load everything."""
        for cfg in self.configured.values():
            if self.store.policy(cfg.name) is None:
                self.store.save_policy(cfg.name, expected_version=None, config=config_json(cfg), enabled=cfg.enabled)
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> bool:
        """Reload policies and experiments if the store's fingerprint moved; True when something was reloaded."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_seconds:
            return False
        with self._refresh_lock:  # one reload at a time: a slower one must not install older state
            return self._reload(force, now)

    def _reload(self, force: bool, now: float) -> bool:
        self._checked = now
        generation = self.store.learning_generation()
        if generation == self._generation and not force:
            return False
        points: dict[str, _Point] = {}
        for row in self.store.policies():
            try:
                old = self._points.get(row.name)
                if old is not None and old.version == row.version:
                    points[row.name] = old
                    continue
                points[row.name] = _Point(point_from_row(row), row.version, policy_of(row), OrderedDict())
            except Exception:  # one broken row must not take the others down
                log.exception("could not load a decision point", extra={"point": row.name})
        experiments: dict[str, Experiment] = {}
        for spec in self.store.experiment_specs():
            try:
                exp = Experiment.from_dict(spec)
            except Exception:
                log.exception("could not load an experiment", extra={"experiment": spec.get("name")})
                continue
            if exp.enabled:
                if exp.point in experiments:
                    log.warning("two experiments run on one decision point; using the first by name",
                                extra={"point": exp.point, "experiment": exp.name})  # fmt: skip
                    continue
                experiments[exp.point] = exp
        with self._lock:
            self._points, self._experiments, self._generation = points, experiments, generation
        return True

    def active(self, point: str) -> bool:
        """Whether ``point`` decides anything now (switched on, or an experiment runs on it)."""
        p = self._points.get(point)
        return p is not None and (p.config.enabled or point in self._experiments)

    def any_active(self, prefix: str) -> bool:
        """Whether any point whose name starts with ``prefix`` (e.g. ``"feed:"``) is active."""
        return any(self.active(name) for name in self._points if name.startswith(prefix))

    # ---------------------------------------------------------------- deciding
    def decide(
        self,
        point: str,
        context: DecisionContext,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        allowed: Iterable[str] | None = None,
    ) -> Choice | None:
        """Choose an arm at ``point`` for this request, or None when the point is off (serve the default).

        ``allowed``: the arms that can be served now (e.g. without a context index there is no context mix): the
        choice is drawn from the policy's distribution restricted to them, and its propensity is that of the
        restricted distribution (what off-policy evaluation needs)."""
        if self._thread is None:  # a worker's background thread keeps the state fresh off the request path
            self.refresh()
        p = self._points.get(point)
        if p is None:
            return None
        experiment = self._experiments.get(point)
        if not p.config.enabled and experiment is None:
            return None
        request_id = new_request_id()
        allowed = tuple(allowed) if allowed is not None else None
        variant = None
        unit = user_id or session_id
        if experiment is not None and unit is not None:
            variant = assign(experiment, unit)
            if variant.arm is not None:
                served_arm = variant.arm
                if allowed and served_arm not in allowed:
                    served_arm = allowed[0]  # the variant's arm cannot be served here: say what was
                return Choice(point, request_id, served_arm, 1.0, "fixed", p.version, context,
                              experiment.name, variant.name)  # fmt: skip
        elif not p.config.enabled:
            return None  # an experiment needs a shopper or session to assign; without one: the default
        x = encode(context) if getattr(p.policy, "n_features", None) is not None else None
        with self._lock:
            probs = self._probabilities(p, x)
            if allowed is not None:  # the policy's distribution over the arms that can be served now
                mask = np.isin(np.asarray(p.policy.arms), list(allowed))
                if mask.any():
                    probs = np.where(mask, probs, 0.0)
                    probs = probs / probs.sum() if probs.sum() > 0 else mask / mask.sum()
            cdf = np.cumsum(probs)
            arm = int(min(np.searchsorted(cdf, self._rng.random() * cdf[-1], side="right"), len(probs) - 1))
        return Choice(point, request_id, p.policy.arms[arm], float(probs[arm]), p.config.kind, p.version, context,
                      experiment.name if variant else None, variant.name if variant else None)  # fmt: skip

    def _probabilities(self, p: _Point, x: np.ndarray | None) -> np.ndarray:
        key = b"" if x is None else x.tobytes()
        probs = p.probabilities.get(key)
        if probs is None:
            probs = np.asarray(p.policy.probabilities(x), dtype=float)
            probs = np.maximum(probs, 0.0)
            p.probabilities[key] = probs
            if len(p.probabilities) > _PROBABILITY_CACHE:
                p.probabilities.popitem(last=False)
        return probs

    def log(self, choice: Choice, items: Iterable[str] = (), *, user_id: str | None, session_id: str | None = None,
            now: float | None = None) -> None:  # fmt: skip
        """Queue the served decision (written by the background thread or :meth:`flush`)."""
        record = DecisionRecord(
            id=choice.request_id, point=choice.point, ts=time.time() if now is None else now, arm=choice.arm,
            propensity=choice.propensity, policy=choice.policy, policy_version=choice.policy_version,
            context=choice.context.to_json(), items=tuple(items), user_id=user_id, session_id=session_id,
            experiment=choice.experiment, variant=choice.variant,
        )  # fmt: skip
        with self._lock:
            if len(self._queue) >= self.max_queue:
                self.dropped += 1  # the store is down for long: keep serving, count what is lost
                return
            self._queue.append(record)
        if self.on_log is not None:
            self.on_log(choice)

    def flush(self) -> int:
        """Write the queued decisions; on a store failure they stay queued. Returns how many were written."""
        with self._flush_lock:
            with self._lock:
                queued, self._queue = self._queue, []
            if not queued:
                return 0
            try:
                self.store.add_decisions(queued)
            except Exception:
                log.exception("could not write decisions; keeping them queued", extra={"decisions": len(queued)})
                with self._lock:
                    self._queue[:0] = queued[: max(self.max_queue - len(self._queue), 0)]
                return 0
            return len(queued)

    # ---------------------------------------------------------------- learning
    def learn(self, now: float | None = None) -> LearnReport:
        """Write the queue, run one learner pass, and reload what changed."""
        self.flush()
        report = Learner(self.store, self.rule).step(now)
        self.last_report = report
        self.refresh(force=True)
        return report

    def start(self) -> None:
        """Run the flush / learn / refresh loop in a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="learning-loop", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is queued."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        next_learn = time.monotonic() + self.learn_seconds * float(self._rng.uniform(0.5, 1.0))
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
                if self.learn_seconds > 0 and time.monotonic() >= next_learn:
                    self.learn()
                    next_learn = time.monotonic() + self.learn_seconds
                else:
                    self.refresh()
            except Exception:
                log.exception("learning loop step failed; trying again")

    # ---------------------------------------------------------------- operations
    def switch(self, point: str, enabled: bool) -> int:
        """Switch a decision point on or off in the store (every worker follows within ``refresh_seconds``)."""
        for _ in range(5):
            row = self.store.policy(point)
            if row is None:
                raise NotFoundError(f"no decision point {point!r}; known: {sorted(self._points)}")
            version = self.store.save_policy(point, expected_version=row.version, enabled=enabled, keep_state=True)
            if version is not None:
                self.refresh(force=True)
                return version
        raise ConflictError(f"could not switch {point}: the policy kept changing under concurrent writes; try again")
