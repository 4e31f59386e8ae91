"""Experiments as the operator changes them in the store: read one by name, save one (checked against its
decision point and the experiments already running), start or stop one. The admin API and the CLI call these, so
both refuse the same things with the same errors."""

from __future__ import annotations

from typing import Any

from shopguide.bandit.experiments import Experiment
from shopguide.errors import ConfigError, ConflictError, NotFoundError


def stored_experiment(store: Any, name: str) -> Experiment:
    """The stored experiment ``name``; NotFoundError when there is none."""
    for spec in store.experiment_specs():
        if spec.get("name") == name:
            return Experiment.from_dict(spec)
    raise NotFoundError(f"no experiment {name!r}")


def check_alone(store: Any, experiment: Experiment) -> None:
    """A :class:`ConflictError` when ``experiment`` would run on a decision point where another one runs."""
    if not experiment.enabled:
        return
    for spec in store.experiment_specs():
        other = Experiment.from_dict(spec)
        if other.name != experiment.name and other.enabled and other.point == experiment.point:
            raise ConflictError(
                f"experiment {other.name!r} already runs on {experiment.point}; stop it first (one experiment per point)"
            )


def save_experiment(store: Any, experiment: Experiment) -> None:
    """Store (create or replace) ``experiment`` after checking that its point exists, that its variants name
    arms of that point, and that no other experiment runs there (when it is to run)."""
    row = store.policy(experiment.point)
    if row is None:
        known = [p.name for p in store.policies()]
        raise NotFoundError(f"no decision point {experiment.point!r}; known: {known}")
    arms = row.config["arms"]
    unknown = [v.arm for v in experiment.variants if v.arm is not None and v.arm not in arms]
    if unknown:
        raise ConfigError(f"variants name arms {unknown} that {experiment.point} does not have: {sorted(arms)}")
    check_alone(store, experiment)
    store.put_experiment(experiment.name, experiment.point, experiment.to_dict())


def set_running(store: Any, name: str, enabled: bool) -> Experiment:
    """Start or stop the stored experiment ``name`` (its logged decisions stay); the experiment as stored."""
    experiment = Experiment.from_dict({**stored_experiment(store, name).to_dict(), "enabled": enabled})
    save_experiment(store, experiment)
    return experiment
