"""Admin routes: retrain in the background, continuous training's status, list model versions (with their
champion / challenger evaluation), activate (roll back) a version, and the guide's hand-off tickets (list,
close)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from shopguide.errors import ConfigError, NotFoundError
from shopguide.recommend.registry import MODELS
from shopguide.security.auth import require
from shopguide.service.deps import StateDep
from shopguide.service.schemas import ModelVersion, TicketOut, TicketStatus, TrainAccepted, TrainRequest
from shopguide.service.trainer import TrainingStatus, training_status

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[require("admin")])


@router.post("/train", response_model=TrainAccepted, status_code=202)
def train(request: TrainRequest, state: StateDep) -> TrainAccepted:
    """Start training; the new version is saved, activated and swapped in without failing a request."""
    if request.model not in MODELS:
        raise ConfigError(f"unknown model {request.model!r}; choose one of: {', '.join(MODELS)}")
    job = state.start_training(request.model, request.params)
    return TrainAccepted(job=job, status=state.jobs[job]["status"])


@router.get("/train/{job}")
def train_status(job: str, state: StateDep) -> dict:
    if job not in state.jobs:
        raise NotFoundError(f"no training job {job!r}")
    return {"job": job, **state.jobs[job]}


@router.get("/models", response_model=list[ModelVersion])
def list_models(state: StateDep) -> list[ModelVersion]:
    served = state.models.served.version if state.models.served else None
    return [
        ModelVersion(
            version=info.version,
            model=info.manifest.get("source"),
            active=info.active,
            served=info.version == served,
            created_at=info.manifest.get("created_at"),
            n_users=info.manifest.get("n_users"),
            n_items=info.manifest.get("n_items"),
            fit_seconds=info.manifest.get("fit_seconds"),
            evaluation=info.manifest.get("evaluation"),
        )
        for info in state.models.bundles.versions()
    ]


@router.get("/training", response_model=TrainingStatus)
def training(request: Request, state: StateDep) -> TrainingStatus:
    """Continuous training: whether it is on (and why not), which worker runs the schedule, when the next cycle
    runs, and the last cycle's result with its champion / challenger evaluation."""
    return training_status(state.settings, getattr(request.app.state, "trainer", None))


@router.post("/models/{version}/activate", response_model=ModelVersion)
def activate(version: str, state: StateDep) -> ModelVersion:
    """Make ``version`` active (roll back or forward) and serve it from this worker at once."""
    state.models.bundles.activate(version)
    served = state.models.load(version)
    return ModelVersion(version=served.version, model=served.model.source, active=True, served=True)


@router.get("/tickets", response_model=list[TicketOut])
def list_tickets(
    state: StateDep,
    status: Literal["open", "closed"] | None = Query(default=None, description="Only tickets with this status."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[TicketOut]:
    """The conversations the guide handed to a person, newest first: why, the shopper's mood, the order number
    and the transcript (personal data masked before it was stored)."""
    return [TicketOut.model_validate(t, from_attributes=True) for t in state.store.tickets(status=status, limit=limit)]


@router.post("/tickets/{ticket_id}", response_model=TicketOut)
def set_ticket_status(
    ticket_id: Annotated[int, Path(ge=1, le=2**63 - 1)], body: TicketStatus, state: StateDep
) -> TicketOut:
    """Close (or reopen) a ticket."""
    return TicketOut.model_validate(state.store.set_ticket_status(ticket_id, body.status), from_attributes=True)
