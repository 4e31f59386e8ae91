"""The API docs at ``/docs``: Swagger UI served by this server, so the page works offline and under the same
Content-Security-Policy as every other page (FastAPI's default page loads its script from a CDN and runs an
inline script). The Swagger UI files (version 5, which reads FastAPI's OpenAPI 3.1) come from the
``fastapi-offline`` package, which bundles them for exactly this; only its static files are used. The page and
its start-up script are ours (``service/web/docs.html``, ``docs.js``). ``/redoc`` is not offered."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shopguide.errors import MissingDependencyError, NotFoundError

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
#: the Swagger UI files the page loads (served by name only)
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon.png"})
CACHE = {"Cache-Control": "public, max-age=86400"}

router = APIRouter(tags=["docs"])


def swagger_dir() -> Path:
    """Where the Swagger UI files are (the ``static`` folder of the ``fastapi_offline`` package)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:  # a declared dependency: only a broken install lacks it
        raise MissingDependencyError("fastapi-offline", "docs")
    return Path(spec.origin).parent / "static"


@router.get("/docs", include_in_schema=False)
def docs_page() -> FileResponse:
    """The interactive API documentation."""
    return FileResponse(WEB_DIR / "docs.html", headers={"Cache-Control": "no-cache"})


@router.get("/docs/assets/{name}", include_in_schema=False)
def docs_asset(name: str) -> FileResponse:
    """One of the docs page's files, by name."""
    if name == "docs.js":
        return FileResponse(WEB_DIR / "docs.js", headers={"Cache-Control": "no-cache"})
    if name not in SWAGGER_FILES:
        raise NotFoundError(f"no docs file {name!r}")
    return FileResponse(swagger_dir() / name, headers=CACHE)
