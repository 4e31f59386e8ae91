"""Prometheus metrics. With several workers set PROMETHEUS_MULTIPROC_DIR so that /metrics sums them."""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("shopguide_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "shopguide_request_seconds",
    "Request latency by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
FALLBACKS = Counter("shopguide_fallbacks_total", "Recommended items served by each fallback source", ["source"])
DEGRADED = Counter("shopguide_degraded_total", "Responses served by the static last-resort list", ["reason"])
EVENTS = Counter("shopguide_events_total", "Events received", ["outcome"])
MODEL_VERSION = Gauge(
    "shopguide_model_info", "The model version served by this worker", ["version", "model"], multiprocess_mode="max"
)


def render() -> tuple[bytes, str]:
    """The metrics page, aggregated over workers when running multi-process."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
