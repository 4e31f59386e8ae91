"""``shopguide import``: load a public dataset, the demo catalog, or your own files into the store."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from shopguide.cli.common import HomeOpt, StoreOpt, console, handle_errors, progress_bar, settings_from
from shopguide.data.loaders import LoadedData, load, load_generic
from shopguide.errors import ConfigError
from shopguide.store import open_store


class Source(StrEnum):
    amazon = "amazon"
    movielens = "movielens"
    taobao = "taobao"
    demo = "demo"
    files = "files"


def _mapping(raw: str | None, option: str) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f'{option} must be a JSON object, e.g. \'{{"id": "sku"}}\': {exc.msg}') from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object mapping schema fields to your column names")
    return value


def demo_loaded(seed: int) -> LoadedData:
    from shopguide.data.demo import demo_data

    demo = demo_data(seed=seed)
    return LoadedData(items=demo.items, users=demo.users, events=demo.events, name="demo", notes=demo.label)


def import_data(
    source: Annotated[Source, typer.Argument(help="What to import.")],
    path: Annotated[Path | None, typer.Argument(help="Data directory or file (amazon / movielens / taobao).")] = None,
    items: Annotated[Path | None, typer.Option(help="Items file (CSV / JSONL / Parquet) for 'files'.")] = None,
    events: Annotated[Path | None, typer.Option(help="Events file for 'files'.")] = None,
    users: Annotated[Path | None, typer.Option(help="Users file for 'files'.")] = None,
    item_mapping: Annotated[
        str | None, typer.Option(help='JSON: schema field -> your column, e.g. {"id":"sku"}.')
    ] = None,
    event_mapping: Annotated[str | None, typer.Option(help="JSON mapping for the events file.")] = None,
    user_mapping: Annotated[str | None, typer.Option(help="JSON mapping for the users file.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo simulator.")] = 42,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Import data into the store in one transaction: a bad file imports nothing and names file, line, field."""
    with handle_errors():
        settings = settings_from(home, store)
        with progress_bar() as progress:
            progress.add_task(f"reading {source.value}", total=None)
            if source is Source.demo:
                loaded = demo_loaded(seed)
            elif source is Source.files:
                if not (items or events or users):
                    raise ConfigError("'files' needs at least one of --items, --events, --users")
                loaded = load_generic(
                    items=items,
                    events=events,
                    users=users,
                    item_mapping=_mapping(item_mapping, "--item-mapping"),
                    event_mapping=_mapping(event_mapping, "--event-mapping"),
                    user_mapping=_mapping(user_mapping, "--user-mapping"),
                )
            else:
                if path is None:
                    raise ConfigError(f"'{source.value}' needs the data path, e.g. ../shared/data/...")
                loaded = load(source.value, path)
        with progress_bar() as progress, open_store(settings.resolved_store_url) as st:
            progress.add_task(f"writing {len(loaded.events):,} events to the store", total=None)
            result = st.import_batch(items=loaded.items, users=loaded.users, events=loaded.events)
        console.print(
            f"imported [bold]{loaded.name}[/]: {result.items:,} items, {result.users:,} users, "
            f"{result.events.accepted:,} events ({result.events.duplicate:,} duplicates skipped) "
            f"into {settings.resolved_store_url}"
        )
        if loaded.notes:
            console.print(f"[dim]{loaded.notes}[/]")
