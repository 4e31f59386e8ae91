"""A recommendation answer as the service serves it: the request, its cache key, the model call with the
context layer, and the JSON body with catalog facts and reasons.

Shared by the recommendations route and by :mod:`shopguide.service.warmup`, which prepares answers
before shoppers ask for them (the same function makes both, so a prepared answer is the very body the
route would have computed).
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from shopguide.recommend.base import Recommendation
from shopguide.recommend.context import Context, ContextReranker
from shopguide.recommend.explain import Reason
from shopguide.service import metrics
from shopguide.service.answer_cache import CachedAnswer
from shopguide.service.feed_strategies import context_share, strategy_items, with_local_time
from shopguide.service.models import Served
from shopguide.service.schemas import RecommendationResponse, RecommendedItem

if TYPE_CHECKING:
    from shopguide.service.state import ServiceState

PRIMARY_SOURCES = {"item_knn", "user_knn", "content", "als", "bpr", "ease", "hybrid", "sequential", "context"}
#: how many of the shopper's latest actions shape an answer (and key it in the cache)
RECENT_EVENTS = 20
_RERANKER = ContextReranker()
#: the route's context parameters, in the order FeedRequest.of keeps them
CONTEXT_FIELDS = ("local_time", "city", "region", "hemisphere", "weather", "temperature_c")
_LISTS = {"category": 20, "exclude": 500}  # repeatable parameters and their most values
_NUMBER = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,6})?")
_COUNT = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class FeedRequest:
    """What a caller asked for, normalised (hashable: part of the answer-cache key). The defaults are the
    API's: ten items, English reasons, no filters, no context."""

    n: int = 10
    categories: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # sorted, without repeats
    lang: str = "en"
    context: tuple[tuple[str, Any], ...] = ()  # the given context fields, in the API's order
    strategy: str = "model"  # the feed strategy a decision point chose (feed_strategies.py)

    @classmethod
    def of(
        cls, n: int, categories: Sequence[str] | None, exclude: Sequence[str] | None, lang: str, context: dict[str, Any]
    ) -> FeedRequest:
        return cls(
            n=n,
            categories=tuple(categories or ()),
            exclude=tuple(sorted(set(exclude or ()))),
            lang=lang,
            context=tuple((k, v) for k, v in context.items() if v is not None),
        )

    @classmethod
    def from_query(cls, query_string: bytes) -> FeedRequest | None:
        """The request a raw query string asks for, when it is in the plain form the route would accept
        as it is (digits for ``n``, known values for ``lang`` and ``hemisphere``, one value per scalar);
        None for anything else, which the route itself then parses and, if need be, rejects by field.

        Only the cache's fast path uses it: a request found in the cache under this key was validated by
        the route when its answer was made (string fields are part of the key as they were sent)."""
        scalars: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            if not value:
                return None
            if name in _LISTS:
                lists.setdefault(name, []).append(value)
            elif name in scalars:
                return None
            else:
                scalars[name] = value
        if any(len(values) > _LISTS[name] for name, values in lists.items()):
            return None
        n = scalars.get("n", "10")
        lang = scalars.get("lang", "en")
        temperature = scalars.get("temperature_c")
        if not _COUNT.fullmatch(n) or not 1 <= int(n) <= 100 or lang not in ("en", "zh"):
            return None
        if scalars.get("hemisphere", "north") not in ("north", "south"):
            return None
        context: dict[str, Any] = {name: scalars.get(name) for name in CONTEXT_FIELDS}
        if temperature is not None:
            if not _NUMBER.fullmatch(temperature) or not -80 <= float(temperature) <= 70:
                return None
            context["temperature_c"] = float(temperature)
        return cls.of(int(n), lists.get("category"), lists.get("exclude"), lang, context)

    def parsed_context(self) -> Context:
        """The context as the re-ranking layer reads it (raises DataError naming a bad field)."""
        return Context.parse(dict(self.context))


def answer_key(
    version: str, user: str, recent: Sequence[tuple[str, str]], request: FeedRequest, deleted_generation: int
) -> tuple[Hashable, ...]:
    """Everything an answer depends on: a new event, model or deletion makes a new key."""
    return (version, user, tuple(recent), request, deleted_generation)


def look_up(
    state: ServiceState, served: Served, user: str, request: FeedRequest, generation: int, *, count_miss: bool = True
) -> tuple[tuple[Hashable, ...], list[tuple[str, str]], CachedAnswer | None]:
    """The shopper's recent actions as read now, the answer key they make, and the cached answer under
    it (None on a miss). ``generation`` is the deleted-items generation read before the deleted set."""
    recent = state.store.recent_actions(user, limit=RECENT_EVENTS)
    key = answer_key(served.version, user, recent, request, generation)
    return key, recent, state.answers.get(key, count_miss=count_miss)


def key_request(key: tuple[Hashable, ...]) -> tuple[str, FeedRequest]:
    """The shopper and request of an :func:`answer_key` (to prepare the same answer with another model)."""
    _, user, _, request, _ = key
    return user, request  # type: ignore[return-value]


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
    served: Served | None, n: int, blocked: set[str], categories: Sequence[str] | None = None
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
    served: Served,
    recs: list[Recommendation],
    ctx: Context,
    n: int,
    blocked: set[str],
    categories: Sequence[str] | None,
    share: int = 5,
) -> list[Recommendation]:
    """Lift recommended items that fit the context and add up to n/``share`` fitting items the model missed."""
    if served.context is None or not ctx.conditions():
        return recs
    reranked = _RERANKER.rerank(recs, served.context, ctx)
    if categories:
        return reranked[:n]
    taken = blocked | {r.item for r in reranked}
    extra = served.context.recommendations(ctx, max(1, n // share), exclude=taken)
    return reranked[: n - len(extra)] + extra if extra else reranked[:n]


def is_degraded(sources: Sequence[str]) -> bool:
    """An answer is degraded when a fallback, not a primary model, produced its first item (or it is empty)."""
    return not sources or sources[0] not in PRIMARY_SOURCES


def count_sources(sources: Sequence[str]) -> None:
    """Record fallback metrics: one count per item a fallback supplied."""
    for source in sources:
        if source not in PRIMARY_SOURCES:
            metrics.FALLBACKS.labels(source).inc()


def respond(
    served: Served | None, user: str, recs: list[Recommendation], request: FeedRequest, ctx: Context
) -> CachedAnswer:
    """The response body, serialised once (the route returns these bytes as they are: no second validation)."""
    sources = [rec.source for rec in recs]
    response = RecommendationResponse(
        user=user,
        items=present(served, recs, request.lang),
        model_version=served.version if served else None,
        # a strategy that leads with popularity on purpose is not a fallback
        degraded=is_degraded(sources) if request.strategy == "model" or not sources else False,
        context={"conditions": sorted(ctx.conditions())},
        strategy=request.strategy,
    )
    body = response.model_dump_json(exclude={"decision"}).encode()
    return CachedAnswer(body, tuple(sources), tuple(rec.item for rec in recs))


def compute_answer(
    served: Served, user: str, request: FeedRequest, recent: Sequence[tuple[str, str]], deleted: set[str]
) -> CachedAnswer:
    """The model's answer for ``user``: ``recent`` (newest first) drives it without retraining; deleted and
    excluded items never appear; the context layer re-ranks."""
    blocked = set(request.exclude) | deleted
    categories = list(request.categories) or None
    ctx = request.parsed_context()
    if request.strategy == "context_mix":
        ctx = with_local_time(ctx, time.time())
    recs = strategy_items(request.strategy, served, user, request.n, blocked, categories, recent[::-1])
    recs = with_context(served, recs, ctx, request.n, blocked | {item for item, _ in recent}, categories,
                        share=context_share(request.strategy))  # fmt: skip
    return respond(served, user, recs, request, ctx)
