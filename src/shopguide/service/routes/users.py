"""A shopper's rights over their data: ``GET /v1/users/{user_id}/export`` (right of access: everything held
about them, as JSON) and ``DELETE /v1/users/{user_id}`` (right to erasure: what was removed, as counts).

Both call :mod:`shopguide.privacy.erasure`, as the ``shopguide users`` CLI does; the route only adds this
worker's caches (its answer cache entries for the shopper and its analytics working table) to what the
erasure clears. An unknown shopper (nothing held) is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from shopguide.privacy.erasure import Forget, erase_shopper, export_shopper
from shopguide.security.auth import require
from shopguide.security.secret import server_secret
from shopguide.service.deps import StateDep
from shopguide.service.feed import key_request
from shopguide.service.state import ServiceState

router = APIRouter(prefix="/v1/users", tags=["privacy"], dependencies=[require("admin")])


class ErasureOut(BaseModel):
    """What one erasure removed."""

    user_id: str
    users: int
    events: int
    sessions: int
    tickets: int
    cached_answers: int
    analytics_files: int


def _worker_caches(request: Request, state: ServiceState) -> list[Forget]:
    """This worker's caches of the shopper's answers and of the analytics table (see privacy/erasure.py for
    why other workers' caches need no message)."""

    def answers(user_id: str) -> int:
        return state.answers.discard(lambda key: key_request(key)[0] == user_id)  # type: ignore[arg-type]

    def analytics(_: str) -> int:
        holder = getattr(request.app.state, "analytics", None)
        if holder is not None:
            holder.forget()
        return 0

    return [answers, analytics]


@router.get("/{user_id}/export")
def export_user(user_id: str, state: StateDep) -> dict[str, Any]:
    """Everything held about the shopper: the user record, every event, chat sessions, hand-off tickets, and the
    pseudonym that stands for them in analytics exports."""
    return export_shopper(state.store, user_id, secret=server_secret(state.settings))


@router.delete("/{user_id}", response_model=ErasureOut)
def erase_user(user_id: str, request: Request, state: StateDep) -> ErasureOut:
    """Erase the shopper: their record, events, chat sessions and tickets (one transaction), this worker's cached
    answers, and the analytics copies; trained models forget them at the next training."""
    report = erase_shopper(
        state.store,
        user_id,
        analytics_dir=state.settings.home / "analytics",
        forget=_worker_caches(request, state),
    )
    return ErasureOut(**report.as_dict())
