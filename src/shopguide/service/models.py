"""The served model: loaded once per worker, hot-swapped when the ACTIVE pointer moves.

Workers check the pointer (one small file read) at most every ``check_interval`` seconds; a new
version is loaded off the request path and swapped in with one reference assignment, so requests
in flight keep the model they started with and no request fails during a swap.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from shopguide.data.dataset import Dataset
from shopguide.recommend.base import Recommender
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.context import ContextIndex
from shopguide.recommend.pairing import PairingIndex
from shopguide.text.search import SearchIndex
from shopguide.text.tokenize import Tokenizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """A loaded model, its version, and what is derived from its catalog when it is loaded: the static
    last-resort list, the 搭配 pairing index, the search index and the context index."""

    model: Recommender
    version: str
    static_items: tuple[str, ...]
    pairing: PairingIndex | None = None
    search: SearchIndex | None = None
    context: ContextIndex | None = None
    #: what the derived parts above were built from (see :func:`data_fingerprint`)
    data_fingerprint: str = ""


def data_fingerprint(data: Dataset) -> str:
    """A digest of a model's training data: its interactions, ids and catalog (about 44 ms on Amazon Beauty).

    The static list, the pairing, search and context indexes are functions of exactly this, so a version
    trained on the same data (a rollback, another model type on the same snapshot) reuses the served
    version's instead of rebuilding them (3 s of CPU per worker on Amazon Beauty)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (data.user_idx, data.item_idx, data.event_type, data.value, data.ts):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("\x1f".join(data.items.ids()).encode())
    digest.update("\x1f".join(data.users.ids()).encode())
    for item in data.item_meta:
        digest.update(item.model_dump_json().encode() if item is not None else b"-")
    return digest.hexdigest()


def _optional(build, what: str):
    """Build an optional index; a failure is logged and the feature answers 'unavailable' instead."""
    try:
        return build()
    except Exception:
        log.exception("could not build the %s index", what)
        return None


def search_index(model: Recommender, tokenizer: Tokenizer | None = None, previous: SearchIndex | None = None):
    """Hybrid catalog search (BM25 + multilingual embeddings) over the model's items, with English names of
    the demo vocabulary for bilingual queries.

    Reuses the previous index's tokenizer (a fresh one loads jieba's dictionary, ~0.6 s) and, when the
    catalog text is unchanged, its item embeddings (embedding a catalog costs about 2 ms per item).
    """
    from shopguide.data.demo import ATTRIBUTE_VALUES, BRAND_NAMES, CATEGORY_NAMES
    from shopguide.text.semantic import SemanticIndex, item_text

    items = [m for m in model.dataset_.item_meta if m is not None]
    names = {**ATTRIBUTE_VALUES, **CATEGORY_NAMES, **BRAND_NAMES}
    fingerprint = hashlib.blake2b("\n".join(item_text(it) for it in items).encode(), digest_size=16).hexdigest()
    old = previous.semantic if previous is not None else None
    if old is not None and getattr(previous, "catalog_fingerprint", None) == fingerprint:
        semantic: bool | SemanticIndex = old
    else:
        semantic = True
    index = SearchIndex.build(items, attribute_names=names, tokenizer=tokenizer, semantic=semantic)
    index.catalog_fingerprint = fingerprint
    return index


def static_list(model: Recommender, size: int = 100) -> tuple[str, ...]:
    """The most popular in-stock items: the answer of last resort when every model stage fails."""
    data = model.dataset_
    pop = np.where(data.unavailable_items, -np.inf, data.item_popularity.astype(np.float64))
    order = np.argsort(-pop, kind="stable")[:size]
    return tuple(data.items.id(int(i)) for i in order if np.isfinite(pop[i]))


class ModelHolder:
    """Holds the active model of a bundle store and follows its ACTIVE pointer."""

    def __init__(self, bundles: BundleStore, *, check_interval: float = 2.0) -> None:
        self.bundles = bundles
        self.check_interval = check_interval
        #: called with a loaded version just before it is swapped in (the service prepares answers there)
        self.prepare: Callable[[Served], object] | None = None
        self._served: Served | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()  # one load at a time: the last one asked for is served last

    def _previous_search(self) -> SearchIndex | None:
        return self._served.search if self._served else None

    def _tokenizer(self) -> Tokenizer | None:
        """The warm tokenizer of the served search index, reused by the next one."""
        current = self._served.search if self._served else None
        return current.tokenizer if current is not None else None

    @property
    def served(self) -> Served | None:
        return self._served

    def load(self, version: str | None = None) -> Served:
        """Load ``version`` (default: active), let ``prepare`` see it, then make it the served model."""
        with self._load_lock:
            model = self.bundles.load(version)
            version = version or self.bundles.active_version() or "unknown"
            data = model.dataset_
            fingerprint = data_fingerprint(data)
            previous = self._served
            if previous is not None and previous.data_fingerprint == fingerprint:  # same data: same indexes
                served = replace(previous, model=model, version=version)
            else:
                served = Served(
                    model=model,
                    version=version,
                    static_items=static_list(model),
                    pairing=_optional(lambda: PairingIndex.build(data), "pairing"),
                    search=_optional(lambda: search_index(model, self._tokenizer(), self._previous_search()), "search"),
                    context=_optional(lambda: ContextIndex(data), "context"),
                    data_fingerprint=fingerprint,
                )
            if self.prepare is not None:
                try:
                    self.prepare(served)
                except Exception:  # preparing is an optimisation: swap the version in cold
                    log.exception("preparing the new version failed", extra={"version": version})
            self._served = served
            gc.freeze()  # the new version is long-lived: keep it out of the collector's full passes (app.py)
        log.info("model loaded", extra={"version": version, "model": model.source})
        return served

    def refresh(self, *, wait: bool = False) -> bool:
        """Look for a new active version (cheap: one small file read, at most every ``check_interval``).

        A new version is loaded in a background thread while the current one keeps serving; ``wait``
        loads it in the caller instead (tests, admin). Returns True when a load was started or done.
        """
        now = time.monotonic()
        if now - self._checked_at < self.check_interval:
            return False
        if not self._lock.acquire(blocking=False):
            return False  # another thread is already checking / loading
        self._checked_at = now
        try:
            active = self.bundles.active_version()
            current = self._served.version if self._served else None
        except Exception:
            self._lock.release()
            raise
        if active is None or active == current:
            self._lock.release()
            return False

        def load_and_release() -> None:
            try:
                if self.bundles.active_version() == active:  # still wanted after another load finished
                    self.load(active)
            except Exception:  # keep serving the current model; try again at the next check
                log.exception("loading the new model failed", extra={"version": active})
            finally:
                self._lock.release()

        if wait:
            load_and_release()
        else:
            threading.Thread(target=load_and_release, name=f"load-{active}", daemon=True).start()
        return True
