"""``shopguide train / recommend / similar / models``: fit a model on the store and use it."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from shopguide.cli.common import (
    HomeOpt,
    ParamOpt,
    StoreOpt,
    console,
    handle_errors,
    parse_params,
    progress_bar,
    settings_from,
)
from shopguide.config import Settings
from shopguide.recommend.base import Recommendation, Recommender
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.training import train_and_save

models_app = typer.Typer(help="List model versions and switch (roll back) the active one.", no_args_is_help=True)


def train_model(settings: Settings, model_name: str, params: dict, *, activate: bool = True) -> tuple[str, Recommender]:
    """Fit ``model_name`` on everything in the store and save it as a new bundle version (with a spinner)."""
    with progress_bar() as progress:
        progress.add_task(f"training {model_name} on the store's events", total=None)
        return train_and_save(settings, model_name, params, activate=activate)


def train(
    model: Annotated[
        str, typer.Option("--model", "-m", help="Registry name, e.g. fallback, ease, item_knn.")
    ] = "fallback",
    param: ParamOpt = None,
    activate: Annotated[bool, typer.Option(help="Make the new version the active one.")] = True,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Train a model on the store's data and save it as a new versioned bundle."""
    with handle_errors():
        settings = settings_from(home, store)
        version, fitted = train_model(settings, model, parse_params(param), activate=activate)
        console.print(
            f"trained [bold]{fitted!r}[/] in {fitted.fit_seconds_:.1f}s -> version [bold]{version}[/]"
            + (" (active)" if activate else "")
        )


def rec_table(title: str, recs: list[Recommendation], model: Recommender, lang: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("#", "item", "title", "price", "source", "reason"):
        table.add_column(col, overflow="fold")
    data = model.dataset_
    for rank, rec in enumerate(recs, 1):
        meta = data.item(data.items.index(rec.item))
        name = meta.title if meta else ""
        if lang == "en" and meta and meta.title_alt:
            name = meta.title_alt
        price = f"{meta.price:,.2f}" if meta and meta.price is not None else ""
        table.add_row(str(rank), rec.item, name, price, rec.source, rec.reason.text(lang))
    return table


def _print(recs: list[Recommendation], title: str, model: Recommender, lang: str, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps([r.to_dict(lang) for r in recs], ensure_ascii=False))
    else:
        console.print(rec_table(title, recs, model, lang))


def recommend(
    user: Annotated[str, typer.Argument(help="Shopper id (unknown ids get a cold-start list).")],
    n: Annotated[int, typer.Option("-n", min=1, max=100)] = 10,
    category: Annotated[list[str] | None, typer.Option(help="Keep items in this category, repeatable.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Item id never to return, repeatable.")] = None,
    history: Annotated[list[str] | None, typer.Option(help="Recent item id of this session, repeatable.")] = None,
    lang: Annotated[str, typer.Option(help="Language of titles and reasons: en or zh.")] = "en",
    version: Annotated[str | None, typer.Option(help="Model version (default: active).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    home: HomeOpt = None,
) -> None:
    """Recommend items for a shopper, each with its source and a plain-language reason."""
    with handle_errors():
        model = BundleStore(settings_from(home, None).model_dir).load(version)
        recs = model.recommend(user, n, categories=category, exclude=exclude or (), history=history)
        _print(recs, f"recommended for {user}", model, lang, as_json)


def similar(
    item: Annotated[str, typer.Argument(help="Item id.")],
    n: Annotated[int, typer.Option("-n", min=1, max=100)] = 10,
    lang: Annotated[str, typer.Option(help="en or zh.")] = "en",
    version: Annotated[str | None, typer.Option(help="Model version (default: active).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    home: HomeOpt = None,
) -> None:
    """Items similar to an item."""
    with handle_errors():
        model = BundleStore(settings_from(home, None).model_dir).load(version)
        _print(model.similar_items(item, n), f"similar to {item}", model, lang, as_json)


def evaluation_cells(manifest: dict) -> tuple[str, str, str]:
    """``models list`` cells of a version's champion / challenger evaluation (continuous training): challenger vs
    champion NDCG@10 with the evaluated shoppers, promoted, and why; blank for versions without one."""
    evaluation = manifest.get("evaluation")
    if not evaluation:
        return "", "", ""
    metric = evaluation.get("metric", "NDCG@10")
    ours, theirs = evaluation.get("challenger") or {}, evaluation.get("champion") or {}
    score = ""
    if ours:
        score = f"{ours['metrics'][metric]:.4f}"
        score += f" vs {theirs['metrics'][metric]:.4f}" if theirs else " (no champion)"
        score += f" ({evaluation.get('n_users')} shoppers)"
    return score, "yes" if evaluation.get("promoted") else "no", evaluation.get("reason", "")


@models_app.command("list")
def list_models(home: HomeOpt = None) -> None:
    """List saved model versions, with continuous training's evaluation (challenger vs champion NDCG@10 on the
    store's recent events, promoted or not, and why)."""
    with handle_errors():
        table = Table("version", "model", "users", "items", "fit s", "active")
        for column in ("NDCG@10 vs champion", "promoted", "reason"):
            table.add_column(column, overflow="fold")
        for info in BundleStore(settings_from(home, None).model_dir).versions():
            m = info.manifest
            table.add_row(
                info.version,
                m.get("source", "?"),
                str(m.get("n_users")),
                str(m.get("n_items")),
                str(m.get("fit_seconds")),
                "*" if info.active else "",
                *evaluation_cells(m),
            )
        console.print(table)


@models_app.command("activate")
def activate_model(version: Annotated[str, typer.Argument()], home: HomeOpt = None) -> None:
    """Make a saved version the active one (roll back or forward)."""
    with handle_errors():
        BundleStore(settings_from(home, None).model_dir).activate(version)
        console.print(f"active model is now [bold]{version}[/]")
