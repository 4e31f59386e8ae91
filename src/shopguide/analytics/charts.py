"""Inline SVG charts written by hand: horizontal bars, lines and a heat map. No JavaScript, no fonts or
files to fetch, so a page that embeds them works offline. Every chart carries a ``<title>`` and an
``aria-label`` for screen readers, and a CSS class (``chart``) for styling."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777")
Number = float | int | None


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}"


def percent(value: Number, digits: int = 1) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.{digits}f}%"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    t = escape(title)
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>' + "".join(body) + "</svg>"
    )


def _empty(title: str, width: int = 640) -> str:
    return _svg(width, 40, title, [f'<text x="8" y="25" class="muted">{escape(title)}: no data</text>'])


def bar_chart(
    labels: Sequence[str],
    values: Sequence[Number],
    *,
    title: str,
    notes: Sequence[str] | None = None,
    fmt: Callable[[float], str] = _fmt,
    width: int = 640,
    color: str = PALETTE[0],
) -> str:
    """Horizontal bars, one per label; ``notes`` are shown after each value (e.g. a rate)."""
    if not labels:
        return _empty(title, width)
    row, top, label_w = 24, 8, min(220, 12 + 8 * max(len(str(lab)) for lab in labels))
    height = top * 2 + row * len(labels)
    plot_w = width - label_w - 150
    finite = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    peak = max(finite, default=0.0) or 1.0
    body = []
    for n, (lab, value) in enumerate(zip(labels, values, strict=True)):
        y = top + n * row
        v = 0.0 if value is None or math.isnan(float(value)) else float(value)
        w = max(0.0, plot_w * v / peak)
        text = "–" if value is None else fmt(v)
        if notes is not None and notes[n]:
            text += f"  {notes[n]}"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" class="label">{escape(str(lab))}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{color}" rx="2">'
            f"<title>{escape(str(lab))}: {escape(text)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="value">{escape(text)}</text>'
        )
    return _svg(width, height, title, body)


def line_chart(
    x_labels: Sequence[str],
    series: dict[str, Sequence[Number]],
    *,
    title: str,
    fmt: Callable[[float], str] = _fmt,
    width: int = 720,
    height: int = 240,
) -> str:
    """One line per series over shared x labels (dates); gaps where a value is None."""
    if not x_labels or not series:
        return _empty(title, width)
    left, right, top, bottom = 56, 16, 14, 48
    pw, ph = width - left - right, height - top - bottom
    finite = [float(v) for vs in series.values() for v in vs if v is not None and not math.isnan(float(v))]
    lo, hi = 0.0, max(finite, default=1.0) or 1.0
    n = len(x_labels)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph - ph * (v - lo) / (hi - lo)

    body = [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="axis"/>']
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        body.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + pw}" y2="{y(v):.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="tick">{escape(fmt(v))}</text>'
        )
    step = max(1, math.ceil(n / 8))
    for i in range(0, n, step):
        body.append(
            f'<text x="{x(i):.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick">{escape(x_labels[i])}</text>'
        )
    for k, (name, values) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        path, pen = [], "M"
        for i, v in enumerate(values):
            if v is None or math.isnan(float(v)):
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(float(v)):.1f}")
            pen = "L"
        if n == 1 or len(path) == 1:
            body.append(f'<circle cx="{x(0):.1f}" cy="{y(float(values[0] or 0)):.1f}" r="3" fill="{color}"/>')
        body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>')
        lx = left + k * 160
        body.append(
            f'<rect x="{lx}" y="{height - 16}" width="12" height="4" fill="{color}"/>'
            f'<text x="{lx + 16}" y="{height - 11}" class="legend">{escape(name)}</text>'
        )
    return _svg(width, height, title, body)


def heatmap(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[Number]],
    *,
    title: str,
    fmt: Callable[[float], str] = lambda v: f"{100 * v:.0f}%",
    cell: int = 40,
) -> str:
    """A grid of cells shaded by value in [0, 1] (a retention matrix); empty cells stay blank."""
    if not row_labels:
        return _empty(title)
    left, top = 12 + 7 * max(len(str(lab)) for lab in row_labels), 22
    width, height = left + cell * len(col_labels) + 8, top + 22 * len(row_labels) + 8
    body = [
        f'<text x="{left + c * cell + cell / 2:.0f}" y="14" text-anchor="middle" class="tick">{escape(str(lab))}</text>'
        for c, lab in enumerate(col_labels)
    ]
    for r, lab in enumerate(row_labels):
        y = top + r * 22
        body.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" class="tick">{escape(str(lab))}</text>')
        for c, v in enumerate(values[r]):
            if v is None or math.isnan(float(v)):
                continue
            shade = max(0.0, min(1.0, float(v)))
            fill = f"rgba(37,99,235,{0.08 + 0.85 * shade:.2f})"
            ink = "#fff" if shade > 0.5 else "#111"
            body.append(
                f'<rect x="{left + c * cell}" y="{y}" width="{cell - 2}" height="20" fill="{fill}">'
                f"<title>{escape(str(lab))}, period {escape(str(col_labels[c]))}: {escape(fmt(float(v)))}</title></rect>"
                f'<text x="{left + c * cell + (cell - 2) / 2:.0f}" y="{y + 14}" text-anchor="middle" '
                f'class="cell" fill="{ink}">{escape(fmt(float(v)))}</text>'
            )
    return _svg(width, height, title, body)
