"""The analytics dashboard: ``GET /dashboard`` (a server-rendered page with inline SVG charts, no scripts) and
``GET /v1/analytics`` / ``GET /v1/analytics/{section}`` (the same aggregates as JSON).

Every view takes the filters ``date_from``, ``date_to`` (YYYY-MM-DD, inclusive) and ``category`` (repeatable)
as query parameters. Aggregates are served from the JSON cache under ``<home>/analytics/cache`` keyed by the
store's fingerprint (event count, last event, items signature: two cheap queries, re-checked at most
every :data:`FINGERPRINT_TTL_S` seconds), the filters and the options; a miss refreshes the store's
Parquet copy incrementally, computes in DuckDB and caches. While events keep arriving, aggregates of the
same filters at most :data:`MAX_STALE_S` old are served as they are (the page shows when they were
computed), so a busy shop does not recompute on every request. The DuckDB working table of the latest
fingerprint stays in memory, so a change of filters does not reload the events. Shopper ids in it are
pseudonyms (the server secret's HMAC, see ``privacy/pseudonym.py``); an erasure (``routes/users.py``) drops
this worker's table at once; other workers rebuild theirs before their next computation (the erasure raises
the store's data generation, which they check then) and their cached aggregates are gone with the files.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from shopguide.analytics import AggregateCache, DashboardOptions, EventSource, Filters, cache_key, load_or_compute
from shopguide.analytics.dashboard import SECTIONS
from shopguide.analytics.report import REPORT_CSS, render_sections
from shopguide.errors import NotFoundError
from shopguide.security.auth import require
from shopguide.security.secret import server_secret
from shopguide.service.deps import StateDep

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
FINGERPRINT_TTL_S = 5.0
#: When the data changed, aggregates of the same filters computed at most this long ago are served as they
#: are (the page says so) instead of recomputing at every new event; 0 always recomputes.
MAX_STALE_S = 120.0
_HOLDER_LOCK = threading.Lock()
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")

router = APIRouter(tags=["analytics"], dependencies=[require("admin")])

DATE = r"^\d{4}-\d{2}-\d{2}$"
DateFrom = Annotated[str | None, Query(pattern=DATE, description="First day, YYYY-MM-DD.")]
DateTo = Annotated[str | None, Query(pattern=DATE, description="Last day (inclusive), YYYY-MM-DD.")]
Category = Annotated[list[str] | None, Query(description="Category (top level or leaf); repeatable.")]
Period = Annotated[str, Query(pattern="^(day|week)$", description="Retention cohorts by day or week.")]


@dataclass
class AnalyticsHolder:
    """Per-app analytics state: the cache, the latest working table and the last store fingerprint."""

    workdir: Path
    cache: AggregateCache
    secret: bytes | None = None  # pseudonymizes shopper ids in the Parquet copy and the working table
    lock: threading.Lock = field(default_factory=threading.Lock)
    source: EventSource | None = None
    fingerprint: str | None = None
    checked_at: float = 0.0
    generation: int | None = None  # the store's data generation when ``source`` was built

    def current_fingerprint(self, store: Any) -> str:
        now = time.monotonic()
        if self.fingerprint is None or now - self.checked_at > FINGERPRINT_TTL_S:
            self.fingerprint = EventSource.fingerprint_of_store(store)
            self.checked_at = now
        return self.fingerprint

    def source_for(self, store: Any, fingerprint: str) -> EventSource:
        """The working table for ``fingerprint`` (built on first use; the previous one is closed). Rebuilt also
        when rows were erased or purged since it was built (one key lookup, not waiting for the fingerprint's
        time to live): an erasure through another worker never reaches a computation of this one."""
        with self.lock:
            generation = store.data_generation()
            if self.source is None or self.source.fingerprint != fingerprint or generation != self.generation:
                fresh = EventSource.from_store(store, cache_dir=self.workdir, secret=self.secret)
                if self.source is not None:
                    self.source.close()
                self.source, self.generation = fresh, generation
                self.fingerprint, self.checked_at = fresh.fingerprint, time.monotonic()
            return self.source

    def forget(self) -> None:
        """Drop the working table and the known fingerprint (after an erasure): the next request reads the
        store's fingerprint again and rebuilds from the store."""
        with self.lock:
            if self.source is not None:
                self.source.close()
            self.source, self.fingerprint, self.checked_at = None, None, 0.0


def _holder(request: Request, state: Any) -> AnalyticsHolder:
    holder = getattr(request.app.state, "analytics", None)
    if holder is None:
        with _HOLDER_LOCK:
            holder = getattr(request.app.state, "analytics", None)
            if holder is None:
                workdir = Path(state.settings.home) / "analytics"
                cache = AggregateCache(workdir / "cache")
                holder = AnalyticsHolder(workdir=workdir, cache=cache, secret=server_secret(state.settings))
                request.app.state.analytics = holder
    return holder


def _aggregates(
    request: Request, state: Any, date_from: str | None, date_to: str | None, category: list[str] | None, period: str
) -> tuple[dict[str, Any], bool, Filters]:
    filters = Filters.of(date_from, date_to, category)
    options = DashboardOptions(period=period, splits=DashboardOptions.splits_of(state.store.experiment_specs()))
    holder = _holder(request, state)
    fingerprint = holder.current_fingerprint(state.store)
    latest = cache_key("latest", filters, options)
    if holder.cache.get(cache_key(fingerprint, filters, options)) is None and MAX_STALE_S > 0:
        recent = holder.cache.get(latest)
        if recent is not None and time.time() - recent["meta"].get("computed_at", 0) <= MAX_STALE_S:
            return recent, True, filters
    aggs, cached = load_or_compute(
        holder.cache, fingerprint, filters, options, lambda: holder.source_for(state.store, fingerprint)
    )
    if not cached:
        holder.cache.put(latest, aggs)
    return aggs, cached, filters


def _filters_form(aggs: dict[str, Any], filters: Filters, period: str) -> str:
    ov = aggs.get("overview", {})
    options = "".join(f'<option value="{escape(c)}">' for c in aggs.get("categories", []))
    chosen = ", ".join(filters.categories)
    periods = "".join(f'<option value="{p}"{" selected" if p == period else ""}>{p}</option>' for p in ("week", "day"))
    return (
        '<form class="filters" method="get" action="/dashboard">'
        f'<label>from<input type="date" name="date_from" value="{escape(filters.date_from.isoformat() if filters.date_from else "")}"></label>'
        f'<label>to<input type="date" name="date_to" value="{escape(filters.date_to.isoformat() if filters.date_to else "")}"></label>'
        f'<label>category<input type="text" name="category" list="categories" value="{escape(chosen)}" '
        'placeholder="all categories"></label>'
        f'<datalist id="categories">{options}</datalist>'
        f'<label>cohorts by<select name="period">{periods}</select></label>'
        '<button type="submit">Apply</button>'
        f'<span class="note">data: {escape(str(ov.get("first_day") or "–"))} .. {escape(str(ov.get("last_day") or "–"))}</span>'
        "</form>"
    )


def render_dashboard(aggs: dict[str, Any], filters: Filters, period: str, *, cached: bool, seconds: float) -> str:
    """The dashboard page for computed aggregates (the template ``web/dashboard.html`` filled in)."""
    template = (WEB_DIR / "dashboard.html").read_text(encoding="utf-8")
    params = [(k, v) for k, v in (("date_from", filters.date_from), ("date_to", filters.date_to)) if v]
    params += [("category", c) for c in filters.categories]
    query = urlencode([(k, str(v)) for k, v in params])
    status = ("from cached aggregates" if cached else "computed now") + f" · {seconds * 1000:.0f} ms"
    generated = aggs.get("meta", {}).get("generated_at", "")
    values = {
        "css": REPORT_CSS,
        "json_url": escape("/v1/analytics" + (f"?{query}" if query else "")),
        "filters": _filters_form(aggs, filters, period),
        "status": escape(f"{status} · aggregates of {generated}"),
        "body": render_sections(aggs),
    }
    # one pass over the template only: text inside the values (category names...) is never substituted
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _categories(category: list[str] | None) -> list[str]:
    """Category values, also accepting one comma-separated field (what the page's text box sends)."""
    return [part.strip() for value in category or [] for part in value.split(",") if part.strip()]


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard(
    request: Request,
    state: StateDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    category: Category = None,
    period: Period = "week",
) -> HTMLResponse:
    """The analytics dashboard page."""
    started = time.perf_counter()
    aggs, cached, filters = _aggregates(
        request, state, date_from or None, date_to or None, _categories(category), period
    )
    html = render_dashboard(aggs, filters, period, cached=cached, seconds=time.perf_counter() - started)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/v1/analytics")
def analytics(
    request: Request,
    state: StateDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    category: Category = None,
    period: Period = "week",
) -> dict[str, Any]:
    """Every dashboard aggregate for the filters, as JSON (``meta`` says how and when it was computed)."""
    aggs, _, _ = _aggregates(request, state, date_from or None, date_to or None, _categories(category), period)
    return aggs


@router.get("/v1/analytics/{section}")
def analytics_section(
    section: str,
    request: Request,
    state: StateDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    category: Category = None,
    period: Period = "week",
) -> Any:
    """One section of the aggregates: overview, funnel, retention, rfm, trends, coverage, strategy,
    categories or meta."""
    if section not in (*SECTIONS, "meta"):
        raise NotFoundError(f"no analytics section {section!r}; expected one of {', '.join((*SECTIONS, 'meta'))}")
    aggs, _, _ = _aggregates(request, state, date_from or None, date_to or None, _categories(category), period)
    return aggs[section]
