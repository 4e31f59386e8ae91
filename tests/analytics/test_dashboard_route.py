"""The /dashboard page and the /v1/analytics JSON, on an app that includes the dashboard router."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import reference as ref
from fastapi import FastAPI
from fastapi.testclient import TestClient

from authkit import ADMIN_KEY, AUTH
from shopguide.config import Settings
from shopguide.data.schema import Event, EventType
from shopguide.security.auth import Authenticator
from shopguide.security.secret import server_secret
from shopguide.service.errors import install_error_handlers
from shopguide.service.routes import dashboard
from shopguide.store import open_store


def make_app(store, home) -> FastAPI:
    """A bare app with the dashboard router and the service's error mapping (until app.py includes it)."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(dashboard.router)
    settings = Settings(_env_file=None, home=home, admin_key=ADMIN_KEY)
    app.state.shopguide = SimpleNamespace(settings=settings, store=store)
    app.state.auth = Authenticator(settings, server_secret(settings))
    return app


@pytest.fixture(scope="module")
def client(demo_store_url, tmp_path_factory):
    store = open_store(demo_store_url)
    with TestClient(headers=AUTH, app=make_app(store, tmp_path_factory.mktemp("home"))) as c:
        yield c
    store.close()


def test_dashboard_page_renders_charts(client):
    r = client.get("/dashboard")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert html.count("<svg") >= 6 and "Shoppers reaching each stage" in html and "Champions" in html
    assert "<script" not in html and not re.search(r"https?://", html)
    assert '<form class="filters"' in html and '<option value="服装">' in html


def test_dashboard_filters_and_cache(client, demo_df):
    params = {"date_from": "2026-10-01", "date_to": "2026-10-20", "category": "美妆"}
    first = client.get("/dashboard", params=params)
    assert first.status_code == 200 and "computed now" in first.text
    assert 'value="2026-10-01"' in first.text and 'value="美妆"' in first.text
    second = client.get("/dashboard", params=params)
    assert "from cached aggregates" in second.text  # (how fast that is: benchmarks/analytics_10m.py)
    data = client.get("/v1/analytics", params=params).json()
    part = ref.select(demo_df, "2026-10-01", "2026-10-20", ["美妆"])
    assert data["overview"]["events"] == len(part)
    assert data["meta"]["filters"] == {"date_from": "2026-10-01", "date_to": "2026-10-20", "categories": ["美妆"]}
    funnel = client.get("/v1/analytics/funnel", params=params).json()
    assert funnel["overall"][0]["purchase_users"] == part.loc[part["type"] == "purchase", "user"].nunique()
    both = client.get("/v1/analytics/overview", params={"category": "美妆,服装"}).json()  # the page's text box
    assert both["events"] == len(ref.select(demo_df, categories=["美妆", "服装"]))


def test_new_events_refresh_the_dashboard(demo, tmp_path, monkeypatch):
    monkeypatch.setattr(dashboard, "FINGERPRINT_TTL_S", 0.0)
    with (
        open_store(f"sqlite:///{tmp_path}/own.db") as store,
        TestClient(headers=AUTH, app=make_app(store, tmp_path / "home")) as c,
    ):
        store.import_batch(items=demo.items, users=demo.users, events=demo.events[:2000])
        assert c.get("/v1/analytics/overview").json()["events"] == 2000
        late = Event(user="shopper-001", item="demo-0001", type=EventType.PURCHASE, ts=demo.events[1999].ts + 60)
        store.add_events([late])
        # within MAX_STALE_S the aggregates of a moment ago are still served ...
        assert c.get("/v1/analytics/overview").json()["events"] == 2000
        monkeypatch.setattr(dashboard, "MAX_STALE_S", 0.0)  # ... after it, the new data is computed
        page = c.get("/dashboard")
        assert "computed now" in page.text
        assert c.get("/v1/analytics/overview").json()["events"] == 2001


def test_errors(client):
    r = client.get("/dashboard", params={"date_from": "soon"})  # not a date's shape: the schema refuses it
    assert r.status_code == 422 and r.json()["field"] == "date_from"
    r = client.get("/dashboard", params={"date_from": "2026-13-40"})  # a date's shape, but no date
    assert r.status_code == 400 and "YYYY-MM-DD" in r.json()["detail"]
    assert client.get("/v1/analytics/nothing").status_code == 404
    assert client.get("/dashboard", params={"period": "month"}).status_code == 422
