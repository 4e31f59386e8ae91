"""Admin routes of the learning loop: decision points (status, on/off, learn now, off-policy evaluation,
guarded promotion) and A/B experiments (create or change, switch, results with the SRM check, remove).

Every change is written to the store; every worker follows it within seconds, without a restart.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from shopguide.bandit.decisions import POLICY_KINDS
from shopguide.bandit.experiment_store import save_experiment, set_running, stored_experiment
from shopguide.bandit.experiments import Experiment
from shopguide.bandit.own_logs import ESTIMATORS, Candidate, evaluate_candidate, promote
from shopguide.bandit.report import experiment_report, points_status
from shopguide.bandit.runtime import LearningLoop
from shopguide.errors import NotFoundError
from shopguide.security.auth import require
from shopguide.service.deps import StateDep

router = APIRouter(prefix="/v1/admin", tags=["learning loop"], dependencies=[require("admin")])
PointPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*:[a-z0-9_-]{1,48}$", description="e.g. feed:home")]
NamePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class Switch(BaseModel):
    enabled: bool = Field(description="On: the point's policy chooses; off: the service serves its default.")


class CandidateIn(BaseModel):
    """A policy to value on the point's own logs before it goes live."""

    kind: str = Field(description=f"One of: {', '.join(POLICY_KINDS)}.")
    params: dict[str, Any] = Field(default_factory=dict, description='e.g. {"alpha": 0.5, "min_explore": 0.05}')
    since_ts: float | None = Field(default=None, description="Only decisions made since this Unix time.")
    train_fraction: float = Field(default=0.7, gt=0, lt=1, description="The earlier share the candidate learns from.")
    estimator: str = Field(default="snips", description=f"The guardrail's estimator: {', '.join(ESTIMATORS)}.")
    min_effective: float = Field(default=30.0, ge=0, description="Fewest effective rounds the guardrail accepts.")
    n_bootstrap: int = Field(default=1000, ge=50, le=20000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    force: bool = Field(default=False, description="Promote even when the guardrail refuses (audited).")

    def candidate(self) -> Candidate:
        return Candidate(self.kind, dict(self.params))  # checked with the point's arms (PointConfig)


def _loop(request: Request) -> LearningLoop:
    loop = getattr(request.app.state, "learning", None)
    if loop is None:
        raise NotFoundError("the learning loop is not running in this worker")
    return loop


def _evaluate(state: Any, point: str, body: CandidateIn) -> dict[str, Any]:
    return evaluate_candidate(
        state.store, point, body.candidate(), since_ts=body.since_ts, train_fraction=body.train_fraction,
        estimator=body.estimator, min_effective=body.min_effective, n_bootstrap=body.n_bootstrap, seed=body.seed,
    )  # fmt: skip


@router.get("/bandit")
def bandit_status(state: StateDep) -> list[dict[str, Any]]:
    """Every decision point: switch, policy, version, decisions, reward rate per arm, current probabilities."""
    return points_status(state.store)


@router.put("/bandit/{point}")
def switch_point(point: PointPath, body: Switch, request: Request, state: StateDep) -> dict[str, Any]:
    """Switch a decision point on or off (no restart; every worker follows within seconds)."""
    _loop(request).switch(point, body.enabled)
    return next(p for p in points_status(state.store) if p["point"] == point)


@router.post("/bandit/learn")
def learn_now(request: Request) -> dict[str, Any]:
    """Close the decisions whose reward window has passed and update the policies now."""
    return _loop(request).learn().to_json()


@router.post("/bandit/{point}/evaluate")
def evaluate(point: PointPath, body: CandidateIn, state: StateDep) -> dict[str, Any]:
    """Value a candidate policy on this point's logs (IPS, SNIPS, DM, DR, switch-DR with intervals) against the current one,
    and say whether the guardrail would promote it."""
    return _evaluate(state, point, body)


@router.post("/bandit/{point}/promote")
def promote_candidate(point: PointPath, body: CandidateIn, request: Request, state: StateDep) -> dict[str, Any]:
    """Evaluate, then make the candidate the point's policy if the guardrail allows it (or ``force``)."""
    report = _evaluate(state, point, body)
    result = promote(state.store, point, body.candidate(), report, force=body.force, seed=body.seed)
    _loop(request).refresh(force=True)
    return {**result, "evaluation": report}


@router.get("/experiments")
def list_experiments(state: StateDep) -> list[dict[str, Any]]:
    """Every experiment with its result so far (per variant: shoppers, decisions, reward rate, difference to
    the control with a 95 % interval; the sample-ratio-mismatch check)."""
    return [experiment_report(state.store, Experiment.from_dict(spec)) for spec in state.store.experiment_specs()]


@router.get("/experiments/{name}")
def get_experiment(name: NamePath, state: StateDep) -> dict[str, Any]:
    return experiment_report(state.store, stored_experiment(state.store, name))


@router.put("/experiments/{name}")
def put_experiment(name: NamePath, body: dict[str, Any], request: Request, state: StateDep) -> dict[str, Any]:
    """Create or replace an experiment: ``{"point": "feed:home", "variants": [{"name": "control", "weight": 1,
    "arm": "model"}, {"name": "bandit", "weight": 1}], "enabled": true}`` (a variant without ``arm`` lets the
    point's policy choose). Takes effect in every worker without a restart."""
    spec = {**body, "name": name}
    spec.setdefault("started_at", time.time())
    experiment = Experiment.from_dict(spec)
    save_experiment(state.store, experiment)
    _loop(request).refresh(force=True)
    return experiment_report(state.store, experiment)


@router.put("/experiments/{name}/switch")
def switch_experiment(name: NamePath, body: Switch, request: Request, state: StateDep) -> dict[str, Any]:
    """Start or stop an experiment (its logged decisions stay)."""
    experiment = set_running(state.store, name, body.enabled)
    _loop(request).refresh(force=True)
    return experiment_report(state.store, experiment)


@router.delete("/experiments/{name}", status_code=204)
def delete_experiment(name: NamePath, request: Request, state: StateDep) -> None:
    state.store.delete_experiment(name)
    _loop(request).refresh(force=True)
