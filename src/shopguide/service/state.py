"""Everything a worker holds between requests: settings, the store, the served model, admin jobs."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from shopguide.config import Settings
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.training import train_and_save
from shopguide.service.models import ModelHolder
from shopguide.store import Store, open_store

log = logging.getLogger(__name__)


@dataclass
class ServiceState:
    settings: Settings
    store: Store
    models: ModelHolder
    deleted: set[str] = field(default_factory=set)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _train_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, settings: Settings) -> ServiceState:
        """Open the store (importing the demo catalog into an empty one), load or train the model."""
        store = open_store(settings.resolved_store_url)
        if settings.bootstrap_demo and store.count_events() == 0:
            from shopguide.data.demo import demo_data

            demo = demo_data(seed=settings.seed)
            store.import_batch(items=demo.items, users=demo.users, events=demo.events)
            log.info("imported the demo catalog", extra={"items": len(demo.items), "events": len(demo.events)})
        bundles = BundleStore(settings.model_dir)
        if bundles.active_version() is None:
            train_and_save(settings, settings.startup_model, store=store)
        holder = ModelHolder(bundles, check_interval=settings.model_check_seconds)
        holder.load()
        live = {it.id for it in store.iter_items()}
        deleted = {it.id for it in store.iter_items(include_deleted=True)} - live
        return cls(settings=settings, store=store, models=holder, deleted=deleted)

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ admin jobs
    def start_training(self, model: str, params: dict[str, Any]) -> str:
        """Train in a background thread; the new version becomes active and workers swap to it."""
        job = uuid.uuid4().hex[:12]
        self.jobs[job] = {"status": "queued", "model": model}

        def run() -> None:
            with self._train_lock:  # one training at a time per worker
                self.jobs[job]["status"] = "running"
                try:
                    version, _ = train_and_save(self.settings, model, params, store=self.store)
                    self.models.load(version)
                    self.jobs[job].update(status="done", version=version)
                except Exception as exc:  # reported through the job status
                    log.exception("training failed", extra={"job": job})
                    self.jobs[job].update(status="failed", error=str(exc))

        threading.Thread(target=run, name=f"train-{job}", daemon=True).start()
        return job
