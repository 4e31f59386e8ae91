"""Access control on the running app: scopes per route, key life cycle, rate limits, the storefront's
cookie, chat-session ownership, the audit log and the security headers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from servicekit import KNOWN_SHOPPER, Service, running_service
from typer.testing import CliRunner

from shopguide.cli.app import app as cli
from shopguide.security.auth import COOKIE, scope_of
from shopguide.security.keys import new_key
from shopguide.security.manage import create_key, revoke_key, rotate_key
from shopguide.security.ratelimit import RateLimiter
from shopguide.security.secret import server_secret

#: Routes anyone may call: liveness/readiness, the storefront page and its files, the API's own docs.
PUBLIC = {
    "/health/live",
    "/health/ready",
    "/",
    "/static/{name}",
    "/openapi.json",
    "/docs",
    "/docs/assets/{name}",
}
ADMIN_ROUTES = [
    ("POST", "/v1/admin/train", {"model": "popular"}),
    ("GET", "/v1/admin/models", None),
    ("POST", "/v1/admin/models/none/activate", None),
    ("GET", "/v1/admin/tickets", None),
    ("POST", "/v1/admin/tickets/1", {"status": "closed"}),
    ("GET", "/v1/analytics", None),
    ("GET", "/dashboard", None),
    ("GET", "/metrics", None),
]
CATALOG_ROUTES = [
    ("POST", "/v1/items", {"items": [{"id": "acl-item", "title": "t"}]}),
    ("DELETE", "/v1/items/acl-item", None),
]


@pytest.fixture(scope="module")
def svc(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(seeded_home, tmp_path_factory, cors_origins=["https://shop.example"]) as service:
        yield service


@pytest.fixture(scope="module")
def anon(svc: Service) -> Iterator[TestClient]:
    # no key (the svc fixture's client sends the admin key); not entered: the app's lifespan already runs
    yield TestClient(svc.app)


def key_for(svc: Service, *scopes: str, **kwargs) -> dict[str, str]:
    key, _ = create_key(svc.state.store, svc.settings, f"test-{'-'.join(scopes)}", list(scopes), **kwargs)
    return {"Authorization": f"Bearer {key}"}


def call(client: TestClient, method: str, path: str, body, headers=None):
    return client.request(method, path, json=body, headers=headers or {})


def scopes_of_route(route: APIRoute) -> set[str]:
    found, stack = set(), [route.dependant]
    while stack:
        dep = stack.pop()
        if (scope := scope_of(dep.call)) is not None:
            found.add(scope)
        stack.extend(dep.dependencies)
    return found


def all_routes(routes, inherited: frozenset[str] = frozenset()) -> Iterator[tuple[str, set[str]]]:
    """(path, scopes) of every route, looking into included routers (their dependencies count too)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, set(inherited) | scopes_of_route(route)
        elif (router := getattr(route, "original_router", None)) is not None:
            own = {scope_of(d.dependency) for d in router.dependencies} - {None}
            yield from all_routes(router.routes, inherited | frozenset(own))
        elif hasattr(route, "path"):
            yield route.path, set()


def test_every_route_has_a_scope_unless_it_is_public(svc: Service) -> None:
    scoped = dict(all_routes(svc.app.routes))
    unscoped = {path for path, scopes in scoped.items() if not scopes}
    assert unscoped <= PUBLIC, f"routes without a scope: {sorted(unscoped - PUBLIC)}"
    assert scoped["/v1/admin/train"] == {"admin"} and scoped["/metrics"] == {"admin"}
    assert scoped["/v1/events"] == {"ingest"} and scoped["/v1/chat"] == {"read"}
    assert scoped["/v1/items"] == {"catalog"} and scoped["/dashboard"] == {"admin"}


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES + CATALOG_ROUTES)
def test_admin_and_catalog_routes_refuse_a_missing_key(anon: TestClient, method: str, path: str, body) -> None:
    response = call(anon, method, path, body)
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "unauthorized",
        "detail": "an API key is required: send 'Authorization: Bearer <key>'",
        "field": "Authorization",
    }
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES + CATALOG_ROUTES)
def test_admin_and_catalog_routes_refuse_a_read_key(
    svc: Service, anon: TestClient, method: str, path: str, body
) -> None:
    response = call(anon, method, path, body, key_for(svc, "read", "ingest"))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden" and "may not use" in response.json()["detail"]


def test_a_wrong_or_malformed_key_is_401(svc: Service, anon: TestClient) -> None:
    good = key_for(svc, "read")["Authorization"]
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    for value in (tampered, "Bearer nonsense", "Bearer sg_000000000000_" + "x" * 43):
        response = anon.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", headers={"Authorization": value})
        assert response.status_code == 401 and response.json()["detail"] == "the API key is not valid"


def test_each_scope_opens_its_routes_only(svc: Service, anon: TestClient) -> None:
    read, ingest, catalog = key_for(svc, "read"), key_for(svc, "ingest"), key_for(svc, "catalog")
    event = {"events": [{"user": "acl-u", "item": "demo-0001", "type": "view", "ts": time.time()}]}
    assert anon.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", headers=read).status_code == 200
    assert anon.get("/v1/search", params={"q": "dress"}, headers=read).status_code == 200
    assert anon.post("/v1/events", json=event, headers=read).status_code == 403
    assert anon.post("/v1/events", json=event, headers=ingest).json()["accepted"] == 1
    assert anon.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", headers=ingest).status_code == 403
    item = {"items": [{"id": "acl-cat", "title": "ACL test item", "price": 9.5}]}
    assert anon.post("/v1/items", json=item, headers=catalog).json() == {"upserted": 1}
    assert anon.delete("/v1/items/acl-cat", headers=catalog).status_code == 204
    assert anon.get("/v1/admin/models", headers=catalog).status_code == 403


def test_expired_revoked_and_rotated_keys(svc: Service, anon: TestClient) -> None:
    store, secret = svc.state.store, server_secret(svc.settings)
    key, record = new_key(secret, "old", ["read"], expires_in_days=1, now=time.time() - 2 * 86400)
    store.add_api_key(record)
    response = anon.get("/v1/demo/features", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]

    key, record = create_key(store, svc.settings, "to-rotate", ["read"])
    auth = {"Authorization": f"Bearer {key}"}
    assert anon.get("/v1/demo/features", headers=auth).status_code == 200
    new, new_record = rotate_key(store, svc.settings, record.key_id)
    svc.app.state.auth.forget()  # this process changed the keys; other workers see it within seconds
    assert anon.get("/v1/demo/features", headers=auth).status_code == 401
    assert anon.get("/v1/demo/features", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    revoke_key(store, new_record.key_id)
    svc.app.state.auth.forget()
    response = anon.get("/v1/demo/features", headers={"Authorization": f"Bearer {new}"})
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_keys_are_stored_as_keyed_hashes_only(svc: Service) -> None:
    key, record = create_key(svc.state.store, svc.settings, "hash-check", ["read"])
    stored = svc.state.store.get_api_key(record.key_id)
    secret_part = key.rsplit("_", 1)[1]
    assert secret_part not in repr(stored) and len(stored.hash) == 64


def test_rate_limits_answer_429_with_retry_after(svc: Service, anon: TestClient, monkeypatch) -> None:
    auth = svc.app.state.auth
    monkeypatch.setattr(auth, "limiter", RateLimiter(clock=lambda: 1000.0))  # frozen clock: no refill
    slow = key_for(svc, "admin", rate_limit=1.0)  # burst: 2 seconds' worth
    codes = [anon.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", headers=slow).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    response = anon.get("/v1/admin/models", headers=slow)  # admin routes have their own bucket
    assert response.status_code == 200
    limited = anon.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", headers=slow)
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1

    admin = key_for(svc, "admin")  # default per-key rate, but admin routes are capped lower
    limit = int(svc.settings.rate_limit_admin * svc.settings.rate_limit_burst)
    codes = [anon.get("/v1/admin/models", headers=admin).status_code for _ in range(limit + 1)]
    assert codes == [200] * limit + [429]


def test_callers_without_a_key_are_limited_per_address(svc: Service, anon: TestClient, monkeypatch) -> None:
    monkeypatch.setattr(svc.app.state.auth, "limiter", RateLimiter(clock=lambda: 5.0))
    limit = int(svc.settings.rate_limit_per_client * svc.settings.rate_limit_burst)
    codes = [anon.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations").status_code for _ in range(limit + 1)]
    assert codes == [401] * limit + [429]
    admin_limit = int(svc.settings.rate_limit_admin * svc.settings.rate_limit_burst)  # guessing admin keys
    codes = [anon.get("/v1/admin/models").status_code for _ in range(admin_limit + 1)]
    assert codes == [401] * admin_limit + [429]


def test_the_storefront_cookie_reads_and_logs_but_nothing_else(svc: Service) -> None:
    browser = TestClient(svc.app)  # keeps its cookies, like a browser
    page = browser.get("/")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert browser.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations").status_code == 200
    event = {"events": [{"user": KNOWN_SHOPPER, "item": "demo-0002", "type": "impression", "ts": time.time()}]}
    assert browser.post("/v1/events", json=event).status_code == 200
    assert browser.get("/v1/admin/models").status_code == 403
    assert browser.post("/v1/items", json={"items": []}).status_code == 403
    assert "set-cookie" not in browser.get("/").headers  # a valid cookie is kept
    forger = TestClient(svc.app, cookies={COOKIE: "abc.99999999999.forged"})
    assert forger.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations").status_code == 401


def test_a_cached_feed_is_not_served_to_a_caller_without_a_key(svc: Service, anon: TestClient) -> None:
    path = f"/v1/users/{KNOWN_SHOPPER}/recommendations"
    assert svc.client.get(path, params={"n": 7}).status_code == 200
    assert svc.client.get(path, params={"n": 7}).status_code == 200  # now a cache hit (fast path)
    assert anon.get(path, params={"n": 7}).status_code == 401


def test_a_chat_session_id_alone_reveals_nothing(svc: Service, anon: TestClient) -> None:
    alice, mallory = key_for(svc, "read"), key_for(svc, "read")
    first = anon.post("/v1/chat", json={"message": "I want a red dress under 300"}, headers=alice).json()
    session = first["session_id"]
    assert len(session.removeprefix("chat-")) == 32  # 128 random bits, hex
    assert first["slots"], first
    theirs = anon.post("/v1/chat", json={"session_id": session, "message": "hi"}, headers=mallory).json()
    assert theirs["session_id"] == session and not theirs["slots"]
    again = anon.post("/v1/chat", json={"session_id": session, "message": "cheaper"}, headers=alice).json()
    assert again["slots"].get("category") == first["slots"].get("category")


def test_admin_and_catalog_actions_and_refusals_are_audited(svc: Service, anon: TestClient) -> None:
    admin = key_for(svc, "admin")
    assert anon.get("/v1/admin/tickets", headers=admin).status_code == 200
    assert anon.post("/v1/items", json={"items": []}).status_code == 401
    svc.app.state.auth.flush()
    entries = svc.state.store.audit_entries(limit=50)
    mine = [e for e in entries if e.target == "/v1/admin/tickets" and e.outcome == "allowed"]
    assert mine and mine[0].actor.startswith("key:") and mine[0].action == "GET admin"
    assert any(e.target == "/v1/items" and e.outcome == "unauthenticated" and e.actor == "anonymous" for e in entries)


def test_security_headers_and_cors(svc: Service, anon: TestClient) -> None:
    page = anon.get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    dashboard = svc.client.get("/dashboard")
    assert dashboard.status_code == 200 and "content-security-policy" in dashboard.headers
    api = anon.get("/health/live")
    assert api.headers["x-content-type-options"] == "nosniff" and api.headers["x-frame-options"] == "DENY"
    preflight = anon.options(
        "/v1/chat",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"},
    )  # fmt: skip
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    other = anon.get("/health/live", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_insecure_dev_mode_is_never_the_default(seeded_home: Path, tmp_path_factory) -> None:
    with running_service(seeded_home, tmp_path_factory, admin_key=None) as plain:
        assert TestClient(plain.app).get("/v1/admin/models").status_code == 401
    with running_service(seeded_home, tmp_path_factory, admin_key=None, insecure_dev=True) as dev:
        assert TestClient(dev.app).get("/v1/admin/models").status_code == 200


def test_cli_keys_and_audit(svc: Service) -> None:
    runner, home = CliRunner(), ["--home", str(svc.settings.home)]
    created = runner.invoke(cli, ["keys", "create", "--name", "cli-made", "--scope", "ingest", *home])
    assert created.exit_code == 0, created.output
    key = next(w for w in created.output.split() if w.startswith("sg_"))
    key_id = key.split("_")[1]
    listed = runner.invoke(cli, ["keys", "list", *home])
    assert key_id in listed.output and "cli-made" in listed.output and key.rsplit("_", 1)[1] not in listed.output
    bad = runner.invoke(cli, ["keys", "create", "--name", "x", "--scope", "superuser", *home])
    assert bad.exit_code == 2 and "unknown scope 'superuser'" in bad.output
    assert runner.invoke(cli, ["keys", "revoke", key_id, *home]).exit_code == 0
    assert runner.invoke(cli, ["keys", "revoke", "nosuchkey", *home]).exit_code == 3
    audit = runner.invoke(cli, ["audit", "--limit", "200", *home])
    assert "keys create" in audit.output and "keys revoke" in audit.output


def test_guessing_keys_is_limited_per_address(svc: Service, anon: TestClient, monkeypatch) -> None:
    monkeypatch.setattr(svc.app.state.auth, "limiter", RateLimiter(clock=lambda: 7.0))
    limit = int(svc.settings.rate_limit_per_client * svc.settings.rate_limit_burst)
    guesses = [{"Authorization": f"Bearer sg_{k:012x}_{'x' * 43}"} for k in range(limit + 1)]
    codes = [anon.get("/v1/search", params={"q": "tea"}, headers=g).status_code for g in guesses]
    assert codes == [401] * limit + [429]


def test_the_persona_picker_lists_simulated_shoppers_only(svc: Service) -> None:
    from shopguide.data.schema import User

    svc.state.store.upsert_users([User(id="aaa-real-shopper", attributes={"city": "杭州"})])  # sorts first
    browser = TestClient(svc.app)
    browser.get("/")
    listed = browser.get("/v1/demo/shoppers").json()["shoppers"]
    assert listed and all(s["simulated"] for s in listed)
    assert "aaa-real-shopper" not in {s["id"] for s in listed}
