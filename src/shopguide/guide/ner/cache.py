"""Where the taggers' training data and cached models live, and a train-once-then-load cache for them.

A cached model sits in a directory named after the training file's content and the tagger's parameters, so
a changed data set or setting trains afresh instead of loading a stale model. Writes go to a temporary
sibling directory that is renamed into place: concurrent workers never read a half-written model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from shopguide.errors import ShopguideError

log = logging.getLogger(__name__)

DATASET = "ecommerce-ner-zh"


class Saveable(Protocol):
    def save(self, path: str | Path) -> Path: ...


T = TypeVar("T", bound=Saveable)


def default_data_dir() -> Path:
    """``$SHOPGUIDE_SHARED_DATA/ecommerce-ner-zh``, else ``../shared/data/ecommerce-ner-zh`` beside the checkout."""
    shared = os.environ.get("SHOPGUIDE_SHARED_DATA")
    root = Path(shared) if shared else Path(__file__).resolve().parents[5] / "shared" / "data"
    return root / DATASET


def default_cache_dir() -> Path:
    """``$SHOPGUIDE_HOME/cache/ner`` when set, else ``$XDG_CACHE_HOME`` (or ``~/.cache``) ``/shopguide/ner``."""
    home = os.environ.get("SHOPGUIDE_HOME")
    if home:
        return Path(home) / "cache" / "ner"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shopguide" / "ner"


def cache_key(train_file: Path, *parts: Any) -> str:
    """16 hex digits of the training file's bytes and the JSON of ``parts`` (versions, parameters)."""
    key = hashlib.sha256(train_file.read_bytes())
    key.update(json.dumps(list(parts), sort_keys=True, default=str).encode())
    return key.hexdigest()[:16]


def load_or_train(target: Path, load: Callable[[Path], T], train: Callable[[], T] | None) -> T | None:
    """The model cached at ``target``; else ``train()``'s, cached there; ``None`` when absent and ``train`` is None."""
    loaded = load_cached(target, load)
    if loaded is not None or train is None:
        return loaded
    model = train()
    save_atomically(model, target, load)
    return model


def load_cached(target: Path, load: Callable[[Path], T]) -> T | None:
    if not target.is_dir():
        return None
    try:
        return load(target)
    except ShopguideError as exc:
        log.warning("ignoring the cached tagger at %s: %s", target, exc)
        return None


def save_atomically(model: Saveable, target: Path, load: Callable[[Path], Any]) -> None:
    """Write to a sibling temporary directory, then rename: readers never see a half-written model."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
        model.save(tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process cached it first (or a stale copy is in the way)
            shutil.rmtree(tmp, ignore_errors=True)
            if load_cached(target, load) is None:
                shutil.rmtree(target, ignore_errors=True)
                model.save(target)
    except OSError as exc:
        log.warning("could not cache the tagger at %s: %s", target, exc)
