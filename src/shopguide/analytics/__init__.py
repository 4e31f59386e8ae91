"""Behaviour analytics over the event store, in DuckDB: funnels, retention cohorts, RFM segments, repeat
purchase, trending items and categories, catalogue coverage and long tail, and strategy performance
(CTR / conversion by recommendation source, strategy, guide intent and A/B arm).

::

    source = EventSource.from_store("sqlite:///var/shopguide.db", cache_dir="var/analytics")
    f = Filters.of("2026-09-01", "2026-09-30", ["服装"])
    funnel(source, f, by="day")                     # a DataFrame
    aggs = compute_dashboard(source, f)              # everything, JSON-ready
    write_report(aggs, "report.html")                # self-contained HTML with inline SVG charts

Modules, one concept each: ``keys`` (event types, the context keys producers should write), ``filters``,
``export`` (store -> Parquet, incremental), ``source`` + ``prepare`` (the DuckDB working table), ``session``
(a cursor with the filtered view), ``dims``,
``overview``, ``funnel``, ``cohorts``, ``rfm``, ``trends``, ``coverage``, ``strategy``, ``dashboard`` (all
aggregates at once), ``cache`` (JSON by fingerprint + filters), ``charts`` (SVG) and ``report`` (HTML).
"""

from __future__ import annotations

from shopguide.analytics.cache import AggregateCache
from shopguide.analytics.cohorts import retention, retention_matrix
from shopguide.analytics.coverage import Coverage, coverage
from shopguide.analytics.dashboard import (
    AGGREGATES_VERSION,
    DashboardOptions,
    cache_key,
    compute_dashboard,
    load_or_compute,
)
from shopguide.analytics.dims import DIMENSIONS, NONE_LABEL
from shopguide.analytics.export import export_store, store_fingerprint
from shopguide.analytics.filters import Filters
from shopguide.analytics.funnel import STAGES, funnel, tracked_stages
from shopguide.analytics.keys import ACTION_TYPES, CONTEXT_KEYS, EVENT_TYPES
from shopguide.analytics.overview import overview
from shopguide.analytics.report import render_report, render_sections, write_report
from shopguide.analytics.rfm import SEGMENTS, repeat_purchase, rfm_segments, rfm_table, segment_of
from shopguide.analytics.source import EventSource
from shopguide.analytics.strategy import context_events, experiment_results, strategy_performance
from shopguide.analytics.trends import TrendWindows, trend_windows, trending

__all__ = [
    "ACTION_TYPES",
    "AGGREGATES_VERSION",
    "CONTEXT_KEYS",
    "DIMENSIONS",
    "EVENT_TYPES",
    "NONE_LABEL",
    "SEGMENTS",
    "STAGES",
    "AggregateCache",
    "Coverage",
    "DashboardOptions",
    "EventSource",
    "Filters",
    "TrendWindows",
    "cache_key",
    "compute_dashboard",
    "context_events",
    "coverage",
    "experiment_results",
    "export_store",
    "funnel",
    "load_or_compute",
    "overview",
    "render_report",
    "render_sections",
    "repeat_purchase",
    "retention",
    "retention_matrix",
    "rfm_segments",
    "rfm_table",
    "segment_of",
    "store_fingerprint",
    "strategy_performance",
    "tracked_stages",
    "trend_windows",
    "trending",
    "write_report",
]
