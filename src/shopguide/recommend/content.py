"""Content-based recommendation: TF-IDF over title, category, brand and attributes (jieba for Chinese).

Each catalogue item becomes an L2-normalised TF-IDF vector; a shopper's profile is the weighted sum of
the vectors of their history; candidates are ranked by cosine. Works for brand-new items the moment
they are in the catalogue, which is why the fallback chain uses it for item cold start.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Item
from shopguide.recommend.base import Recommender, shared_traits
from shopguide.recommend.explain import Reason
from shopguide.recommend.similarity import binarize
from shopguide.text.tokenize import Tokenizer


class _ItemAnalyzer:
    """Turns an Item into tokens; picklable (the jieba segmenter is rebuilt after loading)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, item: Item | None) -> list[str]:
        if item is None:
            return []
        tokens: list[str] = []
        for text in (item.title, item.title_alt or "", item.description, " ".join(item.tags)):
            tokens.extend(self.tokenizer(text))
        for depth, name in enumerate(item.category):
            tokens.extend([f"cat{depth}={name.lower()}"] * 2)
        if item.brand:
            tokens.extend([f"brand={item.brand.lower()}"] * 2)
        for key, value in item.attributes.items():
            tokens.append(f"{key}={value.lower()}")
        return tokens


class ContentTfidf(Recommender):
    """Cosine between a shopper's TF-IDF profile and each item's TF-IDF vector."""

    source = "content"

    def __init__(self, *, min_df: int = 1, max_features: int | None = 200_000, binary: bool = True) -> None:
        self.min_df = min_df
        self.max_features = max_features
        self.binary = binary

    def _fit(self, dataset: Dataset) -> None:
        words = {m.brand for m in dataset.item_meta if m and m.brand}
        words |= {c for m in dataset.item_meta if m for c in m.category}
        self.vectorizer_ = TfidfVectorizer(
            analyzer=_ItemAnalyzer(Tokenizer(words)),
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        vectors = self.vectorizer_.fit_transform(dataset.item_meta)
        self.item_vectors_ = normalize(vectors.tocsr()).astype(np.float32)
        self.item_vectors_t_ = self.item_vectors_.T.tocsr()

    def transform_items(self, items: list[Item]) -> sp.csr_matrix:
        """TF-IDF vectors of items that are not (yet) in the fitted catalogue."""
        self._check_fitted()
        return normalize(self.vectorizer_.transform(items)).astype(np.float32)

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        h = binarize(history) if self.binary else history.astype(np.float32)
        profile = _normalize_rows(h @ self.item_vectors_)  # sklearn's normalize validates: too slow per request
        scores = (profile @ self.item_vectors_t_).toarray().astype(np.float32)
        return np.where(scores > 0, scores, -np.inf)

    def similar_scores(self, item: int) -> np.ndarray:
        scores = (self.item_vectors_[item] @ self.item_vectors_t_).toarray().ravel().astype(np.float32)
        return np.where(scores > 0, scores, -np.inf)

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        hist_items = history.indices
        if len(hist_items) == 0:
            return Reason("similar_taste")
        sims = (self.item_vectors_[hist_items] @ self.item_vectors_[item].T).toarray().ravel()
        best = int(hist_items[np.argmax(sims)])
        traits = shared_traits(self.dataset_, best, item) or ("similar description",)
        return Reason("similar_to", **self.dataset_.item_names(best), traits=traits)


def _normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """L2-normalise the rows of a CSR matrix by scaling its data (all-zero rows stay zero)."""
    matrix = matrix.tocsr()
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    norms = np.sqrt(np.bincount(rows, weights=matrix.data.astype(np.float64) ** 2, minlength=matrix.shape[0]))
    matrix.data = (matrix.data / np.maximum(norms[rows], 1e-12)).astype(np.float32)
    return matrix
