"""Bilingual tokenisation: jieba words plus character bigrams for Chinese, lower-cased words for English.

Text is NFKC-normalised first, which folds full-width letters, digits and punctuation into half-width.
Each ``Tokenizer`` owns its own jieba dictionary, so catalogue words (brands, product types) added to
one tokenizer never leak into another.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:[.'\-][a-z0-9]+)*")
_SPLIT = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def normalize(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, collapsed whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


class Tokenizer:
    """Tokens for retrieval and TF-IDF: jieba words, CJK character bigrams, English words."""

    def __init__(self, user_words: Iterable[str] = (), *, bigrams: bool = True) -> None:
        self.bigrams = bigrams
        self._user_words = sorted({w.strip() for w in user_words if w and w.strip()})
        self._jieba = None

    def _segmenter(self):
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            seg = jieba.Tokenizer()
            seg.initialize()
            for word in self._user_words:
                seg.add_word(normalize(word), freq=2000)
            self._jieba = seg
        return self._jieba

    def add_words(self, words: Iterable[str]) -> None:
        """Teach the segmenter catalogue words (brands, product types) so they stay whole."""
        new = [w.strip() for w in words if w and w.strip()]
        self._user_words = sorted(set(self._user_words) | set(new))
        if self._jieba is not None:
            for word in new:
                self._jieba.add_word(normalize(word), freq=2000)

    def __call__(self, text: str) -> list[str]:
        return self.tokenize(text)

    def tokenize(self, text: str) -> list[str]:
        text = normalize(text or "")
        tokens: list[str] = []
        for part in _SPLIT.split(text):
            if not part:
                continue
            if _CJK.fullmatch(part):
                tokens.extend(w for w in self._segmenter().lcut(part) if w.strip())
                if self.bigrams and len(part) > 1:
                    tokens.extend(part[i : i + 2] for i in range(len(part) - 1))
            else:
                tokens.extend(_WORD.findall(part))
        return tokens

    def __getstate__(self) -> dict:
        return {"bigrams": self.bigrams, "_user_words": self._user_words, "_jieba": None}
