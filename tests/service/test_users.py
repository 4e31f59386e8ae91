"""GET /v1/users/{id}/export and DELETE /v1/users/{id}, on two workers sharing one home and one store: the
erasing worker drops its cached answers; the other worker's cached answers and analytics stop matching
without being told."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from servicekit import KNOWN_SHOPPER, service_settings

from authkit import AUTH
from shopguide.privacy.pseudonym import pseudonymize
from shopguide.security.secret import server_secret
from shopguide.service.app import create_app
from shopguide.service.feed import key_request
from shopguide.service.state import ServiceState


@dataclass
class Worker:
    client: TestClient
    state: ServiceState


@pytest.fixture(scope="module")
def workers(seeded_home, tmp_path_factory) -> Iterator[tuple[Worker, Worker]]:
    home = tmp_path_factory.mktemp("privacy") / "home"
    shutil.copytree(seeded_home, home)
    settings = service_settings(home, model_check_seconds=0)
    first, second = create_app(settings), create_app(settings)
    with TestClient(first, headers=AUTH) as a, TestClient(second, headers=AUTH) as b:
        yield Worker(a, first.state.shopguide), Worker(b, second.state.shopguide)


def feed(worker: Worker, user: str) -> bytes:
    response = worker.client.get(f"/v1/users/{user}/recommendations", params={"n": 8})
    assert response.status_code == 200, response.text
    return response.content


def cached_for(worker: Worker, user: str) -> int:
    return sum(key_request(k)[0] == user for k in worker.state.answers.recent_keys(10_000))


def users_seen(worker: Worker) -> int:
    response = worker.client.get("/v1/analytics")
    assert response.status_code == 200, response.text
    return response.json()["overview"]["users"]


def test_export_returns_everything_held_and_unknown_is_404(workers) -> None:
    a, _ = workers
    chat = a.client.post("/v1/chat", json={"session_id": "privacy-chat", "user_id": KNOWN_SHOPPER, "message": "hi"})
    assert chat.status_code == 200, chat.text
    response = a.client.get(f"/v1/users/{KNOWN_SHOPPER}/export")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == KNOWN_SHOPPER and body["user"]["id"] == KNOWN_SHOPPER
    assert body["events"] and {e["user"] for e in body["events"]} == {KNOWN_SHOPPER}
    assert [s["state"]["user_id"] for s in body["sessions"]] == [KNOWN_SHOPPER]  # the conversation, stored
    assert body["sessions"][0]["state"]["history"][0]["text"] == "hi"
    assert body["pseudonym"] == pseudonymize(KNOWN_SHOPPER, server_secret(a.state.settings))
    missing = a.client.get("/v1/users/nobody-at-all/export")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_erasure_reaches_the_store_both_workers_caches_and_the_analytics(workers) -> None:
    a, b = workers
    shopper = "shopper-002"
    users_before = users_seen(b)
    feed(a, shopper), feed(b, shopper)
    assert cached_for(a, shopper) == 1 and cached_for(b, shopper) == 1
    assert b.state.store.recent_actions(shopper), "the shopper has actions: they key the cached answers"

    response = a.client.delete(f"/v1/users/{shopper}")
    assert response.status_code == 200, response.text
    removed = response.json()
    assert removed["user_id"] == shopper and removed["users"] == 1 and removed["events"] > 0
    assert removed["cached_answers"] == 1 and cached_for(a, shopper) == 0
    assert removed["analytics_files"] > 0  # the Parquet copy and the cached aggregates

    assert a.client.get(f"/v1/users/{shopper}/export").status_code == 404
    assert a.client.delete(f"/v1/users/{shopper}").status_code == 404  # nothing is held any more
    # worker b was not told: its entry is still there, but the key it reads now (no actions) misses it
    hits = b.state.answers.hits
    feed(b, shopper)
    assert b.state.answers.hits == hits and cached_for(b, shopper) == 2  # a miss, answered afresh
    # the next analytics computation on the other worker, within the fingerprint's time to live, leaves them out
    assert users_seen(b) == users_before - 1
    assert users_seen(a) == users_before - 1
