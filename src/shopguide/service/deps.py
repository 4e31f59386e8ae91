"""Dependencies injected into routes (FastAPI ``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shopguide.service.state import ServiceState


def get_state(request: Request) -> ServiceState:
    return request.app.state.shopguide


def get_serving_state(request: Request) -> ServiceState:
    """The worker's state for routes that serve catalog items: deletions made through other workers are
    picked up first (time-gated, see ``ServiceState.sync_deleted``)."""
    state: ServiceState = request.app.state.shopguide
    state.sync_deleted()
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]
ServingStateDep = Annotated[ServiceState, Depends(get_serving_state)]
