"""Shared CLI plumbing: settings from options, error handling, progress bars, parameter parsing."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from shopguide.config import Settings
from shopguide.errors import ConfigError, DataError, NotFoundError, ShopguideError
from shopguide.privacy.log_filter import install_log_scrubbing

console = Console()
err_console = Console(stderr=True)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="Working directory (store + models). Env: SHOPGUIDE_HOME.")
]
StoreOpt = Annotated[str | None, typer.Option("--store", help="Store URL, e.g. sqlite:///var/shopguide.db.")]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", "-p", help="Model parameter as key=value (JSON values), repeatable.")
]

#: Exit codes: 1 unexpected, 2 bad input / usage, 3 not found, 4 other shopguide errors.
EXIT_CODES: dict[type[ShopguideError], int] = {DataError: 2, ConfigError: 2, NotFoundError: 3}


def settings_from(home: Path | None, store: str | None) -> Settings:
    overrides: dict[str, Any] = {}
    if home is not None:
        overrides["home"] = home
    if store is not None:
        overrides["store_url"] = store
    return Settings(**overrides)


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``["k=100", "similarity=pearson"]`` -> ``{"k": 100, "similarity": "pearson"}``."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param expects key=value, got {pair!r}")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn shopguide errors into a one-line red message and a meaningful exit code."""
    try:
        yield
    except ShopguideError as exc:
        code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 4)
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code) from None


def progress_bar(transient: bool = True) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=not sys.stderr.isatty(),
    )


def tracker(progress: Progress, description: str) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback bound to a new task of ``progress``."""
    task = progress.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update


def configure_logging(verbose: bool) -> None:
    """Structured (key=value) logs on stderr; INFO with --verbose, WARNING otherwise."""

    class KeyValueFormatter(logging.Formatter):
        _skip = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

        def format(self, record: logging.LogRecord) -> str:
            extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in self._skip)
            base = f"{self.formatTime(record)} level={record.levelname.lower()} logger={record.name} msg={record.getMessage()!r}"
            return f"{base} {extra}".rstrip()

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    install_log_scrubbing()  # personal data never reaches a log (house rule 14)
