"""Discovery routes: 搭配 bundles for an item and catalog search (Chinese and English)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shopguide.errors import ModelError
from shopguide.recommend.base import Recommendation
from shopguide.recommend.explain import Reason
from shopguide.security.auth import require
from shopguide.service.deps import ServingStateDep
from shopguide.service.feed import present
from shopguide.service.routes.recommend import IdPath, Lang, N
from shopguide.service.schemas import RecommendationResponse, SearchResponse

router = APIRouter(prefix="/v1", tags=["discovery"], dependencies=[require("read")])


@router.get("/items/{item_id}/bundle", response_model=RecommendationResponse)
def bundle(item_id: IdPath, state: ServingStateDep, n: Annotated[int, Query(ge=1, le=20)] = 4, lang: Lang = "en"):
    """Items from complementary categories that go with the item (搭配), each with why they pair."""
    served = state.models.served
    if served is None or served.pairing is None:
        raise ModelError("bundles are not available: no pairing index is loaded")
    recs = served.pairing.bundle(item_id, n, exclude=state.deleted)
    return RecommendationResponse(
        item=item_id, items=present(served, recs, lang), model_version=served.version, degraded=False
    )


@router.get("/search", response_model=SearchResponse)
def search(
    state: ServingStateDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Query in Chinese or English.")],
    n: N = 20,
    category: Annotated[str | None, Query(max_length=100)] = None,
    min_price: Annotated[float | None, Query(ge=0)] = None,
    max_price: Annotated[float | None, Query(ge=0)] = None,
    lang: Lang = "en",
) -> SearchResponse:
    """Lexical BM25 search over titles (both languages), brand, category, attributes and tags."""
    served = state.models.served
    if served is None or served.search is None:
        raise ModelError("search is not available: no search index is loaded")
    hits = served.search.search(q, n + len(state.deleted), category=category, min_price=min_price, max_price=max_price)
    recs = [
        Recommendation(h.item_id, h.score, "search", Reason("matches_query", traits=tuple(h.matched_terms[:4])))
        for h in hits
        if h.item_id not in state.deleted
    ][:n]
    return SearchResponse(query=q, items=present(served, recs, lang), model_version=served.version)
