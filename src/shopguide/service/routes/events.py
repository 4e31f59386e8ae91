"""POST /v1/events: validated one by one, idempotent, durable before the response."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter

from shopguide.data.schema import Event, validate_record
from shopguide.errors import DataError, StoreRefusedError
from shopguide.security.auth import require
from shopguide.service import metrics
from shopguide.service.deps import StateDep
from shopguide.service.schemas import EventBatch, EventsResult, RejectedEvent
from shopguide.store.base import AddEventsResult

router = APIRouter(prefix="/v1", tags=["events"], dependencies=[require("ingest")])
log = logging.getLogger(__name__)


@router.post("/events", response_model=EventsResult)
def post_events(batch: EventBatch, state: StateDep) -> EventsResult:
    """Store a batch of events. Each event's ``id`` is its idempotency key (derived from its content when
    absent): re-sending counts as ``duplicate``. Invalid events are rejected with a reason each; the
    valid ones are still stored. Accepted events are committed before the response is sent.

    Validation is the edge's (:func:`~shopguide.data.schema.validate_record`): finite numbers, a time from
    2000-01-01 to a day ahead, no control characters, personal data in ``context`` masked. Should the database
    refuse the batch anyway, the events are stored one by one and only the refused ones are rejected."""
    limit = state.settings.max_event_batch
    if len(batch.events) > limit:
        raise DataError(f"at most {limit} events per request, got {len(batch.events)}", field="events")
    now = time.time()
    valid: list[tuple[int, Event]] = []
    errors: list[RejectedEvent] = []
    for index, raw in enumerate(batch.events):
        if not isinstance(raw, dict):
            errors.append(RejectedEvent(index=index, field=None, reason="an event must be a JSON object"))
            continue
        try:
            valid.append((index, validate_record(Event, raw, file=None, line=None, now=now)))
        except DataError as exc:
            errors.append(RejectedEvent(index=index, field=exc.field, reason=exc.message))
    try:
        result = state.store.add_events([ev for _, ev in valid])
    except StoreRefusedError as exc:  # not an outage: store the others, one by one, and reject the refused
        log.warning("the store refused a batch of %d events (%s); storing them one by one", len(valid), exc)
        result = AddEventsResult()
        for index, ev in valid:
            try:
                result += state.store.add_events([ev])
            except StoreRefusedError:
                errors.append(RejectedEvent(index=index, field=None, reason="the store could not hold this event"))
        errors.sort(key=lambda e: e.index)
    metrics.EVENTS.labels("accepted").inc(result.accepted)
    metrics.EVENTS.labels("duplicate").inc(result.duplicate)
    metrics.EVENTS.labels("rejected").inc(len(errors))
    return EventsResult(accepted=result.accepted, duplicate=result.duplicate, rejected=len(errors), errors=errors)
