"""The feed's strategies: the arms a decision point ``feed:<placement>`` chooses among.

=====================  ===================================================================================
``model``              the served model as it is (the fallback chain or the sequential model), with the
                       context layer adding up to n/5 items that fit the context: today's feed
``context_mix``        the same model, with up to half of the list chosen for the context (time of day,
                       season, weather); the server's clock stands in for a local time the caller did not send
``category_popular``   the bestsellers of the categories the shopper engages with (their recent actions),
                       filled from the model
``popular``            the time-decayed bestsellers, the same for everyone (the baseline every personal
                       strategy has to beat)
=====================  ===================================================================================

The popularity models are fitted on the served model's own data when a strategy first needs them (a count
over the interactions, milliseconds on the demo catalog) and kept with that served version.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from datetime import datetime

from shopguide.bandit.decisions import FEED_ARMS
from shopguide.recommend.base import Recommendation, Recommender
from shopguide.recommend.context import Context
from shopguide.service.models import Served

STRATEGIES = FEED_ARMS
_FITTED: weakref.WeakKeyDictionary[Recommender, dict[str, Recommender]] = weakref.WeakKeyDictionary()
_FIT_LOCK = threading.Lock()


def _popularity(served: Served, name: str) -> Recommender:
    """The served data's ``popular`` / ``category_popular`` model, fitted once per served version."""
    from shopguide.recommend.popularity import CategoryPopularity, Popularity

    with _FIT_LOCK:
        models = _FITTED.setdefault(served.model, {})
        model = models.get(name)
        if model is None:
            model = (CategoryPopularity() if name == "category_popular" else Popularity()).fit(served.model.dataset_)
            models[name] = model
    return model


def with_local_time(ctx: Context, now: float) -> Context:
    """``ctx`` with the server's local time when the caller sent none (the context mix needs a time)."""
    if ctx.local_time is not None:
        return ctx
    return ctx.model_copy(update={"local_time": datetime.fromtimestamp(now)})


def strategy_items(
    strategy: str,
    served: Served,
    user: str,
    n: int,
    blocked: set[str],
    categories: Sequence[str] | None,
    history: Sequence[tuple[str, str]],
) -> list[Recommendation]:
    """The leading list of ``strategy`` before the context layer (``history`` oldest first)."""
    if strategy in ("category_popular", "popular"):
        lead = _popularity(served, strategy).recommend(
            user, n, exclude=blocked, categories=categories, history=history, fill=False
        )
        if len(lead) < n:  # a shopper without history: the model fills the list
            taken = blocked | {r.item for r in lead}
            lead += served.model.recommend(user, n - len(lead), exclude=taken, categories=categories, history=history)
        return lead
    return served.model.recommend(user, n, exclude=blocked, categories=categories, history=history)


def context_share(strategy: str) -> int:
    """The largest fraction's denominator of context picks a strategy adds (n // share)."""
    return 2 if strategy == "context_mix" else 5
