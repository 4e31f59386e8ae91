"""Lexical catalog search in Chinese and English: BM25 over bilingual item text.

Each item becomes weighted tokens (:data:`FIELD_WEIGHTS`) from its title, second-language title, brand,
category path, attribute values and tags; attribute values (and category or brand words, when the map
has them) are also indexed under their English names, so "white shirt" finds 白色 衬衫. Tokens come from
:class:`~shopguide.text.tokenize.Tokenizer` (NFKC folds full-width input; jieba words plus character
bigrams for Chinese; English words with plurals folded). A query word that is a colour shorthand (白 in
白衬衫) also matches the colour word (白色).

BM25 is written here rather than taken from a package: a catalog is small (hundreds to tens of thousands
of items), so one sparse matrix of precomputed per-term weights answers a query with a column slice and
a sum — no search server, no extra dependency (``rank_bm25`` is not installed, and scores every
document in Python).

Hybrid search: built with ``semantic=True`` the index also holds a
:class:`~shopguide.text.semantic.SemanticIndex` (multilingual sentence embeddings in an ANN index), and
:meth:`SearchIndex.search` blends, per query, the BM25 score scaled to [0, 1] (divided by the query's best
BM25 score) plus ``hybrid_weight`` x the cosine similarity, over the union of the BM25 hits and the top
semantic hits. A paraphrase with no indexed token ("something to keep me dry in the rain") still finds
items through the semantic part; those hits have no matched terms.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from shopguide.data.schema import Item
from shopguide.errors import DataError
from shopguide.text.tokenize import Tokenizer, has_cjk, normalize

if TYPE_CHECKING:
    from shopguide.text.semantic import Encoder, SemanticIndex

log = logging.getLogger(__name__)

#: How much a token from each field counts (BM25F-style weighted term frequency).
FIELD_WEIGHTS: dict[str, float] = {
    "title": 2.0,
    "title_alt": 2.0,
    "brand": 1.5,
    "category": 1.5,
    "attributes": 1.0,
    "tags": 1.0,
}


@dataclass(frozen=True)
class SearchHit:
    """One matching item: its raw id, score and the query terms it matched.

    ``score`` is the BM25 score, or in hybrid search the blend (see the module docstring); ``semantic`` is
    the cosine similarity to the query in hybrid search (0.0 otherwise).
    """

    item_id: str
    score: float
    matched_terms: tuple[str, ...]
    semantic: float = 0.0


def fold_plural(word: str) -> str:
    """Light English plural folding (boots -> boot, dresses -> dress, men's -> men); other words unchanged."""
    if not word.isascii() or len(word) <= 3:
        return word
    word = word.removesuffix("'s")
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class SearchIndex:
    """BM25 over a catalog snapshot; build once, query many times (thread-safe reads)."""

    def __init__(
        self,
        items: Sequence[Item],
        *,
        attribute_names: Mapping[str, str] | None = None,
        tokenizer: Tokenizer | None = None,
        k1: float = 1.2,
        b: float = 0.75,
        semantic: SemanticIndex | None = None,
    ) -> None:
        names = {normalize(k): v for k, v in (attribute_names or {}).items()}
        words = {w for it in items for w in (it.brand, *it.category, *it.attributes.values()) if w}
        self.tokenizer = tokenizer or Tokenizer()
        self.tokenizer.add_words(w for w in words if has_cjk(w))
        self.ids = [it.id for it in items]
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for d, item in enumerate(items):
            tf: dict[int, float] = defaultdict(float)
            for field, text in _fields(item, names):
                weight = FIELD_WEIGHTS[field]
                for tok in self.analyze(text):
                    tf[vocab.setdefault(tok, len(vocab))] += weight
            rows += [d] * len(tf)
            cols += list(tf)
            vals += list(tf.values())
        n, m = len(items), len(vocab)
        tf_m = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (rows, cols)), shape=(n, m))
        dl = np.asarray(tf_m.sum(axis=1)).ravel()
        norm = k1 * (1 - b + b * dl / max(dl.mean() if n else 1.0, 1e-9))
        df = np.bincount(tf_m.indices, minlength=m)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        data = tf_m.data * (k1 + 1) / (tf_m.data + np.repeat(norm, np.diff(tf_m.indptr)))
        weights = sp.csr_matrix((data * idf[tf_m.indices], tf_m.indices, tf_m.indptr), shape=(n, m))
        self._weights = weights.tocsc().astype(np.float32)
        self._vocab = vocab
        self._price = np.array([np.nan if it.price is None else it.price for it in items], dtype=np.float64)
        self._in_stock = np.array([it.in_stock for it in items], dtype=bool)
        by_cat: dict[str, list[int]] = defaultdict(list)
        for d, item in enumerate(items):
            for name in {normalize(x) for c in item.category for x in (c, names.get(normalize(c), ""))} - {""}:
                by_cat[name].append(d)
        self._by_category = {c: np.asarray(v, dtype=np.int64) for c, v in by_cat.items()}
        if semantic is not None and semantic.ids != self.ids:
            raise DataError("the semantic index was built over other items than the search index")
        self.semantic = semantic
        self._pos = {item_id: d for d, item_id in enumerate(self.ids)}
        log.debug("search index built: %d items, %d terms", n, m)

    @classmethod
    def build(
        cls,
        items: Sequence[Item],
        *,
        attribute_names: Mapping[str, str] | None = None,
        tokenizer: Tokenizer | None = None,
        semantic: bool | SemanticIndex = False,
        encoder: Encoder | None = None,
        ann: bool = True,
    ) -> SearchIndex:
        """Index ``items``; ``attribute_names`` maps Chinese attribute values (and words) to English.

        A new Tokenizer loads jieba's dictionary (~0.6 s, most of a cold build); pass a warm ``tokenizer``
        to rebuild fast. It learns this catalog's brands, categories and attribute values.

        ``semantic=True`` also embeds the items (:class:`~shopguide.text.semantic.SemanticIndex`, with
        ``encoder`` and ``ann``; the shared encoder by default) for hybrid search; a prebuilt
        SemanticIndex over the same items may be passed instead.
        """
        sem: SemanticIndex | None = None
        if semantic is True:
            from shopguide.text.semantic import SemanticIndex

            sem = SemanticIndex.build(items, encoder=encoder, ann=ann)
        elif semantic is not False:
            sem = semantic
        return cls(items, attribute_names=attribute_names, tokenizer=tokenizer, semantic=sem)

    @property
    def hybrid(self) -> bool:
        """Whether the index has the semantic part (so :meth:`search` blends BM25 with embeddings)."""
        return self.semantic is not None

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every indexed token (catalog words: titles, brands, categories, attribute values, tags)."""
        return frozenset(self._vocab)

    def __len__(self) -> int:
        return len(self.ids)

    def analyze(self, text: str) -> list[str]:
        """The tokens of ``text`` as the index sees them."""
        return [fold_plural(t) for t in self.tokenizer(text)]

    def query_terms(self, query: str) -> list[str]:
        """Distinct indexed terms of a query, colour shorthands expanded (白 -> 白色)."""
        terms: list[str] = []
        for tok in self.analyze(query):
            for t in (tok, tok[0] + "色" if has_cjk(tok) and tok not in self._vocab else ""):
                if t in self._vocab and t not in terms:
                    terms.append(t)
        return terms

    def search(
        self,
        query: str,
        n: int = 20,
        *,
        category: str | None = None,
        max_price: float | None = None,
        min_price: float | None = None,
        in_stock_only: bool = True,
        allowed: Collection[str] | None = None,
        hybrid_weight: float = 0.5,
    ) -> list[SearchHit]:
        """Best ``n`` items for ``query`` (score > 0), optionally within a category and a price range.

        ``category`` names any level of the path, in Chinese or (when the names map has it) English.
        ``allowed`` limits the results to these item ids. With the semantic part (``hybrid``) and
        ``hybrid_weight > 0`` the scores blend BM25 and embeddings (see the module docstring); with
        ``hybrid_weight=0`` the search is BM25 only. An empty query raises DataError(field="q").
        """
        if not query or not query.strip():
            raise DataError("the search query is empty", field="q")
        if n < 1:
            raise DataError(f"n must be at least 1, got {n}", field="n")
        terms = self.query_terms(query)
        mask = self._filter(category, min_price, max_price, in_stock_only)
        if allowed is not None:
            keep = np.zeros(len(self.ids), dtype=bool)
            keep[[self._pos[i] for i in allowed if i in self._pos]] = True
            mask = keep if mask is None else mask & keep
        if self.semantic is not None and hybrid_weight > 0:
            return self._hybrid(query, terms, n, mask, hybrid_weight)
        if not terms:
            return []
        cols = self._weights[:, [self._vocab[t] for t in terms]]
        scores = np.asarray(cols.sum(axis=1)).ravel()
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        hits = np.flatnonzero(scores > 0)
        hits = hits[np.lexsort((hits, -scores[hits]))][:n]
        matched = cols.tocsr()[hits]
        return [
            SearchHit(
                self.ids[d],
                float(scores[d]),
                tuple(terms[j] for j in sorted(matched.indices[matched.indptr[k] : matched.indptr[k + 1]])),
            )
            for k, d in enumerate(hits)
        ]

    def _hybrid(self, query: str, terms: list[str], n: int, mask: np.ndarray | None, weight: float) -> list[SearchHit]:
        """BM25 / best BM25 + weight x cosine over the BM25 hits and the top-n semantic hits."""
        assert self.semantic is not None
        if terms:
            cols = self._weights[:, [self._vocab[t] for t in terms]]
            bm25 = np.asarray(cols.sum(axis=1)).ravel()
            if mask is not None:
                bm25 = np.where(mask, bm25, 0.0)
            lexical = np.flatnonzero(bm25 > 0)
        else:
            cols, bm25, lexical = None, np.zeros(len(self.ids)), np.zeros(0, dtype=np.int64)
        sem_pos, _ = self.semantic.search_positions(query, n, allowed=mask)
        cand = np.union1d(lexical, sem_pos).astype(np.int64)
        if not len(cand):
            return []
        best = bm25[lexical].max() if len(lexical) else 1.0
        cosine = self.semantic.cosine(query, cand)
        score = bm25[cand] / best + weight * cosine
        order = np.lexsort((cand, -score))
        order = order[score[order] > 0][:n]
        top = cand[order]
        matched = cols.tocsr()[top] if cols is not None else None
        hits = []
        for k, (d, j) in enumerate(zip(top.tolist(), order.tolist(), strict=True)):
            found = () if matched is None else matched.indices[matched.indptr[k] : matched.indptr[k + 1]]
            hits.append(
                SearchHit(self.ids[d], float(score[j]), tuple(terms[t] for t in sorted(found)), float(cosine[j]))
            )
        return hits

    def _filter(
        self, category: str | None, min_price: float | None, max_price: float | None, in_stock_only: bool
    ) -> np.ndarray | None:
        if category is None and min_price is None and max_price is None and not in_stock_only:
            return None
        mask = self._in_stock.copy() if in_stock_only else np.ones(len(self.ids), dtype=bool)
        if category is not None:
            in_cat = np.zeros(len(self.ids), dtype=bool)
            in_cat[self._by_category.get(normalize(category), np.zeros(0, dtype=np.int64))] = True
            mask &= in_cat
        with np.errstate(invalid="ignore"):
            if min_price is not None:
                mask &= self._price >= min_price
            if max_price is not None:
                mask &= self._price <= max_price
        return mask


def _fields(item: Item, names: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """(field, text) pairs of an item; Chinese words also under their English names."""

    def both(word: str) -> str:
        return f"{word} {names.get(normalize(word), '')}"

    yield "title", item.title
    if item.title_alt:
        yield "title_alt", item.title_alt
    if item.brand:
        yield "brand", both(item.brand)
    for c in item.category:
        yield "category", both(c)
    for value in item.attributes.values():
        yield "attributes", both(value)
    yield "tags", " ".join(item.tags)
