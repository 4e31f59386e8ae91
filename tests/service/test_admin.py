"""Admin: background training, model versions, rollback, and hot swaps that fail no request.

The module's app checks the ACTIVE pointer on every request (``model_check_seconds=0``), as every
worker of a deployment would after its check interval.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from servicekit import KNOWN_SHOPPER, Service, running_service

from authkit import AUTH

THREADS, REQUESTS_PER_THREAD = 4, 60
SWAPS = 8
HANG_S = 900.0  # the most any wait here lasts: only a hang comes near it (a busy machine may train for minutes)


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(seeded_home, tmp_path_factory, model_check_seconds=0, deadline_ms=2000) as service:
        yield service


def train(svc: Service, model: str, params: dict | None = None) -> str:
    """Start a training job over HTTP, poll it to the end, return the new version."""
    response = svc.client.post("/v1/admin/train", json={"model": model, "params": params or {}})
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert response.json()["status"] in {"queued", "running"}
    svc.state.wait_job(job, HANG_S)  # an event set when the job ends (the bound only catches a hang)
    status = svc.client.get(f"/v1/admin/train/{job}").json()
    assert status["job"] == job and status["model"] == model
    assert status["status"] == "done", status
    return status["version"]


def activate(svc: Service, version: str) -> None:
    response = svc.client.post(f"/v1/admin/models/{version}/activate")
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version
    assert response.json()["active"] is True and response.json()["served"] is True


def served_version(svc: Service, user: str = KNOWN_SHOPPER) -> str:
    response = svc.client.get(f"/v1/users/{user}/recommendations", params={"n": 5})
    assert response.status_code == 200
    return response.json()["model_version"]


@pytest.fixture(scope="module")
def versions(svc: Service) -> tuple[str, str]:
    """(the start-up version, an item_knn version trained through the API)."""
    old = svc.state.models.served.version
    new = train(svc, "item_knn")
    return old, new


# ---------------------------------------------------------------------------- training and versions
def test_training_makes_a_new_version_active_and_served(svc: Service, versions: tuple[str, str]) -> None:
    old, new = versions
    assert new != old
    activate(svc, new)
    listed = svc.client.get("/v1/admin/models").json()
    by_version = {m["version"]: m for m in listed}
    assert list(by_version) == [old, new], "oldest first"
    assert by_version[old]["model"] == "fallback"
    assert by_version[new]["model"] == "item_knn"
    assert (by_version[new]["active"], by_version[new]["served"]) == (True, True)
    assert (by_version[old]["active"], by_version[old]["served"]) == (False, False)
    assert by_version[new]["n_items"] == by_version[old]["n_items"] == 486
    assert svc.state.models.bundles.active_version() == new
    assert served_version(svc) == new
    assert svc.client.get("/health/ready").json()["model_version"] == new


def test_rollback_serves_the_old_version_again(svc: Service, versions: tuple[str, str]) -> None:
    old, new = versions
    activate(svc, new)
    assert served_version(svc) == new
    activate(svc, old)
    assert served_version(svc) == old
    listed = {m["version"]: m for m in svc.client.get("/v1/admin/models").json()}
    assert (listed[old]["active"], listed[old]["served"]) == (True, True)
    assert (listed[new]["active"], listed[new]["served"]) == (False, False)
    body = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 5}).json()
    assert body["degraded"] is False


def eventually_served(svc: Service, version: str, timeout: float = 20.0) -> bool:
    """Requests keep being answered while the new version loads in the background."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served_version(svc) == version:
            return True
        time.sleep(0.05)
    return False


def test_workers_follow_the_active_pointer(svc: Service, versions: tuple[str, str]) -> None:
    """Another worker (or the CLI) moves ACTIVE; this worker loads it off the request path and swaps."""
    old, new = versions
    activate(svc, old)
    svc.state.models.bundles.activate(new)
    assert eventually_served(svc, new)
    svc.state.models.bundles.activate(old)
    assert eventually_served(svc, old)


def test_unknown_model_is_400(svc: Service) -> None:
    before = set(svc.state.jobs)
    response = svc.client.post("/v1/admin/train", json={"model": "no_such_model"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "no_such_model" in response.json()["detail"]
    assert set(svc.state.jobs) == before, "no job was started"


def test_unknown_job_and_version_are_404(svc: Service) -> None:
    job = svc.client.get("/v1/admin/train/nope")
    assert job.status_code == 404
    assert job.json()["error"] == "not_found"
    served = svc.state.models.served.version
    version = svc.client.post("/v1/admin/models/20000101T000000-000000/activate")
    assert version.status_code == 404
    assert version.json()["error"] == "not_found"
    assert svc.state.models.served.version == served
    assert svc.state.models.bundles.active_version() == served


def test_failed_training_is_reported_by_the_job(svc: Service) -> None:
    served = svc.state.models.served.version
    response = svc.client.post("/v1/admin/train", json={"model": "item_knn", "params": {"no_such_param": 1}})
    assert response.status_code == 202
    job = response.json()["job"]
    svc.state.wait_job(job, HANG_S)
    status = svc.client.get(f"/v1/admin/train/{job}").json()
    assert status["status"] == "failed"
    assert "no_such_param" in status["error"]
    assert svc.state.models.served.version == served


# ---------------------------------------------------------------------------- hot swap under load
def test_hot_swap_under_load_fails_no_request(svc: Service, versions: tuple[str, str]) -> None:
    old, new = versions
    activate(svc, old)
    statuses: list[int] = []
    seen_versions: set[str] = set()
    lock = threading.Condition()  # notified whenever a request was answered
    swapped = threading.Event()  # the requests go on until every swap has happened, however slow the machine

    def hammer(worker: int) -> None:
        k = 0
        while k < REQUESTS_PER_THREAD or not swapped.is_set():
            user = f"shopper-{(worker * 100 + k) % 600 + 1:03d}" if k % 4 else f"adm-cold-{worker}-{k}"
            response = svc.client.get(f"/v1/users/{user}/recommendations", params={"n": 10})
            with lock:
                statuses.append(response.status_code)
                if response.status_code == 200:
                    seen_versions.add(response.json()["model_version"])
                lock.notify_all()
            k += 1

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    try:
        for swap in range(SWAPS):  # each swap waits until requests were served since the last one
            with lock:
                served_before = len(statuses)
            activate(svc, new if swap % 2 == 0 else old)
            with lock:
                lock.wait_for(lambda before=served_before: len(statuses) > before + THREADS, HANG_S)
    finally:
        swapped.set()
        for t in threads:
            t.join(120)
    assert len(statuses) >= THREADS * REQUESTS_PER_THREAD
    assert [s for s in statuses if s != 200] == []
    assert seen_versions == {old, new}
    assert served_version(svc) == (old if SWAPS % 2 == 0 else new)


def test_a_swap_loading_a_bundle_does_not_stall_other_requests(svc: Service, versions: tuple[str, str]) -> None:
    """While one request loads a new bundle (held until the test releases it), another is answered: the load
    runs off the event loop. Event-driven: the load is released only after /health/live answered."""
    old, new = versions
    activate(svc, old)
    bundles = svc.state.models.bundles
    original_load = bundles.load
    loading = threading.Event()
    release = threading.Event()

    def slow_load(version=None):  # a big bundle: read only once the test says so
        loading.set()
        release.wait(HANG_S)
        return original_load(version)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=svc.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shopguide", headers=AUTH) as client:
            swap = asyncio.create_task(client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations"))
            while not loading.is_set():  # the request has reached the load
                await asyncio.sleep(0.01)
            # would hang until release (HANG_S) if the load blocked the event loop
            live = await asyncio.wait_for(client.get("/health/live"), HANG_S / 2)
            assert not release.is_set() and live.status_code == 200
            release.set()
            assert (await swap).status_code == 200

    bundles.load = slow_load
    try:
        bundles.activate(new)  # another worker moved the pointer
        asyncio.run(scenario())
    finally:
        release.set()
        del bundles.load
        activate(svc, old)
    assert loading.is_set(), "the request did load the new bundle"


def test_a_rollback_during_a_request_fails_no_request(
    svc: Service, versions: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _ = versions
    activate(svc, old)
    # a new, very popular item: known to the next version only
    item = {"id": "adm-hit", "title": "爆款 保温杯 500ml", "category": ["家居", "马克杯"], "price": 99.0}
    assert svc.client.post("/v1/items", json={"items": [item]}).json() == {"upserted": 1}
    events = [{"user": f"adm-buyer-{k}", "item": "adm-hit", "type": "purchase", "ts": 1e9 + k} for k in range(80)]
    assert svc.client.post("/v1/events", json={"events": events}).json()["accepted"] == 80
    newer = train(svc, "popular", {"half_life_days": None})
    served = svc.state.models.served
    assert served.version == newer
    produce = served.model.recommend

    def recommend_then_rollback(*args, **kwargs):
        recs = produce(*args, **kwargs)
        svc.state.models.bundles.activate(old)  # POST /v1/admin/models/{old}/activate lands right now
        svc.state.models.load(old)
        return recs

    monkeypatch.setattr(served.model, "recommend", recommend_then_rollback)
    client = TestClient(svc.app, raise_server_exceptions=False, headers=AUTH)
    response = client.get("/v1/users/adm-cold-rollback/recommendations", params={"n": 10})
    monkeypatch.undo()
    activate(svc, old)
    assert response.status_code == 200
    by_id = {it["id"]: it for it in response.json()["items"]}
    assert by_id["adm-hit"]["title"] == item["title"]
