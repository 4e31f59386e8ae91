"""Natural-language understanding for the shopping guide, in Chinese and English.

::

    nlu = NLU(Lexicon.from_catalog(items), IntentClassifier().train(load_examples(split="train")))
    nlu = default_nlu()                     # demo lexicon + the packaged model, built once per process
    u = nlu.understand("不要红色的连衣裙，500以内")
    u.intent, u.slots, u.negated            # FIND_PRODUCT, {"product_type": "连衣裙", "price_max": 500.0},
                                            # {"color": ["红色"]}
    nlu.understand("cheaper", context_slots={"product_type": "跑步鞋"}).intent   # REFINE

Parts: :mod:`.normalize` (NFKC, Chinese numerals, 1k / 2w), :mod:`.prices` (price ranges), :mod:`.lang`
(zh / en), :mod:`.lexicon` + :mod:`.synonyms` (catalog words in both languages), :mod:`.cues`
(references, negation, refinements, asked attributes), :mod:`.slots`, :mod:`.features` + :mod:`.intent`
+ :mod:`.rules` (the intent classifier), :mod:`.dataset` + :mod:`.evaluate` (the data set and scoring).
"""

from __future__ import annotations

from shopguide.guide.nlu.dataset import Example, load_examples, slot_pairs
from shopguide.guide.nlu.evaluate import NLUReport, evaluate
from shopguide.guide.nlu.intent import IntentClassifier, load_default
from shopguide.guide.nlu.lang import detect_language
from shopguide.guide.nlu.lexicon import Lexicon, Match, default_lexicon
from shopguide.guide.nlu.normalize import normalize_text, parse_chinese_number
from shopguide.guide.nlu.pipeline import NLU, default_nlu
from shopguide.guide.nlu.prices import PriceRange, extract_price
from shopguide.guide.nlu.slots import SlotExtractor, SlotReading

__all__ = [
    "NLU",
    "Example",
    "IntentClassifier",
    "Lexicon",
    "Match",
    "NLUReport",
    "PriceRange",
    "SlotExtractor",
    "SlotReading",
    "default_lexicon",
    "default_nlu",
    "detect_language",
    "evaluate",
    "extract_price",
    "load_default",
    "load_examples",
    "normalize_text",
    "parse_chinese_number",
    "slot_pairs",
]
