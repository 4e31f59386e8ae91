"""Continuous training in the running service: the schedule, promotion through the hot swap, the admin views,
one training at a time, one leading worker, and a clean stop.

The module's app trains item-kNN challengers in the scheduler's thread; its clock-driven start is a billion
seconds away, so every cycle here is one the test triggers and then waits for (an event, not a sleep).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from servicekit import KNOWN_SHOPPER, Service, recommend, running_service

import shopguide.service.app as app_module
from shopguide.config import Settings
from shopguide.recommend.continuous import ContinuousConfig, FileLock
from shopguide.service.trainer import TrainingScheduler, training_status

CYCLE_TIMEOUT_S = 900.0  # waits are on events; this bound only catches a hang
NEVER_BY_CLOCK = 1e9


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(
        seeded_home,
        tmp_path_factory,
        continuous_training=True,
        training_model="item_knn",
        training_isolation="thread",
        training_start_delay_seconds=NEVER_BY_CLOCK,
        training_min_new_events=5,
        model_check_seconds=0,
        deadline_ms=2000,
    ) as service:
        yield service


def scheduler(svc: Service) -> TrainingScheduler:
    return svc.app.state.trainer


def cycle(svc: Service, *, force: bool = False) -> dict:
    """Trigger one cycle, wait for it to finish; the admin API's view of it."""
    trainer = scheduler(svc)
    done = trainer.cycles
    trainer.trigger(force=force)
    assert trainer.wait_cycles(done + 1, CYCLE_TIMEOUT_S), f"no cycle finished in {CYCLE_TIMEOUT_S} s"
    status = svc.client.get("/v1/admin/training")
    assert status.status_code == 200, status.text
    return status.json()


def train_manually(svc: Service, model: str) -> str:
    response = svc.client.post("/v1/admin/train", json={"model": model})
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    svc.state.wait_job(job, CYCLE_TIMEOUT_S)
    status = svc.client.get(f"/v1/admin/train/{job}").json()
    assert status["status"] == "done", status
    return status["version"]


def test_apps_built_in_code_do_not_train_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).continuous_training is None
    off = training_status(Settings(_env_file=None, continuous_training=False), None)
    assert (off.enabled, off.reason) == (False, "continuous training is off (SHOPGUIDE_CONTINUOUS_TRAINING)")
    built: list[Settings] = []
    monkeypatch.setattr(app_module, "create_app", built.append)
    monkeypatch.delenv("SHOPGUIDE_CONTINUOUS_TRAINING", raising=False)
    app_module.app_from_env()  # what `shopguide serve` runs: on by default
    monkeypatch.setenv("SHOPGUIDE_CONTINUOUS_TRAINING", "false")
    app_module.app_from_env()
    assert [s.continuous_training for s in built] == [True, False]


def test_the_schedule_is_led_by_this_worker_and_reported(svc: Service) -> None:
    status = svc.client.get("/v1/admin/training").json()
    assert status["enabled"] and status["leader"] and not status["running"]
    assert (status["model"], status["isolation"], status["min_new_events"]) == ("item_knn", "thread", 5)
    assert status["next_run_at"] > time.time() + NEVER_BY_CLOCK / 2


def test_a_better_challenger_is_promoted_and_served(svc: Service) -> None:
    champion = train_manually(svc, "popular")  # bestsellers: item-kNN finds far more of the next items
    assert recommend(svc, KNOWN_SHOPPER)["model_version"] == champion
    status = cycle(svc)
    last = status["last"]
    assert last["outcome"] == "promoted", last
    assert recommend(svc, KNOWN_SHOPPER)["model_version"] == last["version"] != champion
    evaluation = last["evaluation"]
    assert evaluation["champion"]["version"] == champion and evaluation["challenger"]["model"] == "item_knn"
    assert evaluation["challenger"]["metrics"]["NDCG@10"] > evaluation["champion"]["metrics"]["NDCG@10"]
    listed = {m["version"]: m for m in svc.client.get("/v1/admin/models").json()}
    assert listed[last["version"]]["evaluation"] == evaluation
    assert listed[last["version"]]["active"] and listed[last["version"]]["served"]
    assert listed[champion]["evaluation"] is None
    (job,) = [j for j, info in svc.state.jobs.items() if info.get("origin") == "schedule"]
    assert svc.client.get(f"/v1/admin/train/{job}").json()["status"] == "done"


def test_without_new_events_a_cycle_trains_nothing(svc: Service) -> None:
    versions = [m["version"] for m in svc.client.get("/v1/admin/models").json()]
    last = cycle(svc)["last"]
    assert last["outcome"] == "skipped" and last["new_events"] == 0
    assert "0 new events since version" in last["reason"]
    assert [m["version"] for m in svc.client.get("/v1/admin/models").json()] == versions


def test_new_events_make_a_cycle_due(svc: Service) -> None:
    served = recommend(svc, KNOWN_SHOPPER)["model_version"]
    now = time.time()
    events = [{"user": KNOWN_SHOPPER, "item": f"demo-00{20 + k}", "type": "click", "ts": now + k} for k in range(5)]
    assert svc.client.post("/v1/events", json={"events": events}).json()["accepted"] == 5
    last = cycle(svc)["last"]
    assert last["new_events"] == 5
    # the same model with the same parameters ties with the champion: a tie is not a win
    assert last["outcome"] == "kept" and "not better than the champion" in last["reason"]
    assert recommend(svc, KNOWN_SHOPPER)["model_version"] == served


def test_a_manual_training_and_a_cycle_never_overlap(svc: Service) -> None:
    job = svc.state.claim_job("popular")  # a manual job is running in this worker
    try:
        last = cycle(svc, force=True)["last"]
        assert last["outcome"] == "skipped" and "another training is running" in last["reason"]
        assert svc.client.post("/v1/admin/train", json={"model": "popular"}).status_code == 409
    finally:
        svc.state.finish_job(job, "done")
    other_worker = FileLock(svc.settings.home / "training.lock")  # another worker of the home trains
    assert other_worker.acquire()
    try:
        response = svc.client.post("/v1/admin/train", json={"model": "popular"})
        assert response.status_code == 409 and "another worker of this home" in response.json()["detail"]
        assert cycle(svc, force=True)["last"]["outcome"] == "skipped"
    finally:
        other_worker.release()


def test_only_one_worker_runs_the_schedule(svc: Service) -> None:
    second = TrainingScheduler(svc.state, ContinuousConfig.from_settings(svc.settings))
    result = second.run_once(force=True)
    assert (result.outcome, result.reason) == ("skipped", "another worker of this home runs the schedule")
    seen_by_second = second.status()
    assert not seen_by_second.leader and seen_by_second.enabled
    assert seen_by_second.last == scheduler(svc).status().last  # the leader's published status
    second.start()
    second.stop()  # returns at once: nothing to wait for
    assert not second._thread.is_alive()


def test_shutdown_stops_the_schedule(seeded_home, tmp_path_factory) -> None:
    with running_service(seeded_home, tmp_path_factory, continuous_training=True, training_model="popular") as service:
        trainer = scheduler(service)
        assert trainer._thread.is_alive()
    assert not trainer._thread.is_alive()
