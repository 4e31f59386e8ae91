"""Normalisation, Chinese numerals, price ranges and language detection."""

from __future__ import annotations

import pytest

from shopguide.guide.nlu import detect_language, extract_price, normalize_text, parse_chinese_number


@pytest.mark.parametrize(
    ("text", "value"),
    [("两百", 200), ("一千五", 1500), ("三千五百", 3500), ("两万", 20000), ("两万五", 25000), ("一百零五", 105),
     ("十五", 15), ("一百五十", 150), ("十万", 100000)],
)  # fmt: skip
def test_chinese_numbers(text, value):
    assert parse_chinese_number(text) == value


def test_words_that_contain_numerals_are_not_numbers():
    assert parse_chinese_number("百搭") is None
    for word in ("推荐一下", "便宜一点", "第二个", "这两款", "百搭", "万向轮", "三合一", "四件套", "一年四季"):
        assert normalize_text(word) == word


@pytest.mark.parametrize(
    ("text", "normalized"),
    [("1k", "1000"), ("1.5k左右", "1500左右"), ("2w", "20000"), ("两万", "20000"), ("5百", "500"),
     ("1千5", "1500"), ("五百块以内", "500块以内"), ("两三百的", "200-300的"), ("百元以内", "100元以内"),
     ("５００元以内", "500元以内"), ("ＸＬ码", "xl码"), ("六岁男孩", "6岁男孩"),
     ("18k金项链", "18k金项链"), ("65w充电器", "65w充电器"), ("一块手表", "一块手表")],
)  # fmt: skip
def test_normalize_text(text, normalized):
    assert normalize_text(text) == normalized


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("两百以内的耳机", None, 200),
        ("五百块以内", None, 500),
        ("500块以下", None, 500),
        ("不超过一千", None, 1000),
        ("预算1500", None, 1500),
        ("under $50", None, 50),
        ("less than 100 yuan", None, 100),
        ("nothing over 500", None, 500),
        ("300以上", 300, None),
        ("不低于300", 300, None),
        ("at least 300", 300, None),
        ("500左右", 400, 600),
        ("around 500", 400, 600),
        ("1k左右", 800, 1200),
        ("200到500", 200, 500),
        ("200-500的蓝牙耳机", 200, 500),
        ("between 200 and 500", 200, 500),
        ("两三百的", 200, 300),
        ("５００以内", None, 500),
        ("300块的耳机", 240, 360),
    ],
)
def test_price_ranges(text, low, high):
    price = extract_price(normalize_text(text))
    assert (price.min, price.max) == (low, high)


@pytest.mark.parametrize("text", ["42码的鞋", "订单号123456", "满300减50", "身高170体重130斤", "3-4人帐篷", "size 38"])
def test_numbers_that_are_not_prices(text):
    assert extract_price(normalize_text(text)).empty


@pytest.mark.parametrize(
    ("text", "lang"),
    [("你好", "zh"), ("有没有好看的裙子推荐一下", "zh"), ("hello", "en"), ("got any cheap running shoes?", "en"),
     ("Lumora的衬衫", "zh"), ("这个iphone case多少钱", "zh"), ("I want a 旗袍", "en"), ("ＨＥＬＬＯ", "en")],
)  # fmt: skip
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_language_of_a_message_without_letters_is_the_default():
    assert detect_language("500") == "zh"
    assert detect_language("👍", default="en") == "en"
