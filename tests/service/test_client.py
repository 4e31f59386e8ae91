"""The Python client against the real app: every method round-trips, errors map to shopguide errors,
events are idempotent, and a real 503 from the load shedder carries Retry-After.

The sync client runs over FastAPI's TestClient (an ``httpx.Client``), the async one over
``httpx.ASGITransport`` with the app's lifespan entered by hand. Both use a copy of the session's seeded
home (``seeded_home`` in conftest.py), so nothing here leaks into other modules.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from authkit import ADMIN_KEY
from shopguide.client import AsyncShopguideClient, ServiceUnavailableError, ShopguideClient, TrainJob
from shopguide.config import Settings
from shopguide.data.schema import Event, Item
from shopguide.errors import AuthError, ConfigError, DataError, NotFoundError, ShopguideError
from shopguide.service import schemas
from shopguide.service.app import create_app
from shopguide.service.resilience import LoadShedder
from shopguide.service.schemas import EventsResult, ModelVersion, RecommendationResponse

SHOPPER = "shopper-001"
ITEM = "demo-0001"


def _copy_home(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("client") / "home"
    shutil.copytree(seeded_home, home)
    return Settings(_env_file=None, home=home, store_url="", admin_key=ADMIN_KEY)


@pytest.fixture(scope="module")
def app(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(_copy_home(seeded_home, tmp_path_factory))


@pytest.fixture(scope="module")
def sg(app: FastAPI) -> Iterator[ShopguideClient]:
    with TestClient(app) as http, ShopguideClient(http_client=http, api_key=ADMIN_KEY) as client:
        yield client


def _has_route(app: FastAPI, path: str) -> bool:
    return path in app.openapi()["paths"]


# --------------------------------------------------------------------------- reads


def test_recommendations_round_trip(sg: ShopguideClient) -> None:
    recs = sg.recommendations(SHOPPER, n=5, lang="zh")
    assert isinstance(recs, RecommendationResponse)
    assert recs.user == SHOPPER
    assert len(recs.items) == 5
    assert len({it.id for it in recs.items}) == 5
    served = next(m for m in sg.models() if m.served)
    assert recs.model_version == served.version
    for it in recs.items:
        assert it.reason == it.reasons["zh"] and it.reasons["en"]
        assert it.source


def test_recommendations_filters_reach_the_server(sg: ShopguideClient) -> None:
    first = sg.recommendations(SHOPPER, n=3).items
    excluded = [it.id for it in first[:2]]
    again = sg.recommendations(SHOPPER, 3, None, excluded)
    assert not {it.id for it in again.items} & set(excluded)

    category = first[0].category[0]
    only = sg.recommendations(SHOPPER, n=4, category=category)
    assert only.items and all(category in it.category for it in only.items)
    # a lone string is one category and one exclusion, not a list of characters
    single = sg.recommendations(SHOPPER, n=3, category=[category], exclude=excluded[0])
    assert excluded[0] not in {it.id for it in single.items}


def test_unknown_shopper_gets_a_full_list(sg: ShopguideClient) -> None:
    recs = sg.recommendations("someone-new-42", n=7)
    assert len(recs.items) == 7
    assert recs.user == "someone-new-42"


def test_ids_are_quoted_into_one_path_segment(sg: ShopguideClient) -> None:
    recs = sg.recommendations("new?user#1", n=2)
    assert recs.user == "new?user#1"


def test_item_and_similar(sg: ShopguideClient) -> None:
    item = sg.item(ITEM)
    assert isinstance(item, Item)
    assert item.id == ITEM and item.title
    similar = sg.similar(ITEM, 4)
    assert similar.item == ITEM
    assert 0 < len(similar.items) <= 4
    assert ITEM not in {it.id for it in similar.items}


def test_bundle(app: FastAPI, sg: ShopguideClient) -> None:
    if not _has_route(app, "/v1/items/{item_id}/bundle"):
        pytest.skip("the service has no bundle route yet")
    bundle = sg.bundle(ITEM, 3, lang="zh")
    assert isinstance(bundle, RecommendationResponse)
    assert bundle.item == ITEM
    assert 0 < len(bundle.items) <= 3
    assert ITEM not in {it.id for it in bundle.items}
    assert all(it.reason == it.reasons["zh"] for it in bundle.items)
    with pytest.raises(DataError) as err:
        sg.bundle(ITEM, 500)
    assert err.value.field == "n"


def test_search(app: FastAPI, sg: ShopguideClient) -> None:
    if not _has_route(app, "/v1/search"):
        pytest.skip("the service has no search route yet")
    item = sg.item(ITEM)
    found = sg.search(item.title, 5)
    assert isinstance(found, schemas.SearchResponse)
    assert found.query == item.title
    assert ITEM in [it.id for it in found.items]
    assert len(found.items) <= 5
    cheap = sg.search(item.title, 20, max_price=(item.price or 0) + 0.01)
    assert all(it.price is not None and it.price <= (item.price or 0) + 0.01 for it in cheap.items)
    with pytest.raises(DataError) as err:
        sg.search("", 5)
    assert err.value.field == "q"


def test_health_ready_metrics(sg: ShopguideClient) -> None:
    assert sg.ready() is True
    assert sg.health() == {"status": "alive"}
    sg.recommendations(SHOPPER, n=1)
    assert "shopguide_requests_total" in sg.metrics()


# --------------------------------------------------------------------------- writes


def test_upsert_get_delete_item(sg: ShopguideClient) -> None:
    new = Item(id="client-test-1", title="Client Test Mug", category=["Home", "Mugs"], price=12.5, stock=3)
    result = sg.upsert_items([new, {"id": "client-test-2", "title": "Second Mug", "price": 9}])
    assert result.upserted == 2
    assert sg.item("client-test-1") == new
    assert sg.item("client-test-2").price == 9.0

    sg.delete_item("client-test-1")
    with pytest.raises(NotFoundError):
        sg.item("client-test-1")
    with pytest.raises(NotFoundError):
        sg.delete_item("never-existed")


def test_deleted_item_is_never_recommended(sg: ShopguideClient) -> None:
    top = sg.recommendations("cold-visitor", n=1).items[0].id
    kept = sg.item(top)
    sg.delete_item(top)
    try:
        assert top not in {it.id for it in sg.recommendations("cold-visitor", n=20).items}
    finally:
        sg.upsert_items([kept])
    assert sg.item(top) == kept


def test_events_are_idempotent(sg: ShopguideClient) -> None:
    now = time.time()
    events = [
        {"id": "client-ev-1", "user": "client-shopper", "item": ITEM, "type": "click", "ts": now},
        Event(id="client-ev-2", user="client-shopper", item=ITEM, type="cart", ts=now + 1),
        Event(user="client-shopper", item="demo-0002", type="view", ts=now + 2),  # key derived from content
    ]
    first = sg.send_events(events)
    assert isinstance(first, EventsResult)
    assert (first.accepted, first.duplicate, first.rejected) == (3, 0, 0)
    again = sg.send_events(events)
    assert (again.accepted, again.duplicate, again.rejected) == (0, 3, 0)


def test_bad_events_are_rejected_one_by_one_across_chunks(sg: ShopguideClient) -> None:
    now = time.time()
    events = [{"user": "client-chunks", "item": ITEM, "type": "view", "ts": now + i} for i in range(5)]
    events[3] = {"user": "client-chunks", "item": ITEM, "type": "teleport", "ts": now}
    result = sg.send_events(events, batch_size=2)  # three requests: [0,1] [2,3] [4]
    assert (result.accepted, result.duplicate, result.rejected) == (4, 0, 1)
    assert [(e.index, e.field) for e in result.errors] == [(3, "type")]


# --------------------------------------------------------------------------- admin


def test_train_status_models_activate(sg: ShopguideClient) -> None:
    before = next(m for m in sg.models() if m.served).version
    job = sg.train("popular")
    assert isinstance(job, str) and job
    done = sg.wait_for_training(job, timeout=120)
    assert isinstance(done, TrainJob)
    assert done.status == "done", done.error
    assert done.model == "popular" and done.version

    versions = sg.models()
    assert all(isinstance(v, ModelVersion) for v in versions)
    new = next(v for v in versions if v.version == done.version)
    assert new.active and new.served and new.model == "popular"
    assert sg.recommendations(SHOPPER, n=2).model_version == done.version

    back = sg.activate(before)
    assert (back.version, back.active, back.served) == (before, True, True)
    assert sg.recommendations(SHOPPER, n=2).model_version == before
    assert next(v for v in sg.models() if v.active).version == before


# --------------------------------------------------------------------------- error mapping


def test_validation_errors_become_data_errors_with_the_field(sg: ShopguideClient) -> None:
    with pytest.raises(DataError) as err:
        sg.recommendations(SHOPPER, n=1000)
    assert err.value.field == "n"
    assert err.value.status_code == 422  # type: ignore[attr-defined]
    with pytest.raises(DataError) as err:
        sg.recommendations(SHOPPER, lang="fr")
    assert err.value.field == "lang"
    with pytest.raises(DataError) as err:
        sg.upsert_items([{"id": "client-bad", "title": "Negative", "price": -1}])
    assert err.value.field == "items.0.price"


def test_not_found_and_bad_request(sg: ShopguideClient) -> None:
    with pytest.raises(NotFoundError) as err:
        sg.item("no-such-item")
    assert "no-such-item" in str(err.value)
    assert (err.value.status_code, err.value.code) == (404, "not_found")  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError):
        sg.activate("no-such-version")
    with pytest.raises(NotFoundError):
        sg.train_status("no-such-job")
    with pytest.raises(ConfigError) as err:
        sg.train("no_such_model")
    assert "no_such_model" in str(err.value)


def test_unreachable_server_is_service_unavailable() -> None:
    with ShopguideClient("http://127.0.0.1:9", timeout=2) as client, pytest.raises(ServiceUnavailableError) as err:
        client.health()
    assert err.value.retry_after is None
    assert isinstance(err.value, ShopguideError)


def test_missing_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        ShopguideClient()


# --------------------------------------------------------------------------- async


def test_async_client_round_trip(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    app = create_app(_copy_home(seeded_home, tmp_path_factory))

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://service") as http,
                AsyncShopguideClient(http_client=http, api_key=ADMIN_KEY) as sg,
            ):
                await sg.wait_ready(timeout=10)
                assert (await sg.health())["status"] == "alive"
                recs, item, similar = await asyncio.gather(
                    sg.recommendations(SHOPPER, n=3), sg.item(ITEM), sg.similar(ITEM, 3)
                )
                assert len(recs.items) == 3 and item.id == ITEM and similar.item == ITEM
                event = {"id": "async-ev", "user": SHOPPER, "item": ITEM, "type": "click", "ts": 1.7e9}
                assert (await sg.send_events([event])).accepted == 1
                assert (await sg.send_events([event])).duplicate == 1
                assert (await sg.upsert_items([Item(id="async-item", title="Async Item")])).upserted == 1
                await sg.delete_item("async-item")
                with pytest.raises(NotFoundError):
                    await sg.item("async-item")
                with pytest.raises(DataError):
                    await sg.recommendations(SHOPPER, n=0)
                versions = await sg.models()
                served = next(v for v in versions if v.served)
                assert (await sg.activate(served.version)).version == served.version
                job = await sg.train("popular")
                assert (await sg.wait_for_training(job, timeout=120)).status == "done"

    asyncio.run(scenario())


def test_overload_503_maps_to_service_unavailable_with_retry_after() -> None:
    """The real load shedder in front of a handler that holds its one slot until released."""
    release = asyncio.Event()

    async def slow(scope, receive, send) -> None:
        await release.wait()
        body = b'{"user": "u", "items": [], "model_version": null, "degraded": false}'
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    shedder = LoadShedder(slow, max_in_flight=1, retry_after=3)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=shedder)
        async with AsyncShopguideClient("http://service", http_client=httpx.AsyncClient(transport=transport)) as sg:
            held = asyncio.create_task(sg.recommendations("u", n=1))
            while shedder.policy.in_flight == 0:
                await asyncio.sleep(0.001)
            with pytest.raises(ServiceUnavailableError) as err:
                await sg.recommendations("v", n=1)
            assert err.value.retry_after == 3.0
            assert err.value.code == "overloaded"  # type: ignore[attr-defined]
            release.set()
            assert (await held).items == []
            await sg._http.aclose()

    asyncio.run(scenario())


def test_api_key_is_sent_as_a_bearer_token() -> None:
    seen: dict[str, str] = {}

    async def echo(scope, receive, send) -> None:
        seen.update({k.decode(): v.decode() for k, v in scope["headers"]})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"status": "alive"}'})

    async def scenario() -> None:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=echo), base_url="http://service")
        async with http, AsyncShopguideClient(http_client=http, api_key="s3cret") as sg:
            assert await sg.health() == {"status": "alive"}

    asyncio.run(scenario())
    assert seen["authorization"] == "Bearer s3cret"


# --------------------------------------------------------------------------- over a real socket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_two_workers_over_real_http(
    seeded_home: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """``shopguide serve --workers 2`` (via ``python -m shopguide.cli.serve_cmd``) answers the client over
    TCP, and /metrics sums both workers (Prometheus multi-process directory under the home). A home without
    keys gets an admin key, printed once; without a key the API answers 401."""
    home = _copy_home(seeded_home, tmp_path_factory).home
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPGUIDE_", "PROMETHEUS_"))}
    cmd = [sys.executable, "-m", "shopguide.cli.serve_cmd", "--workers", "2", "--home", str(home)]
    cmd += ["--port", str(port), "--log-level", "warning"]
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
    try:
        with ShopguideClient(f"http://127.0.0.1:{port}", timeout=10) as anonymous:
            anonymous.wait_ready(timeout=120)
            with pytest.raises(AuthError):
                anonymous.recommendations(SHOPPER, n=3)
        # a fresh home has no key: serve made an admin key and printed it once, before the workers started
        printed = re.findall(r"sg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", (tmp_path / "serve.log").read_text())
        assert len(printed) == 1
        with ShopguideClient(f"http://127.0.0.1:{port}", timeout=10, api_key=printed[0]) as sg:
            for k in range(6):
                assert len(sg.recommendations(f"shopper-00{k + 1}", n=3).items) == 3
            event = {"id": "socket-ev", "user": SHOPPER, "item": ITEM, "type": "fav", "ts": 1.7e9}
            assert sg.send_events([event]).accepted == 1
            assert sg.send_events([event]).duplicate == 1
            page = sg.metrics()
        served = [
            float(line.rsplit(" ", 1)[1])
            for line in page.splitlines()
            if line.startswith("shopguide_requests_total{") and "/recommendations" in line and 'status="200"' in line
        ]
        assert sum(served) == 6
        assert list((home / "prometheus-multiproc").glob("counter_*.db"))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text()


def test_serve_gives_each_worker_its_own_reuse_port_listener_with_tcp_nodelay() -> None:
    """With several workers uvicorn binds the listener in its supervisor; ours pickles into one socket per
    worker on the same port (SO_REUSEPORT: the kernel spreads connections over them) and says
    IPPROTO_TCP, so that asyncio sets TCP_NODELAY (else keep-alive answers wait ~40 ms for a delayed ACK)."""
    from multiprocessing.reduction import ForkingPickler

    import uvicorn.config

    from shopguide.cli.serve_cmd import worker_listeners
    from shopguide.service.listener import ReusePortListener

    config = uvicorn.config.Config("shopguide.service.app:app_from_env", host="127.0.0.1", port=0, workers=2)
    with worker_listeners():
        reserved = config.bind_socket()
    assert uvicorn.config.Config.bind_socket.__qualname__ == "Config.bind_socket"  # restored
    workers = [ForkingPickler.loads(ForkingPickler.dumps(reserved)) for _ in range(2)]  # as spawn does
    try:
        assert isinstance(reserved, ReusePortListener) and reserved.get_inheritable()
        address = reserved.getsockname()
        for sock in workers:
            assert sock.fileno() != reserved.fileno() and sock.getsockname() == address
            assert sock.proto == socket.IPPROTO_TCP
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            sock.listen(64)
            sock.setblocking(False)
        clients = [socket.create_connection(address) for _ in range(40)]
        time.sleep(0.1)
        accepted: list[list[socket.socket]] = [[], []]
        for k, sock in enumerate(workers):
            while True:
                try:
                    accepted[k].append(sock.accept()[0])
                except BlockingIOError:
                    break
        assert sum(map(len, accepted)) == 40
        assert all(accepted), "the kernel gave each worker some of the 40 connections"
        assert accepted[0][0].proto == socket.IPPROTO_TCP  # what asyncio checks before setting TCP_NODELAY
        for conn in [*clients, *accepted[0], *accepted[1]]:
            conn.close()
    finally:
        for sock in [reserved, *workers]:
            sock.close()
