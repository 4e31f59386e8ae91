"""The sequence model served over HTTP: trained through the admin API, fed the shopper's latest events."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from servicekit import Service, running_service
from test_admin import train

pytest.importorskip("torch")

SMALL = {"dim": 16, "heads": 1, "layers": 1, "max_epochs": 6, "threads": 1}


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(seeded_home, tmp_path_factory, model_check_seconds=0, deadline_ms=2000) as service:
        yield service


def view(svc: Service, user: str, item: str, ts: float) -> None:
    event = {"user": user, "item": item, "type": "view", "ts": ts}
    assert svc.client.post("/v1/events", json={"events": [event]}).json()["accepted"] == 1


def recommended(svc: Service, user: str) -> list[dict]:
    response = svc.client.get(f"/v1/users/{user}/recommendations", params={"n": 10})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_each_click_changes_the_next_answer_of_the_sequence_model(svc: Service) -> None:
    train(svc, "sequential", {"config": SMALL})
    user, now = "seq-visitor", time.time()
    view(svc, user, "demo-0001", now)
    first = recommended(svc, user)
    assert {it["source"] for it in first} == {"sequential"}
    assert all(it["reasons"]["en"] and it["reasons"]["zh"] for it in first)
    view(svc, user, "demo-0300", now + 1)
    second = recommended(svc, user)
    assert [it["id"] for it in second] != [it["id"] for it in first]
    assert "demo-0300" not in {it["id"] for it in second}


def test_the_sequence_model_leads_a_fallback_chain(svc: Service) -> None:
    steps = [{"model": "sequential", "params": {"config": SMALL}}, "recent_item_knn", "category_popular", "popular"]
    train(svc, "fallback", {"steps": steps})
    user, now = "seq-chain-visitor", time.time()
    view(svc, user, "demo-0002", now)
    items = recommended(svc, user)
    assert len(items) == 10 and items[0]["source"] == "sequential"
    cold = recommended(svc, "seq-chain-nobody")  # no events at all: later steps answer
    assert len(cold) == 10 and "sequential" not in {it["source"] for it in cold}
