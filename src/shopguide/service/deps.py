"""Dependencies injected into routes (FastAPI ``Annotated`` aliases).

They are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, a thread hop per request
for what is an attribute read (the store is read in a thread only when the deleted-items sync is due).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from shopguide.service.state import ServiceState


async def get_state(request: Request) -> ServiceState:
    return request.app.state.shopguide


async def get_serving_state(request: Request) -> ServiceState:
    """The worker's state for routes that serve catalog items: deletions made through other workers are
    picked up first (time-gated, see ``ServiceState.sync_deleted``)."""
    state: ServiceState = request.app.state.shopguide
    if state.deleted_sync_due():
        await run_in_threadpool(state.sync_deleted)
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]
ServingStateDep = Annotated[ServiceState, Depends(get_serving_state)]
