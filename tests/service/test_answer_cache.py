"""The per-worker answer cache: LRU order, maximum age, off at size 0; and with two workers on one store,
never an answer that an event, a deletion or a new model made stale."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from servicekit import KNOWN_SHOPPER, service_settings

from authkit import AUTH
from shopguide.service.answer_cache import AnswerCache, CachedAnswer
from shopguide.service.app import create_app
from shopguide.service.state import ServiceState


def answer(text: str) -> CachedAnswer:
    return CachedAnswer(text.encode(), ("item_knn",))


def test_least_recently_used_answers_go_first() -> None:
    cache = AnswerCache(size=2, max_age=60)
    cache.put("a", answer("A"))
    cache.put("b", answer("B"))
    assert cache.get("a") == answer("A")  # a is now the most recent
    cache.put("c", answer("C"))
    assert cache.get("b") is None and cache.get("a") == answer("A") and cache.get("c") == answer("C")
    assert len(cache) == 2 and (cache.hits, cache.misses) == (3, 1)


def test_answers_expire_after_max_age() -> None:
    now = [100.0]
    cache = AnswerCache(size=10, max_age=5, clock=lambda: now[0])
    cache.put("a", answer("A"))
    now[0] = 104.0
    assert cache.get("a") == answer("A")
    now[0] = 105.5
    assert cache.get("a") is None and len(cache) == 0


def test_size_zero_turns_the_cache_off() -> None:
    cache = AnswerCache(size=0, max_age=60)
    cache.put("a", answer("A"))
    assert cache.get("a") is None and len(cache) == 0


# ---------------------------------------------------------------------------- two workers on one store
@pytest.fixture(scope="module")
def workers(seeded_home, tmp_path_factory) -> Iterator[tuple[TestClient, TestClient, ServiceState, ServiceState]]:
    """Two apps on one home and one SQLite store, as two uvicorn workers run (deletions synced at once)."""
    home = tmp_path_factory.mktemp("two-workers") / "home"
    shutil.copytree(seeded_home, home)
    settings = service_settings(home, model_check_seconds=0)
    first, second = create_app(settings), create_app(settings)
    with TestClient(first, headers=AUTH) as a, TestClient(second, headers=AUTH) as b:
        yield a, b, first.state.shopguide, second.state.shopguide


def ids(client: TestClient, user: str, n: int = 20) -> list[str]:
    response = client.get(f"/v1/users/{user}/recommendations", params={"n": n})
    assert response.status_code == 200, response.text
    return [it["id"] for it in response.json()["items"]]


def test_a_repeated_request_is_answered_from_the_cache_with_the_same_body(workers) -> None:
    a, _, state, _ = workers
    first = a.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 7, "lang": "zh"})
    hits = state.answers.hits
    again = a.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 7, "lang": "zh"})
    assert again.status_code == 200 and again.content == first.content
    assert state.answers.hits == hits + 1
    assert len(first.json()["items"]) == 7 and first.json()["model_version"]
    other = a.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 7, "lang": "en"})
    assert state.answers.hits == hits + 1 and other.json()["items"][0]["reason"] != first.json()["items"][0]["reason"]


def test_an_event_through_the_other_worker_changes_the_next_cached_answer(workers) -> None:
    a, b, _, _ = workers
    user = "cache-shopper"
    before = ids(a, user)
    assert ids(a, user) == before  # cached
    carted = before[0]
    event = {"user": user, "item": carted, "type": "cart", "ts": 1_700_000_000.0}
    assert b.post("/v1/events", json={"events": [event]}).json()["accepted"] == 1
    after = ids(a, user)
    assert after != before and carted not in after


def test_a_deletion_through_the_other_worker_is_never_served_from_the_cache(workers) -> None:
    a, b, _, state_b = workers
    users = [KNOWN_SHOPPER, "cache-cold-shopper", "shopper-002"]
    victim = ids(b, "cache-cold-shopper", n=1)[0]  # the most popular item leads every cold list
    assert any(victim in ids(b, u, n=100) for u in users)  # now cached on worker b
    assert a.delete(f"/v1/items/{victim}").status_code == 204
    for user in users:
        assert victim not in ids(b, user, n=100), user
    assert victim in state_b.deleted


def test_a_cache_hit_on_a_local_store_needs_no_worker_thread(workers, monkeypatch) -> None:
    """SQLite is read on the event loop: a hit is served without the thread hop; a miss still gets one."""
    import shopguide.service.routes.recommend as route

    a, _, state, _ = workers
    assert state.store.local  # SQLite
    calls = []

    async def counted(fn, seconds):
        calls.append(seconds)
        return fn()

    monkeypatch.setattr(route, "run_with_deadline", counted)
    first = a.get("/v1/users/thread-hop-shopper/recommendations", params={"n": 5})
    assert len(calls) == 1  # a miss: computed under the deadline
    again = a.get("/v1/users/thread-hop-shopper/recommendations", params={"n": 5})
    assert again.content == first.content and len(calls) == 1
