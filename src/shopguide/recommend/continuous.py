"""Continuous training: one champion / challenger cycle on the store's data, when it is due, and the file lock
that keeps the trainings of one home apart.

A cycle (:func:`run_cycle`):

1. reads the store into a Dataset and loads the active version: the champion;
2. builds the challenger from ``settings.training_model`` and ``settings.training_params``;
3. fits both on the past and compares them on the recent held-out events
   (:mod:`shopguide.evaluate.challenger`: protocol, margin, too little data);
4. saves the challenger as a new version with the comparison in its manifest (``"evaluation"``). A winner is
   refitted on all events first and then activated, so every worker swaps to it at its next pointer check; a
   loser is saved inactive, as fitted on the past, so that the record stays (and an operator may still look
   at it). Only the newest ``keep_rejected`` losers of the model are kept.

:func:`freshness` says whether a cycle is due: the first one always, later ones when at least
``min_new_events`` events arrived since the last cycle of the same model (events counted in the store, and
events newer than the newest one that cycle saw, so that imports of old events and a retention purge
neither hide nor fake new events).

:func:`run_in_process` runs a cycle in a fresh process (``os.nice``-d, with bounded BLAS and torch threads) so
that training shares neither the GIL nor the priority of the serving worker, and a shutdown ends
it at once by terminating it; :func:`run_cycle` with ``stop`` runs it in the caller's thread instead
(an in-memory store, which another process cannot open, or ``training_isolation="thread"``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from shopguide.config import Settings
from shopguide.errors import ShopguideError
from shopguide.evaluate.challenger import (
    ChallengeConfig,
    TrainingCancelled,
    challenge,
    check_stop,
    fresh_copy,
    stop_between_epochs,
)
from shopguide.recommend.base import Recommender
from shopguide.recommend.bundle import BundleInfo, BundleStore
from shopguide.recommend.registry import make_model
from shopguide.recommend.training import store_dataset
from shopguide.store import Store, open_store

log = logging.getLogger(__name__)

Outcome = Literal["promoted", "kept", "skipped", "failed", "cancelled"]
LOCK_FILE = "training.lock"


@dataclass(frozen=True)
class ContinuousConfig:
    """What continuous training trains and how it is judged (built from Settings by :meth:`from_settings`)."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    challenge: ChallengeConfig = field(default_factory=ChallengeConfig)
    min_new_events: int = 1000
    threads: int = 1
    nice: int = 10
    keep_rejected: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> ContinuousConfig:
        """The settings' training configuration; ConfigError for an unknown model or bad parameters."""
        params = dict(settings.training_params)
        if settings.training_model == "fallback":
            params.setdefault("steps", list(settings.fallback_chain))
        config = cls(
            model=settings.training_model,
            params=params,
            challenge=ChallengeConfig(
                holdout=settings.training_holdout,
                min_users=settings.training_min_eval_users,
                margin=settings.training_margin,
                min_z=settings.training_min_z,
            ),
            min_new_events=settings.training_min_new_events,
            threads=settings.training_threads,
            nice=settings.training_nice,
            keep_rejected=settings.training_keep_rejected,
        )
        config.build()  # unknown names and parameters fail here, at start-up
        return config

    def build(self) -> Recommender:
        return make_model(self.model, **self.params)


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did: ``outcome`` (promoted, kept, skipped, failed, cancelled), why, the saved version and
    the evaluation (``Evaluation.to_dict()``) when there is one."""

    outcome: Outcome
    reason: str
    version: str | None = None
    evaluation: dict[str, Any] | None = None
    new_events: int | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Freshness:
    """Whether a cycle of ``model`` is due: ``previous`` is the version its last cycle saved (None: never)."""

    due: bool
    reason: str
    new_events: int | None
    previous: str | None


# ---------------------------------------------------------------------------------------- when a cycle is due
def cycle_model(manifest: dict[str, Any]) -> str | None:
    """The registry name of the challenger a continuous-training version holds (None for other versions)."""
    challenger = (manifest.get("evaluation") or {}).get("challenger") or {}
    return challenger.get("model")


def last_cycle(bundles: BundleStore, model: str) -> BundleInfo | None:
    """The newest version saved by a cycle of ``model``."""
    mine = [info for info in bundles.versions() if cycle_model(info.manifest) == model]
    return mine[-1] if mine else None


def freshness(store: Store, bundles: BundleStore, model: str, min_new_events: int) -> Freshness:
    """Whether enough events arrived since the last cycle of ``model`` (cheap: a count and, at most, reading the
    ``min_new_events`` newest events)."""
    previous = last_cycle(bundles, model)
    if previous is None:
        return Freshness(True, f"no version of {model!r} was trained and evaluated yet", None, None)
    seen = previous.manifest.get("data") or {}
    new = max(store.count_events() - int(seen.get("events", 0)), 0)
    last_ts = seen.get("last_event_ts")
    if new < min_new_events and last_ts is not None:
        newer = 0
        for event in store.iter_events(since_ts=float(last_ts)):
            newer += event.ts > last_ts
            if newer >= min_new_events:
                break
        new = max(new, newer)
    if new >= min_new_events:
        return Freshness(True, f"{new} new events since version {previous.version}", new, previous.version)
    reason = f"{new} new events since version {previous.version} (a cycle needs {min_new_events})"
    return Freshness(False, reason, new, previous.version)


# ---------------------------------------------------------------------------------------- priority and threads
def lower_priority(nice: int, *, this_thread: bool = False) -> None:
    """Lower the scheduling priority of this process (or, ``this_thread``, only of the calling thread: Linux
    keeps a nice value per thread) by ``nice``; not possible elsewhere (logged)."""
    if nice <= 0:
        return
    try:
        if this_thread:
            if not sys.platform.startswith("linux"):
                log.info("a thread's priority can only be lowered on Linux; training runs at normal priority")
                return
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + nice, 19))
        else:
            os.nice(nice)
    except (AttributeError, OSError) as exc:
        log.warning("could not lower the training's priority", extra={"error": str(exc)})


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """At most ``threads`` BLAS / OpenMP threads (threadpoolctl) and torch threads while inside; process-wide,
    restored on exit."""
    from threadpoolctl import threadpool_limits

    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)


class FileLock:
    """A non-blocking exclusive lock on a file (``fcntl.flock``): one holder at a time among all open files of
    all processes of the machine; the kernel releases it when the holder exits, even when it is killed. Where
    ``fcntl`` does not exist (Windows) every :meth:`acquire` succeeds."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: Any = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> bool:
        """Take the lock if free (True) or report that another holder has it (False); never waits."""
        if self._handle is not None:
            return True
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            self._handle = True
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None and handle is not True:
            handle.close()  # closing the only descriptor releases the flock


def training_lock(settings: Settings) -> FileLock:
    """The lock every training of the home holds (manual ``/v1/admin/train`` jobs and scheduled cycles)."""
    return FileLock(settings.home / LOCK_FILE)


# ---------------------------------------------------------------------------------------- one cycle
def prune_rejected(bundles: BundleStore, model: str, keep: int) -> list[str]:
    """Remove the oldest inactive, not promoted versions of ``model``'s cycles beyond ``keep`` (the newest one
    always stays: it records what the last cycle saw); the removed versions."""
    rejected = [
        info
        for info in bundles.versions()
        if not info.active and cycle_model(info.manifest) == model and not info.manifest["evaluation"].get("promoted")
    ]
    doomed = rejected[: -max(keep, 1)]
    for info in doomed:
        bundles.remove(info.version)
    return [info.version for info in doomed]


def run_cycle(
    settings: Settings,
    config: ContinuousConfig,
    *,
    store: Store | None = None,
    stop: threading.Event | None = None,
) -> CycleResult:
    """Train, evaluate, save and (when it wins) activate one challenger (see the module docstring). ``store``
    defaults to opening the settings' store; ``stop`` is checked between steps: TrainingCancelled."""
    started = time.time()
    own = store is None
    st = open_store(settings.resolved_store_url) if own else store
    try:
        events = st.count_events()  # before reading: what arrives meanwhile counts as new for the next cycle
        data = store_dataset(settings, st)
    finally:
        if own:
            st.close()
    bundles = BundleStore(settings.model_dir)
    champion_version = bundles.active_version()
    champion = bundles.load(champion_version) if champion_version else None
    challenger = config.build()
    with limited_threads(config.threads):
        evaluation = challenge(
            data,
            challenger,
            champion,
            config=config.challenge,
            challenger_name=config.model,
            champion_version=champion_version,
            stop=stop,
        )
        if evaluation.challenger is None:  # too little data: nothing was fitted
            return CycleResult("skipped", evaluation.reason, evaluation=evaluation.to_dict(), started_at=started)
        final, fitted_on = challenger, "events before the cutoff"
        if evaluation.promoted:
            check_stop(stop)
            final, fitted_on = fresh_copy(challenger), "all events"
            stop_between_epochs(final, stop)
            final.fit(data)
    active = bundles.active_version()
    if evaluation.promoted and active != champion_version:
        evaluation = evaluation.refused(f"the active version changed while training ({champion_version} -> {active})")
    evaluation = replace(evaluation, fitted_on=fitted_on)
    seen = {"store": settings.resolved_store_url, "users": data.n_users, "items": data.n_items, "events": events}
    seen |= {"dataset_events": len(data), "last_event_ts": float(data.ts.max())}
    version = bundles.save(final, activate=False, data=seen, extra={"evaluation": evaluation.to_dict()})
    if evaluation.promoted:
        bundles.activate(version)
    removed = prune_rejected(bundles, config.model, config.keep_rejected)
    outcome: Outcome = "promoted" if evaluation.promoted else "kept"
    log.info("training cycle", extra={"outcome": outcome, "version": version, "removed": removed})
    return CycleResult(outcome, evaluation.reason, version, evaluation.to_dict(), started_at=started)


def failed(exc: BaseException, started: float) -> CycleResult:
    """The result of a cycle that raised ``exc``."""
    if isinstance(exc, TrainingCancelled):
        return CycleResult("cancelled", str(exc), started_at=started)
    reason = str(exc) if isinstance(exc, ShopguideError) else f"{type(exc).__name__}: {exc}"
    return CycleResult("failed", reason, started_at=started)


# ---------------------------------------------------------------------------------------- in its own process
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _exit_when_orphaned(parent: int, every_seconds: float = 2.0) -> None:
    """End this training process when the worker that started it is gone (killed without a shutdown)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_seconds)
        os._exit(3)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def child_main() -> int:
    """The training process (``python -m shopguide.recommend.continuous``): reads the pickled ``(settings,
    config, parent pid)`` from stdin, runs one cycle at lower priority, writes the pickled CycleResult to
    stdout. Its logs and any library output go to stderr, which it shares with the worker."""
    result_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing but the result may reach the worker through stdout
    sys.stdout = sys.stderr
    settings, config, parent = pickle.load(sys.stdin.buffer)
    _exit_when_orphaned(parent)
    logging.basicConfig(format="%(asctime)s shopguide-training %(levelname)s %(name)s %(message)s")  # warnings up
    started = time.time()
    try:
        lower_priority(config.nice)
        result = run_cycle(settings, config)
    except BaseException as exc:  # reported to the worker, which logs it
        result = failed(exc, started)
    pickle.dump(result, result_out)
    result_out.close()
    return 0


def run_in_process(
    settings: Settings, config: ContinuousConfig, stop: threading.Event, *, poll_seconds: float = 0.25
) -> CycleResult:
    """Run one cycle in a child process (:func:`child_main`) and wait for its result; when ``stop`` is set the
    child is terminated (a bundle it was writing stays an invisible temporary directory) and the cycle is
    cancelled. A fresh interpreter, not ``multiprocessing``: a spawned child would re-import the caller's
    main module, and a forked one would copy a multi-threaded process."""
    started = time.time()
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(config.threads))}
    payload = pickle.dumps((settings, config, os.getpid()))
    cmd = [sys.executable, "-m", "shopguide.recommend.continuous"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        while True:
            try:
                out, _ = proc.communicate(payload, timeout=poll_seconds)
                break
            except subprocess.TimeoutExpired:
                payload = None  # sent (communicate keeps writing it); only the first call may pass it
                if stop.is_set():
                    return CycleResult("cancelled", "the service is shutting down", started_at=started)
        if proc.returncode != 0 or not out:
            reason = f"the training process exited with code {proc.returncode} (its log is on stderr)"
            return CycleResult("failed", reason, started_at=started)
        return pickle.loads(out)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def is_memory_store(url: str) -> bool:
    """Whether ``url`` names a private in-memory SQLite database (which no other process can open)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.drivername.startswith("sqlite") and parsed.database in (None, "", ":memory:")


if __name__ == "__main__":
    from shopguide.recommend.continuous import child_main as main  # the module's real name: results unpickle

    sys.exit(main())
