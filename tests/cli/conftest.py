"""Fixtures for the CLI tests: an isolated working directory, a wide console and a tiny imported store.

Every command runs in-process through ``typer.testing.CliRunner`` against ``shopguide.cli.app.app``; the
store and the model bundles live under ``tmp_path``, so nothing touches the repository.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguide.cli import common
from shopguide.cli.app import app
from shopguide.recommend import checks
from shopguide.store import open_store

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Run:
    """The outcome of one CLI invocation: exit code and output (stdout + stderr, ANSI codes removed)."""

    code: int
    out: str
    stdout: str
    exception: BaseException | None


Cli = Callable[..., Run]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SHOPGUIDE_* settings or .env from the developer's shell; a console wide enough not to wrap."""
    for name in ("SHOPGUIDE_HOME", "SHOPGUIDE_STORE_URL", "SHOPGUIDE_EVENT_WEIGHTS", "SHOPGUIDE_FALLBACK_CHAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    # rich wraps at 80 columns when it is not writing to a terminal; paths in messages would be cut in two
    monkeypatch.setattr(common.console, "size", (2000, 200))
    monkeypatch.setattr(common.err_console, "size", (2000, 200))


@pytest.fixture
def cli() -> Cli:
    runner = CliRunner()

    def run(*args: str) -> Run:
        result = runner.invoke(app, [str(a) for a in args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a traceback, not an exit code: show it
        return Run(result.exit_code, _ANSI.sub("", result.output), _ANSI.sub("", result.stdout), result.exception)

    return run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/x.db"


def _stats(url: str) -> dict[str, int]:
    with open_store(url) as st:
        return st.stats()


@pytest.fixture
def stats() -> Callable[[str], dict[str, int]]:
    """``stats(url)``: the store's counts (items, users, events, events_<type>, ...)."""
    return _stats


EPOCH = 1_700_000_000.0  # 2023-11-14: the checkerboard's event times are offsets from here


@pytest.fixture
def checkerboard_files(tmp_path: Path) -> tuple[Path, Path]:
    """The checkerboard world (see ``shopguide.recommend.checks``) as an items JSONL and an events CSV."""
    items = tmp_path / "checkerboard_items.jsonl"
    items.write_text(
        "".join(
            json.dumps(it.model_dump(mode="json", exclude_none=True), ensure_ascii=False) + "\n"
            for it in checks.checkerboard_items()
        ),
        encoding="utf-8",
    )
    events = tmp_path / "checkerboard_events.csv"
    with events.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["user", "item", "type", "ts"])
        for ev in checks.checkerboard_events():  # at real times: files are checked like the API (2000 .. now)
            writer.writerow([ev.user, ev.item, ev.type.value, EPOCH + ev.ts])
    return items, events


@pytest.fixture
def imported(cli: Cli, checkerboard_files: tuple[Path, Path], store_url: str) -> str:
    """A store holding the checkerboard, imported through ``shopguide import files``; returns its URL."""
    items, events = checkerboard_files
    run = cli("import", "files", "--items", items, "--events", events, "--store", store_url)
    assert run.code == 0, run.out
    assert _stats(store_url)["events"] == len(checks.checkerboard_events())
    return store_url
