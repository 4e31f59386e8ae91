"""Everything a worker holds between requests: settings, the store, the served model, admin jobs."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from shopguide.config import Settings
from shopguide.errors import ModelError
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.continuous import FileLock, training_lock
from shopguide.recommend.training import train_and_save
from shopguide.service.answer_cache import AnswerCache
from shopguide.service.models import ModelHolder, Served
from shopguide.service.warmup import warm_swap
from shopguide.store import Store, open_store

log = logging.getLogger(__name__)


def prepare_guide_model(settings: Settings) -> None:
    """Train the guide's intent model once into ``<home>/cache/nlu`` (workers then load it instead of each
    training their own); a failure is logged, and the chat guide trains it again when it is built."""
    try:
        from shopguide.guide.nlu.intent import load_default

        load_default(settings.home / "cache" / "nlu", settings.nlu_corpora)
    except Exception:
        log.exception("could not prepare the guide's intent model; the chat guide will train it when built")


@dataclass
class ServiceState:
    settings: Settings
    store: Store
    models: ModelHolder
    deleted: set[str] = field(default_factory=set)
    answers: AnswerCache = field(default_factory=lambda: AnswerCache(0, 0.0))
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: bumped whenever ``deleted`` changes, so that cached answers made before the change stop matching
    deleted_generation: int = 0
    _deleted_checked_at: float = 0.0
    _deleted_lock: threading.Lock = field(default_factory=threading.Lock)
    _train_lock: threading.Lock = field(default_factory=threading.Lock)
    _jobs_lock: threading.Lock = field(default_factory=threading.Lock)
    _jobs_done: threading.Condition = field(default_factory=threading.Condition)
    _job_locks: dict[str, FileLock] = field(default_factory=dict)

    @staticmethod
    def prepare_home(settings: Settings, store: Store) -> str | None:
        """Import the demo catalog into an empty store and train the start-up model when no version is
        active; the active version. ``shopguide serve`` runs this once before its workers start."""
        if settings.bootstrap_demo and store.count_events() == 0:
            from shopguide.data.demo import demo_data

            demo = demo_data(seed=settings.seed)
            store.import_batch(items=demo.items, users=demo.users, events=demo.events)
            log.info("imported the demo catalog", extra={"items": len(demo.items), "events": len(demo.events)})
        bundles = BundleStore(settings.model_dir)
        if bundles.active_version() is None:
            train_and_save(settings, settings.startup_model, store=store)
        prepare_guide_model(settings)
        return bundles.active_version()

    @classmethod
    def start(cls, settings: Settings) -> ServiceState:
        """Open the store (importing the demo catalog into an empty one), load or train the model."""
        store = open_store(settings.resolved_store_url)
        cls.prepare_home(settings, store)
        holder = ModelHolder(BundleStore(settings.model_dir), check_interval=settings.model_check_seconds)
        holder.load()
        deleted = store.deleted_item_ids()
        answers = AnswerCache(settings.answer_cache_size, settings.answer_cache_seconds)
        state = cls(settings=settings, store=store, models=holder, deleted=deleted, answers=answers)
        holder.prepare = state.prepare_version
        return state

    def prepare_version(self, incoming: Served) -> int:
        """Before ``incoming`` is swapped in: prepare the answers this worker served most recently."""
        return warm_swap(self, incoming)

    # ------------------------------------------------------------------ deleted items
    def mark_deleted(self, item_id: str) -> None:
        """This worker deleted an item: it is excluded from the very next answer."""
        with self._deleted_lock:
            self.deleted.add(item_id)  # in place: the chat guide's retriever holds this very set
            self.deleted_generation += 1

    def mark_restored(self, item_ids: set[str]) -> None:
        """Upserted items are live again."""
        with self._deleted_lock:
            if self.deleted & item_ids:
                self.deleted.difference_update(item_ids)
                self.deleted_generation += 1

    def deleted_sync_due(self) -> bool:
        """Whether :meth:`sync_deleted` would read the store now (so callers can skip a thread hop)."""
        return time.monotonic() - self._deleted_checked_at >= self.settings.model_check_seconds

    def sync_deleted(self) -> None:
        """Pick up deletions and restores made through other workers (one query, at most every
        ``model_check_seconds``; the worker that handled a DELETE knows at once)."""
        now = time.monotonic()
        if now - self._deleted_checked_at < self.settings.model_check_seconds:
            return
        if not self._deleted_lock.acquire(blocking=False):
            return
        try:
            self._deleted_checked_at = now
            current = self.store.deleted_item_ids()
            if current != self.deleted:
                self.deleted.intersection_update(current)
                self.deleted.update(current)
                self.deleted_generation += 1
        except Exception:  # the store is down: keep the set we have, the request decides what to do
            log.warning("could not read deleted items; keeping the current set", exc_info=True)
        finally:
            self._deleted_lock.release()

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ admin jobs
    def claim_job(self, model: str, **details: Any) -> str:
        """Register a training job (``jobs[job]``, status "queued") and take the home's training lock. One job
        at a time: while one of this worker is queued or running, or another worker of the home trains (a
        scheduled cycle, see service/trainer.py), ModelError (409) instead of queueing up threads that each
        hold a dataset in memory. :meth:`finish_job` releases it."""
        with self._jobs_lock:
            busy = [j for j, info in self.jobs.items() if info["status"] in ("queued", "running")]
            if busy:
                raise ModelError(f"training job {busy[0]} is still running; see GET /v1/admin/train/{busy[0]}")
            lock = training_lock(self.settings)
            if not lock.acquire():
                raise ModelError("another worker of this home is training a model; see GET /v1/admin/training")
            job = uuid.uuid4().hex[:12]
            self.jobs[job] = {"status": "queued", "model": model, **details}
            self._job_locks[job] = lock
        return job

    def finish_job(self, job: str, status: str, **fields: Any) -> None:
        """Record how a job ended and release the home's training lock."""
        with self._jobs_done:
            self.jobs[job].update(status=status, **fields)
            self._jobs_done.notify_all()
        lock = self._job_locks.pop(job, None)
        if lock is not None:
            lock.release()

    def wait_job(self, job: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait until ``job`` is done or failed (at most ``timeout`` seconds); its record as it is then."""
        with self._jobs_done:
            self._jobs_done.wait_for(lambda: self.jobs[job]["status"] in ("done", "failed"), timeout)
            return dict(self.jobs[job])

    def start_training(self, model: str, params: dict[str, Any]) -> str:
        """Train in a background thread; the new version becomes active and workers swap to it. One job at a
        time (:meth:`claim_job`)."""
        job = self.claim_job(model)

        def run() -> None:
            with self._train_lock:  # one training at a time per worker
                self.jobs[job]["status"] = "running"
                try:
                    version, _ = train_and_save(self.settings, model, params, store=self.store)
                    self.models.load(version)
                    self.finish_job(job, "done", version=version)
                except Exception as exc:  # reported through the job status
                    log.exception("training failed", extra={"job": job})
                    self.finish_job(job, "failed", error=str(exc))

        threading.Thread(target=run, name=f"train-{job}", daemon=True).start()
        return job
