"""Slot extraction: the lexicon in both languages, negation, references, refinements, asked attributes."""

from __future__ import annotations

import pytest

from shopguide.data.schema import Item
from shopguide.guide.nlu import Lexicon, SlotExtractor, default_lexicon


@pytest.fixture(scope="module")
def extract():
    extractor = SlotExtractor(default_lexicon())
    return extractor.extract


def test_negated_colour_keeps_the_product(extract):
    got = extract("不要红色的连衣裙")
    assert got.slots == {"product_type": "连衣裙"}
    assert got.negated == {"color": ["红色"]}


def test_english_negation_after_but(extract):
    got = extract("running shoes but not white")
    assert got.slots == {"product_type": "跑步鞋"}
    assert got.negated == {"color": ["白色"]}


@pytest.mark.parametrize(
    ("text", "slots", "negated"),
    [
        ("不要连衣裙", {}, {"product_type": ["连衣裙"]}),
        ("除了黑色都行", {}, {"color": ["黑色"]}),
        ("不要红色，要蓝色的", {"color": "蓝色"}, {"color": ["红色"]}),
        ("不要黑色和白色", {}, {"color": ["黑色", "白色"]}),
        ("找个不是皮的钱包", {"product_type": "钱包"}, {"material": ["真皮"]}),
        ("not leather", {}, {"material": ["真皮"]}),
        ("no red please, blue is fine", {"color": "蓝色"}, {"color": ["红色"]}),
        ("anything but black", {}, {"color": ["黑色"]}),
        ("without leather and not brown", {}, {"material": ["真皮"], "color": ["棕色"]}),
        ("不要太贵的耳机", {"product_type": "耳机"}, {}),
        ("a backpack, not too expensive", {"product_type": "双肩包"}, {}),
        ("这两款有什么区别", {"reference": [1, 2]}, {}),
    ],
)
def test_negation_scope(extract, text, slots, negated):
    got = extract(text)
    assert got.negated == negated
    for slot, value in slots.items():
        assert got.slots[slot] == value


@pytest.mark.parametrize(
    ("text", "refs"),
    [("第二个", [2]), ("第一款和第三款比呢", [1, 3]), ("最后一个多少钱", [-1]), ("这两款", [1, 2]), ("前三个", [1, 2, 3]),
     ("the second one", [2]), ("the last one", [-1]), ("compare the first and the third", [1, 3]), ("both", [1, 2]),
     ("compare #2 and #3", [2, 3]), ("option 1 or option 2", [1, 2]), ("the first two", [1, 2])],
)  # fmt: skip
def test_references_to_shown_cards(extract, text, refs):
    assert extract(text).slots["reference"] == refs


@pytest.mark.parametrize(
    "text", ["第一次买", "这两天能到吗", "the first time I ordered", "wait a second", "first date"]
)
def test_ordinals_that_are_not_references(extract, text):
    assert "reference" not in extract(text).slots


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [("便宜点的", "sort", "cheaper"), ("再便宜一点", "sort", "cheaper"), ("cheaper", "sort", "cheaper"),
     ("something less expensive", "sort", "cheaper"), ("more expensive ones", "sort", "more_expensive"),
     ("卖得最好的", "sort", "popular"), ("top rated", "sort", "rating"), ("换个颜色", "attribute_change", "color"),
     ("another colour", "attribute_change", "color"), ("换个牌子", "attribute_change", "brand"),
     ("换一批", "attribute_change", "items"), ("smaller size", "attribute_change", "size")],
)  # fmt: skip
def test_refinements(extract, text, slot, value):
    assert extract(text).slots[slot] == value


@pytest.mark.parametrize(
    ("text", "asked"),
    [("这件是什么材质", "material"), ("有货吗", "stock"), ("这个是多大码的", "size"), ("what sizes does it come in", "size"),
     ("这个多少钱", "price"), ("how much is it", "price"), ("评价怎么样", "reviews"), ("what are the reviews like", "reviews"),
     ("is it in stock", "stock")],
)  # fmt: skip
def test_attribute_asked(extract, text, asked):
    assert extract(text).slots["attribute_asked"] == asked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("navy chinos", {"color": "藏青色", "product_type": "西裤"}),
        ("a white tee", {"color": "白色", "product_type": "T恤"}),
        ("sneakers for men", {"product_type": "运动鞋", "gender": "男"}),
        ("women's down jacket", {"gender": "女", "product_type": "羽绒服"}),
        ("红的", {"color": "红色"}),
        ("白衬衫", {"color": "白色", "product_type": "衬衫"}),
        ("小白鞋", {"product_type": "运动鞋", "color": "白色"}),
        ("蓝牙耳机", {"product_type": "耳机"}),
        ("Lumora的衬衫", {"brand": "Lumora", "product_type": "衬衫"}),
        ("is the Jichuan any good", {"brand": "极川"}),
        ("商务风的包", {"style": "商务", "category": "箱包"}),
        ("商务场合", {"occasion": "商务"}),
        ("送女朋友", {"recipient": "女朋友", "gender": "女"}),
        ("gift for my wife", {"recipient": "老婆", "gender": "女"}),
        ("送爷爷", {"recipient": "爷爷", "gender": "男", "age_group": "老人"}),
        ("宝宝用的奶瓶", {"age_group": "婴儿", "product_type": "奶瓶"}),
        ("for elderly people", {"age_group": "老人"}),
        ("六岁的孩子", {"age_group": "儿童"}),
        ("42码的跑鞋", {"size": "42", "product_type": "跑步鞋"}),
        ("L码卫衣", {"size": "L", "product_type": "卫衣"}),
        ("size M hoodie", {"size": "M", "product_type": "卫衣"}),
        ("do you have it in XL", {"size": "XL"}),
        ("夏天穿的亚麻衬衫", {"season": "夏季", "material": "亚麻", "product_type": "衬衫"}),
    ],
)
def test_lexicon_in_both_languages(extract, text, expected):
    slots = extract(text).slots
    slots.pop("attribute_asked", None)
    assert slots == expected


def test_word_boundaries_and_blockers(extract):
    assert extract("women's shoes").slots == {"gender": "女", "category": "鞋靴"}  # "men" is not in "women"
    assert extract("a t-shirt").slots == {"product_type": "T恤"}  # not 衬衫 for "shirt"
    assert extract("包邮吗").slots == {}  # 包邮 is free shipping, not a bag
    assert extract("我皮肤干").slots == {}  # 皮肤 is skin, not leather
    assert extract("推荐个蓝牙音箱").slots == {"unknown_product": "音箱"}  # 蓝牙 is not blue; speakers are not sold


def test_lexicon_from_a_custom_catalog_only_knows_its_values():
    items = [
        Item(id="a1", title="碎花连衣裙", category=["服装", "连衣裙"], brand="小满", attributes={"color": "黄色"}),
        Item(id="a2", title="帆布包", category=["箱包", "托特包"], brand="小满", attributes={"material": "帆布"}),
    ]
    lexicon = Lexicon.from_catalog(items, extra={"tote bag": [("product_type", "托特包")]})
    assert lexicon.lookup("dress") == (("product_type", "连衣裙"),)  # synonym of a value the catalog has
    assert lexicon.lookup("sneakers") == ()  # 运动鞋 is not in this catalog
    assert lexicon.lookup("小白鞋") == ()
    assert lexicon.lookup("送女朋友"[1:]) == (("recipient", "女朋友"), ("gender", "女"))  # people words always
    assert lexicon.lookup("小满") == (("brand", "小满"),)
    assert lexicon.lookup("tote bag") == (("product_type", "托特包"),)
    assert lexicon.values("product_type") >= {"连衣裙", "托特包"}
    got = SlotExtractor(lexicon).extract("小满的黄色裙子，不要帆布的")
    assert got.slots == {"brand": "小满", "color": "黄色", "product_type": "连衣裙"}
    assert got.negated == {"material": ["帆布"]}
