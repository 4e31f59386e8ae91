"""GET /v1/users/{id}/recommendations and /v1/items/{id}/similar: deadline-bounded, never a 5xx from a model."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from shopguide.data.schema import ID_PATTERN
from shopguide.errors import NotFoundError
from shopguide.recommend.base import Recommendation
from shopguide.recommend.context import Context, ContextReranker
from shopguide.recommend.explain import Reason
from shopguide.service import metrics
from shopguide.service.answer_cache import CachedAnswer
from shopguide.service.deps import ServingStateDep
from shopguide.service.models import Served
from shopguide.service.resilience import DeadlineExceeded, run_with_deadline
from shopguide.service.schemas import RecommendationResponse, RecommendedItem

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["recommendations"])

IdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]
N = Annotated[int, Query(ge=1, le=100, description="How many items (at most 100).")]
Lang = Annotated[str, Query(pattern="^(en|zh)$")]
PRIMARY_SOURCES = {"item_knn", "user_knn", "content", "als", "bpr", "ease", "hybrid", "sequential", "context"}
RECENT_EVENTS = 20
_RERANKER = ContextReranker()


@lru_cache(maxsize=8192)
def _text(reason: Reason, lang: str) -> str:
    """A reason's sentence; reasons repeat across requests (frozen, hashable), so their text is cached."""
    return reason.text(lang)


def present(served: Served | None, recs: list[Recommendation], lang: str) -> list[RecommendedItem]:
    """Attach catalog facts (from the model that produced the answer, even if a swap happened since)."""
    data = served.model.dataset_ if served else None
    out = []
    for rec in recs:
        idx = data.items.index(rec.item) if data is not None else None
        meta = data.item(idx) if idx is not None else None
        out.append(
            RecommendedItem(
                id=rec.item,
                title=meta.title if meta else None,
                title_alt=meta.title_alt if meta else None,
                price=meta.price if meta else None,
                category=list(meta.category) if meta else [],
                brand=meta.brand if meta else None,
                score=round(float(rec.score), 6),
                source=rec.source,
                reason=_text(rec.reason, lang),
                reasons={"en": _text(rec.reason, "en"), "zh": _text(rec.reason, "zh")},
            )
        )
    return out


def static_answer(
    served: Served | None, n: int, blocked: set[str], categories: list[str] | None = None
) -> list[Recommendation]:
    """The last rung of the ladder: the popular list computed when the model was loaded (filters kept)."""
    items = [i for i in (served.static_items if served else ()) if i not in blocked]
    if categories and served is not None:
        index = served.model._category_items()
        data = served.model.dataset_
        allowed = {data.items.id(int(i)) for name in categories for i in index.get(name, ())}
        items = [i for i in items if i in allowed]
    return [Recommendation(i, float(n - k), "static", Reason("static")) for k, i in enumerate(items[:n])]


def with_context(
    served: Served, recs: list[Recommendation], ctx: Context, n: int, blocked: set[str], categories: list[str] | None
) -> list[Recommendation]:
    """Lift recommended items that fit the context and add up to n/5 fitting items the model missed."""
    if served.context is None or not ctx.conditions():
        return recs
    reranked = _RERANKER.rerank(recs, served.context, ctx)
    if categories:
        return reranked[:n]
    taken = blocked | {r.item for r in reranked}
    extra = served.context.recommendations(ctx, max(1, n // 5), exclude=taken)
    return reranked[: n - len(extra)] + extra if extra else reranked[:n]


def is_degraded(sources: Sequence[str]) -> bool:
    """An answer is degraded when a fallback, not a primary model, produced its first item (or it is empty)."""
    return not sources or sources[0] not in PRIMARY_SOURCES


def count_sources(sources: Sequence[str]) -> None:
    """Record fallback metrics: one count per item a fallback supplied."""
    for source in sources:
        if source not in PRIMARY_SOURCES:
            metrics.FALLBACKS.labels(source).inc()


def json_answer(response: RecommendationResponse, sources: Sequence[str]) -> CachedAnswer:
    """The response serialised once (the route returns these bytes as they are: no second validation)."""
    return CachedAnswer(response.model_dump_json().encode(), tuple(sources))


@router.get("/users/{user_id}/recommendations", response_model=RecommendationResponse)
async def recommendations(
    user_id: IdPath,
    state: ServingStateDep,
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
) -> Response:
    """Personalised items with score, source and reason. Recent events of the user (up to the very last
    one) shape the answer without retraining. ``degraded`` is true when a fallback served it.

    A finished answer is kept in the worker's answer cache under everything it depends on, including
    the shopper's recent actions read for this request, so it is reused only while nothing changed."""
    state.models.refresh()
    served = state.models.served
    generation = state.deleted_generation  # read before the set: a key never claims a newer set than it used
    blocked = set(exclude or ()) | state.deleted
    raw_context = {
        "local_time": local_time,
        "city": city,
        "region": region,
        "hemisphere": hemisphere,
        "weather": weather,
        "temperature_c": temperature_c,
    }
    given = tuple((k, v) for k, v in raw_context.items() if v is not None)
    ctx = Context.parse(dict(given))
    request_key = (n, tuple(category or ()), tuple(sorted(set(exclude or ()))), lang, given, generation)

    def respond(recs: list[Recommendation]) -> CachedAnswer:
        response = RecommendationResponse(
            user=user_id,
            items=present(served, recs, lang),
            model_version=served.version if served else None,
            degraded=is_degraded([rec.source for rec in recs]),
            context={"conditions": sorted(ctx.conditions())},
        )
        return json_answer(response, [rec.source for rec in recs])

    def lookup() -> tuple[tuple, list[tuple[str, str]], CachedAnswer | None]:
        """The shopper's recent actions, the cache key they make, and the cached answer under it."""
        recent = state.store.recent_actions(user_id, limit=RECENT_EVENTS)
        key = (served.version, user_id, tuple(recent), request_key)  # only called with a model loaded
        answer = state.answers.get(key)
        metrics.ANSWER_CACHE.labels("miss" if answer is None else "hit").inc()
        return key, recent, answer

    def work(looked_up: tuple | None) -> CachedAnswer:
        if served is None:
            raise NotFoundError("no model loaded")
        key, recent, answer = looked_up or lookup()
        if answer is None:
            recs = served.model.recommend(user_id, n, exclude=blocked, categories=category, history=recent[::-1])
            answer = respond(with_context(served, recs, ctx, n, blocked | {item for item, _ in recent}, category))
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
        answer = respond(static_answer(served, n, blocked, category))
    except Exception:  # a model failure must never become a 5xx: serve the static list
        log.exception("recommendation failed; serving the static list", extra={"user": user_id})
        metrics.DEGRADED.labels("error").inc()
        answer = respond(static_answer(served, n, blocked, category))
    count_sources(answer.sources)
    return Response(answer.body, media_type="application/json")


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
