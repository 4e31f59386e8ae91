"""The neural tagger the guide serves: trained once on ecommerce-ner-zh, cached, then loaded without torch.

Training early-stops on the "unseen-tune" half of ``dev.txt`` (dev sentences that do not occur in train,
split by a hash of their text; the same half ``benchmarks/ner_ecommerce.py`` tunes on), so the cached model
is the one the benchmark scores. Without ``dev.txt`` every network trains for ``epochs`` epochs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shopguide.guide.ner.cache import DATASET, cache_key, default_cache_dir, default_data_dir, load_or_train
from shopguide.guide.ner.data import Sentence, halves, read_bio, split_seen
from shopguide.guide.ner.neural import FORMAT_VERSION, NeuralTagger

log = logging.getLogger(__name__)

_RECIPE_VERSION = 1


def tune_sentences(train: Sequence[Sentence], dev: Sequence[Sentence]) -> list[Sentence]:
    """The "unseen-tune" half: dev sentences not in ``train``, the half chosen by hash bucket 0."""
    _, unseen = split_seen(dev, train)
    tune, _ = halves(unseen)
    return tune


def load_neural(
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    *,
    extra_lexicon: Mapping[str, Sequence[str]] | None = None,
    train_if_missing: bool = True,
    **params: Any,
) -> NeuralTagger | None:
    """The neural tagger trained on ecommerce-ner-zh, or ``None`` when the data (or, with
    ``train_if_missing=False``, the cached model) is absent.

    The first call trains (several minutes on 2 cores; needs torch) and caches the model under ``cache_dir``,
    keyed by the data files' content and the parameters; later calls load the numpy weights. ``extra_lexicon``
    (e.g. the catalog's brands and product types) is added to the gazetteer after loading.
    """
    root = Path(data_dir or default_data_dir())
    train_file, dev_file = root / "train.txt", root / "dev.txt"
    if not train_file.is_file():
        log.info("no %s at %s: the guide runs without the neural product tagger", DATASET, train_file)
        return None
    tagger = NeuralTagger(**params)
    dev_key = cache_key(dev_file) if dev_file.is_file() else None
    key = cache_key(train_file, FORMAT_VERSION, _RECIPE_VERSION, dev_key, tagger.get_params())
    target = Path(cache_dir or default_cache_dir()) / f"neural-{key}"

    def train() -> NeuralTagger:
        log.info("training the neural product tagger on %s (cached at %s)", train_file, target)
        sentences = read_bio(train_file)
        valid = tune_sentences(sentences, read_bio(dev_file)) if dev_file.is_file() else None
        return tagger.fit(sentences, valid)

    loaded = load_or_train(target, NeuralTagger.load, train if train_if_missing else None)
    if loaded is None:
        log.info("no cached neural tagger at %s and training is off", target)
        return None
    if extra_lexicon:
        loaded.add_lexicon(extra_lexicon)
    loaded.tag("预热")  # load jieba's dictionary now, not on the first request
    return loaded
