"""Every aggregate the report and the /dashboard page show, computed at once into one JSON-ready dict.

:func:`compute_dashboard` runs the aggregates of :data:`SECTIONS` over one selection and records how long
each took; :func:`load_or_compute` serves the dict from an :class:`~shopguide.analytics.cache.AggregateCache`
when the data fingerprint, filters and options are unchanged. The dict is versioned
(:data:`AGGREGATES_VERSION`), so a change of shape invalidates old cache entries.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from shopguide.analytics.cache import AggregateCache
from shopguide.analytics.cohorts import retention
from shopguide.analytics.coverage import coverage
from shopguide.analytics.filters import Filters
from shopguide.analytics.funnel import funnel, tracked_stages
from shopguide.analytics.overview import overview
from shopguide.analytics.rfm import repeat_purchase, rfm_segments
from shopguide.analytics.source import EventSource
from shopguide.analytics.strategy import context_events, experiment_results, strategy_performance
from shopguide.analytics.trends import trend_windows, trending

AGGREGATES_VERSION = 4  # 2: overview.skipped_events; 3: experiments gain lift intervals and SRM; 4: last_day_share
SECTIONS = ("overview", "funnel", "retention", "rfm", "trends", "coverage", "strategy", "categories")


@dataclass(frozen=True)
class DashboardOptions:
    """Knobs of the dashboard aggregates (part of the cache key)."""

    period: str = "week"  # retention cohorts by day or week
    retention_periods: int = 12
    top: int = 15  # rows of per-category tables
    trend_limit: int = 15
    recent_days: int | None = None
    baseline_days: int | None = None
    head_share: float = 0.8
    window_hours: float = 24.0
    #: configured A/B splits, experiment -> ((variant, weight), ...), for the sample-ratio check (empty: equal)
    splits: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()

    @staticmethod
    def splits_of(specs: list[dict[str, Any]]) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
        """The ``splits`` field from stored experiment specs (``Store.experiment_specs``)."""
        out = []
        for spec in specs:
            variants = tuple((str(v["name"]), float(v.get("weight", 1.0))) for v in spec.get("variants", []))
            if spec.get("name") and len(variants) >= 2:
                out.append((str(spec["name"]), variants))
        return tuple(sorted(out))

    def key(self) -> str:
        return repr(sorted(asdict(self).items()))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts (NaN -> None, numpy scalars -> Python)."""
    out = []
    for row in frame.to_dict("records"):
        out.append({str(k): _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _funnel(source: EventSource, filters: Filters, o: DashboardOptions) -> dict[str, Any]:
    stages = tracked_stages(source, filters)
    return {
        "stages": stages,
        "overall": records(funnel(source, filters, tracked=stages)),
        "by_day": records(funnel(source, filters, by="day", tracked=stages)),
        "by_category": records(funnel(source, filters, by="category", limit=o.top, tracked=stages)),
        "by_traffic_source": records(funnel(source, filters, by="traffic_source", limit=o.top, tracked=stages)),
        "by_strategy": records(funnel(source, filters, by="strategy", limit=o.top, tracked=stages)),
    }


def _rfm(source: EventSource, filters: Filters, o: DashboardOptions) -> dict[str, Any]:
    segments = rfm_segments(source, filters)
    overall = records(repeat_purchase(source, filters))
    return {
        "basis": segments.attrs.get("basis", "count"),
        "segments": records(segments),
        "repeat": overall[0] if overall else {"group": "all", "buyers": 0, "repeat_buyers": 0, "rate": None},
        "repeat_by_category": records(repeat_purchase(source, filters, by="category").head(o.top)),
    }


def _trends(source: EventSource, filters: Filters, o: DashboardOptions) -> dict[str, Any]:
    windows = trend_windows(source, filters, recent_days=o.recent_days, baseline_days=o.baseline_days)
    kw = {"recent_days": o.recent_days, "baseline_days": o.baseline_days, "limit": o.trend_limit}
    return {
        "windows": windows.to_dict() if windows else None,
        "items": records(trending(source, filters, level="item", **kw)),
        "categories": records(trending(source, filters, level="category", **kw)),
    }


def _coverage(source: EventSource, filters: Filters, o: DashboardOptions) -> dict[str, Any]:
    result = coverage(source, filters, head_share=o.head_share)
    return {"rows": records(result.table), **result.to_dict()}


def _strategy(source: EventSource, filters: Filters, o: DashboardOptions) -> dict[str, Any]:
    w = o.window_hours
    out: dict[str, Any] = {
        "window_hours": w,
        "by_source": records(strategy_performance(source, filters, by="source", window_hours=w)),
        "by_strategy": records(strategy_performance(source, filters, by="strategy", window_hours=w)),
        "by_intent": records(strategy_performance(source, filters, by="intent", window_hours=w)),
        "by_traffic_source": records(strategy_performance(source, filters, by="traffic_source", window_hours=w)),
        "experiments": records(
            experiment_results(source, filters, window_hours=w, splits={e: dict(v) for e, v in o.splits} or None)
        ),
        "events_by_source": records(context_events(source, filters, key="source")),
        "notes": [],
    }
    if not out["by_source"]:
        out["notes"].append(
            "No impression events in this selection, so CTR and conversion by recommendation source, strategy "
            "and guide intent cannot be computed: log one 'impression' event per item shown, with "
            "context.source (and strategy / intent / experiment / variant)."
        )
    return out


_COMPUTE: dict[str, Callable[[EventSource, Filters, DashboardOptions], Any]] = {
    "overview": lambda s, f, o: overview(s, f),
    "funnel": _funnel,
    "retention": lambda s, f, o: {
        "period": o.period,
        "rows": records(retention(s, f, period=o.period, max_periods=o.retention_periods)),
    },
    "rfm": _rfm,
    "trends": _trends,
    "coverage": _coverage,
    "strategy": _strategy,
    "categories": lambda s, f, o: s.categories(Filters(f.date_from, f.date_to), limit=500),
}


def compute_dashboard(
    source: EventSource,
    filters: Filters | None = None,
    options: DashboardOptions | None = None,
    *,
    sections: tuple[str, ...] = SECTIONS,
) -> dict[str, Any]:
    """All aggregates of ``sections`` for one selection, plus ``meta`` (source, filters, timings)."""
    filters = filters or Filters()
    options = options or DashboardOptions()
    out: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name in sections:
        started = time.perf_counter()
        out[name] = _COMPUTE[name](source, filters, options)
        timings[name] = round(time.perf_counter() - started, 4)
    simulated = bool(out.get("overview", {}).get("simulated"))
    out["meta"] = {
        "version": AGGREGATES_VERSION,
        "source": source.description,
        "fingerprint": source.fingerprint,
        "filters": filters.to_dict(),
        "filters_text": filters.describe(),
        "options": asdict(options),
        "utc_offset_hours": source.utc_offset_hours,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "computed_at": time.time(),
        "timings": timings,
        "label": _demo_label() if simulated else None,
    }
    return out


def _demo_label() -> str:
    from shopguide.data.demo import demo_label

    return demo_label()


def cache_key(fingerprint: str, filters: Filters, options: DashboardOptions) -> str:
    """The cache key of a dashboard: data fingerprint + filters + options + aggregates version."""
    return AggregateCache.make_key(f"v{AGGREGATES_VERSION}", fingerprint, filters.key(), options.key())


def load_or_compute(
    cache: AggregateCache,
    fingerprint: str,
    filters: Filters,
    options: DashboardOptions,
    source: Callable[[], EventSource],
) -> tuple[dict[str, Any], bool]:
    """The cached dashboard for (fingerprint, filters, options), or a fresh one (then cached); and whether
    it came from the cache. ``source`` is called only on a miss."""
    key = cache_key(fingerprint, filters, options)
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    result = compute_dashboard(source(), filters, options)
    cache.put(key, result)
    return result, False
