"""Request and response bodies of the HTTP API (pydantic)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shopguide.data.schema import ID_PATTERN, Item, edge_context, free_text
from shopguide.guide.types import Card


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


class DecisionOut(BaseModel):
    """How a decision point chose this answer. Send ``request_id`` back as ``context.request_id`` of the
    impressions, clicks, carts and purchases it leads to: that is how the learning loop credits it."""

    point: str = Field(description="The decision point, e.g. feed:home.")
    request_id: str
    arm: str = Field(description="The strategy served.")
    propensity: float = Field(description="The probability the policy had of choosing this arm.")
    policy: str = Field(description="The policy kind, or 'fixed' when an experiment's variant fixed the arm.")
    policy_version: int
    experiment: str | None = None
    variant: str | None = None


class RecommendationResponse(BaseModel):
    user: str | None = None
    item: str | None = None
    items: list[RecommendedItem]
    model_version: str | None
    degraded: bool = Field(description="True when a fallback (not the primary model) served the answer.")
    context: dict[str, Any] = Field(default_factory=dict)
    strategy: str | None = Field(default=None, description="The feed strategy that led the list (feed only).")
    decision: DecisionOut | None = Field(
        default=None, description="Present when a decision point (learning loop or A/B experiment) chose the strategy."
    )


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
    """Items from outside: validated with the edge rules of :mod:`shopguide.data.schema` (finite prices,
    no control characters...)."""

    items: list[Item]

    @model_validator(mode="wrap")
    @classmethod
    def _at_the_edge(cls, data: Any, handler: ModelWrapValidatorHandler[ItemBatch], info: ValidationInfo) -> ItemBatch:
        if info.context is None:  # FastAPI validates without a context: validate again with the edge's
            return cls.model_validate(data, context=edge_context())
        return handler(data)


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
    evaluation: dict[str, Any] | None = Field(
        default=None,
        description="Continuous training's champion / challenger comparison of this version: metrics of both on "
        "the recent held-out events, evaluated shoppers, cutoff, promoted and why (evaluate/challenger.py).",
    )


class TrainRequest(BaseModel):
    model: str = "fallback"
    params: dict[str, Any] = Field(default_factory=dict)


class TrainAccepted(BaseModel):
    job: str
    status: str


class ErrorBody(BaseModel):
    """Every error answer: a code, what is wrong, and where (the request field or header), when known."""

    error: str
    detail: str
    field: str | None = None


#: The error answers any route may give, documented once for the whole API (service/app.py).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad request: a parameter that is well-formed but not usable."),
        (401, "No valid API key (missing, unknown, expired or revoked)."),
        (403, "The key lacks the route's scope."),
        (404, "An id that does not exist."),
        (409, "No model can serve this right now, a training job is already running, or a concurrent change."),
        (413, "The body is too large."),
        (422, "Invalid input; `field` names what is wrong."),
        (429, "Too many requests; see Retry-After."),
        (503, "Overloaded, starting, or the store is unavailable; see Retry-After."),
    )
}


# ---------------------------------------------------------------- chat (the conversational guide)
class ChatRequest(BaseModel):
    """One chat message. The storefront's spellings ``session`` and ``user`` are accepted too."""

    model_config = ConfigDict(populate_by_name=True)

    session_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        validation_alias=AliasChoices("session_id", "session"),
        description="The conversation; a new one is started (and returned) when absent.",
    )
    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        validation_alias=AliasChoices("user_id", "user"),
        description="The shopper, for personal re-ranking (optional).",
    )
    message: str = Field(min_length=1, max_length=500)
    lang: Literal["zh", "en"] | None = Field(default=None, description="Reply language; detected when absent.")

    @field_validator("message")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        """Messages are stored (session state, hand-off tickets): line breaks and tabs only."""
        free_text(value, "the message")
        return value


class Understood(BaseModel):
    """What the guide understood from the message (for debugging)."""

    intent: str
    confidence: float
    slots: dict[str, Any] = Field(default_factory=dict)
    negated: dict[str, list[str]] = Field(default_factory=dict)
    lang: str


class ChatResponse(BaseModel):
    session_id: str
    lang: str
    reply: str
    cards: list[Card] = Field(description="Products shown with the reply (id, title, price, reason).")
    items: list[Card] = Field(description="The same list as ``cards`` (the storefront reads ``items``).")
    suggestions: list[str] = Field(default_factory=list, description="Follow-ups the shopper may tap.")
    understood: Understood
    action: str = Field(description="What the guide did: results, clarify, compare, attribute, bundle, faq, ...")
    handoff: bool = Field(description="True when the conversation should go to a human.")
    slots: dict[str, Any] = Field(default_factory=dict, description="The conversation's slots after this turn.")
    negated: dict[str, list[str]] = Field(default_factory=dict)
    model_version: str | None = None
    degraded: bool = Field(default=False, description="True when a fallback answered (deadline or failure).")
    decision: DecisionOut | None = Field(
        default=None, description="Present when the learning loop chose whether to ask or to show (guide:vague)."
    )


class TicketOut(BaseModel):
    """A hand-off ticket of the guide (see ``GET /v1/admin/tickets``)."""

    id: int
    created_at: float
    updated_at: float
    session_id: str
    user_id: str | None = None
    reason: str = Field(description="defect, missing_parts, wrong_item, refund, exchange, complaint, angry, human, "
                        "order_status, payment_problem, repeated_failure, unanswered ...")  # fmt: skip
    sentiment: str
    order_id: str | None = None
    summary: str = Field(description="The message that led to the hand-off (personal data masked).")
    transcript: list[dict[str, str]] = Field(description="The conversation's last turns, {role, text}, masked.")
    status: str


class TicketStatus(BaseModel):
    status: Literal["open", "closed"]
