"""The NLU on language it was not written with: word boundaries, things not sold, rejections that follow what
they reject, colloquial budgets, relative references, open properties, order numbers, mood, and the intent
checks that depend on the conversation. (Behaviour tests: generalisation is measured by benchmarks/guide_nlu.py
on held-out data.)"""

from __future__ import annotations

import pytest

from shopguide.guide.nlu import SlotExtractor, default_lexicon, default_nlu, extract_price, normalize_text
from shopguide.guide.nlu.cues import find_asked, find_references, negation_scopes
from shopguide.guide.nlu.sentiment import read_sentiment
from shopguide.guide.nlu.type_matcher import TypeMatcher
from shopguide.guide.types import Intent


@pytest.fixture(scope="module")
def extract():
    return SlotExtractor(default_lexicon()).extract


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("茶具有吗", {"unknown_product": "茶具"}),  # not 茶 (tea leaves)
        ("干皮用什么面霜", {"product_type": "面霜"}),  # a skin type, not leather
        ("买三包坚果", {"product_type": "坚果"}),  # a count of packs, not bags
        ("他妈的怎么还不发货", {}),  # a curse, not a mother
        ("给我妈买条围巾", {"recipient": "妈妈", "gender": "女", "product_type": "围巾"}),
        ("相机包", {"unknown_product": "相机包"}),  # a camera bag is not a camera
        ("camera bag", {"unknown_product": "相机包"}),
        ("手机支架有吗", {"unknown_product": "手机支架"}),
        ("有没有苹果手机", {"unknown_brand": "苹果", "product_type": "手机"}),
        ("白衬衫", {"color": "白色", "product_type": "衬衫"}),  # a colour character modifying the product
        ("再来双鞋", {"category": "鞋靴"}),  # a measure word inside the jieba word
        ("black tea", {"product_type": "茶叶"}),  # not a black product
        ("show me rain jackets", {"product_type": "冲锋衣"}),  # the longer catalog phrase, not "rain"
    ],
)
def test_catalog_words_only_on_word_boundaries(extract, text: str, slots: dict) -> None:
    assert extract(text).slots == slots


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("粉的算了，太嫩", {"color": ["粉色"]}),
        ("华为的别推了", {"unknown_brand": ["华为"]}),
        ("奶茶喝腻了", {"unknown_product": ["奶茶"]}),
        ("skip Bose", {"unknown_brand": ["Bose"]}),
        ("he already owns a tent", {"product_type": ["帐篷"]}),
        ("pink is a bit much for her", {"color": ["粉色"]}),
        ("the yellow ones are too loud", {"color": ["黄色"]}),
        ("粉色的太俗了", {"color": ["粉色"]}),
        ("不要红色的连衣裙", {"color": ["红色"]}),  # the dress is still wanted
    ],
)
def test_rejections_before_and_after_what_they_reject(extract, text: str, negated: dict) -> None:
    assert extract(text).negated == negated


def test_a_rejection_keeps_the_rest_of_the_message(extract) -> None:
    r = extract("我要红色的，粉的算了")
    assert r.slots == {"color": "红色"} and r.negated == {"color": ["粉色"]}
    assert [("no problem", negation_scopes("no problem"))] == [("no problem", [])]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("三百出头的运动鞋", 300, 360), ("百来块的T恤", 80, 125), ("一百多的帽子", 100, 199),
        ("两百多块", 200, 299), ("小几百", 100, 500), ("大几百的包", 500, 999), ("千把块", 800, 1250),
        ("几十块的", 10, 99), ("两三百的耳机", 200, 300), ("three hundred-ish", 240, 360),
        ("a few hundred", 200, 500), ("under a grand", None, 1000), ("fifty bucks", 40, 60),
    ],
)  # fmt: skip
def test_colloquial_budgets(text: str, low: float | None, high: float) -> None:
    price = extract_price(normalize_text(text))
    assert (price.min, price.max) == (low, high)


@pytest.mark.parametrize("text", ["100多个评价", "买了3天了", "the blue one", "one size fits all", "top ten"])
def test_numbers_that_are_not_budgets(text: str) -> None:
    assert extract_price(normalize_text(text)).empty


@pytest.mark.parametrize(
    ("text", "refs"),
    [("贵的那个是什么材质", ["priciest"]), ("便宜的那款怎么样", ["cheapest"]), ("the pricier one", ["priciest"]),
     ("what about the cheaper one", ["cheapest"]), ("第二个", [2]), ("这两天能到吗", []),
     ("I live on the 5th floor", [])],
)  # fmt: skip
def test_relative_references(text: str, refs: list) -> None:
    assert find_references(normalize_text(text))[0] == refs


@pytest.mark.parametrize(
    ("text", "asked"),
    [("is it waterproof?", ["waterproof"]), ("how heavy is it", ["weight"]), ("含糖吗", ["sugar"]),
     ("能机洗吗", ["washable"]), ("续航多久", ["battery"]), ("什么材质的", ["material"])],
)  # fmt: skip
def test_open_properties_are_asked_attributes(text: str, asked: list) -> None:
    assert find_asked(normalize_text(text)) == asked


def test_order_numbers_and_mood() -> None:
    nlu = default_nlu()
    assert nlu.understand("订单号 3958 2210 7745").slots.get("order_id") == "395822107745"  # spaces dropped
    assert nlu.understand("my order number is 88231-22").slots.get("order_id") == "88231-22"
    assert "order_id" not in nlu.understand("I already gave my order number").slots
    assert read_sentiment("你们什么破服务 我要去12315投诉").angry
    assert read_sentiment("this is the second time i'm asking and nobody got back to me").angry
    assert read_sentiment("is it in stock").label == "neutral"


def test_intents_that_the_conversation_rules_out() -> None:
    nlu = default_nlu()
    assert nlu.understand("I want something black").intent != Intent.ACCEPT  # nothing shown: nothing to choose
    u = nlu.understand("含糖不", context_slots={"product_type": "巧克力"})
    assert u.intent == Intent.ASK_ATTRIBUTE and u.slots["attribute_asked"] == "sugar"
    u = nlu.understand("the pricier one?", context_slots={"product_type": "耳机"})
    assert u.intent == Intent.ASK_ATTRIBUTE and u.slots["reference"] == ["priciest"]
    u = nlu.understand("他已经有帐篷了", context_slots={"recipient": "男朋友"})
    assert u.intent not in (Intent.AFTER_SALES, Intent.ORDER_STATUS) and u.negated == {"product_type": ["帐篷"]}


def test_product_types_by_meaning_need_a_near_synonym() -> None:
    matcher = TypeMatcher(default_lexicon().type_names())
    assert matcher.same_type("sneakers") == "运动鞋"
    assert matcher.same_type("大衣") is None  # close to several types: not claimed
    assert "茶叶" in matcher.alternatives("茶具") and matcher.same_type("茶具") is None
    assert matcher.alternatives("空气炸锅") == []  # nothing in the catalog is like it
