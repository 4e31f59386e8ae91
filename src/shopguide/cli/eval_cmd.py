"""``shopguide evaluate``: offline evaluation of one or more models on a public dataset or the store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from shopguide.cli.common import (
    HomeOpt,
    ParamOpt,
    StoreOpt,
    console,
    handle_errors,
    parse_params,
    progress_bar,
    settings_from,
    tracker,
)
from shopguide.data.dataset import Dataset
from shopguide.data.loaders import load
from shopguide.errors import ConfigError
from shopguide.evaluate.protocols import EvalTask, loo_protocol, stratified_protocol, temporal_protocol
from shopguide.evaluate.report import results_table, to_json
from shopguide.evaluate.runner import evaluate as run_evaluation
from shopguide.recommend.registry import make_model
from shopguide.store import open_store


class Protocol(StrEnum):
    loo = "loo"
    stratified = "stratified"
    temporal = "temporal"


def make_task(data: Dataset, protocol: Protocol, *, seed: int, ratio: float, valid: bool) -> EvalTask:
    """Build the evaluation task; ``valid`` picks the validation task (for tuning) where there is one."""
    if protocol is Protocol.loo:
        task = loo_protocol(data)
    elif protocol is Protocol.stratified:
        task = stratified_protocol(data, ratio=ratio, seed=seed)
    else:
        task = temporal_protocol(data, test_fraction=1 - ratio, valid_fraction=0.1 if valid else 0.0)
    if valid:
        if getattr(task, "validation", None) is None:
            raise ConfigError(f"protocol {protocol.value} has no validation task")
        return task.validation
    return task


def evaluate(
    model: Annotated[list[str], typer.Option("--model", "-m", help="Registry name, repeatable.")] = ["ease"],  # noqa: B006
    data_dir: Annotated[Path | None, typer.Option(help="Public data set path; default: the store.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="amazon, movielens or taobao (with --data-dir).")] = "amazon",
    protocol: Annotated[Protocol, typer.Option(help="loo, stratified (75/25 per user) or temporal.")] = Protocol.loo,
    k: Annotated[list[int], typer.Option("--k", help="Cut-off, repeatable.")] = [10, 20],  # noqa: B006
    seed: Annotated[int, typer.Option(help="Split seed (stratified).")] = 42,
    ratio: Annotated[float, typer.Option(help="Train share for stratified / temporal splits.")] = 0.75,
    validation: Annotated[
        bool, typer.Option("--validation", help="Score the validation task instead of test.")
    ] = False,
    sampled: Annotated[
        int | None, typer.Option(help="Rank against N sampled negatives (papers only; NOT comparable).")
    ] = None,
    param: ParamOpt = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write results as JSON here.")] = None,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Evaluate models with full ranking over all items (HR, Recall, Precision, NDCG, MRR, MAP, coverage)."""
    with handle_errors():
        params = parse_params(param)
        with progress_bar() as progress:
            progress.add_task("loading data", total=None)
            if data_dir is not None:
                data = load(fmt, data_dir).to_dataset()
            else:
                settings = settings_from(home, store)
                with open_store(settings.resolved_store_url) as st:
                    data = st.load_dataset(event_weights=settings.event_weights)
            task = make_task(data, protocol, seed=seed, ratio=ratio, valid=validation)
        results = []
        for name in model:
            recommender = make_model(name, **params)
            with progress_bar() as progress:
                progress.add_task(f"fitting {name}", total=None)
                result = run_evaluation(
                    recommender,
                    task,
                    ks=k,
                    progress=tracker(progress, f"scoring {name}"),
                    sampled_negatives=sampled,
                    seed=seed,
                )
            result.model = name  # the registry name says more than the class (item_knn vs item_knn_pearson)
            results.append(result)
            console.print(results_table([result], title=f"{task.name}: {task.protocol}"))
        if len(results) > 1:
            console.print(results_table(results, title="all models"))
        if json_out is not None:
            console.print(f"wrote {to_json(results, json_out)}")
