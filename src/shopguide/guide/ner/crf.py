"""The CRF baseline: a linear-chain CRF (CRFsuite, L-BFGS) over standard character features.

Features of character ``i``: the character, its neighbours within ±``window``, the character bigrams and the
trigram around it, and the class (digit / latin / CJK / punctuation / space / other) of it and its neighbours.
Subclasses add features by overriding :meth:`CrfTagger.features` (and :meth:`CrfTagger.training_features`
when training features must differ from tagging features); :class:`~shopguide.guide.ner.tagger.ProductTagger`
is one.

Training is deterministic: CRFsuite's L-BFGS has no random step and sentences are fed in input order.
"""

from __future__ import annotations

import inspect
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import pycrfsuite

from shopguide.errors import ModelError, NotFittedError
from shopguide.guide.ner.data import Entity, Sentence, entities, normalize_chars
from shopguide.guide.ner.manifest import read_manifest, write_manifest

FORMAT_VERSION = 1
_MODEL = "model.crfsuite"


def char_class(ch: str) -> str:
    """A coarse class of a (half-width) character: D digit, L latin, C CJK, P punctuation, S space, X other."""
    if ch.isdigit():
        return "D"
    if ch.isascii() and ch.isalpha():
        return "L"
    if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff":
        return "C"
    if ch.isspace():
        return "S"
    if unicodedata.category(ch)[0] in "PS":
        return "P"
    return "X"


class CrfTagger:
    """Character BIO tagger: ``CrfTagger.train(sentences)`` then ``tag(text) -> [Entity]``.

    ``c1`` / ``c2`` are the L1 / L2 penalties (chosen on half of the unseen ecommerce-ner-zh dev sentences),
    ``window`` the character context on each side, ``min_freq`` the least count of a kept feature.
    """

    kind: ClassVar[str] = "crf"

    def __init__(
        self, *, c1: float = 0.02, c2: float = 0.05, max_iterations: int = 150, window: int = 2, min_freq: int = 1
    ) -> None:
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations
        self.window = window
        self.min_freq = min_freq

    # ---- parameters and training

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    @classmethod
    def train(cls, sentences: Iterable[Sentence], **params: Any) -> Self:
        """Train a new tagger on BIO sentences with the given parameters."""
        return cls(**params).fit(sentences)

    def fit(self, sentences: Iterable[Sentence]) -> Self:
        sentences = [s for s in sentences if s.chars]
        if not sentences:
            raise ModelError("cannot train a tagger on no sentences")
        started = time.perf_counter()
        self.prepare(sentences)
        trainer = pycrfsuite.Trainer(verbose=False)
        for sentence, feats in zip(sentences, self.training_features(sentences), strict=True):
            trainer.append(feats, list(sentence.tags))
        trainer.set_params(
            {
                "c1": self.c1,
                "c2": self.c2,
                "max_iterations": self.max_iterations,
                "feature.minfreq": self.min_freq,
                "feature.possible_transitions": True,
            }
        )
        with tempfile.TemporaryDirectory(prefix="shopguide-crf-") as tmp:
            path = Path(tmp) / _MODEL
            trainer.train(str(path))
            self._open(path.read_bytes())
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def prepare(self, sentences: Sequence[Sentence]) -> None:
        """Hook run before feature extraction in :meth:`fit` (e.g. to mine lexicons); the base does nothing."""

    def training_features(self, sentences: Sequence[Sentence]) -> Iterator[list[list[str]]]:
        """Features of the training sentences; by default the same as at tagging time."""
        for sentence in sentences:
            yield self.features(normalize_chars(sentence.chars))

    # ---- features

    def features(self, chars: Sequence[str]) -> list[list[str]]:
        """Feature strings of each character of a normalised sentence."""
        w = self.window
        pad = ["<s>"] * w + list(chars) + ["</s>"] * w
        cls = ["B"] * w + [char_class(c) for c in chars] + ["E"] * w
        out = []
        for i in range(len(chars)):
            j = i + w
            c = pad[j]
            f = ["b", "c=" + c, "t=" + cls[j], "tw=" + "".join(cls[j - 1 : j + 2])]
            for k in range(1, w + 1):
                f.append(f"c-{k}={pad[j - k]}")
                f.append(f"c+{k}={pad[j + k]}")
            f.append("bl=" + pad[j - 1] + c)
            f.append("br=" + c + pad[j + 1])
            if w >= 2:
                f.append("bll=" + pad[j - 2] + pad[j - 1])
                f.append("brr=" + pad[j + 1] + pad[j + 2])
            f.append("tri=" + pad[j - 1] + c + pad[j + 1])
            out.append(f)
        return out

    # ---- tagging

    def predict_tags(self, chars: str | Sequence[str]) -> list[str]:
        """BIO tags of a sentence given as characters (normalised here)."""
        tagger = self._require()
        chars = normalize_chars(chars)
        if not chars:
            return []
        feats = self.features(chars)
        with self._lock:
            return tagger.tag(feats)

    def tag(self, text: str) -> list[Entity]:
        """Entities in raw text; whitespace is skipped and offsets refer to ``text`` as given."""
        offsets = [i for i, ch in enumerate(text) if not ch.isspace()]
        if not offsets:
            return []
        tags = self.predict_tags([text[i] for i in offsets])
        return entities(text, tags, offsets)

    # ---- persistence

    def save(self, path: str | Path) -> Path:
        """Write the tagger to a directory (a manifest and the CRFsuite model)."""
        model = self._require_bytes()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / _MODEL).write_bytes(model)
        manifest = {
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "params": self.get_params(),
            "state": self.get_state(),
            "fit_seconds": round(getattr(self, "fit_seconds_", 0.0), 3),
        }
        write_manifest(path, manifest)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a tagger written by :meth:`save`."""
        path = Path(path)
        manifest = read_manifest(path, cls.kind, FORMAT_VERSION)
        try:
            model = (path / _MODEL).read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read a tagger from {path}: {exc}") from exc
        tagger = cls(**manifest["params"])
        tagger.set_state(manifest.get("state") or {})
        tagger._open(model)
        tagger.fit_seconds_ = float(manifest.get("fit_seconds", 0.0))
        return tagger

    def get_state(self) -> dict[str, Any]:
        """Learned state besides the CRF weights, as JSON-ready data (subclasses extend)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""

    # ---- internals

    def _open(self, model: bytes) -> None:
        tagger = pycrfsuite.Tagger()
        tagger.open_inmemory(model)
        self.model_ = model
        self.tagger_ = tagger
        self._lock = threading.Lock()

    def _require(self) -> pycrfsuite.Tagger:
        tagger = getattr(self, "tagger_", None)
        if tagger is None:
            raise NotFittedError(f"{type(self).__name__} is not trained; call train() or load() first")
        return tagger

    def _require_bytes(self) -> bytes:
        self._require()
        return self.model_

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
