"""Resilience: a failing, slow or missing model never costs a request its answer; load shedding; readiness.

Broken and slow models are the served model with ``recommend`` patched. Slow models block on an event
that the test releases, so "slower than the deadline" holds by construction, not by a sleep that races
the clock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from servicekit import KNOWN_SHOPPER, Service, running_service, service_settings

from authkit import AUTH
from shopguide.errors import StoreError
from shopguide.recommend.bundle import BundleStore
from shopguide.service.app import create_app
from shopguide.service.models import ModelHolder
from shopguide.service.resilience import LoadShedder
from shopguide.service.state import ServiceState
from shopguide.store import open_store

DEADLINE_MS = 100.0


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    # these tests break the model on purpose; a cached answer would (rightly) hide that, so no cache here
    with running_service(seeded_home, tmp_path_factory, deadline_ms=DEADLINE_MS, answer_cache_size=0) as service:
        yield service


def _boom(*args, **kwargs):
    raise RuntimeError("model exploded")


class Gate:
    """A stand-in for a model call that hangs until released (or 10 s pass)."""

    def __init__(self, then=None) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.then = then

    def __call__(self, *args, **kwargs):
        self.entered.set()
        self.released.wait(10)
        return self.then(*args, **kwargs) if self.then else []


def assert_static(svc: Service, body: dict, n: int, blocked: set[str] = frozenset()) -> None:
    """The answer is the served model's static last-resort list, in order."""
    expected = [i for i in svc.state.models.served.static_items if i not in blocked | svc.state.deleted][:n]
    assert body["degraded"] is True
    assert [it["id"] for it in body["items"]] == expected
    assert {it["source"] for it in body["items"]} == {"static"}
    assert {it["reason"] for it in body["items"]} == {"a staff pick"}
    assert body["model_version"] == svc.state.models.served.version


# ---------------------------------------------------------------------------- a model that raises
def test_a_raising_model_gets_the_static_list_not_a_5xx(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(svc.state.models.served.model, "recommend", _boom)
    for user in (KNOWN_SHOPPER, "res-cold"):
        response = svc.client.get(f"/v1/users/{user}/recommendations", params={"n": 15})
        assert response.status_code == 200
        assert_static(svc, response.json(), 15)


def test_static_list_honours_exclude(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    top = list(svc.state.models.served.static_items[:2])
    monkeypatch.setattr(svc.state.models.served.model, "recommend", _boom)
    response = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 5, "exclude": top})
    assert response.status_code == 200
    assert_static(svc, response.json(), 5, blocked=set(top))


def test_static_list_honours_the_category_filter(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(svc.state.models.served.model, "recommend", _boom)
    response = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 5, "category": "服装"})
    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] is True
    assert body["items"], "popular clothes exist"
    assert all(it["category"][0] == "服装" for it in body["items"]), [it["category"] for it in body["items"]]


def test_a_raising_model_never_makes_similar_items_a_5xx(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(svc.state.models.served.model, "similar_items", _boom)
    client = TestClient(svc.app, raise_server_exceptions=False, headers=AUTH)  # see the status a real client would see
    response = client.get("/v1/items/demo-0001/similar", params={"n": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] is True
    assert {it["source"] for it in body["items"]} == {"static"}
    assert "demo-0001" not in [it["id"] for it in body["items"]]


# ---------------------------------------------------------------------------- a model that runs over
def test_a_slow_model_is_cut_at_the_deadline(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate()
    monkeypatch.setattr(svc.state.models.served.model, "recommend", gate)
    try:
        started = time.perf_counter()
        response = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 10})
        elapsed = time.perf_counter() - started
    finally:
        gate.released.set()
    assert gate.entered.is_set(), "the model was asked"
    assert response.status_code == 200
    assert_static(svc, response.json(), 10)
    # the static list came while the model was still held (the gate opens only below): the deadline cut it
    assert elapsed >= DEADLINE_MS / 1000, elapsed


def test_a_slow_similar_items_is_cut_at_the_deadline(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate()
    monkeypatch.setattr(svc.state.models.served.model, "similar_items", gate)
    try:
        response = svc.client.get("/v1/items/demo-0001/similar", params={"n": 6})
    finally:
        gate.released.set()
    assert response.status_code == 200
    assert_static(svc, response.json(), 6, blocked={"demo-0001"})


def test_the_model_answers_again_once_it_recovers(svc: Service) -> None:
    body = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 5}).json()
    assert body["degraded"] is False
    assert "static" not in {it["source"] for it in body["items"]}


# ---------------------------------------------------------------------------- load shedding
def test_requests_beyond_max_in_flight_are_shed_with_retry_after(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    state = svc.state
    # one request may be in flight; it hangs in the model (deadline raised so that it stays in flight)
    monkeypatch.setattr(state, "settings", state.settings.model_copy(update={"deadline_ms": 20_000}))
    gate = Gate(then=state.models.served.model.recommend)
    monkeypatch.setattr(state.models.served.model, "recommend", gate)
    app = create_app(service_settings(svc.settings.home, max_in_flight=1), state=state)
    app.state.shopguide = state  # ASGITransport does not run the lifespan

    async def scenario() -> dict[str, httpx.Response]:
        out: dict[str, httpx.Response] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shopguide", headers=AUTH) as client:
            first = asyncio.create_task(client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations"))
            try:
                assert await asyncio.to_thread(gate.entered.wait, 10), "the first request reached the model"
                out["second"] = await client.get("/v1/users/shopper-002/recommendations")
                out["event"] = await client.post("/v1/events", json={"events": []})
                for path in ("/health/live", "/health/ready", "/metrics"):
                    out[path] = await client.get(path)
            finally:
                gate.released.set()
            out["first"] = await first
            out["after"] = await client.get("/v1/users/shopper-002/recommendations")
        return out

    responses = asyncio.run(scenario())
    assert responses["first"].status_code == 200
    assert responses["first"].json()["degraded"] is False
    for shed in ("second", "event"):
        assert responses[shed].status_code == 503
        assert responses[shed].headers["retry-after"] == "1"
        assert responses[shed].headers["content-type"] == "application/json"
        assert responses[shed].json()["error"] == "overloaded"
    for path in ("/health/live", "/health/ready", "/metrics"):
        assert responses[path].status_code == 200, path
    assert responses["after"].status_code == 200, "capacity is given back when a request ends"


def test_max_in_flight_requests_are_all_served(svc: Service) -> None:
    app = create_app(service_settings(svc.settings.home, max_in_flight=4), state=svc.state)
    app.state.shopguide = svc.state

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shopguide", headers=AUTH) as client:
            return await asyncio.gather(
                *(client.get(f"/v1/users/shopper-{k:03d}/recommendations") for k in range(1, 5))
            )

    assert [r.status_code for r in asyncio.run(scenario())] == [200] * 4


# ---------------------------------------------------------------------------- readiness
@pytest.fixture
def modelless(tmp_path: Path) -> Iterator[TestClient]:
    """An app whose state has an empty bundle store: no model is served."""
    settings = service_settings(tmp_path, bootstrap_demo=False)
    store = open_store(settings.resolved_store_url)
    state = ServiceState(settings=settings, store=store, models=ModelHolder(BundleStore(settings.model_dir)))
    try:
        with TestClient(create_app(settings, state=state), headers=AUTH) as client:
            yield client
    finally:
        store.close()


def test_not_ready_without_a_model_but_alive(modelless: TestClient) -> None:
    ready = modelless.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "starting"
    assert modelless.get("/health/live").status_code == 200


def test_no_model_still_answers_recommendations_without_a_5xx(modelless: TestClient) -> None:
    response = modelless.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations")
    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] is True
    assert body["model_version"] is None


def test_not_ready_when_the_store_fails(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    def down() -> int:
        raise StoreError("database is locked")

    monkeypatch.setattr(svc.state.store, "count_events", down)
    response = svc.client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "database is locked" in response.json()["detail"]
    assert svc.client.get("/health/live").status_code == 200


def test_a_store_outage_gets_the_static_list_not_a_5xx(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args, **kwargs):
        raise StoreError("database is locked")

    monkeypatch.setattr(svc.state.store, "recent_actions", down)
    monkeypatch.setattr(svc.state.store, "deleted_item_ids", down)
    monkeypatch.setattr(svc.state, "_deleted_checked_at", -1e9)  # the deleted-items sync runs on this request
    deleted = svc.state.deleted
    response = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 5})
    assert response.status_code == 200
    assert_static(svc, response.json(), 5)
    assert svc.state.deleted == deleted


# ---------------------------------------------------------------------------- admission by queueing delay
class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Held:
    """An ASGI app whose requests (health checks aside) stay in flight until the test releases them."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:
        if not scope["path"].startswith("/health"):
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _shedder(max_wait: float, *, max_in_flight: int = 64) -> tuple[LoadShedder, Held, Clock]:
    inner, clock = Held(), Clock()
    return LoadShedder(inner, max_in_flight=max_in_flight, max_wait=max_wait, clock=clock), inner, clock


async def _get(app, path: str = "/v1/users/u/recommendations") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shopguide") as client:
        return await client.get(path)


def test_service_time_is_the_interval_between_completions_under_load() -> None:
    shedder, inner, clock = _shedder(0.05)

    async def scenario() -> None:
        inner.release.set()
        clock.now = 0.0
        await _get(shedder)  # alone: start 0, done 0 -> first sample 0 keeps the average unset
        assert shedder.policy.service_time == 0.0
        first = asyncio.create_task(_get(shedder))
        inner.release.clear()
        await asyncio.sleep(0)
        clock.now = 0.010
        inner.release.set()
        await first
        assert shedder.policy.service_time == pytest.approx(0.010)

    asyncio.run(scenario())


def test_requests_are_shed_when_the_estimated_wait_exceeds_the_budget() -> None:
    shedder, inner, _ = _shedder(0.05)
    shedder.policy.service_time = 0.020  # 20 ms per request measured recently

    async def scenario() -> tuple[int, httpx.Response, list[httpx.Response], httpx.Response]:
        held = [asyncio.create_task(_get(shedder)) for _ in range(3)]
        while shedder.policy.in_flight < 3:
            await asyncio.sleep(0)
        # 3 in flight x 20 ms = 60 ms ahead of the next request: over the 50 ms budget
        shed = await asyncio.wait_for(_get(shedder), 5)  # a request that is let in would hang: fail instead
        health = await _get(shedder, "/health/live")
        inner.release.set()
        done = await asyncio.gather(*held)
        return shedder.policy.in_flight, shed, done, health

    in_flight, shed, done, health = asyncio.run(scenario())
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert shed.json()["error"] == "overloaded"
    assert "estimated wait 60 ms exceeds 50 ms" in shed.json()["detail"]
    assert [r.status_code for r in done] == [200, 200, 200]
    assert health.status_code == 200, "health endpoints are never shed"
    assert shedder.policy.shed == 1
    assert in_flight == 0


def test_requests_within_the_wait_budget_are_admitted() -> None:
    shedder, inner, _ = _shedder(0.05)
    shedder.policy.service_time = 0.020

    async def scenario() -> list[int]:
        held = [asyncio.create_task(_get(shedder)) for _ in range(2)]
        while shedder.policy.in_flight < 2:
            await asyncio.sleep(0)
        third = asyncio.create_task(_get(shedder))  # 2 x 20 ms = 40 ms: within 50 ms
        while shedder.policy.in_flight < 3:
            await asyncio.sleep(0)
        inner.release.set()
        return [r.status_code for r in await asyncio.gather(*held, third)]

    assert asyncio.run(scenario()) == [200, 200, 200]
    assert shedder.policy.shed == 0


def test_a_zero_wait_budget_turns_wait_shedding_off_but_keeps_max_in_flight() -> None:
    shedder, inner, _ = _shedder(0.0, max_in_flight=3)
    shedder.policy.service_time = 10.0  # any estimate is acceptable without a budget

    async def scenario() -> list[int]:
        held = [asyncio.create_task(_get(shedder)) for _ in range(3)]
        while shedder.policy.in_flight < 3:
            await asyncio.sleep(0)
        fourth = await asyncio.wait_for(_get(shedder), 5)
        inner.release.set()
        return [r.status_code for r in await asyncio.gather(*held)] + [fourth.status_code]

    assert asyncio.run(scenario()) == [200, 200, 200, 503]


def test_the_wait_budget_comes_from_settings_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from shopguide.config import Settings

    monkeypatch.setenv("SHOPGUIDE_SHED_WAIT_MS", "25")
    assert Settings(_env_file=None).shed_wait_ms == 25.0
    app = create_app(Settings(_env_file=None, shed_wait_ms=30))
    shedder = next(m for m in app.user_middleware if m.cls is LoadShedder)
    assert shedder.kwargs["policy"] is app.state.shedding, "middleware and HTTP protocol share one policy"
    assert app.state.shedding.max_wait == pytest.approx(0.030)
    monkeypatch.delenv("SHOPGUIDE_SHED_WAIT_MS")
    assert Settings(_env_file=None).shed_wait_seconds == 0.0  # off unless configured
