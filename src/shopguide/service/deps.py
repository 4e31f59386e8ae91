"""Dependencies injected into routes (FastAPI ``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shopguide.service.state import ServiceState


def get_state(request: Request) -> ServiceState:
    """The worker's state, with deletions made through other workers picked up (time-gated)."""
    state: ServiceState = request.app.state.shopguide
    state.sync_deleted()
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]
