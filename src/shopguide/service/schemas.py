"""Request and response bodies of the HTTP API (pydantic)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shopguide.data.schema import Item


class RecommendedItem(BaseModel):
    id: str
    title: str | None = None
    title_alt: str | None = None
    price: float | None = None
    category: list[str] = Field(default_factory=list)
    brand: str | None = None
    score: float
    source: str = Field(description="Which recommender or fallback produced the item.")
    reason: str = Field(description="Why, in the requested language.")
    reasons: dict[str, str] = Field(default_factory=dict, description="The reason in every language.")


class RecommendationResponse(BaseModel):
    user: str | None = None
    item: str | None = None
    items: list[RecommendedItem]
    model_version: str | None
    degraded: bool = Field(description="True when a fallback (not the primary model) served the answer.")
    context: dict[str, Any] = Field(default_factory=dict)


class SearchResponse(BaseModel):
    query: str
    items: list[RecommendedItem]
    model_version: str | None


class EventBatch(BaseModel):
    """Events are validated one by one in the route, so one bad event never rejects the batch."""

    events: list[Any] = Field(description="Up to max_event_batch event objects.")


class RejectedEvent(BaseModel):
    index: int
    field: str | None
    reason: str


class EventsResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    errors: list[RejectedEvent] = Field(default_factory=list)


class ItemBatch(BaseModel):
    items: list[Item]


class UpsertResult(BaseModel):
    upserted: int


class ModelVersion(BaseModel):
    version: str
    model: str | None
    active: bool
    served: bool
    created_at: float | None = None
    n_users: int | None = None
    n_items: int | None = None
    fit_seconds: float | None = None


class TrainRequest(BaseModel):
    model: str = "fallback"
    params: dict[str, Any] = Field(default_factory=dict)


class TrainAccepted(BaseModel):
    job: str
    status: str


class ErrorBody(BaseModel):
    error: str
    detail: str
    field: str | None = None
