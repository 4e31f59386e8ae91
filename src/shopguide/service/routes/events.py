"""POST /v1/events: validated one by one, idempotent, durable before the response."""

from __future__ import annotations

from fastapi import APIRouter

from shopguide.data.schema import Event, validate_record
from shopguide.errors import DataError
from shopguide.service import metrics
from shopguide.service.deps import StateDep
from shopguide.service.schemas import EventBatch, EventsResult, RejectedEvent

router = APIRouter(prefix="/v1", tags=["events"])


@router.post("/events", response_model=EventsResult)
def post_events(batch: EventBatch, state: StateDep) -> EventsResult:
    """Store a batch of events. Each event's ``id`` is its idempotency key (derived from its content when
    absent): re-sending counts as ``duplicate``. Invalid events are rejected with a reason each; the
    valid ones are still stored. Accepted events are committed before the response is sent."""
    limit = state.settings.max_event_batch
    if len(batch.events) > limit:
        raise DataError(f"at most {limit} events per request, got {len(batch.events)}", field="events")
    valid: list[Event] = []
    errors: list[RejectedEvent] = []
    for index, raw in enumerate(batch.events):
        if not isinstance(raw, dict):
            errors.append(RejectedEvent(index=index, field=None, reason="an event must be a JSON object"))
            continue
        try:
            valid.append(validate_record(Event, raw, file=None, line=None))
        except DataError as exc:
            errors.append(RejectedEvent(index=index, field=exc.field, reason=exc.message))
    result = state.store.add_events(valid)
    metrics.EVENTS.labels("accepted").inc(result.accepted)
    metrics.EVENTS.labels("duplicate").inc(result.duplicate)
    metrics.EVENTS.labels("rejected").inc(len(errors))
    return EventsResult(accepted=result.accepted, duplicate=result.duplicate, rejected=len(errors), errors=errors)
