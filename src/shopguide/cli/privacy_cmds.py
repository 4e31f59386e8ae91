"""``shopguide users export / erase`` (a shopper's right of access and erasure) and ``shopguide purge``
(retention).

They call the same domain functions as the service (:mod:`shopguide.privacy.erasure`,
:mod:`shopguide.privacy.retention`). Run against a store that a service is serving, an erasure from here
also reaches the service: its workers' answer caches stop matching the shopper (their keys hold the
shopper's latest actions, read from the store on every request) and their analytics tables are rebuilt at
the next fingerprint check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shopguide.cli.common import HomeOpt, StoreOpt, console, handle_errors, settings_from

users_app = typer.Typer(help="A shopper's data: export everything held about them, or erase it.", no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(help="The shopper's id, as stored.")]


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("what")
    table.add_column("removed", justify="right")
    for name, n in counts.items():
        table.add_row(name.replace("_", " "), f"{n:,}")
    return table


@users_app.command("export")
def export(
    user_id: UserArg,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON here instead of stdout.")] = None,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Everything held about a shopper (record, events, chat sessions, tickets) as JSON."""
    with handle_errors():
        from shopguide.privacy.erasure import export_shopper
        from shopguide.security.secret import server_secret
        from shopguide.store import open_store

        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as opened:
            data = export_shopper(opened, user_id, secret=server_secret(settings))
        text = json.dumps(data, ensure_ascii=False, indent=1)
        if out is None:
            typer.echo(text)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        console.print(
            f"exported {len(data['events']):,} events, {len(data['sessions']):,} chat sessions and "
            f"{len(data['tickets']):,} tickets of the shopper to {out}"
        )


@users_app.command("erase")
def erase(
    user_id: UserArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Erase a shopper: record, events, chat sessions and tickets (one transaction) and the analytics copies.
    Trained models forget them at the next training."""
    with handle_errors():
        from shopguide.privacy.erasure import erase_shopper
        from shopguide.store import open_store

        settings = settings_from(home, store)
        if not yes:
            typer.confirm(f"Erase everything held about {user_id!r}? This cannot be undone", abort=True)
        with open_store(settings.resolved_store_url) as opened:
            report = erase_shopper(opened, user_id, analytics_dir=settings.home / "analytics")
        counts = {k: v for k, v in report.as_dict().items() if k not in ("user_id", "cached_answers")}
        console.print(_counts_table(f"erased {user_id}", counts))
        console.print("[dim]models trained before this still know the shopper: train again to forget them[/]")


def purge(
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            min=0,
            help="Remove events and chat sessions older than this many days (default: the retention settings "
            "SHOPGUIDE_RETENTION_DAYS and SHOPGUIDE_SESSION_RETENTION_DAYS; 0 keeps everything).",
        ),
    ] = None,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Remove behaviour events and chat sessions past their retention."""
    with handle_errors():
        from shopguide.privacy.retention import Cutoffs, purge_expired
        from shopguide.store import open_store

        settings = settings_from(home, store)
        event_days = settings.retention_days if older_than is None else older_than
        session_days = settings.session_retention_days if older_than is None else older_than
        cutoffs = Cutoffs.of(event_days, session_days)
        if cutoffs.keeps_everything:
            console.print("retention keeps everything (0 days): nothing to purge")
            return
        with open_store(settings.resolved_store_url) as opened:
            result = purge_expired(opened, cutoffs, analytics_dir=settings.home / "analytics")
        kept = {"events": event_days, "chat sessions": session_days}
        table = Table(title="purged", title_justify="left", header_style="bold")
        for column in ("what", "kept for", "removed"):
            table.add_column(column, justify="left" if column == "what" else "right")
        for (name, days), n in zip(kept.items(), (result.events, result.sessions), strict=True):
            table.add_row(name, f"{days:g} days" if days > 0 else "forever", f"{n:,}")
        console.print(table)
