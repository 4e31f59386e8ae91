"""Word boundaries for slot matching: a jieba segmentation that knows the catalog's and the gazetteer's words.

Catalog words are only slots where the message has them as words: 茶具 is not 茶 + 具, 干皮 is not 皮, 他妈的
is not 妈, 面包 is not 包. Chinese has no spaces, so the boundaries come from jieba with every lexicon word
added to its dictionary (so 衬衫, 手机支架 and 空气炸锅 stay whole); English words are already delimited.

``WordSegmenter(words).spans("茶具有吗")`` -> ``[(0, 2), (2, 3), (3, 4)]`` (character offsets into the text).
A segmenter is built per lexicon (its user words differ per catalog) and loads jieba's dictionary lazily.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class WordSegmenter:
    """jieba with extra user words; ``spans(text)`` gives the word spans of the CJK runs of ``text``."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._words = sorted({w for w in user_words if w and _CJK_RUN.search(w)})
        self._jieba = None
        self._lock = threading.Lock()

    def _segmenter(self):
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    seg = jieba.Tokenizer()
                    seg.initialize()
                    for word in self._words:
                        seg.add_word(word, freq=max(2000, 500 * len(word)))
                    self._jieba = seg
        return self._jieba

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every word inside the CJK runs of ``text`` (other characters are not covered)."""
        out: list[tuple[int, int]] = []
        for run in _CJK_RUN.finditer(text):
            for _, start, end in self._segmenter().tokenize(run.group(0)):
                out.append((run.start() + start, run.start() + end))
        return out

    def __getstate__(self) -> dict:
        return {"_words": self._words, "_jieba": None}

    def __setstate__(self, state: dict) -> None:
        self._words, self._jieba, self._lock = state["_words"], None, threading.Lock()
