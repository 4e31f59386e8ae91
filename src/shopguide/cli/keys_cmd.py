"""``shopguide keys ...`` (create, list, revoke, rotate API keys) and ``shopguide audit`` (the audit log).

They work on the store directly, as the operator of the machine: whoever can run them can read the
store's files anyway."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Column, Table

from shopguide.cli.common import HomeOpt, StoreOpt, console, handle_errors, settings_from
from shopguide.security.keys import SCOPES
from shopguide.security.manage import create_key, revoke_key, rotate_key
from shopguide.store import open_store

keys_app = typer.Typer(help="API keys: create, list, revoke, rotate.", no_args_is_help=True)


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def _show_key(key: str, key_id: str) -> None:
    console.print(f"key [bold]{key_id}[/] created; it is shown only this once:\n")
    console.print(key, markup=False, highlight=False, soft_wrap=True)
    console.print("\nsend it as: Authorization: Bearer <key>")


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'storefront-backend'.")],
    scope: Annotated[
        list[str], typer.Option("--scope", "-s", help=f"Scope, repeatable: {', '.join(SCOPES)} (admin: all).")
    ],
    expires_days: Annotated[float | None, typer.Option(help="Expire after this many days (default never).")] = None,
    rate_limit: Annotated[
        float | None, typer.Option(help="Requests/s for this key (default: SHOPGUIDE_RATE_LIMIT_PER_KEY; 0: none).")
    ] = None,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Create a key; it is printed once and stored only as a keyed hash."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            key, record = create_key(st, settings, name, scope, expires_in_days=expires_days, rate_limit=rate_limit)
        _show_key(key, record.key_id)


@keys_app.command("list")
def list_keys(home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Every key: id, name, scopes, status, created, expires, last used (never the key itself)."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            records = st.api_keys()
        ids = (Column("key id", no_wrap=True), Column("name", no_wrap=True))
        table = Table(*ids, "scopes", "status", "created", "expires", "last used", "rate/s")
        for k in records:
            rate = "default" if k.rate_limit is None else ("none" if k.rate_limit == 0 else f"{k.rate_limit:g}")
            table.add_row(
                k.key_id, k.name, ",".join(k.scopes), k.status(), _when(k.created_at), _when(k.expires_at),
                _when(k.last_used_at), rate,
            )  # fmt: skip
        console.print(table)


@keys_app.command("revoke")
def revoke(key_id: str, home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Revoke a key (the service refuses it within a few seconds)."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            record = revoke_key(st, key_id)
        console.print(f"revoked [bold]{record.key_id}[/] ({record.name}) at {_when(record.revoked_at)}")


@keys_app.command("rotate")
def rotate(key_id: str, home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Replace a key by a new one with the same name, scopes and limits; the old one is revoked."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            key, record = rotate_key(st, settings, key_id)
        console.print(f"revoked {key_id}")
        _show_key(key, record.key_id)


def audit(
    limit: Annotated[int, typer.Option(min=1, help="How many entries, newest first.")] = 50,
    since_hours: Annotated[float | None, typer.Option(help="Only the last this many hours.")] = None,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """The audit log: who did what to the catalog, models, keys and admin data, when and from where."""
    import time

    with handle_errors():
        settings = settings_from(home, store)
        since = time.time() - since_hours * 3600 if since_hours else None
        with open_store(settings.resolved_store_url) as st:
            entries = st.audit_entries(limit=limit, since_ts=since)
        table = Table("when", "who", Column("what", no_wrap=True), "target", "from", "outcome")
        for e in entries:
            table.add_row(_when(e.ts), e.actor, e.action, e.target, e.client, e.outcome)
        console.print(table)
