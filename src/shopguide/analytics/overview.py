"""Headline figures of a selection: events by type, active users, buyers, items, days."""

from __future__ import annotations

from typing import Any

from shopguide.analytics.filters import Filters, day_date
from shopguide.analytics.keys import EVENT_TYPES
from shopguide.analytics.source import EventSource


def overview(source: EventSource, filters: Filters | None = None) -> dict[str, Any]:
    """``events``, ``events_by_type``, ``users`` (with an action: any type but impression), ``buyers``,
    ``purchase_conversion`` (buyers / users), ``items`` (with any event), ``categories`` (top-level, with
    events), ``first_day`` / ``last_day`` (ISO), ``days`` (with events), ``last_day_share`` (the share of the
    last day up to its latest event: below 1 when the day is still going on) and ``simulated`` (any event made by
    the demo simulator); and ``skipped_events``: events of the whole source left out for an unusable time or
    value (rows an older version stored; not affected by the filters)."""
    with source.session(filters) as s:
        row = s.rows(
            """
            SELECT count(*), count(DISTINCT u) FILTER (WHERE t <> 'impression'),
                   count(DISTINCT u) FILTER (WHERE t = 'purchase'), count(DISTINCT i), count(DISTINCT cat),
                   min(day), max(day), count(DISTINCT day), coalesce(bool_or(simulated = 'true'), false),
                   max(ts) FILTER (WHERE day IS NOT NULL)
            FROM fe
            """
        )[0]
        by_type = dict(s.rows("SELECT CAST(t AS VARCHAR), count(*) FROM fe GROUP BY 1"))
    events, users, buyers, items, categories, first, last, days, simulated, last_ts = row
    # how much of the last day the events reach into (a day still going on, or a log cut off mid-day)
    share = None
    if last is not None and last_ts is not None:
        share = round(min(max((float(last_ts) + source.utc_offset_hours * 3600.0) / 86400.0 - int(last), 0.0), 1.0), 4)
    return {
        "events": int(events),
        "events_by_type": {t: int(by_type.get(t, 0)) for t in EVENT_TYPES},
        "users": int(users),
        "buyers": int(buyers),
        "purchase_conversion": buyers / users if users else None,
        "items": int(items),
        "categories": int(categories),
        "first_day": day_date(first).isoformat() if first is not None else None,
        "last_day": day_date(last).isoformat() if last is not None else None,
        "days": int(days),
        "last_day_share": share,
        "simulated": bool(simulated),
        "skipped_events": int(source.skipped_events),
    }
