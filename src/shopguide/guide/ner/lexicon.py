"""Gazetteers for the tagger: entity lists mined from training sentences, and their match features.

A gazetteer maps an entity type to the strings known to be of that type. :meth:`Gazetteer.features` marks,
for every character, where it sits inside each match (``B``/``I``/``E`` of a multi-character match, ``S`` of
a single character) and how long the longest match is. Strings are compared half-width and lower-case.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from shopguide.guide.ner.data import Sentence, bucket, normalize_chars


def _norm(text: str) -> str:
    return "".join(normalize_chars(text))


def mine_lexicon(
    sentences: Iterable[Sentence], *, min_count: int = 1, min_ratio: float = 0.0, max_len: int = 16
) -> dict[str, list[str]]:
    """Entity strings by type from tagged sentences.

    A string is kept for a type when it was tagged as that type at least ``min_count`` times and in at least
    ``min_ratio`` of the places it occurs in the sentences' text (so words that are usually not entities drop out).
    """
    sentences = list(sentences)
    tagged: Counter[tuple[str, str]] = Counter()
    for sentence in sentences:
        chars = normalize_chars(sentence.chars)
        for ent in sentence.entities():
            if ent.end - ent.start <= max_len:
                tagged[ent.type, "".join(chars[ent.start : ent.end])] += 1
    candidates = [(kind, text) for (kind, text), n in tagged.items() if n >= min_count]
    occurrences: dict[str, int] = {}
    if min_ratio > 0:
        corpus = "\n".join(_norm(s.text) for s in sentences)
        occurrences = {text: corpus.count(text) for _, text in candidates}
    lexicon: dict[str, list[str]] = defaultdict(list)
    for kind, text in candidates:
        if min_ratio <= 0 or tagged[kind, text] >= min_ratio * max(occurrences[text], 1):
            lexicon[kind].append(text)
    return {kind: sorted(words) for kind, words in sorted(lexicon.items())}


def merge_lexicons(*lexicons: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    merged: dict[str, set[str]] = defaultdict(set)
    for lexicon in lexicons:
        for kind, words in lexicon.items():
            merged[kind].update(w for w in (_norm(x) for x in words) if w)
    return {kind: sorted(words) for kind, words in sorted(merged.items())}


class Gazetteer:
    """Dictionary-match features from ``{type: [strings]}``."""

    def __init__(self, lexicon: Mapping[str, Iterable[str]], *, max_len: int = 16) -> None:
        self.lexicon = merge_lexicons(lexicon)
        self.max_len = max_len
        index: dict[str, list[str]] = defaultdict(list)
        for kind, words in self.lexicon.items():
            for word in words:
                if len(word) <= max_len:
                    index[word].append(kind)
        self._index = dict(index)
        self._longest = max((len(w) for w in self._index), default=0)

    def __len__(self) -> int:
        return len(self._index)

    def matches(self, chars: Sequence[str]) -> list[tuple[str, int, int]]:
        """Every ``(type, start, end)`` where a lexicon string occurs in the (normalised) characters."""
        text = "".join(chars)
        n, longest, index = len(text), self._longest, self._index
        found = []
        for i in range(n):
            for j in range(i + 1, min(n, i + longest) + 1):
                kinds = index.get(text[i:j])
                if kinds:
                    found.extend((kind, i, j) for kind in kinds)
        return found

    def features(self, chars: Sequence[str]) -> list[list[str]]:
        """Per character: ``g<TYPE>=<B|I|E|S>`` for each match covering it and ``gl<TYPE>=<len>`` of the longest."""
        out: list[list[str]] = [[] for _ in chars]
        longest: list[dict[str, int]] = [{} for _ in chars]
        for kind, s, e in self.matches(chars):
            length = e - s
            if length == 1:
                out[s].append(f"g{kind}=S")
            else:
                out[s].append(f"g{kind}=B")
                out[e - 1].append(f"g{kind}=E")
                for k in range(s + 1, e - 1):
                    out[k].append(f"g{kind}=I")
            for k in range(s, e):
                if longest[k].get(kind, 0) < length:
                    longest[k][kind] = length
        for feats, best in zip(out, longest, strict=True):
            feats[:] = sorted(set(feats))
            feats.extend(f"gl{kind}={min(n, 6)}" for kind, n in sorted(best.items()))
        return out


def jackknife_lexicons(
    sentences: Sequence[Sentence], *, folds: int, seed: int = 0, min_count: int = 1, min_ratio: float = 0.0
) -> tuple[list[int], list[dict[str, list[str]]]]:
    """Fold of each sentence and, per fold, the lexicon mined from the other folds.

    Training sentences then see gazetteer matches as reliable as unseen text will: an entity that only occurs
    in its own fold is not in its own gazetteer. Identical sentences share a fold (by a hash of their text).
    """
    fold_of = [bucket(s.text, folds, seed) for s in sentences]
    lexicons = []
    for k in range(folds):
        rest = [s for s, f in zip(sentences, fold_of, strict=True) if f != k]
        lexicons.append(mine_lexicon(rest, min_count=min_count, min_ratio=min_ratio))
    return fold_of, lexicons
