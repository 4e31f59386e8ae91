"""``shopguide demo``: build the demo store, train, and show recommendations with reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopguide.cli.common import console, handle_errors, progress_bar
from shopguide.cli.data_cmds import demo_loaded
from shopguide.cli.model_cmds import rec_table, train_model
from shopguide.config import Settings
from shopguide.recommend.bundle import BundleStore
from shopguide.store import open_store


def demo(
    home: Annotated[Path, typer.Option(help="Where the demo store and models live.")] = Path("var/demo"),
    shoppers: Annotated[int, typer.Option(min=1, max=20, help="How many demo shoppers to show.")] = 3,
    n: Annotated[int, typer.Option("-n", min=1, max=50)] = 6,
    model: Annotated[str, typer.Option("--model", "-m", help="Model to train.")] = "fallback",
    lang: Annotated[str, typer.Option(help="en or zh.")] = "zh",
    seed: Annotated[int, typer.Option(help="Seed of the shopper simulator.")] = 42,
    retrain: Annotated[bool, typer.Option(help="Train even when a model exists.")] = False,
) -> None:
    """Import the demo catalog and simulated behaviour (once), train (once), print recommendations."""
    with handle_errors():
        settings = Settings(home=home)
        loaded = demo_loaded(seed)
        console.rule("[bold]shopguide demo")
        console.print(f"[yellow]{loaded.notes}[/]")
        with open_store(settings.resolved_store_url) as st:
            if st.count_events() == 0:
                with progress_bar() as progress:
                    progress.add_task("importing the demo catalog and simulated events", total=None)
                    st.import_batch(items=loaded.items, users=loaded.users, events=loaded.events)
            stats = st.stats()
        console.print(
            f"store {settings.resolved_store_url}: {stats['items']} items, {stats['users']} simulated shoppers, "
            f"{stats['events']:,} simulated events"
        )
        bundles = BundleStore(settings.model_dir)
        if retrain or bundles.active_version() is None:
            version, fitted = train_model(settings, model, {})
            console.print(f"trained {model} in {fitted.fit_seconds_:.1f}s -> version {version}")
        recommender = bundles.load()
        for user in [u.id for u in loaded.users[:shoppers]]:
            console.print(rec_table(f"{user} (simulated shopper)", recommender.recommend(user, n), recommender, lang))
        visitor = recommender.recommend("new-visitor", n)
        console.print(rec_table("a new visitor (cold start)", visitor, recommender, lang))
        console.print(f"[dim]Try: shopguide recommend shopper-001 --home {home} --lang en[/]")
