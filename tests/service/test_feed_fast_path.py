"""Cache hits answered before FastAPI's routing: the same bytes as the route, counted as the route's, and
everything the route must decide (misses, bad parameters, odd query strings) still goes to the route."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families
from servicekit import Service, running_service

import shopguide.service.routes.recommend as route
from shopguide.service.feed import FeedRequest

ROUTE = "/v1/users/{user_id}/recommendations"


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(seeded_home, tmp_path_factory, deadline_ms=5000) as service:
        yield service


@pytest.fixture
def route_lookups(monkeypatch) -> list[tuple]:
    """Every cache lookup the route itself makes (the fast path makes its own, unseen here)."""
    seen: list[tuple] = []
    real = route.look_up

    def counted(*args, **kwargs):
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(route, "look_up", counted)
    return seen


def get(svc: Service, user: str, query: str = ""):
    return svc.client.get(f"/v1/users/{user}/recommendations{'?' + query if query else ''}")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "n=7&lang=zh",
        "category=上衣&exclude=demo-0001&exclude=demo-0002",
        "weather=rain&temperature_c=4.5&city=上海",
    ],
)
def test_a_hit_is_served_before_the_route_with_the_routes_bytes(svc: Service, route_lookups, query: str) -> None:
    user = f"fast-{abs(hash(query)) % 10_000}"
    first = get(svc, user, query)
    assert first.status_code == 200 and len(route_lookups) == 1, "a miss: the route computed it"
    hits = svc.state.answers.hits
    again = get(svc, user, query)
    assert len(route_lookups) == 1, "the hit never reached the route"
    assert svc.state.answers.hits == hits + 1
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert again.headers["content-length"] == first.headers["content-length"]


def test_a_new_event_makes_a_miss_that_the_route_computes(svc: Service, route_lookups) -> None:
    user = "fast-event-shopper"
    before = get(svc, user).json()
    carted = before["items"][0]["id"]
    # now: after every demo event, and inside the window of accepted event times
    event = {"user": user, "item": carted, "type": "cart", "ts": time.time()}
    assert svc.client.post("/v1/events", json={"events": [event]}).json()["accepted"] == 1
    after = get(svc, user).json()
    assert len(route_lookups) == 2 and carted not in [it["id"] for it in after["items"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("n=1000", "n"),
        ("n=abc", "n"),
        ("lang=fr", "lang"),
        ("temperature_c=hot", "temperature_c"),
        ("hemisphere=up", "hemisphere"),
    ],
)
def test_bad_parameters_still_get_the_routes_error_naming_the_field(svc: Service, query: str, field: str) -> None:
    get(svc, "fast-bad", "")  # the default request is cached for this shopper
    response = get(svc, "fast-bad", query)
    assert response.status_code == 422, response.text
    assert response.json()["field"].endswith(field)


def test_query_strings_not_in_plain_form_go_to_the_route(svc: Service, route_lookups) -> None:
    get(svc, "fast-odd", "n=5")
    for query in ("n=5&n=5", "n=5&category="):
        assert get(svc, "fast-odd", query).status_code == 200
    assert len(route_lookups) == 3
    assert get(svc, "fast-odd", "n=").status_code == 422, "the route's validation, not a cached answer"
    assert FeedRequest.from_query(b"n=5&unknown=1") == FeedRequest(n=5), (
        "unknown parameters are ignored, as FastAPI does"
    )


def test_fast_path_answers_are_counted_as_the_routes(svc: Service) -> None:
    def count() -> float:
        text = svc.client.get("/metrics").text
        return sum(
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "shopguide_requests_total" and s.labels.get("route") == ROUTE and s.labels["status"] == "200"
        )

    get(svc, "fast-metrics")
    before = count()
    get(svc, "fast-metrics")
    assert count() == before + 1


#: a sample value of every query parameter of the route (a new parameter fails the walk until it is added here)
SAMPLES = {
    "n": "7", "category": "上衣", "exclude": "demo-0003", "lang": "zh", "local_time": "2026-11-11T20:00:00+08:00",
    "city": "杭州", "region": "浙江", "hemisphere": "south", "weather": "snow", "temperature_c": "-3.5",
    "placement": "cart", "device": "mobile",
}  # fmt: skip
#: parameters that choose the strategy (the learning loop's decision), not the answer of a strategy: the answer
#: cache's key leaves them out in both paths; the fast path reads them when a decision point is on
DECISION_ONLY = {"placement", "device"}


def test_every_route_parameter_means_the_same_to_the_fast_path(svc: Service, route_lookups) -> None:
    """One source of truth: for each of the route's query parameters, the cache key the fast path builds from the
    raw query string is the key the route builds after validating it (or the fast path declines it)."""
    feed_route = next(r for r in route.router.routes if getattr(r, "path", None) == ROUTE)
    names = {p.alias for p in feed_route.dependant.query_params}
    assert names == set(SAMPLES), f"parameters without a sample: {sorted(names - set(SAMPLES))}"
    for k, (name, value) in enumerate(SAMPLES.items()):
        query = urlencode({name: value})  # as a client sends it (percent-encoded)
        assert get(svc, f"walk-{k}", query).status_code == 200, query
        routes_request: FeedRequest = route_lookups[-1][3]
        fast = FeedRequest.from_query(query.encode())
        assert fast is not None, f"the fast path declines {query!r}"
        assert fast == routes_request, f"{name}: fast path {fast} != route {routes_request}"
        if name in DECISION_ONLY:
            assert fast == FeedRequest(), f"{name} must not change the answer's key"
        else:
            assert fast != FeedRequest(), f"{name} is ignored by both paths"
