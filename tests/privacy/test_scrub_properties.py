"""Properties of the scrubber on generated text: it never raises, is idempotent, its spans are well formed,
generated phone / ID / card numbers embedded in random text never survive it, and text with no digits, no ``@``
and no cue word comes back unchanged."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shopguide.privacy import find_pii, scrub
from shopguide.privacy.numbers import _ID_CHECK, _ID_WEIGHTS, luhn_ok
from shopguide.privacy.scrub import PII_TYPES

SETTINGS = settings(derandomize=True, max_examples=300, deadline=None)

# Fragments of shopper / customer-service talk, so that generated text meets the rules and their edges.
FRAGMENTS = [
    "我电话", "手机", "收件人", "联系人：", "我叫", "我是", "本人", "姓名", "地址：", "住在", "寄到", "订单号", "单号",
    "张", "王", "欧阳", "李娜", "先生", "女士", "北京市", "朝阳区", "中山路", "88号", "3栋", "2单元", "501室", "小区",
    "，", "。", " ", "-", "#", "(", ")", "@", ".", ":", "+86", "138", "1234", "5678", "010", "400", "0571",
    "4111", "1111", "62", "110101", "19900307", "4514", "X", "qq.com", "a.b", "order", "my name is", "I'm",
    "this is", "Mr.", "ship to", "my address is", "Street", "Road", "Apt", "John", "Smith", "Emma", "Oak", "12",
    "looking", "for", "的", "了", "买", "码", "元", "iPhone", "15", "[电话]", "[name]",
]  # fmt: skip
TALK = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=14).map("".join)

# Text with no digit, no "@" and (checked below) no cue word: Han, Latin letters, punctuation, spaces.
PLAIN = st.text(
    alphabet=st.sampled_from(
        "我们想买一双红色运动鞋质量很好吗谢谢客服请问有没货快递明天到abcdefghijklmnoXYZ ,.!?，。？！'"
    ),
    max_size=40,
)
CUES = (
    "电话", "手机", "座机", "号码", "联系", "收件", "收货", "寄件", "姓名", "名字", "我叫", "我是", "本人", "机主", "户主",
    "地址", "住", "寄", "送到", "发到", "先生", "女士", "小姐", "经理", "i'm", "i am", "this is", "name", "mr", "ms",
    "dr", "recipient", "addressee", "consignee", "contact", "address", "ship", "deliver", "send", "mail", "live at",
)  # fmt: skip

# Random surroundings for embedded numbers: no digits, no "+", "#" or "-" that could join the number, no order cue.
AROUND = st.text(alphabet=st.sampled_from("请联系我谢谢好的收到一下abcxyz ，。!?"), max_size=12)
SEP = st.sampled_from([" ", "，", "：", ": "])


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    digits = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    )
    shape = draw(st.sampled_from(["plain", "344", "dash", "+86"]))
    return {"plain": digits, "344": f"{digits[:3]} {digits[3:7]} {digits[7:]}",
            "dash": f"{digits[:3]}-{digits[3:7]}-{digits[7:]}", "+86": f"+86 {digits}"}[shape]  # fmt: skip


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["11", "31", "44", "51", "65"])) + f"{draw(st.integers(0, 9999)):04d}"
    birth = draw(st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2020, 12, 31)))
    body = region + birth.strftime("%Y%m%d") + f"{draw(st.integers(0, 999)):03d}"
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + (check.lower() if draw(st.booleans()) else check)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(ISSUERS))
    rest = draw(
        st.lists(st.sampled_from("0123456789"), min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    body = prefix + "".join(rest)
    number = body + next(d for d in "0123456789" if luhn_ok(body + d))
    if length == 16 and draw(st.booleans()):
        return " ".join(number[k : k + 4] for k in range(0, 16, 4))
    return number


ISSUERS = [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
           ("62", 16), ("62", 19), ("6011", 16), ("35", 16), ("36", 14)]  # fmt: skip


@SETTINGS
@given(st.text(max_size=200))
def test_never_raises_on_arbitrary_text_and_spans_are_well_formed(text: str) -> None:
    check_spans(text)
    scrub(text)


@SETTINGS
@given(TALK)
def test_spans_are_sorted_non_overlapping_and_inside_the_text(text: str) -> None:
    check_spans(text)


def check_spans(text: str) -> None:
    spans = find_pii(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text) and span.type in PII_TYPES
    for left, right in itertools.pairwise(spans):
        assert left.end <= right.start


@SETTINGS
@given(st.one_of(TALK, st.text(max_size=80)), st.sampled_from([None, "zh", "en"]))
def test_scrub_is_idempotent(text: str, lang: str | None) -> None:
    once = scrub(text, lang)
    assert scrub(once, lang) == once


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith13812345678",  # a label next to digits must not create (or hide) a number
        "I am Bob4111111111111111",
        "this is John Smith13812345678 ok",
        "我是李娜北京市朝阳区建国路88号",  # a name that ends where an address starts
        "收件人张三北京市朝阳区建国路88号3栋",
        "我电话 13812345678 88886666",
        "订单号 202611281234567 13812345678",
        "地址：[地址]，电话[电话]，I'm [name]",  # already scrubbed text
    ],
)
def test_scrub_is_idempotent_on_known_edges(text: str) -> None:
    once = scrub(text)
    assert scrub(once) == once


@SETTINGS
@given(AROUND, SEP, st.one_of(mobiles(), resident_ids(), card_numbers()), SEP, AROUND)
def test_generated_numbers_never_survive(before: str, sep1: str, number: str, sep2: str, after: str) -> None:
    out = scrub(before + sep1 + number + sep2 + after)
    assert number not in out
    assert re.sub(r"\D", "", number) not in re.sub(r"\D", "", out)


@SETTINGS
@given(PLAIN)
def test_text_without_digits_at_signs_or_cues_is_unchanged(text: str) -> None:
    assume(not any(cue in text.lower() for cue in CUES))
    assert find_pii(text) == [] and scrub(text) == text
