"""Answers prepared before shoppers ask for them.

The answer cache is keyed by model version, so a fresh worker and a freshly swapped model start cold:
each active shopper's next request is a model call (1-3 ms of CPU in a worker thread instead of a
0.1 ms lookup), and under traffic those first requests arrive together, which is where the latency
tail of a start-up or a swap came from (RESULTS.md §8). A worker therefore prepares answers off the
request path:

- at start-up, before it takes requests: the default feed (``FeedRequest()``: ten items, English) of
  the ``warm_shoppers`` most recently active shoppers in the store;
- for a new model version, after it is loaded and before it is swapped in (the old version serves
  meanwhile): the ``warm_answers`` answers the worker served most recently, same shoppers and same
  requests, computed with the new version.

Each answer is made by :func:`~shopguide.service.feed.compute_answer` from the shopper's recent actions
read at that moment, so it is exactly the body the route would compute, under the key the route will
look up; an event that arrives later changes the key as usual. Both are bounded by ``warm_seconds``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from shopguide.service import metrics
from shopguide.service.feed import FeedRequest, compute_answer, key_request, look_up
from shopguide.service.models import Served

if TYPE_CHECKING:
    from shopguide.service.state import ServiceState

log = logging.getLogger(__name__)
#: share of the time a swap's preparation computes (the worker is serving meanwhile); on Amazon Beauty,
#: unpaced, a swap every 2 s under 250 requests/s made one request wait past the in-flight limit (503)
SWAP_DUTY = 0.5


def prepare_answers(
    state: ServiceState,
    served: Served,
    requests: Iterable[tuple[str, FeedRequest]],
    *,
    seconds: float,
    occasion: str,
    duty: float = 1.0,
) -> int:
    """Compute and cache ``served``'s answer to each (shopper, request) until ``seconds`` have passed.

    ``duty`` < 1 paces the work while the worker serves traffic: after each answer the thread sleeps
    long enough to compute only that share of the time, leaving the CPU and the GIL to the requests
    (a swap under load). Returns how many answers were prepared. A failing shopper is logged and
    skipped (the route will compute that answer itself, with its fallbacks)."""
    if not state.answers.size or seconds <= 0:
        return 0
    until = time.monotonic() + seconds
    prepared = failed = 0
    for user, request in requests:
        if time.monotonic() > until:
            log.info("stopped preparing answers at the time limit", extra={"prepared": prepared, "seconds": seconds})
            break
        generation = state.deleted_generation  # read before the set, as the route does
        began = time.monotonic()
        try:
            key, recent, cached = look_up(state, served, user, request, generation, count_miss=False)
            if cached is None:
                state.answers.put(key, compute_answer(served, user, request, recent, state.deleted))
                prepared += 1
        except Exception:
            failed += 1
            log.warning("could not prepare an answer", extra={"user": user}, exc_info=failed == 1)
        # between answers the event loop's thread takes the GIL (and, paced, the CPU)
        time.sleep((time.monotonic() - began) * (1 - duty) / duty if 0 < duty < 1 else 0)
    metrics.PREPARED.labels(occasion).inc(prepared)
    return prepared


def warm_start(state: ServiceState) -> int:
    """Prepare the default feed of the most recently active shoppers for the served model."""
    served = state.models.served
    if served is None or not state.settings.warm_shoppers:
        return 0
    started = time.monotonic()
    users = state.store.active_users(state.settings.warm_shoppers)
    count = prepare_answers(
        state, served, ((u, FeedRequest()) for u in users), seconds=state.settings.warm_seconds, occasion="start"
    )
    log.info(
        "prepared answers at start-up",
        extra={"answers": count, "shoppers": len(users), "seconds": round(time.monotonic() - started, 2)},
    )
    return count


def warm_swap(state: ServiceState, incoming: Served) -> int:
    """Prepare, with ``incoming``, the answers most recently served by the current version."""
    current = state.models.served
    limit = state.settings.warm_answers
    if current is None or not limit or current.version == incoming.version:
        return 0
    started = time.monotonic()
    keys = [k for k in state.answers.recent_keys(4 * limit) if k[0] == current.version][:limit]
    count = prepare_answers(
        state, incoming, map(key_request, keys), seconds=state.settings.warm_seconds, occasion="swap", duty=SWAP_DUTY
    )
    log.info(
        "prepared answers for a new model version",
        extra={"version": incoming.version, "answers": count, "seconds": round(time.monotonic() - started, 2)},
    )
    return count
