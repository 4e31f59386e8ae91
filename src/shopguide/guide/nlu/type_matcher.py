"""Product types by meaning: the catalog type closest to a word no lexicon entry knows.

Each catalog product type is embedded under every name it has (Chinese, English, synonyms: 跑步鞋, running
shoes, 跑鞋 ...) with the shipped multilingual sentence encoder; a word's similarity to a type is the best
cosine over its names. Two thresholds, measured on the demo catalog (``tests/guide/test_type_matcher.py``):
a near-synonym is the type itself when its best cosine is at least ``same`` (0.9) and beats the next type by
``margin`` (0.04): "唇釉" -> 口红 is 0.87, "大衣" -> 衬衫 0.90 but 卫衣 0.83, so neither is taken for the type. A
related word only makes a type an *alternative* to offer, labelled as such (``related``, 0.6: "茶具" -> 茶叶
0.78 / 马克杯 0.61, "camera bag" -> 手提包 0.70). Below that, nothing is claimed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np

log = logging.getLogger(__name__)


class TypeMatcher:
    """``nearest(word)`` -> [(product type, cosine)], best first, over the names of each type."""

    def __init__(
        self, names: Mapping[str, Iterable[str]], *, same: float = 0.9, related: float = 0.6, margin: float = 0.04
    ) -> None:
        self.same, self.related, self.margin = same, related, margin
        self._types: list[str] = []
        texts: list[str] = []
        for value, surfaces in names.items():
            for surface in dict.fromkeys([value, *surfaces]):
                if surface and surface.strip():
                    self._types.append(value)
                    texts.append(surface.strip().lower())
        self._owner = np.asarray(self._types, dtype=object)
        self._vectors: np.ndarray | None = None
        self._texts = texts

    def _matrix(self) -> np.ndarray | None:
        if self._vectors is None and self._texts:
            try:
                from shopguide.text.semantic import embed_sentences

                self._vectors = embed_sentences(self._texts)
            except Exception as exc:  # no encoder: nothing is matched by meaning
                log.warning("product types are not matched by meaning: %s", exc)
                self._texts = []
        return self._vectors

    def nearest(self, word: str, k: int = 3) -> list[tuple[str, float]]:
        """Up to ``k`` distinct types with their best cosine to ``word`` (no threshold applied)."""
        matrix = self._matrix()
        if matrix is None or not word.strip():
            return []
        from shopguide.text.semantic import embed_sentence

        sims = matrix @ embed_sentence(word.strip().lower())
        best: dict[str, float] = {}
        for row in np.argsort(-sims):
            value = self._types[int(row)]
            if value not in best:
                best[value] = float(sims[row])
                if len(best) >= k:
                    break
        return list(best.items())

    def same_type(self, word: str) -> str | None:
        """The type ``word`` names by meaning (a near-synonym), or None."""
        top = self.nearest(word, 2)
        if not top or top[0][1] < self.same or (len(top) > 1 and top[0][1] - top[1][1] < self.margin):
            return None
        return top[0][0]

    def alternatives(self, word: str, k: int = 3) -> list[str]:
        """Types related enough to offer instead of ``word`` (labelled as alternatives)."""
        return [t for t, sim in self.nearest(word, k) if sim >= self.related]
