"""Continuous training's champion / challenger cycle on the built-in demo store (seeded).

On the demo's recent events item-kNN finds far more of each shopper's next items than bestsellers do, so
item-kNN against a popularity champion must be promoted and popularity against an item-kNN champion must not.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from shopguide.cli import common
from shopguide.cli.app import app as cli_app
from shopguide.config import Settings
from shopguide.data.dataset import Dataset
from shopguide.data.demo import demo_data
from shopguide.data.schema import Event
from shopguide.errors import ConfigError
from shopguide.evaluate.challenger import (
    METRIC,
    AsServed,
    ChallengeConfig,
    Evaluation,
    Scorecard,
    TrainingCancelled,
    challenge,
    decide,
    recent_task,
    stop_between_epochs,
)
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.continuous import (
    ContinuousConfig,
    FileLock,
    failed,
    freshness,
    run_cycle,
    run_in_process,
)
from shopguide.recommend.registry import make_model
from shopguide.recommend.training import store_dataset, train_and_save
from shopguide.store import open_store

SEED = 42


@pytest.fixture(scope="module")
def demo() -> Dataset:
    data = demo_data(seed=SEED)
    return Dataset.from_events(data.events, data.items, data.users, name="demo")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store file holding the demo catalog and its simulated shoppers (built once per module)."""
    path = tmp_path_factory.mktemp("demo-store") / "shopguide.db"
    data = demo_data(seed=SEED)
    with open_store(f"sqlite:///{path}") as store:
        store.import_batch(items=data.items, users=data.users, events=data.events)
    return path


def settings_for(home: Path, **overrides) -> Settings:
    values = {"training_model": "item_knn", "training_min_new_events": 10, "training_keep_rejected": 3}
    return Settings(_env_file=None, home=home, store_url="", **{**values, **overrides})


@pytest.fixture
def home_with(demo_store: Path, tmp_path: Path):
    """``home_with(champion)``: a fresh home on a copy of the demo store with ``champion`` trained and active."""

    def make(champion: str, **overrides) -> Settings:
        home = tmp_path / "home"
        home.mkdir()
        shutil.copy(demo_store, home / "shopguide.db")
        settings = settings_for(home, **overrides)
        train_and_save(settings, champion)
        return settings

    return make


def evaluation_of(settings: Settings, version: str) -> Evaluation:
    manifest = next(v.manifest for v in BundleStore(settings.model_dir).versions() if v.version == version)
    return Evaluation.from_dict(manifest["evaluation"])


# ------------------------------------------------------------------------------------------- the protocol
def test_the_recent_split_holds_out_the_latest_events_and_only_new_items(demo: Dataset) -> None:
    task = recent_task(demo, 0.1)
    cutoff = np.sort(demo.ts)[len(task.train)]
    held_out = len(demo) - len(task.train)
    assert held_out == round(0.1 * len(demo))
    assert task.train.ts.max() <= cutoff  # nothing after the cutoff is trained on
    assert np.sum(demo.ts >= cutoff) >= held_out
    # history = the shopper's events before the cutoff, exactly; truth = items they had not seen before it
    known = task.users >= 0
    same = task.history[known] - task.train.matrix[task.users[known]]
    same.eliminate_zeros()
    assert same.nnz == 0 and task.history[~known].nnz == 0
    assert task.truth.multiply(task.history).nnz == 0
    assert task.n_users > 200 and np.all(np.diff(task.truth.indptr) > 0)


def test_both_models_are_fitted_on_the_past_and_scored_on_the_same_shoppers(demo: Dataset) -> None:
    challenger, champion = make_model("item_knn"), make_model("popular").fit(demo)
    result = challenge(demo, challenger, champion, challenger_name="item_knn", champion_version="v1")
    assert len(challenger.dataset_) == result.n_train_events == len(demo) - result.n_test_events
    assert challenger.dataset_.ts.max() <= result.cutoff_ts
    assert result.n_users == recent_task(demo, 0.1).n_users
    assert (result.champion.model, result.champion.version) == ("popular", "v1")
    assert result.challenger.ndcg > 2 * result.champion.ndcg  # item-kNN finds the next items, bestsellers not
    assert result.promoted and result.reason.endswith("better than the champion")
    assert len(champion.dataset_) == len(demo)  # the champion itself is untouched: a fresh copy was refitted


def test_a_model_is_scored_as_it_serves_short_lists_filled_with_bestsellers(demo: Dataset) -> None:
    model = AsServed(make_model("item_knn")).fit(demo)
    shopper = demo.users.index("shopper-001")
    rows = sp.vstack([demo.matrix[shopper], sp.csr_matrix((1, demo.n_items), dtype=np.float32)]).tocsr()
    raw = model.model.score(np.array([shopper, -1]), rows)
    served = model.score(np.array([shopper, -1]), rows)
    known = np.isfinite(raw[0])
    assert 0 < known.sum() < demo.n_items and np.isneginf(raw[1]).all()  # item-kNN cannot score everything
    assert np.array_equal(served[0][known], raw[0][known])
    assert served[0][known].min() > served[0][~known].max()  # what it scores comes first
    bestsellers = np.argsort(-demo.item_popularity, kind="stable")
    assert np.array_equal(np.argsort(-served[1], kind="stable")[:10], bestsellers[:10])  # then the bestsellers


def card(ndcg: float, se: float) -> Scorecard:
    return Scorecard("m", None, {METRIC: ndcg, "HR@10": 0.0}, {METRIC: se, "HR@10": 0.0}, 0.0)


@pytest.mark.parametrize(
    ("ours", "theirs", "config", "promoted", "why"),
    [
        (card(0.12, 0.001), card(0.10, 0.001), ChallengeConfig(), True, "better than the champion"),
        (card(0.12, 0.001), card(0.10, 0.001), ChallengeConfig(margin=0.25), False, "not better"),
        (card(0.10, 0.001), card(0.10, 0.001), ChallengeConfig(), False, "not better"),
        (card(0.12, 0.05), card(0.10, 0.05), ChallengeConfig(min_z=1.0), False, "within noise"),
        (card(0.12, 0.05), card(0.10, 0.05), ChallengeConfig(min_z=0.0), True, "better than the champion"),
    ],
)
def test_decide_needs_a_margin_beyond_noise(ours, theirs, config, promoted: bool, why: str) -> None:
    decision, reason, _ = decide(theirs, ours, 100, config)
    assert decision is promoted and why in reason


def test_decide_needs_enough_shoppers_and_promotes_without_a_champion() -> None:
    assert decide(card(0.1, 0.001), card(0.9, 0.001), 49, ChallengeConfig(min_users=50))[:2] == (
        False,
        "too little data: 49 shoppers evaluated (fewer than 50)",
    )
    assert decide(None, card(0.1, 0.0), 1, ChallengeConfig())[:2] == (True, "no active model to compare with")


def test_bad_settings_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        ContinuousConfig.from_settings(settings_for(tmp_path, training_model="nope"))
    with pytest.raises(ConfigError, match="held-out share"):
        ChallengeConfig(holdout=0.7)


# ------------------------------------------------------------------------------------------- one cycle
def test_a_better_challenger_is_refitted_on_everything_promoted_and_its_evaluation_saved(home_with) -> None:
    settings = home_with("popular")
    champion = BundleStore(settings.model_dir).active_version()
    result = run_cycle(settings, ContinuousConfig.from_settings(settings))
    assert result.outcome == "promoted"
    bundles = BundleStore(settings.model_dir)
    assert bundles.active_version() == result.version != champion
    evaluation = evaluation_of(settings, result.version)
    assert evaluation.promoted and evaluation.fitted_on == "all events"
    assert evaluation.champion.version == champion and evaluation.challenger.model == "item_knn"
    assert evaluation.challenger.ndcg > evaluation.champion.ndcg
    assert evaluation.n_users >= settings.training_min_eval_users
    served = bundles.load(result.version)
    assert len(served.dataset_) == len(store_dataset(settings))  # the promoted model learnt from every event
    assert result.evaluation == evaluation.to_dict()


def test_a_worse_challenger_is_saved_inactive_with_the_reason(home_with) -> None:
    settings = home_with("item_knn", training_model="popular")
    champion = BundleStore(settings.model_dir).active_version()
    result = run_cycle(settings, ContinuousConfig.from_settings(settings))
    assert result.outcome == "kept"
    assert BundleStore(settings.model_dir).active_version() == champion
    evaluation = evaluation_of(settings, result.version)
    assert not evaluation.promoted and "not better than the champion" in evaluation.reason
    assert evaluation.fitted_on == "events before the cutoff"
    assert evaluation.challenger.ndcg < evaluation.champion.ndcg


def test_too_little_data_fits_and_promotes_nothing(home_with) -> None:
    settings = home_with("popular", training_min_eval_users=100_000)
    before = [v.version for v in BundleStore(settings.model_dir).versions()]
    result = run_cycle(settings, ContinuousConfig.from_settings(settings))
    assert result.outcome == "skipped" and result.reason.startswith("too little data")
    assert result.evaluation["n_users"] < 100_000 and result.evaluation["challenger"] is None
    assert [v.version for v in BundleStore(settings.model_dir).versions()] == before


def test_a_cycle_is_due_only_after_enough_new_events(home_with) -> None:
    settings = home_with("item_knn", training_model="popular")
    config = ContinuousConfig.from_settings(settings)
    bundles = BundleStore(settings.model_dir)
    with open_store(settings.resolved_store_url) as store:
        first = freshness(store, bundles, "popular", config.min_new_events)
        assert first.due and first.previous is None  # never trained: due at once
        version = run_cycle(settings, config, store=store).version
        after = freshness(store, bundles, "popular", config.min_new_events)
        assert (after.due, after.new_events, after.previous) == (False, 0, version)
        latest = max(e.ts for e in store.iter_events())
        store.add_events(
            [Event(id=f"new-{k}", user="u-new", item="i-new", type="click", ts=latest + 1) for k in range(9)]
        )
        assert freshness(store, bundles, "popular", 10).new_events == 9
        assert not freshness(store, bundles, "popular", 10).due
        store.add_events([Event(id="new-9", user="u-new", item="i-new", type="click", ts=latest + 2)])
        assert freshness(store, bundles, "popular", 10).due


def test_only_the_newest_rejected_challengers_are_kept(home_with) -> None:
    settings = home_with("item_knn", training_model="popular", training_keep_rejected=2)
    config = ContinuousConfig.from_settings(settings)
    versions = [run_cycle(settings, config).version for _ in range(3)]
    bundles = BundleStore(settings.model_dir)
    assert [v.version for v in bundles.versions() if "evaluation" in v.manifest] == versions[1:]


def test_a_stop_cancels_between_steps(home_with, demo: Dataset) -> None:
    settings = home_with("popular")
    stop = threading.Event()
    stop.set()
    with pytest.raises(TrainingCancelled) as caught:
        run_cycle(settings, ContinuousConfig.from_settings(settings), stop=stop)
    assert failed(caught.value, 0.0).outcome == "cancelled"
    sequential = make_model("sequential")
    stop_between_epochs(sequential, stop)
    with pytest.raises(TrainingCancelled):
        sequential.on_epoch(None, 1)  # what the training loop calls after every epoch


def test_a_cycle_runs_in_its_own_process(home_with) -> None:
    settings = home_with("popular")
    result = run_in_process(settings, ContinuousConfig.from_settings(settings), threading.Event())
    assert result.outcome == "promoted", result.reason
    assert BundleStore(settings.model_dir).active_version() == result.version
    assert evaluation_of(settings, result.version).challenger.model == "item_knn"


def test_the_training_lock_has_one_holder(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "training.lock"), FileLock(tmp_path / "training.lock")
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire() and second.held
    second.release()


def test_models_list_shows_the_evaluation(home_with, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = home_with("popular")
    result = run_cycle(settings, ContinuousConfig.from_settings(settings))
    evaluation = evaluation_of(settings, result.version)
    monkeypatch.setattr(common.console, "size", (2000, 200))
    run = CliRunner().invoke(cli_app, ["models", "list", "--home", str(settings.home)])
    assert run.exit_code == 0, run.output
    (row,) = [line for line in run.output.splitlines() if result.version in line]
    ours, theirs = evaluation.challenger.ndcg, evaluation.champion.ndcg
    assert f"{ours:.4f} vs {theirs:.4f} ({evaluation.n_users} shoppers)" in row
    assert "yes" in row and evaluation.reason in row
