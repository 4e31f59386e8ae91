"""The learned product tagger inside the NLU: product words the catalog lexicon does not know."""

from __future__ import annotations

import pytest
from chat_helpers import SMALL_NEURAL

from shopguide.guide.ner import NeuralTagger, ProductTagger, Sentence
from shopguide.guide.ner.data import to_tags
from shopguide.guide.nlu import NLU, default_lexicon, load_default
from shopguide.guide.types import Intent

TYPES = ["空气炸锅", "电饭煲", "加湿器", "扫地机器人", "衬衫", "运动鞋"]
TEMPLATES = ["我想买一个{t}", "有没有好用的{t}", "推荐一款{t}", "想要一台{t}", "帮我找找{t}"]


def query_sentences() -> list[Sentence]:
    """Invented shopper queries with the product type tagged (the project's own tiny training set)."""
    out = []
    for template in TEMPLATES:
        for kind in TYPES:
            text = template.format(t=kind)
            start = text.index(kind)
            out.append(Sentence(tuple(text), tuple(to_tags(len(text), [("HCCX", start, start + len(kind))]))))
    return out


@pytest.fixture(scope="module")
def nlu() -> NLU:
    tagger = ProductTagger.train(query_sentences(), max_iterations=60, folds=3)
    return NLU(default_lexicon(), load_default(), tagger=tagger)


def test_an_unknown_product_word_is_named_not_guessed(nlu: NLU) -> None:
    u = nlu.understand("我想买一个空气炸锅")
    assert u.intent in (Intent.FIND_PRODUCT, Intent.RECOMMEND)
    assert u.slots.get("unknown_product") == "空气炸锅"
    assert "product_type" not in u.slots


def test_the_lexicon_still_wins_for_catalog_products(nlu: NLU) -> None:
    u = nlu.understand("我想买一件衬衫")
    assert u.slots.get("product_type") == "衬衫"
    assert "unknown_product" not in u.slots


def test_without_a_tagger_only_the_gazetteer_names_missing_products() -> None:
    plain = NLU(default_lexicon(), load_default())
    assert plain.understand("我想买一个空气炸锅").slots.get("unknown_product") == "空气炸锅"  # in the gazetteer
    assert "unknown_product" not in plain.understand("我想买一个啵啵哩").slots  # a word nobody listed


def test_the_neural_tagger_plugs_into_the_nlu_the_same_way() -> None:
    pytest.importorskip("torch")
    tagger = NeuralTagger.train(query_sentences(), **SMALL_NEURAL)
    nlu = NLU(default_lexicon(), load_default(), tagger=tagger)
    assert nlu.understand("我想买一个空气炸锅").slots.get("unknown_product") == "空气炸锅"
    assert nlu.understand("我想买一件衬衫").slots.get("product_type") == "衬衫"
