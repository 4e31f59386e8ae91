"""Row readers for users' own files: CSV/TSV with a header row, JSON Lines and Parquet.

Each reader returns a :class:`Table`: the column names when the format declares them up front
(CSV, Parquet; None for JSON Lines) and an iterator of ``(position, row)`` where ``position`` is the
1-based line (CSV: the header is line 1; JSON Lines) or row number (Parquet, a JSON array).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopguide.data.loaders.base import iter_delimited
from shopguide.errors import DataError

FORMATS = ("csv", "tsv", "jsonl", "parquet")
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass
class Table:
    """Rows of one file. ``unit`` says what a position counts: "line" or "row"."""

    columns: list[str] | None
    rows: Iterator[tuple[int, dict[str, Any]]]
    unit: str = "line"


def detect_format(path: Path, format: str | None = None) -> str:
    """The format named, or the one the suffix implies; DataError when neither is known."""
    if format is not None:
        fmt = format.lower().lstrip(".")
        fmt = {"ndjson": "jsonl", "json": "jsonl", "jsonlines": "jsonl", "pq": "parquet"}.get(fmt, fmt)
        if fmt not in FORMATS:
            raise DataError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}", file=str(path))
        return fmt
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"cannot tell the format from the suffix {path.suffix!r}; use one of "
            f"{', '.join(sorted(SUFFIXES))} or pass format=",
            file=str(path),
        )
    return fmt


def open_table(path: Path, format: str | None = None) -> Table:
    """Open ``path`` as a table of rows; DataError when it is missing or unreadable."""
    fmt = detect_format(path, format)
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    if fmt in ("csv", "tsv"):
        return _delimited(path, "\t" if fmt == "tsv" else ",")
    if fmt == "jsonl":
        return _json(path)
    return _parquet(path)


def _delimited(path: Path, delimiter: str) -> Table:
    rows = iter_delimited(path, delimiter=delimiter)
    first = next(rows, None)
    if first is None:
        raise DataError("empty file: expected a header row", file=str(path), line=1)
    header = [name.strip() for name in first[1]]
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"header column {i + 1} has no name", file=str(path), line=first[0])
        if name in header[:i]:
            raise DataError(f"duplicate column {name!r} in the header", file=str(path), line=first[0], field=name)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        for line, row in rows:
            if len(row) != len(header):
                raise DataError(
                    f"expected {len(header)} fields as in the header, found {len(row)}",
                    file=str(path),
                    line=line,
                )
            yield line, dict(zip(header, row, strict=True))

    return Table(header, records())


def _json(path: Path) -> Table:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8-sig", errors="ignore").lstrip()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    if head.startswith("["):
        return _json_array(path)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            with path.open(encoding="utf-8-sig") as handle:
                for line, text in enumerate(handle, 1):
                    if not text.strip():
                        continue
                    value = _loads(text, path, line)
                    if not isinstance(value, dict):
                        raise DataError(
                            f"expected a JSON object, found {type(value).__name__}", file=str(path), line=line
                        )
                    yield line, value
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
        except OSError as exc:
            raise DataError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None

    return Table(None, records())


def _loads(text: str, path: Path, line: int | None) -> Any:
    """One JSON document; DataError for anything json refuses (also nesting too deep, numbers too long)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = exc.lineno if line is None else line  # a JSON Lines document is one line
        raise DataError(f"invalid JSON: {exc.msg} (column {exc.colno})", file=str(path), line=where) from None
    except (ValueError, RecursionError) as exc:  # int digits over the limit; nesting deeper than the stack
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DataError(f"invalid JSON: {reason}", file=str(path), line=line) from None


def _json_array(path: Path) -> Table:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    data = _loads(text, path, None)
    if not isinstance(data, list):
        raise DataError(f"expected a JSON array of objects, found {type(data).__name__}", file=str(path))
    for n, value in enumerate(data, 1):
        if not isinstance(value, dict):
            raise DataError(f"row {n}: expected a JSON object, found {type(value).__name__}", file=str(path), line=n)
    return Table(None, iter(enumerate(data, 1)), unit="row")


def _parquet(path: Path) -> Table:
    import pyarrow.parquet as pq  # a core dependency, imported only when Parquet is read

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError with its own messages
        raise DataError(f"not a readable Parquet file: {exc}", file=str(path)) from None
    columns = list(handle.schema_arrow.names)

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        n = 0
        batches = handle.iter_batches(batch_size=65_536)
        while True:
            try:
                batch = next(batches, None)
                rows = [] if batch is None else batch.to_pylist()  # plain Python values, whatever dtype pandas wrote
            except Exception as exc:  # a corrupt page: pyarrow raises ArrowInvalid / OSError / ValueError
                raise DataError(f"not a readable Parquet file: {exc}", file=str(path), line=n + 1) from None
            if batch is None:
                return
            for row in rows:
                n += 1
                yield n, {k: _plain(v) for k, v in row.items()}

    return Table(columns, records(), unit="row")


def _plain(value: Any) -> Any:
    """Nulls for NaN; naive datetimes are taken as UTC."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
