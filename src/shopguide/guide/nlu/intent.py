"""The intent classifier: TF-IDF features + logistic regression, trained on ``guide/data/intents.jsonl``.

One model for both languages, three feature blocks, each L2-normalised:

* the project's :class:`~shopguide.text.tokenize.Tokenizer` tokens (jieba words and character bigrams for
  Chinese, words for English) plus adjacent English word bigrams,
* character 1-4-grams within word boundaries (robust to typos and to unsegmented Chinese),
* the tags of :mod:`.features` (slots present, asked attributes, intent keywords).

The text blocks read the message with catalog words replaced by their slot and digits folded to ``0``
("送‹recipient›什么好", "0以内"). Multinomial logistic regression (newton-cg, L2, ``C``; deterministic for
a given data set). High-precision rules (:mod:`.rules`) override the model where the wording leaves no
doubt (转人工, "where is my order"). At prediction time one message is scored without sklearn's per-call
overhead (same numbers, about 0.3 ms).

``load_default()`` trains on the packaged train split once per process and keeps the model in memory.
"""

from __future__ import annotations

import functools
import itertools
import logging
import pickle
import re
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from shopguide.errors import ModelError
from shopguide.guide.nlu.dataset import Example, load_examples
from shopguide.guide.nlu.features import IntentFeatures
from shopguide.guide.nlu.lang import detect_language
from shopguide.guide.nlu.lexicon import Lexicon, default_lexicon
from shopguide.guide.nlu.normalize import normalize_text
from shopguide.guide.nlu.rules import RULE_CONFIDENCE, rule_intent
from shopguide.guide.nlu.slots import SlotReading
from shopguide.guide.types import Intent
from shopguide.text.tokenize import Tokenizer

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_ASCII_WORD = re.compile(r"^[a-z0-9'\-.]+$")


@functools.cache
def _tokenizer() -> Tokenizer:
    """One tokenizer (one jieba dictionary, loaded once) shared by every classifier in the process."""
    return Tokenizer()


def word_tokens(text: str) -> list[str]:
    """Tokenizer tokens plus bigrams of adjacent English words."""
    tokens = _tokenizer().tokenize(text)
    words = [t for t in tokens if _ASCII_WORD.match(t)]
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def tag_tokens(tags: list[str]) -> list[str]:
    return tags


class IntentClassifier:
    """``train(examples)`` then ``predict(text, lang) -> (intent, confidence, scores)``."""

    def __init__(
        self,
        *,
        C: float = 30.0,
        seed: int = 0,
        char_ngrams: tuple[int, int] = (1, 4),
        tag_weight: float = 1.0,
        rules: bool = True,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.C = C
        self.seed = seed
        self.char_ngrams = char_ngrams
        self.tag_weight = tag_weight
        self.rules = rules
        self.lexicon = lexicon

    def _inputs(self, normalized: str, reading: SlotReading | None = None) -> tuple[str, list[str]]:
        abstracted, tags = self.features_(normalized, reading)
        return _DIGITS.sub("0", abstracted), tags

    def _matrix(self, texts: list[str], *, fit: bool = False):
        inputs = [self._inputs(normalize_text(t)) for t in texts]
        columns = ([i[0] for i in inputs], [i[0] for i in inputs], [i[1] for i in inputs])
        blocks = [
            (v.fit_transform(col) if fit else v.transform(col)) * w
            for v, col, w in zip(self.vectorizers_, columns, self._weights(), strict=True)
        ]
        return sparse.hstack(blocks).tocsr()

    def _weights(self) -> tuple[float, float, float]:
        return 1.0, 1.0, self.tag_weight

    def train(self, examples: Iterable[Example]) -> IntentClassifier:
        """Fit on ``examples`` (their ``split`` is not looked at: pass the train split). Returns ``self``."""
        examples = list(examples)
        if not examples:
            raise ModelError("no examples to train the intent classifier on")
        started = time.perf_counter()
        self.features_ = IntentFeatures(self.lexicon or default_lexicon())
        self.vectorizers_ = (
            TfidfVectorizer(analyzer=word_tokens, sublinear_tf=True, lowercase=False),
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(self.char_ngrams), sublinear_tf=True, lowercase=False
            ),
            TfidfVectorizer(analyzer=tag_tokens, lowercase=False, use_idf=False),
        )
        features = self._matrix([e.text for e in examples], fit=True)
        self.model_ = LogisticRegression(C=self.C, solver="newton-cg", max_iter=1000, random_state=self.seed)
        with threadpool_limits(1):  # BLAS threads only slow a problem this small down (several times on 2 cores)
            self.model_.fit(features, [e.intent.value for e in examples])
        self.classes_ = [Intent(c) for c in self.model_.classes_]
        self._fast = None
        self.train_seconds_ = time.perf_counter() - started
        log.info("intent classifier trained examples=%d seconds=%.2f", len(examples), self.train_seconds_)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ModelError("the intent classifier is not trained: call train() or load()")

    def _fast_parts(self) -> list[tuple]:
        """Per block: analyzer, vocabulary, idf (or None), sublinear tf, weight, column offset."""
        if getattr(self, "_fast", None) is None:
            parts, offset = [], 0
            analyzers = (word_tokens, self.vectorizers_[1].build_analyzer(), tag_tokens)
            for v, analyzer, w in zip(self.vectorizers_, analyzers, self._weights(), strict=True):
                idf = v.idf_ if v.use_idf else None
                parts.append((analyzer, v.vocabulary_, idf, v.sublinear_tf, w, offset))
                offset += len(v.vocabulary_)
            self._fast = parts
        return self._fast

    def _proba(self, normalized: str, reading: SlotReading | None = None) -> np.ndarray:
        """``predict_proba`` for one message without sklearn's per-call overhead (same numbers)."""
        text, tags = self._inputs(normalized, reading)
        index: list[int] = []
        value: list[float] = []
        for (analyzer, vocab, idf, sublinear, weight, offset), doc in zip(
            self._fast_parts(), (text, text, tags), strict=True
        ):
            counts = Counter(t for t in analyzer(doc) if t in vocab)
            if not counts:
                continue
            cols = np.fromiter((vocab[t] for t in counts), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if sublinear:
                tf = 1.0 + np.log(tf)
            if idf is not None:
                tf = tf * idf[cols]
            tf *= weight / np.sqrt(np.dot(tf, tf))
            index.extend((cols + offset).tolist())
            value.extend(tf.tolist())
        logits = self.model_.intercept_.copy()
        if index:
            logits += self.model_.coef_[:, index] @ np.asarray(value)
        logits -= logits.max()
        probs = np.exp(logits)
        return probs / probs.sum()

    def scores(
        self, text: str, *, normalized: str | None = None, reading: SlotReading | None = None
    ) -> dict[str, float]:
        """Model probabilities per intent (no rules). ``normalized`` / ``reading`` skip recomputing them."""
        self._check_fitted()
        probs = self._proba(normalized if normalized is not None else normalize_text(text), reading)
        return {c.value: float(p) for c, p in zip(self.classes_, probs, strict=True)}

    def predict(
        self, text: str, lang: str | None = None, *, normalized: str | None = None, reading: SlotReading | None = None
    ) -> tuple[Intent, float, dict[str, float]]:
        """The intent of ``text``, its confidence and every intent's score (rules first, then the model)."""
        normalized = normalized if normalized is not None else normalize_text(text)
        scores = self.scores(text, normalized=normalized, reading=reading)
        best = max(scores, key=scores.__getitem__)
        intent, confidence = Intent(best), scores[best]
        if self.rules:
            ruled = rule_intent(normalized, lang or detect_language(text))
            if ruled is not None:
                intent, confidence = ruled, max(RULE_CONFIDENCE, scores.get(ruled.value, 0.0))
        return intent, float(confidence), scores

    def predict_many(self, texts: list[str]) -> list[Intent]:
        """Model-only predictions for many texts at once, through sklearn (used by evaluation)."""
        self._check_fitted()
        probs = self.model_.predict_proba(self._matrix(texts))
        return [self.classes_[i] for i in np.argmax(probs, axis=1)]

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_fast"}

    def save(self, path: str | Path) -> Path:
        """Pickle the trained classifier to ``path``."""
        self._check_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        return path

    @classmethod
    def load(cls, path: str | Path) -> IntentClassifier:
        """A classifier saved with :meth:`save`."""
        obj = pickle.loads(Path(path).read_bytes())
        if not isinstance(obj, cls):
            raise ModelError(f"{path} does not hold an IntentClassifier")
        return obj


@functools.cache
def load_default() -> IntentClassifier:
    """The classifier trained on the packaged train split (trained once per process, then cached)."""
    return IntentClassifier().train(load_examples(split="train"))
