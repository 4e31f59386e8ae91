"""The HTTP API on the demo catalog: health, recommendations, events, catalog, input limits, metrics.

One app for the whole module (see ``conftest.running_service``). Tests that write (events, items) use
their own user and item ids, so they do not depend on each other's order.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from servicekit import KNOWN_SHOPPER, Service, recommend, running_service

from shopguide.data.schema import EventType
from shopguide.store import open_store

MAX_EVENT_BATCH = 50
MAX_BODY_BYTES = 100_000
REC_ROUTE = "/v1/users/{user_id}/recommendations"
PRIMARY = {"item_knn", "user_knn", "content", "als", "bpr", "ease", "hybrid", "sequential", "context"}


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    # a generous deadline: these tests are about answers, not timing (test_resilience covers deadlines)
    with running_service(
        seeded_home,
        tmp_path_factory,
        deadline_ms=2000,
        max_event_batch=MAX_EVENT_BATCH,
        max_body_bytes=MAX_BODY_BYTES,
    ) as service:
        yield service


def event(user: str, item: str, kind: str = "view", ts: float = 1_700_000_000.0, **extra) -> dict:
    return {"user": user, "item": item, "type": kind, "ts": ts, **extra}


def sample_value(text: str, name: str, labels: dict[str, str]) -> float:
    """The value of one sample of the Prometheus page (0 when it is absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


# ---------------------------------------------------------------------------- health
def test_live_is_200(svc: Service) -> None:
    response = svc.client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_ready_names_the_served_model_version(svc: Service) -> None:
    response = svc.client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ready", "model_version": svc.state.models.served.version}
    assert body["model_version"] == svc.state.models.bundles.active_version()


def test_the_started_worker_keeps_its_long_lived_heap_out_of_full_collections(svc: Service) -> None:
    import gc
    import sys

    from shopguide.service.app import SWITCH_INTERVAL_S

    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
    model = svc.state.models.served.model
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(model)
    assert all(obj is not model for obj in gc.get_objects(generation=2)), "the served model is frozen"


# ---------------------------------------------------------------------------- recommendations
def test_known_shopper_gets_n_new_items_with_reasons(svc: Service) -> None:
    body = recommend(svc, KNOWN_SHOPPER, n=30)
    items = body["items"]
    assert body["user"] == KNOWN_SHOPPER
    assert body["degraded"] is False
    assert body["model_version"] == svc.state.models.served.version
    assert len(items) == 30
    ids = [it["id"] for it in items]
    assert len(set(ids)) == 30
    seen = {ev.item for ev in svc.state.store.iter_events(user=KNOWN_SHOPPER)}
    assert seen, "the demo shopper has history"
    assert not seen & set(ids), "items the shopper already interacted with are not recommended again"
    assert items[0]["source"] in PRIMARY
    scores = [it["score"] for it in items]
    assert scores == sorted(scores, reverse=True)
    for it in items:
        catalog = svc.state.store.get_item(it["id"])
        assert it["title"] == catalog.title
        assert it["price"] == catalog.price
        assert it["category"] == catalog.category
        assert it["source"]
        assert it["reason"] == it["reasons"]["en"] != ""
        assert set(it["reasons"]) == {"en", "zh"}
        assert it["reasons"]["zh"] != it["reasons"]["en"]


def test_unknown_user_gets_a_full_popular_list_marked_degraded(svc: Service) -> None:
    body = recommend(svc, "svc-never-seen", n=20)
    items = body["items"]
    assert body["degraded"] is True
    assert len(items) == 20
    assert len({it["id"] for it in items}) == 20
    assert {it["source"] for it in items} == {"popular"}
    assert {it["reason"] for it in items} == {"popular this week"}


def test_lang_zh_gives_chinese_reasons(svc: Service) -> None:
    body = recommend(svc, KNOWN_SHOPPER, n=5, lang="zh")
    for it in body["items"]:
        assert it["reason"] == it["reasons"]["zh"]
        assert it["reason"].startswith("因为您"), it["reason"]
        assert "because" not in it["reason"]


def test_unsupported_lang_is_rejected(svc: Service) -> None:
    response = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"lang": "fr"})
    assert response.status_code == 422
    assert response.json()["field"] == "lang"


@pytest.mark.parametrize("user", [KNOWN_SHOPPER, "svc-cold-category"])
def test_category_filter_keeps_only_that_category(svc: Service, user: str) -> None:
    body = recommend(svc, user, n=12, category="服装")
    assert len(body["items"]) == 12
    assert all(it["category"][0] == "服装" for it in body["items"]), [it["category"] for it in body["items"]]
    # a leaf category with only 9 items: the list is as long as the catalog allows, never padded with others
    shirts = recommend(svc, user, n=20, category="衬衫")["items"]
    assert 0 < len(shirts) <= 9
    assert all(it["category"] == ["服装", "衬衫"] for it in shirts)


def test_exclude_ids_are_honoured(svc: Service) -> None:
    baseline = [it["id"] for it in recommend(svc, KNOWN_SHOPPER, n=10)["items"]]
    dropped = baseline[:3]
    again = [it["id"] for it in recommend(svc, KNOWN_SHOPPER, n=10, exclude=dropped)["items"]]
    assert len(again) == 10
    assert not set(dropped) & set(again)
    assert again[:7] == baseline[3:], "the rest keeps its order"


# ---------------------------------------------------------------------------- events
def test_event_batch_counts_accepted_duplicate_and_rejected(svc: Service) -> None:
    batch = {
        "events": [
            event("svc-ev-1", "demo-0010", "click", ts=1_700_000_001.0),
            event("svc-ev-1", "demo-0011", "teleport", ts=1_700_000_002.0),
            {"user": "svc-ev-1", "item": "demo-0012", "type": "view"},
        ]
    }
    first = svc.client.post("/v1/events", json=batch)
    assert first.status_code == 200
    body = first.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (1, 0, 2)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "type"), (2, "ts")]
    assert "'cart'" in body["errors"][0]["reason"]
    assert body["errors"][1]["reason"] == "Field required"

    again = svc.client.post("/v1/events", json=batch).json()
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 1, 2)
    stored = list(svc.state.store.iter_events(user="svc-ev-1"))
    assert [(ev.item, ev.type) for ev in stored] == [("demo-0010", EventType.CLICK)]


def test_the_same_event_twice_in_one_batch_is_stored_once(svc: Service) -> None:
    twice = event("svc-ev-twice", "demo-0015", "fav", ts=1_700_000_005.0)
    body = svc.client.post("/v1/events", json={"events": [twice, dict(twice)]}).json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (1, 1, 0)
    assert len(list(svc.state.store.iter_events(user="svc-ev-twice"))) == 1


def test_an_event_that_is_not_an_object_is_rejected_alone(svc: Service) -> None:
    batch = {"events": [event("svc-ev-junk", "demo-0016", ts=1_700_000_006.0), "not an event"]}
    response = svc.client.post("/v1/events", json=batch)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["index"] == 1


def test_explicit_event_id_is_the_idempotency_key(svc: Service) -> None:
    first = svc.client.post("/v1/events", json={"events": [event("svc-ev-2", "demo-0020", id="svc-key-1")]}).json()
    assert (first["accepted"], first["duplicate"]) == (1, 0)
    # same key, different content (a client retry after rebuilding the payload): still a duplicate
    retry = svc.client.post(
        "/v1/events", json={"events": [event("svc-ev-2", "demo-0021", "cart", ts=1_700_000_099.0, id="svc-key-1")]}
    ).json()
    assert (retry["accepted"], retry["duplicate"], retry["rejected"]) == (0, 1, 0)
    stored = list(svc.state.store.iter_events(user="svc-ev-2"))
    assert [(ev.id, ev.item) for ev in stored] == [("svc-key-1", "demo-0020")]


def test_accepted_events_are_durable_before_the_response(svc: Service) -> None:
    ts = time.time()
    response = svc.client.post("/v1/events", json={"events": [event("svc-ev-3", "demo-0030", "purchase", ts=ts)]})
    assert response.json()["accepted"] == 1
    # a separate connection (another worker, or the process after a crash) sees the committed row
    with open_store(svc.settings.resolved_store_url) as other:
        recent = other.recent_events("svc-ev-3")
    assert [(ev.item, ev.type, ev.ts) for ev in recent] == [("demo-0030", EventType.PURCHASE, ts)]


def test_a_cart_event_personalises_the_very_next_recommendation(svc: Service) -> None:
    user, carted = "svc-new-shopper", "demo-0001"
    before = recommend(svc, user, n=10)
    assert before["degraded"] is True

    posted = svc.client.post("/v1/events", json={"events": [event(user, carted, "cart", ts=time.time())]})
    assert posted.json()["accepted"] == 1

    after = recommend(svc, user, n=10)
    item = svc.state.store.get_item(carted)
    assert after["degraded"] is False, "session features, no retraining"
    assert after["model_version"] == before["model_version"]
    ids = [it["id"] for it in after["items"]]
    assert len(ids) == 10 and carted not in ids
    assert f"because you added to cart {item.title_alt}" in {it["reasons"]["en"] for it in after["items"]}
    assert f"因为您加购了「{item.title}」" in {it["reasons"]["zh"] for it in after["items"]}
    top = Counter(it["category"][0] for it in after["items"])
    assert top[item.category[0]] >= 8, top


# ---------------------------------------------------------------------------- input limits
@pytest.mark.parametrize("n", [0, 101, -1])
def test_n_out_of_range_is_422_naming_n(svc: Service, n: int) -> None:
    response = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": n})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert body["field"] == "n"
    assert body["detail"]


def test_n_100_is_allowed(svc: Service) -> None:
    assert len(recommend(svc, KNOWN_SHOPPER, n=100)["items"]) == 100


def test_too_many_events_is_422_naming_events(svc: Service) -> None:
    batch = {"events": [event("svc-ev-big", "demo-0040", ts=1_700_000_000.0 + i) for i in range(MAX_EVENT_BATCH + 1)]}
    response = svc.client.post("/v1/events", json=batch)
    assert response.status_code == 422
    assert response.json()["field"] == "events"
    assert str(MAX_EVENT_BATCH) in response.json()["detail"]
    assert list(svc.state.store.iter_events(user="svc-ev-big")) == [], "nothing of a refused batch is stored"
    ok = svc.client.post("/v1/events", json={"events": batch["events"][:MAX_EVENT_BATCH]})
    assert ok.json()["accepted"] == MAX_EVENT_BATCH


def _oversized_batch(user: str) -> bytes:
    events = [event(user, "demo-0050", ts=float(i)) for i in range(MAX_BODY_BYTES // 60)]
    body = json.dumps({"events": events}).encode()
    assert len(body) > MAX_BODY_BYTES
    return body


def test_body_over_the_limit_is_413_json(svc: Service) -> None:
    body = _oversized_batch("svc-ev-huge")
    response = svc.client.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": "payload_too_large",
        "detail": f"request body exceeds {MAX_BODY_BYTES} bytes",
        "field": "body",
    }
    assert list(svc.state.store.iter_events(user="svc-ev-huge")) == []


def test_streamed_body_over_the_limit_is_413_json(svc: Service) -> None:
    body = _oversized_batch("svc-ev-stream")
    chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))  # no content-length: chunked
    response = svc.client.post("/v1/events", content=chunks, headers={"content-type": "application/json"})
    assert list(svc.state.store.iter_events(user="svc-ev-stream")) == []
    assert response.status_code == 413
    assert response.json()["field"] == "body"


def test_streamed_body_under_the_limit_is_accepted(svc: Service) -> None:
    body = json.dumps(
        {"events": [event("svc-ev-chunks", "demo-0051", ts=1_700_000_000.0 + i) for i in range(3)]}
    ).encode()
    response = svc.client.post(
        "/v1/events", content=iter([body[:40], body[40:]]), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 3


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/users/a%20b/recommendations", "user_id"),
        ("/v1/users/" + "x" * 129 + "/recommendations", "user_id"),
        ("/v1/items/a%20b/similar", "item_id"),
        ("/v1/items/a%09b", "item_id"),
    ],
)
def test_invalid_path_ids_are_422_naming_the_field(svc: Service, path: str, field: str) -> None:
    response = svc.client.get(path)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
    assert response.json()["field"] == field


def test_unknown_item_is_404_json(svc: Service) -> None:
    response = svc.client.get("/v1/items/no-such-item")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error", "detail", "field"}
    assert body["error"] == "not_found"
    assert "no-such-item" in body["detail"]
    assert svc.client.delete("/v1/items/no-such-item").status_code == 404


def test_invalid_item_in_upsert_is_422_naming_the_field(svc: Service) -> None:
    response = svc.client.post("/v1/items", json={"items": [{"id": "svc-bad", "title": "x", "price": -1}]})
    assert response.status_code == 422
    assert response.json()["field"] == "items.0.price"
    assert svc.client.get("/v1/items/svc-bad").status_code == 404


def test_item_ids_the_paths_refuse_are_refused_at_upsert(svc: Service) -> None:
    response = svc.client.post("/v1/items", json={"items": [{"id": "svc bad id", "title": "x", "price": 1.0}]})
    assert response.status_code == 422
    assert response.json()["field"] == "items.0.id"


# ---------------------------------------------------------------------------- catalog
def test_upsert_then_get_returns_the_item(svc: Service) -> None:
    item = {
        "id": "svc-item-1",
        "title": "测试 纯棉T恤 白色",
        "title_alt": "Test Cotton T-Shirt, White",
        "category": ["服装", "T恤"],
        "brand": "测试",
        "price": 59.0,
        "attributes": {"color": "白色"},
        "stock": 3,
    }
    response = svc.client.post("/v1/items", json={"items": [item]})
    assert response.status_code == 200
    assert response.json() == {"upserted": 1}
    got = svc.client.get("/v1/items/svc-item-1").json()
    assert {k: got[k] for k in item} == item

    changed = svc.client.post("/v1/items", json={"items": [{**item, "price": 49.0}]})
    assert changed.json() == {"upserted": 1}
    assert svc.client.get("/v1/items/svc-item-1").json()["price"] == 49.0


def test_deleted_item_is_never_recommended_again(svc: Service) -> None:
    # the most popular item: the one every cold-start list leads with
    victim = recommend(svc, "svc-cold-before-delete", n=1)["items"][0]["id"]
    users = [KNOWN_SHOPPER, "svc-cold-after-delete"] + [f"shopper-{k:03d}" for k in range(2, 20)]
    neighbours = [it["id"] for it in svc.client.get(f"/v1/items/{victim}/similar", params={"n": 10}).json()["items"]]
    assert any(victim in [it["id"] for it in recommend(svc, u, n=100)["items"]] for u in users)

    response = svc.client.delete(f"/v1/items/{victim}")
    assert response.status_code == 204
    assert svc.client.get(f"/v1/items/{victim}").status_code == 404

    for user in users:
        assert victim not in [it["id"] for it in recommend(svc, user, n=100)["items"]], user
    for item in neighbours:
        similar = svc.client.get(f"/v1/items/{item}/similar", params={"n": 100}).json()["items"]
        assert victim not in [it["id"] for it in similar], item
    # a shopper who just carted it does not get it back either
    svc.client.post("/v1/events", json={"events": [event("svc-carted-victim", victim, "cart")]})
    assert victim not in [it["id"] for it in recommend(svc, "svc-carted-victim", n=100)["items"]]


def test_deleted_item_is_not_in_the_static_last_resort(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    served = svc.state.models.served
    target = served.static_items[1]
    assert svc.client.delete(f"/v1/items/{target}").status_code == 204

    def broken(*args, **kwargs):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(served.model, "recommend", broken)
    body = recommend(svc, KNOWN_SHOPPER, n=100)
    assert body["degraded"] is True
    assert {it["source"] for it in body["items"]} == {"static"}
    assert target not in [it["id"] for it in body["items"]]


def test_upserting_a_deleted_item_brings_it_back(svc: Service) -> None:
    item = {"id": "svc-item-2", "title": "测试 马克杯", "category": ["家居", "马克杯"], "price": 29.0}
    svc.client.post("/v1/items", json={"items": [item]})
    assert svc.client.delete("/v1/items/svc-item-2").status_code == 204
    assert svc.client.get("/v1/items/svc-item-2").status_code == 404
    assert svc.client.post("/v1/items", json={"items": [item]}).json() == {"upserted": 1}
    assert svc.client.get("/v1/items/svc-item-2").json()["title"] == "测试 马克杯"
    assert "svc-item-2" not in svc.state.deleted


# ---------------------------------------------------------------------------- similar items
def test_similar_items_exclude_the_anchor_and_name_it(svc: Service) -> None:
    response = svc.client.get("/v1/items/demo-0001/similar", params={"n": 8})
    assert response.status_code == 200
    body = response.json()
    assert body["item"] == "demo-0001"
    ids = [it["id"] for it in body["items"]]
    assert len(ids) == len(set(ids)) == 8
    assert "demo-0001" not in ids
    assert body["degraded"] is False
    anchor = svc.state.store.get_item("demo-0001")
    assert any(it["reasons"]["en"].startswith(f"similar to {anchor.title_alt}") for it in body["items"])
    assert any(it["reasons"]["zh"].startswith(f"与「{anchor.title}」相似") for it in body["items"])


# ---------------------------------------------------------------------------- metrics
def test_metrics_count_requests_by_route_and_fallbacks(svc: Service) -> None:
    before = svc.client.get("/metrics").text
    body = recommend(svc, "svc-cold-metrics", n=7)
    assert {it["source"] for it in body["items"]} == {"popular"}
    after = svc.client.get("/metrics")
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    labels = {"route": REC_ROUTE, "method": "GET", "status": "200"}
    requests = sample_value(after.text, "shopguide_requests_total", labels)
    assert requests - sample_value(before, "shopguide_requests_total", labels) == 1
    fallbacks = sample_value(after.text, "shopguide_fallbacks_total", {"source": "popular"})
    assert fallbacks - sample_value(before, "shopguide_fallbacks_total", {"source": "popular"}) == 7
    live = {"route": "/health/live", "method": "GET", "status": "200"}
    assert sample_value(after.text, "shopguide_requests_total", live) >= 1
