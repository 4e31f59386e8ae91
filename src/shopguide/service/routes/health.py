"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shopguide.security.auth import require
from shopguide.service import metrics

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict:
    """The process answers (it may still be loading). ``async``: no worker thread, so it also answers
    while the thread pool is busy (and it is the load benchmark's bare endpoint)."""
    return {"status": "alive"}


@router.get("/health/ready")
def ready(request: Request) -> JSONResponse:
    """Ready only when a model is loaded and the store answers."""
    state = getattr(request.app.state, "shopguide", None)
    if state is None or state.models.served is None:
        return JSONResponse({"status": "starting", "detail": "model not loaded"}, status_code=503)
    try:
        state.store.count_events()
    except Exception as exc:  # any store failure means not ready
        return JSONResponse({"status": "unavailable", "detail": f"store: {exc}"}, status_code=503)
    return JSONResponse({"status": "ready", "model_version": state.models.served.version})


@router.get(
    "/metrics",
    dependencies=[require("admin")],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."}},
)
def prometheus() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
