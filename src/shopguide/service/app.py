"""The app factory: ``create_app(settings)`` builds the FastAPI app; ``lifespan`` opens the store and loads
the model (no import-time side effects, house rule 5)."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from shopguide import __version__
from shopguide.config import Settings
from shopguide.privacy.log_filter import install_log_scrubbing
from shopguide.security.auth import Authenticator
from shopguide.security.headers import SecurityHeaders
from shopguide.security.secret import server_secret
from shopguide.service import metrics
from shopguide.service.errors import install_error_handlers
from shopguide.service.feed_fast_path import ROUTE_PATH, FeedFastPath
from shopguide.service.learning import build_learning
from shopguide.service.resilience import BodyLimit, LoadShedder, ShedPolicy
from shopguide.service.retention import start_retention, stop_retention
from shopguide.service.routes import (
    admin,
    chat,
    dashboard,
    discover,
    docs,
    events,
    health,
    items,
    learning,
    recommend,
    users,
    web,
)
from shopguide.service.schemas import ERROR_RESPONSES
from shopguide.service.state import ServiceState
from shopguide.service.trainer import start_trainer, stop_trainer
from shopguide.service.warmup import warm_start

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, state: ServiceState | None = None) -> FastAPI:
    """Build the app. ``state`` may be injected (tests); otherwise the lifespan starts one from settings."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = state is None
        app.state.shopguide = state or await asyncio.to_thread(ServiceState.start, settings)
        app.state.auth.attach(app.state.shopguide.store)
        # no personal data in this worker's logs, shoppers as pseudonyms
        for logger in (None, "uvicorn", "uvicorn.error", "uvicorn.access"):
            install_log_scrubbing(logging.getLogger(logger), secret=app.state.auth.secret)
        app.state.retention = start_retention(app.state.shopguide) if own else None
        app.state.trainer = start_trainer(app.state.shopguide) if own else None  # continuous training (trainer.py)
        app.state.learning = await asyncio.to_thread(build_learning, settings, app.state.shopguide.store)
        app.state.learning.start()
        if settings.insecure_dev:
            log.warning("INSECURE DEV MODE: every request is served as admin without a key; never expose this port")
        served = app.state.shopguide.models.served
        if served is not None:
            metrics.MODEL_VERSION.labels(served.version, served.model.source).set(1)
            await asyncio.to_thread(chat.prepare, app)  # build the guide now: the first chat turn is fast
            if own:  # the active shoppers' feeds are ready before the first request (warmup.py)
                await asyncio.to_thread(warm_start, app.state.shopguide)
        settle_heap()
        try:
            yield
        finally:
            await asyncio.to_thread(app.state.auth.flush)  # the last audit entries and key use times
            await asyncio.to_thread(app.state.learning.stop)  # the last logged decisions
            await stop_retention(app.state.retention)
            await asyncio.to_thread(stop_trainer, app.state.trainer)
            if own:
                app.state.shopguide.close()

    app = FastAPI(
        title="shopguide",
        version=__version__,
        summary="AI shopping guide: recommendations with reasons, events, catalog.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # routes/docs.py serves the docs page without a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    app.state.auth = Authenticator(settings, server_secret(settings))

    # inside the metrics and the shedding: its answers count as the route's
    feed_route = next(r for r in recommend.router.routes if getattr(r, "path", None) == ROUTE_PATH)
    app.add_middleware(FeedFastPath, route=feed_route)
    app.add_middleware(metrics.RequestMetrics)
    for module in (health, recommend, discover, items, events, admin, learning, users, dashboard, chat, web, docs):
        app.include_router(module.router)
    # outermost first: shedding happens before anything else is spent on a request
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # one policy per worker: the HTTP protocol of ``shopguide serve`` reads it from app.state to refuse
    # before any ASGI work (shedding_protocol.py); the middleware enforces it under any other server
    app.state.shedding = ShedPolicy(max_in_flight=settings.max_in_flight, max_wait=settings.shed_wait_seconds)
    app.add_middleware(LoadShedder, policy=app.state.shedding)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)  # outermost: refusals (503, 429) carry the headers too
    return app


#: how long a thread may hold the GIL while another waits (Python's default: 5 ms). A worker's event loop
#: answers cache hits in about 0.1 ms but shares the GIL with the threads computing misses; at the default
#: a hit could wait 5 ms per hand-over, and a burst of misses (a cold start on Amazon Beauty) let requests
#: pile up to the in-flight limit.
SWITCH_INTERVAL_S = 0.001


def settle_heap() -> None:
    """Ready the worker's process for serving: keep what start-up built (models, indexes, the tokenizer's
    dictionary) out of the garbage collector's full passes (with ~200k long-lived objects a full pass
    stopped a worker for 115-128 ms, measured on the demo catalog; ``gc.freeze`` moves them to a
    generation the collector never scans, reference counting still frees them), and shorten the GIL's
    switch interval (:data:`SWITCH_INTERVAL_S`)."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory shopguide.service.app:app_from_env`` (settings from SHOPGUIDE_*; also what
    ``shopguide serve`` runs). Continuous training is on here unless SHOPGUIDE_CONTINUOUS_TRAINING says otherwise."""
    settings = Settings()
    if settings.continuous_training is None:
        settings = settings.model_copy(update={"continuous_training": True})
    return create_app(settings)
