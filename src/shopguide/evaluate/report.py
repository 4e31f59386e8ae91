"""Present evaluation results: a rich table for the terminal and a JSON file for RESULTS.md and CI."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.table import Table

from shopguide.evaluate.runner import EvalResult


def _metric_columns(results: Sequence[EvalResult], metrics: Sequence[str] | None) -> list[str]:
    if metrics is not None:
        return list(metrics)
    names: list[str] = []
    for res in results:
        names.extend(n for n in res.metrics if n not in names)
    return names


def results_table(
    results: Iterable[EvalResult], *, metrics: Sequence[str] | None = None, title: str | None = None
) -> Table:
    """One row per result: model, data / task, mode, users, the metrics (4 decimals) and timings.

    ``metrics`` picks and orders the metric columns (default: all, in order of first appearance).
    """
    results = list(results)
    columns = _metric_columns(results, metrics)
    table = Table(title=title, show_lines=False)
    table.add_column("model", style="bold")
    table.add_column("task")
    table.add_column("mode")
    table.add_column("users", justify="right")
    for name in columns:
        table.add_column(name, justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("eval s", justify="right")
    for res in results:
        mode = res.mode if res.mode == "full ranking" else f"[yellow]{res.mode}[/yellow]"
        values = [f"{res.metrics[n]:.4f}" if n in res.metrics else "-" for n in columns]
        table.add_row(
            res.model,
            res.task,
            mode,
            f"{res.n_users:,}",
            *values,
            f"{res.fit_seconds:.1f}",
            f"{res.eval_seconds:.1f}",
        )
    return table


def to_json(results: Iterable[EvalResult], path: str | Path) -> Path:
    """Write the results as a JSON list of ``EvalResult.to_dict()`` (UTF-8, indented); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = [res.to_dict() for res in results]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
