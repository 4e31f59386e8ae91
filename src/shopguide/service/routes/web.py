"""The storefront demo page: ``GET /`` (the page), ``GET /static/{name}`` (its files) and two small JSON
helpers for it: the demo shoppers and which optional endpoints this app serves (so the page does not call
missing ones). The page itself is plain HTML/CSS/JS in ``service/web/`` and works offline."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from shopguide.errors import NotFoundError
from shopguide.security.auth import COOKIE, COOKIE_SECONDS, require
from shopguide.service.deps import StateDep

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
#: The files the page is made of (served by name only: nothing else under the package is reachable).
STATIC_FILES = frozenset({"index.html", "app.js", "style.css"})
DEMO_SHOPPERS = 12
#: Optional endpoints the page uses when they exist: feature name -> (method, route path).
OPTIONAL_ROUTES = {
    "search": ("GET", "/v1/search"),
    "bundle": ("GET", "/v1/items/{item_id}/bundle"),
    "chat": ("POST", "/v1/chat"),
}
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(tags=["web"])


class Shopper(BaseModel):
    id: str
    simulated: bool
    attributes: dict[str, str]


class Shoppers(BaseModel):
    shoppers: list[Shopper]


@router.get("/", include_in_schema=False)
def page(request: Request) -> FileResponse:
    """The storefront page; it also gives the browser its signed storefront cookie (scopes ``read`` and
    ``ingest``, this origin only: security/auth.py) unless it holds a valid one."""
    response = FileResponse(WEB_DIR / "index.html", headers=NO_CACHE)
    auth = request.app.state.auth
    if auth.cookie_browser(request.cookies.get(COOKIE, "")) is None:
        response.set_cookie(
            COOKIE, auth.new_cookie(), max_age=COOKIE_SECONDS, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/",
        )  # fmt: skip
    return response


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    """One of the page's files, by name."""
    if name not in STATIC_FILES:
        raise NotFoundError(f"no static file {name!r}")
    return FileResponse(WEB_DIR / name, headers=NO_CACHE)


@router.get("/v1/demo/shoppers", response_model=Shoppers, dependencies=[require("read")])
def demo_shoppers(state: StateDep) -> Shoppers:
    """The first simulated shoppers in the store (by id), for the page's persona picker. Only shoppers the demo
    simulator made are listed: real shoppers' ids and attributes are never shown to a storefront visitor."""
    users = islice((u for u in state.store.iter_users() if u.attributes.get("simulated") == "true"), DEMO_SHOPPERS)
    return Shoppers(
        shoppers=[
            Shopper(id=u.id, simulated=u.attributes.get("simulated") == "true", attributes=u.attributes) for u in users
        ]
    )


@router.get("/v1/demo/features", dependencies=[require("read")])
def features(request: Request) -> dict[str, bool]:
    """Which optional endpoints this app serves (the page shows a friendly note for the others)."""
    paths = request.app.openapi().get("paths", {})  # covers routes of included (nested) routers too
    served = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    return {name: route in served for name, route in OPTIONAL_ROUTES.items()}
