"""Answers prepared ahead: at start-up for the most recently active shoppers, and for a new model version
before it is swapped in; a prepared answer is byte for byte the one the route computes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from servicekit import Service, recommend, running_service

from shopguide.service import warmup
from shopguide.service.feed import FeedRequest, answer_key

WARM = 12


@pytest.fixture
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(
        seeded_home, tmp_path_factory, warm_shoppers=WARM, warm_answers=100, model_check_seconds=0, deadline_ms=5000
    ) as service:
        yield service


def body(svc: Service, user: str, **params) -> bytes:
    return svc.client.get(f"/v1/users/{user}/recommendations", params=params).content


def test_the_most_recently_active_shoppers_feeds_are_ready_at_start(svc: Service) -> None:
    state = svc.state
    active = state.store.active_users(WARM)
    assert len(active) == WARM and len(state.answers) == WARM
    hits = state.answers.hits
    prepared = {user: body(svc, user) for user in active}  # the route's default request: n=10, English
    assert state.answers.hits == hits + WARM, "every default feed of an active shopper was a cache hit"
    state.answers.clear()
    assert {user: body(svc, user) for user in active} == prepared, "prepared = what the route computes"
    assert state.answers.hits == hits + WARM


def test_a_new_version_is_swapped_in_with_the_recently_served_answers_prepared(svc: Service) -> None:
    state = svc.state
    old = state.models.served.version
    shoppers = ["shopper-020", "shopper-021", "warm-new-visitor"]
    for user in shoppers:
        recommend(svc, user, n=5, lang="zh")
    new = svc.client.post("/v1/admin/train", json={"model": "item_knn"}).json()["job"]
    while (job := svc.client.get(f"/v1/admin/train/{new}").json())["status"] not in {"done", "failed"}:
        threading.Event().wait(0.05)
    assert job["status"] == "done", job
    version = job["version"]
    assert state.models.served.version == version != old
    hits = state.answers.hits
    swapped = {user: recommend(svc, user, n=5, lang="zh") for user in shoppers}
    assert state.answers.hits == hits + len(shoppers), "the first requests after the swap were hits"
    assert {answer["model_version"] for answer in swapped.values()} == {version}
    state.answers.clear()
    assert {user: recommend(svc, user, n=5, lang="zh") for user in shoppers} == swapped


def test_an_event_after_preparing_still_changes_the_next_answer(svc: Service) -> None:
    user = svc.state.store.active_users(1)[0]
    before = recommend(svc, user)
    carted = before["items"][0]["id"]
    # now: after every demo event, and inside the window of accepted event times
    event = {"user": user, "item": carted, "type": "cart", "ts": time.time()}
    assert svc.client.post("/v1/events", json={"events": [event]}).json()["accepted"] == 1
    assert carted not in [it["id"] for it in recommend(svc, user)["items"]]


def test_preparing_stops_at_the_time_limit_and_skips_a_failing_shopper(svc: Service, monkeypatch) -> None:
    state = svc.state
    served = state.models.served
    state.answers.clear()
    calls: list[str] = []
    real = warmup.compute_answer

    def flaky(served, user, request, recent, deleted):
        calls.append(user)
        if user == "broken":
            raise RuntimeError("model failure")
        return real(served, user, request, recent, deleted)

    monkeypatch.setattr(warmup, "compute_answer", flaky)
    wanted = [("a-1", FeedRequest()), ("broken", FeedRequest()), ("a-2", FeedRequest(n=3))]
    assert warmup.prepare_answers(state, served, wanted, seconds=30, occasion="test") == 2
    assert calls == ["a-1", "broken", "a-2"] and len(state.answers) == 2
    key = answer_key(served.version, "a-2", [], FeedRequest(n=3), state.deleted_generation)
    assert key in state.answers
    assert warmup.prepare_answers(state, served, [("a-3", FeedRequest())], seconds=0, occasion="test") == 0


def test_a_failure_while_preparing_never_blocks_the_swap(svc: Service, monkeypatch) -> None:
    state = svc.state
    recommend(svc, "shopper-030")

    def broken(incoming):
        raise RuntimeError("preparing failed")

    monkeypatch.setattr(state.models, "prepare", broken)
    current = state.models.served.version
    loaded = state.models.load(current)  # the same version again: load, prepare (fails), swap
    assert state.models.served is loaded
    assert recommend(svc, "shopper-030")["model_version"] == current


def test_a_paced_preparation_leaves_the_cpu_to_requests_half_the_time(svc: Service, monkeypatch) -> None:
    import time

    state = svc.state
    state.answers.clear()
    real = warmup.compute_answer

    def slow(*args):
        time.sleep(0.02)  # a 20 ms answer
        return real(*args)

    monkeypatch.setattr(warmup, "compute_answer", slow)
    wanted = [(f"paced-{k}", FeedRequest()) for k in range(5)]
    started = time.monotonic()
    assert warmup.prepare_answers(state, state.models.served, wanted, seconds=30, occasion="test", duty=0.5) == 5
    assert time.monotonic() - started >= 0.19, "as long asleep as computing"
