"""The learning loop in the service: built from settings, the context of a feed request, and the guide's
ask-or-show chooser.

The loop itself (decide, log, learn, follow the shared state) is :class:`shopguide.bandit.runtime.LearningLoop`;
it lives on ``app.state.learning`` and runs its flush / learn thread for the app's lifetime.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from shopguide.bandit.decisions import FEED_ARMS, GUIDE_ARMS, PointConfig, RewardRule
from shopguide.bandit.features import DecisionContext, focus_of, hour_of, normalise_device
from shopguide.bandit.runtime import Choice, LearningLoop
from shopguide.config import Settings
from shopguide.errors import ConfigError
from shopguide.service import metrics
from shopguide.service.models import Served

log = logging.getLogger(__name__)

#: actions closer together than this belong to one session (the common 30-minute web-analytics rule)
SESSION_GAP_S = 1800.0
#: how many of the shopper's latest actions describe the context (focus category, session length)
CONTEXT_EVENTS = 20
GUIDE_POINT = "guide:vague"
#: the posterior scale of linear Thompson sampling: rewards here are rates of 0.05-0.4, and v = 1 explored too
#: long in the simulator study (RESULTS §12: regret 1,390 at v = 1 against 1,027 at v = 0.3)
LINEAR_TS_V = 0.3


def point_configs(settings: Settings) -> list[PointConfig]:
    """The decision points the settings name, with their policy kind, exploration bounds and first switch."""
    unknown = sorted(set(settings.learning_enabled) - set(settings.learning_points))
    if unknown:
        raise ConfigError(f"learning_enabled names points that learning_points does not offer: {unknown}")
    params: dict[str, Any] = {"min_explore": settings.learning_min_explore}
    if settings.learning_policy == "epsilon_greedy":
        params["max_explore"] = settings.learning_max_explore
    if settings.learning_policy == "linear_thompson":
        params["v"] = LINEAR_TS_V
    points = []
    for name in settings.learning_points:
        arms = GUIDE_ARMS if name.startswith("guide:") else FEED_ARMS
        if not (name.startswith("feed:") or name == GUIDE_POINT):
            raise ConfigError(f"unknown decision point {name!r}: use feed:<placement> or {GUIDE_POINT}")
        points.append(
            PointConfig(name, arms, settings.learning_policy, params, enabled=name in settings.learning_enabled)
        )
    return points


def _count(choice: Choice) -> None:
    metrics.DECISIONS.labels(choice.point, choice.arm).inc()


def build_learning(settings: Settings, store: Any) -> LearningLoop:
    """The worker's learning loop with its decision points stored (the first worker stores them)."""
    rule = RewardRule(settings.reward_window_seconds, settings.reward_grace_seconds, settings.reward_weights)
    loop = LearningLoop(store, point_configs(settings), rule, seed=settings.learning_seed,
                        learn_seconds=settings.learn_seconds, on_log=_count)  # fmt: skip
    loop.ensure_points()
    return loop


def _category(served: Served, item: str) -> str | None:
    data = served.model.dataset_
    idx = data.items.index(item)
    meta = data.item(idx) if idx is not None else None
    return meta.category[0] if meta is not None and meta.category else None


def shopper_context(
    store: Any,
    served: Served,
    user: str | None,
    *,
    local_time: str | None = None,
    device: str | None = None,
    now: float | None = None,
) -> DecisionContext:
    """The decision context of a request: part of day, device, returning shopper, session length and the
    category in focus, from the shopper's latest actions (one indexed read)."""
    now = time.time() if now is None else now
    actions = store.recent_action_times(user, CONTEXT_EVENTS) if user else []
    session, last = 0, now
    for _, _, ts in actions:  # newest first: count back while the gaps stay under the session gap
        if last - ts > SESSION_GAP_S:
            break
        session, last = session + 1, ts
    return DecisionContext(
        hour=hour_of(local_time, now),
        device=normalise_device(device),
        returning=len(actions) > session,
        session_actions=session,
        focus_category=focus_of([_category(served, item) for item, _, _ in actions[:5]]),
    )


def feed_arms(served: Served) -> tuple[str, ...]:
    """The feed strategies this served version can serve (the context mix needs the context index)."""
    return tuple(a for a in FEED_ARMS if a != "context_mix" or served.context is not None)


def decide_feed(
    learning: LearningLoop | None,
    store: Any,
    served: Served | None,
    user: str,
    placement: str,
    *,
    local_time: str | None = None,
    device: str | None = None,
) -> Choice | None:
    """The strategy the point ``feed:<placement>`` chooses for this shopper (None: off, or it failed). The route
    and the cache fast path both decide through here."""
    point = f"feed:{placement}"
    if learning is None or served is None or not learning.active(point):
        return None
    try:
        ctx = shopper_context(store, served, user, local_time=local_time, device=device)
        return learning.decide(point, ctx, user_id=user, allowed=feed_arms(served))
    except Exception:  # the learning loop is an optimisation: never a reason to fail a feed
        log.exception("the feed decision failed; serving the model", extra={"user": user})
        return None


def with_decision(body: bytes, choice: Choice) -> bytes:
    """A serialised feed answer with the decision added (the cached body has none: it is per request)."""
    return body[:-1] + b',"decision":' + json.dumps(choice.to_json(), separators=(",", ":")).encode() + b"}"


#: decisions the guide made whose turn has not ended yet (a turn that ran over its deadline may never settle)
MAX_PENDING = 10_000


@dataclass
class GuideChooser:
    """The guide's ask-or-show decision on a vague request (what :class:`DialogueManager` calls).

    The decision waits until the chat route knows the turn's reply was served (:meth:`settle`): a turn that ran
    over its deadline or failed answered the shopper with a fallback, so its decision is dropped, never logged.
    It is logged without items: whether the guide asks or shows, what counts is whether the shopper engages
    with anything within the reward window (after a question, the items come a turn later).
    """

    loop: LearningLoop
    store: Any
    served: Served
    _pending: OrderedDict[str, Choice] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ask_or_show(
        self, user_id: str | None, session_id: str | None, turns: int, *, device: str | None = None
    ) -> str | None:
        """``"ask"`` or ``"show"`` when the point is active, else None (the guide's own rule)."""
        if not self.loop.active(GUIDE_POINT):
            return None
        try:
            ctx = shopper_context(self.store, self.served, user_id, device=device)
            ctx = DecisionContext(ctx.hour, ctx.device, ctx.returning, max(ctx.session_actions, turns),
                                  ctx.focus_category)  # fmt: skip
            choice = self.loop.decide(GUIDE_POINT, ctx, user_id=user_id, session_id=session_id)
        except Exception:  # the guide's own rule answers when the loop cannot
            log.exception("the ask-or-show decision failed; the guide asks first")
            return None
        if choice is None:
            return None
        with self._lock:
            self._pending[session_id or choice.request_id] = choice
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
        return choice.arm

    def settle(self, session_id: str, *, served: bool, user_id: str | None) -> Choice | None:
        """End the turn of ``session_id``: log its decision if its reply was served (and return it), else drop it."""
        with self._lock:
            choice = self._pending.pop(session_id, None)
        if choice is not None and served:
            self.loop.log(choice, (), user_id=user_id, session_id=session_id)
            return choice
        return None
