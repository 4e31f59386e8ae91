"""Product named-entity tagging for Chinese titles and queries: brands (HPPX), product types (HCCX), ...

::

    tagger = load_default()                 # trained on ../shared/data/ecommerce-ner-zh, cached; None without it
    tagger.tag("华为mate20手机壳")           # [Entity('HPPX', '华为', 0, 2), Entity('HCCX', '手机壳', 8, 11), ...]

``CrfTagger`` is the character-CRF baseline, ``ProductTagger`` adds jieba word and gazetteer features,
``NeuralTagger`` is a BiLSTM-CRF over the same kinds of input (trained with torch, served with numpy;
``load_neural`` is its cached loader);
``data`` reads BIO files and ``metrics`` scores exact entity spans.
"""

from __future__ import annotations

from shopguide.guide.ner.crf import CrfTagger
from shopguide.guide.ner.data import ENTITY_TYPES, FOCUS_TYPES, Entity, Sentence, read_bio, split_seen
from shopguide.guide.ner.defaults import load_neural
from shopguide.guide.ner.metrics import PRF, Scores, score_spans, score_tags
from shopguide.guide.ner.neural import NeuralTagger
from shopguide.guide.ner.tagger import ProductTagger, demo_lexicon, load_default

__all__ = [
    "ENTITY_TYPES",
    "FOCUS_TYPES",
    "PRF",
    "CrfTagger",
    "Entity",
    "NeuralTagger",
    "ProductTagger",
    "Scores",
    "Sentence",
    "demo_lexicon",
    "load_default",
    "load_neural",
    "read_bio",
    "score_spans",
    "score_tags",
    "split_seen",
]
