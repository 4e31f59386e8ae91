"""The HTML report: every dashboard aggregate as tables and inline SVG charts, in one self-contained file.

:func:`render_sections` writes the body (also embedded by the service's /dashboard page);
:func:`render_report` wraps it in a complete document with its CSS inline. Nothing is fetched: no
scripts, fonts, images or style sheets from anywhere, so the file opens offline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from shopguide.analytics.charts import bar_chart, heatmap, line_chart, percent
from shopguide.analytics.funnel import STAGE_LABELS

REPORT_CSS = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: var(--ink); margin: 0; background: #f9fafb; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.meta, .muted, .note { color: var(--muted); } .note { font-size: 13px; margin: 6px 0; }
.banner { background: #fef3c7; border: 1px solid #f59e0b; padding: 6px 10px; border-radius: 6px; margin: 8px 0; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 130px; }
.kpi b { display: block; font-size: 20px; } .kpi span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; background: #fff; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: right; white-space: nowrap; }
th { background: #f3f4f6; } td:first-child, th:first-child { text-align: left; }
.chart { display: block; max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line);
         border-radius: 6px; margin: 6px 0; }
.chart .label, .chart .value, .chart .tick, .chart .legend, .chart .muted { font-size: 12px; fill: var(--ink); }
.chart .cell { font-size: 12px; }  /* heat-map cells set their own ink */
.chart .tick, .chart .muted { fill: var(--muted); } .chart .axis { stroke: #9ca3af; } .chart .grid { stroke: var(--line); }
.scroll { overflow-x: auto; max-width: 100%; }
caption { text-align: left; color: var(--muted); font-size: 12px; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; background: #fff; border: 1px solid var(--line);
               border-radius: 8px; padding: 10px 12px; margin: 10px 0; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
form.filters input, form.filters button { font: inherit; padding: 4px 6px; }
"""

Column = tuple[str, str, Callable[[Any], str]]


def _int(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def _num(v: Any) -> str:
    return "–" if v is None else f"{float(v):,.2f}"


def _pct(v: Any) -> str:
    return percent(v)


def _text(v: Any) -> str:
    return "–" if v is None else str(v)


def _interval(low: Any, high: Any) -> str:
    if low is None or high is None:
        return "–"
    return f"{100 * float(low):+.1f}% .. {100 * float(high):+.1f}%"


def _srm(row: dict[str, Any]) -> str:
    """An experiment row's sample-ratio-mismatch verdict, e.g. ``MISMATCH p=2.4e-06 (equal split)``."""
    if row.get("srm") is None or row.get("srm_p_value") is None:
        return "–"
    verdict = "MISMATCH" if row["srm"] else "ok"
    return f"{verdict} p={float(row['srm_p_value']):.2g} ({row.get('srm_expected') or 'equal'} split)"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], *, caption: str | None = None) -> str:
    """An HTML table of ``rows`` with ``columns`` as (key, header, formatter)."""
    if not rows:
        return f'<p class="note">{escape(caption or "table")}: no rows.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(fmt(row.get(key)))}</td>" for key, _, fmt in columns) + "</tr>" for row in rows
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _notes(notes: Sequence[str]) -> str:
    return "".join(f'<p class="note">{escape(n)}</p>' for n in notes)


def _kpis(ov: dict[str, Any]) -> str:
    cards = [
        ("events", _int(ov.get("events"))),
        ("active shoppers", _int(ov.get("users"))),
        ("buyers", _int(ov.get("buyers"))),
        ("buyer conversion", _pct(ov.get("purchase_conversion"))),
        ("items with events", _int(ov.get("items"))),
        ("days", f"{ov.get('first_day') or '–'} .. {ov.get('last_day') or '–'}"),
    ]
    return (
        '<div class="kpis">'
        + "".join(f'<div class="kpi"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in cards)
        + "</div>"
    )


def _funnel_columns(stages: Sequence[str]) -> list[Column]:
    cols: list[Column] = [("group", "group", _text)]
    for stage in stages:
        cols.append((f"{stage}_users", f"{STAGE_LABELS[stage]} users", _int))
        if stage != stages[0]:
            cols.append((f"{stage}_rate", f"{STAGE_LABELS[stage]} rate", _pct))
    cols.append(("conversion", "conversion", _pct))
    return cols


#: a last day whose events reach less far into it than this is left out of the daily charts (a partial day)
PARTIAL_DAY = 0.9


def _funnel_section(f: dict[str, Any], ov: dict[str, Any] | None = None) -> str:
    stages = f.get("stages") or []
    overall = (f.get("overall") or [{}])[0]
    labels = [STAGE_LABELS[s] for s in stages]
    users = [overall.get(f"{s}_users") for s in stages]
    notes = [percent(overall.get(f"{s}_rate")) if n else "" for n, s in enumerate(stages)]
    parts = [
        "<h2>Funnel</h2>",
        bar_chart(labels, users, title="Shoppers reaching each stage", notes=notes),
        '<p class="note">Users with at least one event of the stage; each rate is against the previous tracked '
        "stage; conversion is purchasing users over entry-stage users.</p>",
    ]
    days = f.get("by_day") or []
    share = (ov or {}).get("last_day_share")
    partial = None
    if len(days) > 2 and share is not None and share < PARTIAL_DAY and days[-1]["group"] == (ov or {}).get("last_day"):
        partial, days = days[-1]["group"], days[:-1]  # a day still going on would end every line in a cliff
    if days:
        x = [d["group"] for d in days]
        entry = next((s for s in stages if s in ("view", "click", "cart_fav")), None)
        series = {"buyers": [d.get("purchase_users") for d in days]}
        if entry:
            series = {f"{STAGE_LABELS[entry]} users": [d.get(f"{entry}_users") for d in days], **series}
        parts.append(line_chart(x, series, title="Shoppers per day"))
        parts.append(
            line_chart(
                x,
                {"conversion": [d.get("conversion") for d in days]},
                title="Conversion per day",
                fmt=lambda v: f"{100 * v:.0f}%",
            )
        )
        if partial:
            parts.append(f'<p class="note">{partial} is left out of the daily charts: its events reach only '
                         f"{100 * share:.0f}% into the day.</p>")  # fmt: skip
    cols = _funnel_columns(stages)
    parts.append("<h3>By category</h3>" + table(f.get("by_category") or [], cols, caption="funnel by category"))
    for key, title in (("by_traffic_source", "By traffic source"), ("by_strategy", "By strategy")):
        rows = f.get(key) or []
        if rows and not (len(rows) == 1 and rows[0].get("group") == "(none)"):
            parts.append(f"<h3>{title}</h3>" + table(rows, cols))
        else:
            parts.append(f'<h3>{title}</h3><p class="note">No events carry context.{key[3:]}.</p>')
    return "".join(parts)


def _retention_section(r: dict[str, Any]) -> str:
    rows = r.get("rows") or []
    cohorts = sorted({row["cohort"] for row in rows})
    periods = sorted({int(row["period"]) for row in rows})
    grid = {(row["cohort"], int(row["period"])): row["rate"] for row in rows}
    sizes = {row["cohort"]: row["size"] for row in rows}
    values = [[grid.get((c, p)) for p in periods] for c in cohorts]
    labels = [f"{c} ({sizes[c]:,})" for c in cohorts]
    unit = r.get("period", "week")
    return (
        f"<h2>Retention by first-seen {escape(unit)}</h2>"
        + heatmap(labels, [str(p) for p in periods], values, title=f"Share of each cohort active k {unit}s later")
        + '<p class="note">Cohort = the period of a shopper\'s first own event in the selection (size in brackets); '
        f"column k = share of the cohort active in the k-th {escape(unit)} after it.</p>"
    )


def _rfm_section(r: dict[str, Any]) -> str:
    segs = r.get("segments") or []
    rep = r.get("repeat") or {}
    money = "monetary (sum of prices)" if r.get("basis") == "price" else "monetary (items bought)"
    return (
        "<h2>RFM segments</h2>"
        + bar_chart(
            [s["segment"] for s in segs],
            [s["users"] for s in segs],
            title="Buyers per RFM segment",
            notes=[percent(s.get("share")) for s in segs],
            color="#16a34a",
        )
        + table(
            segs,
            [
                ("segment", "segment", _text),
                ("users", "buyers", _int),
                ("share", "share", _pct),
                ("recency_days", "mean recency (days)", _num),
                ("frequency", "mean orders", _num),
                ("monetary", money, _num),
            ],
        )
        + f'<p class="note">Repeat-purchase rate: <b>{escape(percent(rep.get("rate")))}</b> '
        f"({_int(rep.get('repeat_buyers'))} of {_int(rep.get('buyers'))} buyers placed two or more orders; an order is a "
        "session, or a day when there is no session). Scores are 1-5 by rank among buyers; segments from R and F.</p>"
        + "<h3>Repeat purchase by category</h3>"
        + table(
            r.get("repeat_by_category") or [],
            [
                ("group", "category", _text),
                ("buyers", "buyers", _int),
                ("repeat_buyers", "repeat buyers", _int),
                ("rate", "rate", _pct),
            ],
        )
    )


def _trends_section(t: dict[str, Any]) -> str:
    w = t.get("windows")
    if not w:
        return '<h2>Trending</h2><p class="note">The selection spans too few days for a baseline window.</p>'
    cols: list[Column] = [
        ("recent", "recent", _int),
        ("baseline", "baseline", _int),
        ("expected", "expected", _num),
        ("lift", "lift", _num),
        ("growth", "growth", _pct),
        ("recent_purchases", "recent buys", _int),
    ]
    cats = t.get("categories") or []
    return (
        "<h2>Trending</h2>"
        + f'<p class="note">Recent window {escape(w["recent_from"])} .. {escape(w["recent_to"])} ({w["recent_days"]} days) '
        f"against the baseline {escape(w['baseline_from'])} .. {escape(w['baseline_to'])} ({w['baseline_days']} days); "
        "lift = (recent + 1) / (expected + 1), expected = the baseline scaled to the recent window.</p>"
        + bar_chart(
            [c["category"] for c in cats],
            [c["lift"] for c in cats],
            title="Trending categories (lift)",
            fmt=lambda v: f"{v:.2f}×",
            color="#f97316",
        )
        + "<h3>Categories</h3>"
        + table(cats, [("category", "category", _text), *cols])
        + "<h3>Items</h3>"
        + table(t.get("items") or [], [("item_id", "item", _text), ("category", "category", _text), *cols])
    )


def _coverage_section(c: dict[str, Any]) -> str:
    rows = c.get("rows") or []
    return (
        "<h2>Coverage and long tail</h2>"
        + table(
            rows,
            [
                ("scope", "scope", _text),
                ("events", "events", _int),
                ("items", "items", _int),
                ("coverage", "catalogue coverage", _pct),
                ("long_tail_share", "long-tail share", _pct),
            ],
        )
        + f'<p class="note">Catalogue: {_int(c.get("catalogue"))} items. Head: the {_int(c.get("head_items"))} most-used items '
        f"holding {percent(c.get('head_share'), 0)} of the shoppers' own events; everything else is the long tail.</p>"
        + _notes(c.get("notes") or [])
    )


def _strategy_section(s: dict[str, Any]) -> str:
    cols: list[Column] = [
        ("group", "group", _text),
        ("impressions", "impressions", _int),
        ("users", "users", _int),
        ("ctr", "CTR", _pct),
        ("cart_rate", "cart rate", _pct),
        ("conversion", "conversion", _pct),
    ]
    parts = ["<h2>Strategy performance</h2>", _notes(s.get("notes") or [])]
    by_source = s.get("by_source") or []
    if by_source:
        parts.append(
            bar_chart(
                [r["group"] for r in by_source],
                [r["ctr"] for r in by_source],
                title="CTR by recommendation source",
                fmt=lambda v: f"{100 * v:.1f}%",
                color="#9333ea",
            )
        )
    for key, title in (
        ("by_source", "By recommendation source"),
        ("by_strategy", "By strategy"),
        ("by_intent", "By guide intent"),
        ("by_traffic_source", "By traffic source"),
    ):
        if s.get(key):
            parts.append(f"<h3>{title}</h3>" + table(s[key], cols))
    exp = [
        {**r, "lift_ci": _interval(r.get("ctr_lift_low"), r.get("ctr_lift_high")), "srm_cell": _srm(r)}
        for r in s.get("experiments") or []
    ]
    if exp:
        parts.append(
            "<h3>A/B experiments</h3>"
            + table(
                exp,
                [
                    ("experiment", "experiment", _text),
                    ("variant", "variant", _text),
                    ("users", "users", _int),
                    ("impressions", "impressions", _int),
                    ("ctr", "CTR", _pct),
                    ("ctr_low", "CTR low", _pct),
                    ("ctr_high", "CTR high", _pct),
                    ("conversion", "conversion", _pct),
                    ("ctr_lift", "CTR lift", _pct),
                    ("lift_ci", "lift 95% CI", _text),
                    ("p_value", "p", _num),
                    ("srm_cell", "SRM", _text),
                ],
            )
            + '<p class="note">CTR interval: Wilson 95%. Lift: relative to the control arm, 95% Katz interval; '
            "p: two-proportion z-test. SRM (sample-ratio mismatch): chi-square test of users per variant against "
            "the configured split (or an equal one), flagged at p &lt; 0.001: a flagged experiment's "
            "assignment or logging is broken and its results should not be trusted.</p>"
        )
    events = s.get("events_by_source") or []
    if events and not (len(events) == 1 and events[0].get("group") == "(none)"):
        keys = [k for k in events[0] if k not in ("group",)]
        parts.append(
            "<h3>Events by their own context.source</h3>"
            + table(events, [("group", "source", _text)] + [(k, k, _int) for k in keys])
        )
    return "".join(parts)


def render_sections(aggs: dict[str, Any]) -> str:
    """The report body (without ``<html>``/``<head>``), for embedding in a page."""
    meta = aggs.get("meta", {})
    parts = []
    if meta.get("label"):
        parts.append(f'<p class="banner">{escape(meta["label"])}</p>')
    parts.append(_kpis(aggs.get("overview", {})))
    skipped = aggs.get("overview", {}).get("skipped_events")
    if skipped:
        parts.append(
            f'<p class="note">{int(skipped):,} stored events were skipped: their time or value is unusable '
            "(NaN, infinite, or a time outside 1970..2100), as an older version may have stored them.</p>"
        )
    parts.append(_funnel_section(aggs.get("funnel", {}), aggs.get("overview")))
    parts.append(_retention_section(aggs.get("retention", {})))
    parts.append(_rfm_section(aggs.get("rfm", {})))
    parts.append(_trends_section(aggs.get("trends", {})))
    parts.append(_coverage_section(aggs.get("coverage", {})))
    parts.append(_strategy_section(aggs.get("strategy", {})))
    timings = meta.get("timings") or {}
    parts.append(
        f'<p class="meta">Source: {escape(str(meta.get("source", "")))} · selection: {escape(meta.get("filters_text", ""))} · '
        f"generated {escape(str(meta.get('generated_at', '')))} in {sum(timings.values()):.2f} s · "
        f"days at UTC{float(meta.get('utc_offset_hours') or 0):+g}</p>"
    )
    return "\n".join(parts)


def render_report(aggs: dict[str, Any], *, title: str = "shopguide analytics") -> str:
    """A complete, self-contained HTML document."""
    meta = aggs.get("meta", {})
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{REPORT_CSS}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><p class="meta">{escape(meta.get("filters_text", ""))}</p>'
        f"{render_sections(aggs)}</main></body></html>"
    )


def write_report(aggs: dict[str, Any], path: str | os.PathLike[str], *, title: str = "shopguide analytics") -> Path:
    """Write :func:`render_report` to ``path`` (parents created) and return it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(aggs, title=title), encoding="utf-8")
    return out
