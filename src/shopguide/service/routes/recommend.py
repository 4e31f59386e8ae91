"""GET /v1/users/{id}/recommendations and /v1/items/{id}/similar: deadline-bounded, never a 5xx from a model."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from shopguide.data.schema import ID_PATTERN
from shopguide.errors import NotFoundError
from shopguide.recommend.base import Recommendation
from shopguide.security.auth import require
from shopguide.service import metrics
from shopguide.service.answer_cache import CachedAnswer
from shopguide.service.deps import ServingStateDep
from shopguide.service.feed import (
    FeedRequest,
    compute_answer,
    count_sources,
    is_degraded,
    look_up,
    present,
    respond,
    static_answer,
)
from shopguide.service.feed_fast_path import CHOICE_KEY
from shopguide.service.learning import decide_feed, with_decision
from shopguide.service.resilience import DeadlineExceeded, run_with_deadline
from shopguide.service.schemas import RecommendationResponse
from shopguide.service.state import ServiceState

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["recommendations"], dependencies=[require("read")])

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]
N = Annotated[int, Query(ge=1, le=100, description="How many items (at most 100).")]
Lang = Annotated[str, Query(pattern="^(en|zh)$")]


@router.get("/users/{user_id}/recommendations", response_model=RecommendationResponse)
async def recommendations(
    user_id: IdPath,
    state: ServingStateDep,
    http: Request,
    n: N = 10,
    category: Annotated[list[str] | None, Query(max_length=20)] = None,
    exclude: Annotated[list[str] | None, Query(max_length=500)] = None,
    lang: Lang = "en",
    local_time: Annotated[str | None, Query(description="Shopper's local time, ISO-8601.")] = None,
    city: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    hemisphere: Annotated[str | None, Query(pattern="^(north|south)$")] = None,
    weather: Annotated[str | None, Query(max_length=64, description="e.g. rain, snow, cold, 下雨")] = None,
    temperature_c: Annotated[float | None, Query(ge=-80, le=70)] = None,
    placement: Annotated[
        str,
        Query(pattern=r"^[a-z0-9_-]{1,48}$", description="Where the feed is shown (decision point feed:<placement>)."),
    ] = "home",
    device: Annotated[
        str | None, Query(max_length=32, description="mobile, desktop or app (a context feature).")
    ] = None,
) -> Response:
    """Personalised items with score, source and reason. Recent events of the user (up to the very last
    one) shape the answer without retraining. ``degraded`` is true when a fallback served it.

    A finished answer is kept in the worker's answer cache under everything it depends on, including
    the shopper's recent actions read for this request, so it is reused only while nothing changed."""
    state.models.refresh()
    served = state.models.served
    generation = state.deleted_generation  # read before the set: a key never claims a newer set than it used
    context = {
        "local_time": local_time,
        "city": city,
        "region": region,
        "hemisphere": hemisphere,
        "weather": weather,
        "temperature_c": temperature_c,
    }
    request = FeedRequest.of(n, category, exclude, lang, context)
    ctx = request.parsed_context()  # a bad field is a 422 naming it, before any work
    handed = getattr(http.state, CHOICE_KEY, None)  # the cache fast path decided already (and missed)
    choice = handed if handed is not None and handed.point == f"feed:{placement}" else None
    if choice is None:
        learning = getattr(http.app.state, "learning", None)
        decide = partial(decide_feed, learning, state.store, served, user_id, placement, local_time=local_time,
                         device=device)  # fmt: skip
        # the context read is a network round trip on PostgreSQL: off the event loop there
        choice = decide() if state.store.local else await asyncio.to_thread(decide)
    if choice is not None:
        request = replace(request, strategy=choice.arm)

    def lookup() -> tuple[tuple, list[tuple[str, str]], CachedAnswer | None]:
        looked_up = look_up(state, served, user_id, request, generation)  # only called with a model
        metrics.ANSWER_CACHE.labels("miss" if looked_up[2] is None else "hit").inc()
        return looked_up

    def work(looked_up: tuple | None) -> CachedAnswer:
        if served is None:
            raise NotFoundError("no model loaded")
        key, recent, answer = looked_up or lookup()
        if answer is None:
            answer = compute_answer(served, user_id, request, recent, state.deleted)
            state.answers.put(key, answer)
        return answer

    try:
        # A local store (SQLite) answers the recent-actions read in tens of microseconds: do it here, so
        # that a cache hit costs no thread hop; only a miss goes to a worker thread under the deadline.
        looked_up = lookup() if served is not None and state.answers.size and state.store.local else None
        if looked_up is not None and looked_up[2] is not None:
            answer = looked_up[2]
        else:
            answer = await run_with_deadline(lambda: work(looked_up), state.settings.deadline_ms / 1000)
    except DeadlineExceeded:
        metrics.DEGRADED.labels("deadline").inc()
        answer, choice = respond(served, user_id, static_answer(served, n, blocked(state, request), category),
                                 replace(request, strategy="model"), ctx), None  # fmt: skip
    except Exception:  # a model failure must never become a 5xx: serve the static list
        log.exception("recommendation failed; serving the static list", extra={"user": user_id})
        metrics.DEGRADED.labels("error").inc()
        answer, choice = respond(served, user_id, static_answer(served, n, blocked(state, request), category),
                                 replace(request, strategy="model"), ctx), None  # fmt: skip
    count_sources(answer.sources)
    if choice is None:
        return Response(answer.body, media_type="application/json")
    http.app.state.learning.log(choice, answer.items, user_id=user_id)
    return Response(with_decision(answer.body, choice), media_type="application/json")


def blocked(state: ServiceState, request: FeedRequest) -> set[str]:
    """Items an answer must leave out: the caller's exclusions and deleted items."""
    return set(request.exclude) | state.deleted


@router.get("/items/{item_id}/similar", response_model=RecommendationResponse)
async def similar(item_id: IdPath, state: ServingStateDep, n: N = 10, lang: Lang = "en") -> RecommendationResponse:
    """Items similar to an item (content similarity covers brand-new items)."""
    state.models.refresh()
    served = state.models.served

    def work() -> list[Recommendation]:
        if served is None:
            raise NotFoundError("no model loaded")
        return served.model.similar_items(item_id, n, exclude=state.deleted)

    try:
        recs = await run_with_deadline(work, state.settings.deadline_ms / 1000)
    except DeadlineExceeded:
        metrics.DEGRADED.labels("deadline").inc()
        recs = static_answer(served, n, state.deleted | {item_id})
    except Exception:  # never a 5xx because a model failed
        log.exception("similar items failed; serving the static list", extra={"item": item_id})
        metrics.DEGRADED.labels("error").inc()
        recs = static_answer(served, n, state.deleted | {item_id})
    sources = [rec.source for rec in recs]
    count_sources(sources)
    return RecommendationResponse(
        item=item_id,
        items=present(served, recs, lang),
        model_version=served.version if served else None,
        degraded=is_degraded(sources),
    )
