"""The neural product tagger: a BiLSTM-CRF over characters, bigrams, jieba words and fold-split gazetteer matches.

Each character's input is the embedding of the character, of the bigrams on either side of it, of its jieba
word, of its place in that word and of the word's part of speech, plus flags of the gazetteer matches
covering it (:mod:`~shopguide.guide.ner.encoding`). As in :class:`~shopguide.guide.ner.tagger.ProductTagger`,
each training sentence sees the gazetteer mined from the *other* folds (:mod:`~shopguide.guide.ner.training`),
so the network learns how far a dictionary match can be trusted on unseen text; tagging uses the full
gazetteer (plus ``add_lexicon``).

``members`` networks (seeds ``seed``, ``seed + 1``, ...; each with its own fold split) form an ensemble whose
tag and transition scores are averaged before one Viterbi pass: single networks differ by about a point of
F1 from seed to seed, and their average is steadier and better. Training needs torch (the ``deep`` extra);
the weights are then kept as numpy arrays, so loading and tagging do not (:mod:`~shopguide.guide.ner.numpy_net`).
With ``valid`` sentences each network stops early on their exact-span micro F1 (HCCX + HPPX).

The defaults were chosen on the "unseen-tune" half of the ecommerce-ner-zh dev sentences that do not occur in
train (``benchmarks/ner_ecommerce.py``). Tried there and not kept (no gain on that half): hidden size 64,
learning rate 1e-3, batches of 64, unknown-dropout 0.3, flags of jieba dictionary words by part of speech,
buckets of how often a gazetteer string is tagged where it occurs in train, copies of training sentences with
their brands and product types swapped for other mined ones (mention replacement), and adding the
ProductTagger's tags to the scores before decoding.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from shopguide.errors import MissingDependencyError, ModelError, NotFittedError
from shopguide.guide.ner.data import ENTITY_TYPES, Entity, Sentence, entities, normalize_chars
from shopguide.guide.ner.encoding import Encoded, FeatureEncoder
from shopguide.guide.ner.lexicon import Gazetteer, merge_lexicons, mine_lexicon
from shopguide.guide.ner.manifest import read_manifest, write_manifest
from shopguide.guide.ner.numpy_net import NumpyEnsemble, NumpyNetwork

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_WEIGHTS = "weights.npz"


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:
        raise MissingDependencyError("torch", "deep") from err
    return torch


class NeuralTagger:
    """Brand / product-type tagger: ``NeuralTagger.train(sentences, valid)`` then ``tag(text) -> [Entity]``.

    ``hidden`` is the BiLSTM size per direction, ``*_dim`` the embedding sizes (``tag_dim``: word place and
    part of speech), ``dropout`` / ``unk_dropout`` the input dropout and the chance of hiding a known id in
    training, ``epochs`` / ``patience`` the early-stopping budget, ``folds`` the gazetteer jackknife (< 2: none),
    ``min_count`` / ``min_vocab`` the least count of a mined entity / a vocabulary entry, ``threads`` torch's
    threads while training (0: torch's default).
    """

    kind: ClassVar[str] = "neural"

    def __init__(
        self,
        *,
        hidden: int = 128,
        char_dim: int = 64,
        bigram_dim: int = 64,
        word_dim: int = 32,
        tag_dim: int = 8,
        dropout: float = 0.5,
        unk_dropout: float = 0.1,
        epochs: int = 15,
        patience: int = 4,
        batch_size: int = 32,
        lr: float = 2e-3,
        members: int = 3,
        folds: int = 5,
        min_count: int = 1,
        min_vocab: int = 2,
        threads: int = 0,
        extra_lexicon: Mapping[str, Sequence[str]] | None = None,
        seed: int = 0,
    ) -> None:
        self.hidden = hidden
        self.char_dim = char_dim
        self.bigram_dim = bigram_dim
        self.word_dim = word_dim
        self.tag_dim = tag_dim
        self.dropout = dropout
        self.unk_dropout = unk_dropout
        self.epochs = epochs
        self.patience = patience
        self.batch_size = batch_size
        self.lr = lr
        self.members = members
        self.folds = folds
        self.min_count = min_count
        self.min_vocab = min_vocab
        self.threads = threads
        self.extra_lexicon = extra_lexicon
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    # ---- training

    @classmethod
    def train(cls, sentences: Iterable[Sentence], valid: Sequence[Sentence] | None = None, **params: Any) -> Self:
        """Train a new tagger; ``valid`` (never the sentences reported as a test) drives early stopping."""
        return cls(**params).fit(sentences, valid)

    def fit(self, sentences: Iterable[Sentence], valid: Sequence[Sentence] | None = None) -> Self:
        torch = _torch()
        sentences = [s for s in sentences if s.chars]
        if not sentences:
            raise ModelError("cannot train a tagger on no sentences")
        started = time.perf_counter()
        threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            types = _types_of(sentences)
            self.tags_ = ["O", *(f"{p}-{t}" for t in types for p in "BI")]
            chars = [normalize_chars(s.chars) for s in sentences]
            m = self.min_vocab
            self.encoder_ = FeatureEncoder.build(chars, min_char=m, min_bigram=m, min_word=m, types=types)
            self.mined_ = mine_lexicon(sentences, min_count=self.min_count)
            self._set_lexicon(merge_lexicons(self.mined_, self.extra_lexicon or {}))
            checked = None
            if valid:
                checked = ([self._encode(normalize_chars(s.chars)) for s in valid], [s.tags for s in valid])
            self.train_log_: list[dict[str, Any]] = []
            members = [self._train_member(torch, sentences, self.seed + k, checked) for k in range(self.members)]
        finally:
            torch.set_num_threads(threads)
        self.model_ = NumpyEnsemble(members)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _train_member(
        self, torch: Any, sentences: Sequence[Sentence], seed: int, valid: tuple[Any, Any] | None
    ) -> NumpyNetwork:
        """One network: its own fold split, initial weights and batch order, all from ``seed``."""
        from shopguide.guide.ner.network import TaggerNetwork
        from shopguide.guide.ner.training import TrainConfig, train_network, training_rows

        index = {t: k for k, t in enumerate(self.tags_)}
        extra = self.extra_lexicon or {}
        rows, tag_ids = training_rows(
            sentences,
            self.encoder_,
            folds=self.folds,
            min_count=self.min_count,
            lexicon=self.mined_,
            extra=extra,
            tag_index=index,
            seed=seed,
        )
        dims = {"char": self.char_dim, "bigram": self.bigram_dim, "word": self.word_dim}
        dims |= {"place": self.tag_dim, "pos": self.tag_dim, "class": 4}
        torch.manual_seed(seed)
        net = TaggerNetwork(
            self.encoder_.sizes(), dims, self.encoder_.dense_dim, self.tags_, hidden=self.hidden, dropout=self.dropout
        )
        config = TrainConfig(
            epochs=self.epochs,
            patience=self.patience,
            batch_size=self.batch_size,
            lr=self.lr,
            unk_dropout=self.unk_dropout,
            seed=seed,
        )
        member, report = train_network(net, rows, tag_ids, config, valid)
        log.info(
            "neural tagger member %d of %d: best epoch %d of %d, %.0f s",
            len(self.train_log_) + 1,
            self.members,
            report.best_epoch + 1,
            len(report.losses),
            report.seconds,
        )
        self.train_log_.append({"best_epoch": report.best_epoch + 1, "valid_f1": report.valid_f1})
        return member

    # ---- tagging

    def _encode(self, chars: Sequence[str]) -> Encoded:
        return self.encoder_.encode(chars, self.gazetteer_)

    def predict_tags(self, chars: str | Sequence[str]) -> list[str]:
        """BIO tags of a sentence given as characters (normalised here)."""
        model = self._require()
        chars = normalize_chars(chars)
        if not chars:
            return []
        x = self._encode(chars)
        return [self.tags_[k] for k in model.decode(x)]

    def tag(self, text: str) -> list[Entity]:
        """Entities in raw text; whitespace is skipped and offsets refer to ``text`` as given."""
        offsets = [i for i, ch in enumerate(text) if not ch.isspace()]
        if not offsets:
            return []
        return entities(text, self.predict_tags([text[i] for i in offsets]), offsets)

    # ---- lexicon

    @property
    def lexicon(self) -> dict[str, list[str]]:
        """The gazetteer in use: ``{type: [normalised strings]}``."""
        gazetteer = getattr(self, "gazetteer_", None)
        return dict(gazetteer.lexicon) if gazetteer is not None else {}

    def add_lexicon(self, lexicon: Mapping[str, Sequence[str]]) -> None:
        """Add strings to the gazetteer without retraining (the network learned how far a match is worth)."""
        self._set_lexicon(merge_lexicons(self.lexicon, lexicon))

    def _set_lexicon(self, lexicon: Mapping[str, Sequence[str]]) -> None:
        self.gazetteer_ = Gazetteer(lexicon) if lexicon else None

    # ---- persistence

    def save(self, path: str | Path) -> Path:
        """Write the tagger to a directory: a JSON manifest (parameters, vocabularies, lexicon) and the weights."""
        model = self._require()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.savez(path / _WEIGHTS, **model.arrays())
        params = self.get_params() | {"extra_lexicon": None}  # already merged into the lexicon
        manifest = {
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "params": params,
            "tags": self.tags_,
            "encoder": self.encoder_.to_json(),
            "lexicon": self.lexicon,
            "train_log": getattr(self, "train_log_", []),
            "fit_seconds": round(getattr(self, "fit_seconds_", 0.0), 3),
        }
        write_manifest(path, manifest)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a tagger written by :meth:`save` (numpy only, no torch)."""
        path = Path(path)
        manifest = read_manifest(path, cls.kind, FORMAT_VERSION)
        try:
            with np.load(path / _WEIGHTS, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read a tagger from {path}: {exc}") from exc
        try:
            tagger = cls(**manifest["params"])
        except TypeError as exc:
            raise ModelError(f"{path} holds a tagger with other parameters than this version's: {exc}") from exc
        tagger.tags_ = list(manifest["tags"])
        tagger.encoder_ = FeatureEncoder.from_json(manifest["encoder"])
        tagger._set_lexicon(manifest.get("lexicon") or {})
        tagger.model_ = NumpyEnsemble.from_arrays(arrays)
        tagger.train_log_ = manifest.get("train_log", [])
        tagger.fit_seconds_ = float(manifest.get("fit_seconds", 0.0))
        return tagger

    def _require(self) -> NumpyEnsemble:
        model = getattr(self, "model_", None)
        if model is None:
            raise NotFittedError(f"{type(self).__name__} is not trained; call train() or load() first")
        return model

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if k != "extra_lexicon")
        return f"{type(self).__name__}({params})"


def _types_of(sentences: Iterable[Sentence]) -> list[str]:
    """Entity types in the data, the e-commerce ones first in their usual order."""
    found = {t[2:] for s in sentences for t in s.tags if t != "O"}
    return [t for t in ENTITY_TYPES if t in found] + sorted(found - set(ENTITY_TYPES))
