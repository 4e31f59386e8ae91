"""The neural tagger's inputs: per character a row of vocabulary ids and a row of gazetteer flags.

Id columns (:data:`ID_COLUMNS`): the character, the bigrams it ends and starts, its jieba word, its place in
that word with the word's length (B/M/E/S x 1..5), the word's jieba part of speech and the character class.
Id 0 is padding and id 1 "unknown"; characters, bigrams and words seen fewer than ``min_*`` times (2) in
training are unknown from the start, so the network meets unknown ids in training as it will on new text.

Dense columns: for every entity type, whether the character begins / continues / ends a gazetteer match or is
a one-character match, and the length (1..6+) of the longest match covering it. The features are pure numpy
and need no torch, so the serving path shares them with training.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopguide.guide.ner.crf import char_class
from shopguide.guide.ner.data import ENTITY_TYPES
from shopguide.guide.ner.lexicon import Gazetteer
from shopguide.guide.ner.tagger import _segmenter, _word_class

PAD, UNK = 0, 1
ID_COLUMNS: tuple[str, ...] = ("char", "bigram_left", "bigram_right", "word", "place", "pos", "class")
#: The vocabulary each id column looks up (both bigram columns share one table).
TABLE_OF: dict[str, str] = {
    "char": "char",
    "bigram_left": "bigram",
    "bigram_right": "bigram",
    "word": "word",
    "place": "place",
    "pos": "pos",
    "class": "class",
}
_GAZ_FLAGS = ("B", "I", "E", "S")
_GAZ_LENGTHS = 6
_BOUNDARY = "\x00"


@dataclass(frozen=True)
class Encoded:
    """One sentence: ``ids`` ``(n, len(ID_COLUMNS))`` int64 and ``dense`` ``(n, dense_dim)`` float32."""

    ids: np.ndarray
    dense: np.ndarray


def words_of(chars: Sequence[str]) -> list[tuple[str, int, int]]:
    """jieba's segmentation of a normalised sentence: ``(word, start, end)`` covering every character."""
    seg, _ = _segmenter()
    return list(seg.tokenize("".join(chars)))


def _place(i: int, n: int) -> str:
    return "S" if n == 1 else ("B" if i == 0 else ("E" if i == n - 1 else "M"))


class Vocab:
    """Strings to ids, 0 pad and 1 unknown."""

    def __init__(self, items: Iterable[str]) -> None:
        self.items = ["<pad>", "<unk>", *items]
        self.index = {s: k for k, s in enumerate(self.items)}

    def __len__(self) -> int:
        return len(self.items)

    def __call__(self, item: str) -> int:
        return self.index.get(item, UNK)

    @classmethod
    def from_counts(cls, counts: Counter[str], min_count: int) -> Vocab:
        return cls(sorted(s for s, n in counts.items() if n >= min_count))


class FeatureEncoder:
    """Turns normalised characters (and a gazetteer) into :class:`Encoded` rows."""

    def __init__(self, vocabs: Mapping[str, Sequence[str]], types: Sequence[str] = ENTITY_TYPES) -> None:
        self.vocabs = {name: Vocab(items) for name, items in vocabs.items()}
        self.types = tuple(types)

    @classmethod
    def build(
        cls,
        sentences: Iterable[Sequence[str]],
        *,
        min_char: int = 2,
        min_bigram: int = 2,
        min_word: int = 2,
        types: Sequence[str] = ENTITY_TYPES,
    ) -> FeatureEncoder:
        """Vocabularies from normalised training sentences (strings seen at least ``min_*`` times)."""
        chars: Counter[str] = Counter()
        bigrams: Counter[str] = Counter()
        words: Counter[str] = Counter()
        poses: Counter[str] = Counter()
        _, pos_table = _segmenter()
        for sentence in sentences:
            chars.update(sentence)
            bigrams.update(_bigrams(sentence))
            for word, _, _ in words_of(sentence):
                words[word] += 1
                poses[_word_class(word, pos_table)] += 1
        places = [f"{p}{n}" for n in range(1, 6) for p in ("B", "M", "E", "S")]
        return cls(
            {
                "char": sorted(c for c, n in chars.items() if n >= min_char),
                "bigram": sorted(b for b, n in bigrams.items() if n >= min_bigram),
                "word": sorted(w for w, n in words.items() if n >= min_word),
                "place": places,
                "pos": sorted(poses),
                "class": ["D", "L", "C", "P", "S", "X"],
            },
            types,
        )

    @property
    def dense_dim(self) -> int:
        return len(self.types) * (len(_GAZ_FLAGS) + _GAZ_LENGTHS)

    def sizes(self) -> dict[str, int]:
        """Rows of each embedding table."""
        return {name: len(vocab) for name, vocab in self.vocabs.items()}

    def encode(self, chars: Sequence[str], gazetteer: Gazetteer | None) -> Encoded:
        """Inputs of one normalised sentence; ``gazetteer`` None gives all-zero gazetteer columns."""
        v = self.vocabs
        n = len(chars)
        ids = np.zeros((n, len(ID_COLUMNS)), dtype=np.int64)
        bigrams = _bigrams(chars)
        _, pos_table = _segmenter()
        for i, ch in enumerate(chars):
            ids[i, 0] = v["char"](ch)
            ids[i, 1] = v["bigram"](bigrams[i])
            ids[i, 2] = v["bigram"](bigrams[i + 1])
            ids[i, 6] = v["class"](char_class(ch))
        for word, start, end in words_of(chars):
            word_id, pos_id, length = v["word"](word), v["pos"](_word_class(word, pos_table)), min(end - start, 5)
            for k in range(start, end):
                ids[k, 3] = word_id
                ids[k, 4] = v["place"](f"{_place(k - start, end - start)}{length}")
                ids[k, 5] = pos_id
        return Encoded(ids, self._dense(chars, gazetteer))

    def _dense(self, chars: Sequence[str], gazetteer: Gazetteer | None) -> np.ndarray:
        dense = np.zeros((len(chars), self.dense_dim), dtype=np.float32)
        if gazetteer is None or not len(gazetteer):
            return dense
        width = len(_GAZ_FLAGS) + _GAZ_LENGTHS
        column = {kind: k * width for k, kind in enumerate(self.types)}
        longest = np.zeros((len(chars), len(self.types)), dtype=np.int64)
        for kind, s, e in gazetteer.matches(chars):
            if kind not in column:
                continue
            base, t = column[kind], self.types.index(kind)
            if e - s == 1:
                dense[s, base + 3] = 1.0
            else:
                dense[s, base] = 1.0
                dense[s + 1 : e - 1, base + 1] = 1.0
                dense[e - 1, base + 2] = 1.0
            longest[s:e, t] = np.maximum(longest[s:e, t], e - s)
        rows, kinds = np.nonzero(longest)
        lengths = np.minimum(longest[rows, kinds], _GAZ_LENGTHS)
        dense[rows, kinds * width + len(_GAZ_FLAGS) + lengths - 1] = 1.0
        return dense

    def to_json(self) -> dict[str, Any]:
        return {"types": list(self.types), "vocabs": {name: v.items[2:] for name, v in self.vocabs.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        return cls(data["vocabs"], data["types"])


def _bigrams(chars: Sequence[str]) -> list[str]:
    """``n + 1`` bigrams: the one ending at each character, then the one after the last."""
    padded = [_BOUNDARY, *chars, _BOUNDARY]
    return [padded[i] + padded[i + 1] for i in range(len(padded) - 1)]
