"""``shopguide analyze``: behaviour analytics in the terminal, plus a self-contained HTML report.

Reads the store (default) or event files (``--data``: Parquet, CSV or the Taobao UserBehavior CSV), computes
every dashboard aggregate in DuckDB (cached under ``<home>/analytics/cache`` by data fingerprint and
filters), prints the key tables and writes the report (inline SVG charts, no scripts, works offline).
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shopguide.cli.common import HomeOpt, StoreOpt, console, handle_errors, progress_bar, settings_from


class SourceFormat(StrEnum):
    auto = "auto"
    parquet = "parquet"
    csv = "csv"
    taobao = "taobao"


class Period(StrEnum):
    day = "day"
    week = "week"


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def _int(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def _num(v: Any) -> str:
    return "–" if v is None else f"{float(v):,.2f}"


def _table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for _, header, fmt in columns:
        table.add_column(header, justify="left" if fmt is str else "right")
    for row in rows:
        table.add_row(
            *(
                ("–" if row.get(k) is None else str(row.get(k))) if fmt is str else fmt(row.get(k))
                for k, _, fmt in columns
            )
        )
    return table


def print_dashboard(aggs: dict[str, Any], *, top: int = 10) -> None:
    """The key tables of a dashboard dict on the console."""
    from shopguide.analytics.funnel import STAGE_LABELS

    meta, ov = aggs["meta"], aggs["overview"]
    if meta.get("label"):
        console.print(f"[yellow]{meta['label']}[/]")
    console.print(
        f"[bold]{ov['events']:,}[/] events · [bold]{ov['users']:,}[/] active shoppers · [bold]{ov['buyers']:,}[/] buyers "
        f"({_pct(ov['purchase_conversion'])}) · {ov['items']:,} items · {ov['first_day']} .. {ov['last_day']} "
        f"· selection: {meta['filters_text']}"
    )
    f = aggs["funnel"]
    stages = f["stages"]
    overall = f["overall"][0] if f["overall"] else {}
    funnel_rows = [
        {"stage": STAGE_LABELS[s], "users": overall.get(f"{s}_users"), "rate": overall.get(f"{s}_rate")} for s in stages
    ]
    console.print(
        _table(
            "Funnel (users per stage; rate vs previous stage)",
            funnel_rows,
            [("stage", "stage", str), ("users", "users", _int), ("rate", "rate", _pct)],
        )
    )
    console.print(f"conversion (purchasing / entry-stage users): [bold]{_pct(overall.get('conversion'))}[/]")
    cols = [("group", "category", str)]
    for s in stages:
        cols.append((f"{s}_users", STAGE_LABELS[s], _int))
    cols.append(("conversion", "conversion", _pct))
    console.print(_table(f"Funnel by category (top {top})", f["by_category"][:top], cols))
    rows = aggs["retention"]["rows"]
    cohorts = sorted({r["cohort"] for r in rows})[:top]
    periods = sorted({int(r["period"]) for r in rows})[:9]
    grid = {(r["cohort"], int(r["period"])): r for r in rows}
    ret = Table(
        title=f"Retention by first-seen {aggs['retention']['period']}", title_justify="left", header_style="bold"
    )
    ret.add_column("cohort")
    ret.add_column("size", justify="right")
    for p in periods:
        ret.add_column(str(p), justify="right")
    for c in cohorts:
        size = grid[(c, 0)]["size"] if (c, 0) in grid else 0
        ret.add_row(c, f"{size:,}", *(_pct(grid[(c, p)]["rate"]) if (c, p) in grid else "" for p in periods))
    console.print(ret)
    r = aggs["rfm"]
    console.print(
        _table(
            "RFM segments",
            r["segments"],
            [
                ("segment", "segment", str),
                ("users", "buyers", _int),
                ("share", "share", _pct),
                ("recency_days", "recency d", _num),
                ("frequency", "orders", _num),
                ("monetary", "monetary" if r["basis"] == "price" else "items", _num),
            ],
        )
    )
    rep = r["repeat"]
    console.print(
        f"repeat-purchase rate: [bold]{_pct(rep.get('rate'))}[/] ({_int(rep.get('repeat_buyers'))} of {_int(rep.get('buyers'))} buyers)"
    )
    t = aggs["trends"]
    if t["windows"]:
        w = t["windows"]
        tcols = [
            ("recent", "recent", _int),
            ("baseline", "baseline", _int),
            ("lift", "lift", _num),
            ("growth", "growth", _pct),
        ]
        console.print(
            _table(
                f"Trending categories ({w['recent_from']}..{w['recent_to']} vs {w['baseline_from']}..{w['baseline_to']})",
                t["categories"][:top],
                [("category", "category", str), *tcols],
            )
        )
        console.print(
            _table(
                "Trending items", t["items"][:top], [("item_id", "item", str), ("category", "category", str), *tcols]
            )
        )
    c = aggs["coverage"]
    console.print(
        _table(
            f"Coverage (catalogue {c['catalogue']:,} items)",
            c["rows"],
            [
                ("scope", "scope", str),
                ("events", "events", _int),
                ("items", "items", _int),
                ("coverage", "coverage", _pct),
                ("long_tail_share", "long-tail share", _pct),
            ],
        )
    )
    s = aggs["strategy"]
    if s["by_source"]:
        scols = [
            ("group", "source", str),
            ("impressions", "impressions", _int),
            ("ctr", "CTR", _pct),
            ("conversion", "conversion", _pct),
        ]
        console.print(_table("Strategy performance by recommendation source", s["by_source"], scols))
        if s["by_intent"] and not (len(s["by_intent"]) == 1 and s["by_intent"][0]["group"] == "(none)"):
            console.print(_table("By guide intent", s["by_intent"], [("group", "intent", str), *scols[1:]]))
        if s["experiments"]:
            console.print(
                _table(
                    "A/B experiments",
                    s["experiments"],
                    [
                        ("experiment", "experiment", str),
                        ("variant", "variant", str),
                        ("impressions", "impressions", _int),
                        ("ctr", "CTR", _pct),
                        ("ctr_lift", "lift", _pct),
                        ("p_value", "p", _num),
                    ],
                )
            )
    for note in s["notes"] + c.get("notes", []):
        console.print(f"[dim]{note}[/]")


def analyze(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Event files instead of the store: Parquet, CSV or Taobao UserBehavior."),
    ] = None,
    fmt: Annotated[SourceFormat, typer.Option("--format", help="Format of --data (auto guesses).")] = SourceFormat.auto,
    items: Annotated[Path | None, typer.Option("--items", help="Items file for --data (Parquet or CSV).")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (inclusive), YYYY-MM-DD.")] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="Category (top or leaf), repeatable.")
    ] = None,
    period: Annotated[Period, typer.Option(help="Retention cohorts by day or week.")] = Period.week,
    utc_offset: Annotated[
        float, typer.Option("--utc-offset", help="Hours east of UTC for calendar days (8 for China).")
    ] = 0.0,
    report: Annotated[Path | None, typer.Option(help="HTML report path; default <home>/analytics/report.html.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the aggregates as JSON here.")] = None,
    top: Annotated[int, typer.Option(min=1, max=100, help="Rows of the per-category tables.")] = 10,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Recompute even when cached aggregates exist.")] = False,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Funnels, retention, RFM, trends, coverage and strategy performance; prints tables, writes an HTML report."""
    with handle_errors():
        from shopguide.analytics import (
            AggregateCache,
            DashboardOptions,
            EventSource,
            Filters,
            cache_key,
            load_or_compute,
            write_report,
        )
        from shopguide.security.secret import server_secret
        from shopguide.store import open_store

        settings = settings_from(home, store)
        secret = server_secret(settings)  # shopper ids leave the store as pseudonyms (privacy/pseudonym.py)
        filters = Filters.of(date_from, date_to, category)
        options = DashboardOptions(period=period.value, top=max(top, 15))
        workdir = settings.home / "analytics"
        cache = AggregateCache(workdir / "cache")
        with progress_bar() as progress:
            progress.add_task("computing analytics", total=None)
            if data is not None:
                source = EventSource.open(
                    data, format=fmt.value, items=items, cache_dir=workdir, utc_offset_hours=utc_offset, secret=secret
                )
                fingerprint, factory = source.fingerprint, (lambda: source)
                described = source.description
            else:
                opened = open_store(settings.resolved_store_url)
                fingerprint = EventSource.fingerprint_of_store(opened, utc_offset_hours=utc_offset)
                factory = lambda: EventSource.from_store(  # noqa: E731
                    opened, cache_dir=workdir, utc_offset_hours=utc_offset, secret=secret
                )
                described = f"store {settings.resolved_store_url}"
            if no_cache:
                cache.forget(cache_key(fingerprint, filters, options))
            try:
                aggs, cached = load_or_compute(cache, fingerprint, filters, options, factory)
            finally:
                if data is None:
                    opened.close()
        console.rule(f"[bold]shopguide analyze[/] · {described}")
        print_dashboard(aggs, top=top)
        path = write_report(aggs, report or workdir / "report.html")
        console.print(f"report: {path}" + (" (from cached aggregates)" if cached else ""))
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(aggs, ensure_ascii=False, indent=1), encoding="utf-8")
            console.print(f"aggregates: {json_out}")
