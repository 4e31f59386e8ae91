"""``shopguide train-seq``: train the sequential (transformer) recommender with a progress bar, early
stopping, checkpoints and resume; save it as a model version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopguide.cli.common import HomeOpt, StoreOpt, console, handle_errors, parse_params, progress_bar, settings_from
from shopguide.data.loaders import load
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.sequential.config import SequentialConfig
from shopguide.recommend.sequential.recommender import SequentialRecommender
from shopguide.recommend.training import store_dataset


def train_seq(
    config: Annotated[Path | None, typer.Option(help="YAML / JSON / TOML file of SequentialConfig fields.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Config field as key=value (JSON), repeatable; wins over --config."),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Train on a public data set instead of the store.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="amazon, movielens or taobao (with --data-dir).")] = "amazon",
    checkpoints: Annotated[
        Path | None, typer.Option(help="Checkpoint folder (default: <home>/checkpoints/sequential).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from the checkpoint in the checkpoint folder.")] = False,
    activate: Annotated[bool, typer.Option(help="Make the new version the active one.")] = True,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Train the next-item transformer; the best validation epoch is kept and saved as a new model version."""
    with handle_errors():
        settings = settings_from(home, store)
        values = SequentialConfig.from_file(config).model_dump(exclude_unset=True) if config else {}
        cfg = SequentialConfig.from_mapping({**values, **parse_params(set_)}, source=str(config or "--set"))
        data = load(fmt, data_dir).to_dataset() if data_dir is not None else store_dataset(settings)
        folder = checkpoints or settings.home / "checkpoints" / "sequential"
        model = SequentialRecommender(config=cfg, checkpoint_dir=str(folder), resume=resume)
        with progress_bar(transient=False) as progress:
            bar = progress.add_task("training sequential", total=cfg.max_epochs)

            def on_epoch(entry, total: int) -> None:
                valid = f" valid NDCG@10 {entry.ndcg10:.4f}" if entry.ndcg10 is not None else ""
                member = f"network {entry.member + 1}/{cfg.members} " if cfg.members > 1 else ""
                progress.update(
                    bar,
                    completed=entry.epoch,
                    description=f"{member}epoch {entry.epoch} loss {entry.loss:.3f}{valid}",
                )

            model.on_epoch = on_epoch
            model.fit(data)
        report = model.report_
        version = BundleStore(settings.model_dir).save(
            model,
            activate=activate,
            metrics={"valid_ndcg10": report.best_ndcg10 or 0.0},
            data={
                "users": data.n_users,
                "items": data.n_items,
                "events": len(data),
                "source": str(data_dir or "store"),
            },
        )
        best = f", valid NDCG@10 {report.best_ndcg10:.4f}" if report.best_ndcg10 is not None else ""
        kept = ", ".join(str(r.best_epoch) for r in model.reports_)
        networks = f"{len(model.reports_)} networks, " if len(model.reports_) > 1 else ""
        console.print(
            f"trained sequential in {report.seconds / 60:.1f} min: {networks}{len(report.epochs)} epochs, "
            f"kept epoch {kept}{best} ({report.stopped}) -> version [bold]{version}[/]"
            + (" (active)" if activate else "")
        )
