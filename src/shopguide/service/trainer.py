"""Continuous training while serving: a challenger is trained in the background and served only when it wins.

Start it after the worker's state is ready and stop it before the state closes (``app.py``)::

    trainer = start_trainer(state)   # None unless settings.continuous_training
    ...
    stop_trainer(trainer)

- **When.** ``training_start_delay_seconds`` after start-up, then ``training_period_seconds`` after the end of
  each cycle. A cycle trains only when :func:`~shopguide.recommend.continuous.freshness` says enough events
  arrived since the last cycle of the model (the first cycle always trains); :meth:`TrainingScheduler.trigger`
  wakes the schedule at once and :meth:`TrainingScheduler.run_once` runs a cycle in the caller.
- **What.** :func:`~shopguide.recommend.continuous.run_cycle`: the challenger against the served champion on
  the store's recent events; the winner is activated and every worker swaps to it (``models.py``).
- **Who.** One worker per home runs the schedule: the one holding ``<home>/training-leader.lock``
  (``fcntl.flock``, non-blocking, held while it serves). The others try to take it at every period, so that
  another worker takes over when the leader exits. Replicas that do not share a home (one PostgreSQL store,
  several machines) would each run a schedule: turn it on for one of them only.
- **One training at a time.** A cycle is a job of :meth:`ServiceState.claim_job`, like a manual
  ``POST /v1/admin/train``; both hold ``<home>/training.lock``, so no two trainings of a home overlap in any
  of its workers; a cycle that finds one running is skipped until the next period.
- **Priority.** By default (``training_isolation="process"``) a cycle runs in a child process (a fresh
  interpreter) at ``os.nice(training_nice)`` with ``training_threads`` BLAS and torch threads: it shares
  neither the GIL nor the CPU priority of the serving threads, and a shutdown terminates it at once
  (``os.nice`` is per process, which is why a process is used; it costs a second copy of the dataset). With an in-memory store, which no other process can open, or
  ``training_isolation="thread"``, the cycle runs in the scheduler's thread, niced per thread (Linux) with the
  same thread bounds, and a shutdown stops it between steps (and between epochs of the sequential model).
- **Status.** Every cycle's result is kept and written to ``<home>/training-status.json``, so that every
  worker's ``GET /v1/admin/training`` answers the same.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shopguide.errors import ModelError
from shopguide.recommend.continuous import (
    ContinuousConfig,
    CycleResult,
    FileLock,
    failed,
    freshness,
    is_memory_store,
    lower_priority,
    run_cycle,
    run_in_process,
)

if TYPE_CHECKING:
    from shopguide.config import Settings
    from shopguide.service.state import ServiceState

log = logging.getLogger(__name__)

LEADER_FILE = "training-leader.lock"
STATUS_FILE = "training-status.json"
STOP_TIMEOUT_S = 10.0


class TrainingRun(BaseModel):
    """One cycle: promoted / kept / skipped / failed / cancelled, why, the version saved, its evaluation."""

    outcome: str
    reason: str
    version: str | None = None
    evaluation: dict[str, Any] | None = None
    new_events: int | None = None
    started_at: float
    finished_at: float


class TrainingStatus(BaseModel):
    """Continuous training as the workers of a home see it."""

    enabled: bool
    reason: str | None = Field(default=None, description="Why continuous training is off, when it is.")
    leader: bool = Field(default=False, description="Whether this worker runs the home's schedule.")
    model: str | None = None
    isolation: str | None = None
    period_seconds: float | None = None
    min_new_events: int | None = None
    next_run_at: float | None = Field(default=None, description="Unix time of the next cycle (leader's schedule).")
    running: bool = False
    cycles: int = 0
    last: TrainingRun | None = None


class TrainingScheduler:
    """The schedule of one worker (see the module docstring). ``disabled`` says why it does not run."""

    def __init__(self, state: ServiceState, config: ContinuousConfig, *, disabled: str | None = None) -> None:
        self.state = state
        self.settings: Settings = state.settings
        self.config = config
        self.disabled = disabled
        memory = is_memory_store(self.settings.resolved_store_url)
        self.isolation = "thread" if memory else self.settings.training_isolation
        self.next_run_at: float | None = None
        self.last: CycleResult | None = None
        self.running = False
        self.cycles = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._force = False
        self._done = threading.Condition()
        self._cycle_lock = threading.Lock()
        self._leader = FileLock(self.settings.home / LEADER_FILE)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ life cycle
    @property
    def leader(self) -> bool:
        return self._leader.held

    def start(self) -> None:
        """Start the schedule's thread (nothing when disabled)."""
        if self.disabled is not None:
            log.warning("continuous training is off", extra={"reason": self.disabled})
            return
        self._thread = threading.Thread(target=self._loop, name="continuous-training", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the schedule: a training process is terminated, a training thread stops at its next step; waits
        at most ``timeout`` seconds (a thread still in a long step is left to end with the process)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the training thread is still in a step; leaving it to end with the process")
        self._leader.release()

    def trigger(self, *, force: bool = False) -> None:
        """Run a cycle now instead of at the next scheduled time (``force``: even without new events)."""
        self._force = self._force or force
        self._wake.set()

    def wait_cycles(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` cycles (including skipped ones) have finished; False on timeout."""
        with self._done:
            return self._done.wait_for(lambda: self.cycles >= count, timeout)

    def _loop(self) -> None:
        lower_priority(self.config.nice, this_thread=True)  # also the model loads after a promotion
        self.next_run_at = time.time() + self.settings.training_start_delay_seconds
        self._leader.acquire()  # lead from the start when free; the others try again at every cycle
        self._publish()
        while not self._stop.is_set():
            self._wake.wait(min(max(self.next_run_at - time.time(), 0.0), threading.TIMEOUT_MAX))
            if self._stop.is_set():
                break
            self._wake.clear()
            force, self._force = self._force, False
            self.run_once(force=force)
            self.next_run_at = time.time() + self.settings.training_period_seconds
            self._publish()

    # ------------------------------------------------------------------ one cycle
    def run_once(self, *, force: bool = False) -> CycleResult:
        """One cycle in the calling thread: skipped in a worker that does not lead the home's schedule, without
        enough new events (unless ``force``) or while another training of the home runs; else train, evaluate,
        save and, when the challenger wins, activate and serve it in this worker."""
        with self._cycle_lock:
            started = time.time()
            if not self._leader.acquire():
                return self._record(CycleResult("skipped", "another worker of this home runs the schedule"))
            try:
                result = self._cycle(force, started)
            except Exception as exc:  # the store may be down for a moment: reported, tried at the next period
                log.exception("training cycle failed")
                result = failed(exc, started)
            return self._record(replace(result, finished_at=time.time()))

    def _cycle(self, force: bool, started: float) -> CycleResult:
        bundles = self.state.models.bundles
        fresh = freshness(self.state.store, bundles, self.config.model, self.config.min_new_events)
        if not fresh.due and not force:
            return CycleResult("skipped", fresh.reason, new_events=fresh.new_events, started_at=started)
        try:
            job = self.state.claim_job(self.config.model, origin="schedule")
        except ModelError as exc:
            return CycleResult("skipped", f"another training is running: {exc}", started_at=started)
        result = CycleResult("failed", "the cycle ended unexpectedly", started_at=started)
        try:
            self.state.jobs[job]["status"] = "running"
            self.running = True
            self._publish()
            log.info("training cycle", extra={"model": self.config.model, "why": fresh.reason, "job": job})
            if self.isolation == "process":
                result = run_in_process(self.settings, self.config, self._stop)
            else:
                try:
                    result = run_cycle(self.settings, self.config, store=self.state.store, stop=self._stop)
                except Exception as exc:
                    result = failed(exc, started)
        finally:
            self.running = False
            status = result.outcome if result.outcome in ("failed", "cancelled") else "done"
            self.state.finish_job(job, status, version=result.version, outcome=result.outcome, reason=result.reason)
        result = replace(result, new_events=fresh.new_events, started_at=started)
        if result.outcome == "promoted" and result.version and bundles.active_version() == result.version:
            try:
                self.state.models.load(result.version)  # this worker at once; the others at their next check
            except Exception:  # the request path's pointer check loads it again
                log.exception("could not load the promoted version", extra={"version": result.version})
        return result

    def _record(self, result: CycleResult) -> CycleResult:
        self.last = result
        level = logging.WARNING if result.outcome == "failed" else logging.INFO
        log.log(level, "training cycle finished", extra={"outcome": result.outcome, "reason": result.reason})
        self._publish()
        with self._done:
            self.cycles += 1
            self._done.notify_all()
        return result

    # ------------------------------------------------------------------ status
    def status(self) -> TrainingStatus:
        """This worker's view: its own schedule when it leads, else the leader's published one."""
        if self.disabled is not None:
            return TrainingStatus(enabled=False, reason=self.disabled, last=published(self.settings).last)
        if not self.leader:
            shared = published(self.settings)
            return shared.model_copy(update={"enabled": True, "leader": False})
        return TrainingStatus(
            enabled=True,
            leader=True,
            model=self.config.model,
            isolation=self.isolation,
            period_seconds=self.settings.training_period_seconds,
            min_new_events=self.config.min_new_events,
            next_run_at=self.next_run_at,
            running=self.running,
            cycles=self.cycles,
            last=TrainingRun(**asdict(self.last)) if self.last is not None else None,
        )

    def _publish(self) -> None:
        """Write this worker's status for the other workers (atomically), when it leads the schedule."""
        if not self.leader:
            return
        path = Path(self.settings.home) / STATUS_FILE
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(self.status().model_dump_json())
            os.replace(tmp, path)
        except OSError:
            log.warning("could not write the training status", exc_info=True)


def published(settings: Settings) -> TrainingStatus:
    """The status the home's leading worker last wrote (an empty one when there is none)."""
    try:
        return TrainingStatus.model_validate(json.loads((Path(settings.home) / STATUS_FILE).read_text()))
    except (OSError, ValueError):
        return TrainingStatus(enabled=False)


def training_status(settings: Settings, scheduler: TrainingScheduler | None) -> TrainingStatus:
    """What ``GET /v1/admin/training`` answers in a worker with ``scheduler`` (None: continuous training off)."""
    if scheduler is not None:
        return scheduler.status()
    reason = "continuous training is off (SHOPGUIDE_CONTINUOUS_TRAINING)"
    return TrainingStatus(enabled=False, reason=reason, last=published(settings).last)


def start_trainer(state: ServiceState) -> TrainingScheduler | None:
    """Start continuous training when the settings turn it on (ConfigError for an unknown model or bad
    parameters); a scheduler that only reports why when the model needs torch and torch is missing."""
    settings = state.settings
    if not settings.continuous_training:
        return None
    config = ContinuousConfig.from_settings(settings)
    disabled = None
    if config.model == "sequential" and importlib.util.find_spec("torch") is None:
        disabled = "the sequential model needs torch: pip install 'shopguide[deep]' (or set SHOPGUIDE_TRAINING_MODEL)"
    scheduler = TrainingScheduler(state, config, disabled=disabled)
    scheduler.start()
    return scheduler


def stop_trainer(scheduler: TrainingScheduler | None) -> None:
    """Stop a scheduler started by :func:`start_trainer` (blocks up to a few seconds: call it in a thread)."""
    if scheduler is not None:
        scheduler.stop()
