"""Train a model on everything in the store and save it as a new bundle version (CLI and service share this)."""

from __future__ import annotations

import logging
from typing import Any

from shopguide.config import Settings
from shopguide.data.dataset import Dataset
from shopguide.errors import DataError
from shopguide.recommend.base import Recommender
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.registry import make_model
from shopguide.store import Store, open_store

log = logging.getLogger(__name__)


def store_dataset(settings: Settings, store: Store | None = None) -> Dataset:
    """Everything in the store as a Dataset (``store`` or the one ``settings`` names); DataError when empty."""
    own = store is None
    st = open_store(settings.resolved_store_url) if own else store
    try:
        data = st.load_dataset(event_weights=settings.event_weights)
    finally:
        if own:
            st.close()
    if len(data) == 0:
        raise DataError("the store holds no events to train on; import data first (shopguide import)")
    return data


def train_and_save(
    settings: Settings,
    model_name: str,
    params: dict[str, Any] | None = None,
    *,
    activate: bool = True,
    store: Store | None = None,
) -> tuple[str, Recommender]:
    """Fit ``model_name`` on the store's data; save it under ``settings.model_dir``; return (version, model)."""
    data = store_dataset(settings, store)
    params = dict(params or {})
    if model_name == "fallback":
        params.setdefault("steps", list(settings.fallback_chain))
    model = make_model(model_name, **params).fit(data)
    version = BundleStore(settings.model_dir).save(
        model,
        activate=activate,
        data={"store": settings.resolved_store_url, "users": data.n_users, "items": data.n_items, "events": len(data)},
    )
    log.info("trained", extra={"model": model_name, "version": version, "seconds": round(model.fit_seconds_, 2)})
    return version, model
