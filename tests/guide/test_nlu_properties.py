"""Property-based tests of the guide's text normaliser and price/budget parser: any text is read without an
exception into a sane range, and amounts written in digits or Chinese numerals come back exactly.
Examples are derandomised (the same on every run); nothing depends on the machine's speed."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from shopguide.guide.nlu import extract_price, normalize_text, parse_chinese_number
from shopguide.guide.nlu.normalize import basic_normalize
from shopguide.guide.nlu.prices import AROUND, MAX_AMOUNT

PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)

#: Pieces of shopper language around amounts, so random text often reaches the parsers' corners.
PIECES = ["预算", "以内", "以下", "以上", "左右", "到", "-", "~", "元", "块", "块钱", "多", "出头", "来块", "几百",
          "小几百", "万", "千", "百", "十", "两", "三", "五", "零", "k", "w", "$", "¥", "under ", "around ",
          "between ", " and ", "at least ", "three hundred", "a couple hundred", "grand", "0", "1", "5", "9",
          "99999999999999999999", "9" * 400, ".", ".5", " ", "，", "Ｍ码", "１２３", "\u3000", "İ", "ß"]  # fmt: skip
shopper_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=25).map("".join),
)


def chinese(n: int) -> str:
    """``n`` (1 .. 99,999,999) in standard Chinese numerals: 105 -> 一百零五, 20010 -> 二万零一十."""
    digits = "零一二三四五六七八九"

    def below_10000(x: int) -> str:
        out, pending_zero = "", False
        for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = x // value % 10
            if d == 0:
                pending_zero = bool(out)
                continue
            out += ("零" if pending_zero else "") + digits[d] + unit
            pending_zero = False
        return out

    high, low = divmod(n, 10_000)
    if not high:
        return below_10000(low)
    text = below_10000(high) + "万"
    if low:
        text += ("零" if low < 1000 else "") + below_10000(low)
    return text


def test_the_reference_numerals() -> None:
    assert [chinese(n) for n in (5, 15, 105, 1500, 20010, 30_050, 10_000_000)] == [
        "五", "一十五", "一百零五", "一千五百", "二万零一十", "三万零五十", "一千万",
    ]  # fmt: skip


@PROPS
@given(text=shopper_text)
def test_any_text_normalises_and_parses_to_a_sane_range(text: str) -> None:
    norm = normalize_text(text)
    assert isinstance(norm, str)
    price = extract_price(norm)
    for bound in (price.min, price.max):
        assert bound is None or (math.isfinite(bound) and 0 < bound <= MAX_AMOUNT * 1.25)
    if price.min is not None and price.max is not None:
        assert price.min <= price.max
    assert all(0 <= start < end <= len(norm) for start, end in price.spans)


@PROPS
@given(text=shopper_text)
def test_basic_normalisation_is_idempotent_and_collapses_whitespace(text: str) -> None:
    once = basic_normalize(text)
    assert basic_normalize(once) == once
    assert once == once.strip() and "  " not in once and "\n" not in once


amounts = st.integers(1, 10**8)


@PROPS
@given(n=amounts, unit=st.sampled_from(["元", "块", ""]), cap=st.sampled_from(["以内", "以下", "之内"]))
def test_a_cap_in_digits_comes_back(n: int, unit: str, cap: str) -> None:
    price = extract_price(normalize_text(f"{n}{unit}{cap}"))
    assert (price.min, price.max) == (None, float(n))


@PROPS
@given(n=amounts)
def test_a_floor_and_an_approximate_amount_come_back(n: int) -> None:
    floor = extract_price(normalize_text(f"{n}元以上"))
    assert (floor.min, floor.max) == (float(n), None)
    about = extract_price(normalize_text(f"{n}左右"))
    assert (about.min, about.max) == (round(n * (1 - AROUND), 2), round(n * (1 + AROUND), 2))


@PROPS
@given(a=amounts, b=amounts, sep=st.sampled_from(["到", "-", "~", "至"]))
def test_a_range_comes_back_in_order(a: int, b: int, sep: str) -> None:
    price = extract_price(normalize_text(f"{a}{sep}{b}元"))
    assert (price.min, price.max) == (float(min(a, b)), float(max(a, b)))


@PROPS
@given(n=st.integers(1, 10**8 - 1))  # 亿 (10^8) is past the reference writer
def test_chinese_numerals_round_trip(n: int) -> None:
    text = chinese(n)
    assert parse_chinese_number(text) == n
    assert normalize_text(f"{text}元以内") == f"{n}元以内"
    assert extract_price(normalize_text(f"预算{text}块以内")).max == float(n)


@PROPS
@given(digits=st.integers(20, 400))
def test_digit_runs_too_long_for_a_price_are_not_prices(digits: int) -> None:
    for text in ("9" * digits + "元以内", "9" * digits + "万", "1" + "0" * digits + "k左右", "9" * digits + "多块"):
        assert extract_price(normalize_text(text)).empty
