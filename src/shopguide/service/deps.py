"""Dependencies injected into routes (FastAPI ``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shopguide.service.state import ServiceState


def get_state(request: Request) -> ServiceState:
    return request.app.state.shopguide


StateDep = Annotated[ServiceState, Depends(get_state)]
