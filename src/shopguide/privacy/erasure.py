"""Right of access and right to erasure: the one place that knows everything held about a shopper.

The HTTP routes (``GET /v1/users/{id}/export``, ``DELETE /v1/users/{id}``) and the CLI (``shopguide users
export`` / ``erase``) call these functions, so both remove the same things.

What an erasure removes, and when:

- **The store** (one write transaction, :meth:`~shopguide.store.base.Store.erase_user`): the user row, their
  events, the chat sessions whose state names them and the hand-off tickets naming them or on those sessions.
- **The analytics copies** under ``<home>/analytics``: the store's Parquet copy (it holds the shopper's events,
  pseudonymous) and every cached aggregate are deleted at once; the next analytics computation re-exports the
  store without the shopper. The erasure also raises the store's data generation, which is part of the
  analytics fingerprint, so every worker's in-memory working table stops matching (workers re-check the
  fingerprint at most every few seconds; the erasing worker drops its table at once through ``forget``).
- **Per-worker caches** (``forget``: callables given the user id, each returning how many entries it dropped):
  the service passes its answer cache and its analytics table. Other workers' answer caches need no message:
  their keys hold the shopper's latest actions as read from the store on each request, which are empty after
  the erasure, so a cached answer no longer matches; a shopper who had no actions had an answer computed from
  the model alone, which a fresh computation repeats until the next training, and entries expire after
  ``answer_cache_seconds`` anyway.
- **Trained models** keep the shopper (vocabulary, factors, neighbour lists) until the next training: a model
  is trained from :meth:`~shopguide.store.base.Store.load_dataset`, which no longer holds them, so the next
  version neither knows the shopper nor carries their events' collaborative signal
  (``tests/privacy/test_erasure.py`` shows it). Older bundle versions kept for rollback still hold them: retrain
  after erasures and prune old versions on the schedule your policy requires.

Log lines name the counts, never the shopper's id (a log that kept it would outlive the erasure).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopguide.analytics.cache import AggregateCache
from shopguide.analytics.export import remove_export
from shopguide.privacy.pseudonym import pseudonymize
from shopguide.store.base import ErasureResult, Store

log = logging.getLogger(__name__)

#: A per-worker cache's way of forgetting a shopper: called with the user id, returns entries dropped.
Forget = Callable[[str], int]


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure removed: the store's rows, cached answers and analytics files."""

    user_id: str
    removed: ErasureResult
    cached_answers: int = 0
    analytics_files: int = 0

    def as_dict(self) -> dict[str, Any]:
        """``user_id``, ``users``, ``events``, ``sessions``, ``tickets``, ``cached_answers``, ``analytics_files``."""
        r = self.removed
        return {
            "user_id": self.user_id, "users": r.users, "events": r.events, "sessions": r.sessions,
            "tickets": r.tickets, "cached_answers": self.cached_answers, "analytics_files": self.analytics_files,
        }  # fmt: skip


def export_shopper(store: Store, user_id: str, *, secret: bytes | None = None) -> dict[str, Any]:
    """Everything held about the shopper (:meth:`Store.export_user`), plus, given the server secret, the
    ``pseudonym`` that stands for them in analytics exports and reports. NotFoundError when nothing is held."""
    data = store.export_user(user_id)
    if secret is not None:
        data["pseudonym"] = pseudonymize(user_id, secret)
    return data


def clear_analytics(store: Store, analytics_dir: Path) -> int:
    """Delete the store's Parquet copy and every cached aggregate under ``analytics_dir``; files removed."""
    return remove_export(store, analytics_dir) + AggregateCache(analytics_dir / "cache").clear()


def erase_shopper(
    store: Store, user_id: str, *, analytics_dir: Path | None = None, forget: Iterable[Forget] = ()
) -> ErasureReport:
    """Erase the shopper from the store (NotFoundError when nothing is held), then from the analytics copies
    under ``analytics_dir`` and from each ``forget`` cache."""
    removed = store.erase_user(user_id)
    dropped = sum(f(user_id) for f in forget)
    files = clear_analytics(store, analytics_dir) if analytics_dir is not None else 0
    report = ErasureReport(user_id, removed, cached_answers=dropped, analytics_files=files)
    counts = {k: v for k, v in report.as_dict().items() if k != "user_id"}
    log.info("erased a shopper", extra=counts)
    return report
