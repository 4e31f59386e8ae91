"""Text normalisation for the NLU: NFKC, lower case, Chinese numerals and magnitude suffixes as digits.

``normalize_text("预算两百块以内，Ｍ码")`` -> ``"预算200块以内,m码"``. Conversions, all of them conservative
so that words which merely contain a numeral character stay intact (百搭, 一下, 一点, 第二个, 万向轮):

* a run of Chinese numerals is converted when it contains a unit (十 百 千 万: 两百 -> 200, 一千五 -> 1500,
  三千五百 -> 3500, 两万 -> 20000, 十一 -> 11) or when a money / range / age word follows it (五块 -> 5块,
  六岁 -> 6岁);
* two adjacent numerals before a unit are a range: 两三百 -> 200-300, 一两千 -> 1000-2000;
* digits with a magnitude: 5百 -> 500, 1千5 -> 1500, 3万 -> 30000, 1.5万 -> 15000, 1k -> 1000, 2w -> 20000,
  1.5k -> 1500 (not 18k金 / 18k gold, and not 65w when it is a charger's wattage); a magnitude written once after
  a range applies to both ends (2-3k -> 2000-3000, 2到3千 -> 2000到3000);
* vague amounts stay words so that :mod:`.prices` can read them as ranges: 几十 / 几百 / 小几百 are not converted;
* English number words: "three hundred" -> 300, "a hundred" -> 100, "fifty" -> 50, "two grand" -> 2000,
  "a couple hundred" -> 200 (only runs with a number word; "one" alone is left alone: "the blue one").

A small hand-written parser is used rather than ``cn2an``: the hard part is deciding *which* runs are
numbers in shopper language, which a general converter does not do, and it keeps the NLU free of extra
dependencies.
"""

from __future__ import annotations

import math
import re
import unicodedata

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
#: Words after which a bare Chinese numeral is a number (money, ranges, ages).
_NUMBER_FOLLOWS = re.compile(
    r"\s*(块(?:钱|以内|以下|以上|左右|的|[,，。.!?？~\s]|$)|元|毛钱|岁|以内|以下|以上|左右|上下|到|至|多块)"
)
_UNIT_START = re.compile(r"(?<![零〇一二两三四五六七八九十百千万\d])(百|千|万)(元|块)")
_MAG_DIGITS = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(百|千|万)(\d)?(?![\d万千百])")
_MAG_LATIN = re.compile(
    r"(?<![a-z0-9.])(\d{1,3}(?:\.\d+)?)\s*(k|w)(?![a-z])(?!\s*(?:金|gold|快充|充电|闪充|功率|charger|fast|watt))"
)


def parse_chinese_number(text: str) -> float | None:
    """The value of a run of Chinese numerals (两百 -> 200, 一千五 -> 1500, 一百零五 -> 105); None if not one."""
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    total = section = current = last_unit = 0
    zero_seen = False
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
            zero_seen = zero_seen or current == 0
            continue
        unit = _UNITS[ch]
        if unit == 10000:
            if section + current == 0:
                return None
            total += (section + current) * unit
            section = 0
        else:
            if current == 0:
                if unit != 10:
                    return None  # 百 / 千 with nothing before it is a word (百搭), not a number
                current = 1  # 十五 = 15
            section += current * unit
        current, last_unit, zero_seen = 0, unit, False
    if current and last_unit >= 100 and not zero_seen and len(text) >= 2 and text[-2] in _UNITS:
        current *= last_unit // 10  # colloquial tail: 一千五 = 1500, 两万五 = 25000, 三百五 = 350
    return float(total + section + current)


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _convert_run(match: re.Match[str], text: str) -> str:
    run = match.group(0)
    if match.start() > 0 and text[match.start() - 1] == "几":
        return run  # 几十 / 几百: a vague amount, read by prices.py
    follows = _NUMBER_FOLLOWS.match(text, match.end()) is not None
    # 两三百 / 一两千 / 五六十: two adjacent numerals before a unit are a range
    if len(run) == 3 and run[0] in _DIGITS and run[1] in _DIGITS and run[2] in _UNITS:
        low, high = _DIGITS[run[0]], _DIGITS[run[1]]
        if high == low + 1:
            unit = _UNITS[run[2]]
            return f"{_fmt(low * unit)}-{_fmt(high * unit)}"
    has_unit = any(ch in _UNITS for ch in run)
    starts_as_number = run[0] in _DIGITS or run[0] == "十"
    if not starts_as_number or not (has_unit or follows):
        return run
    value = parse_chinese_number(run)
    return run if value is None else _fmt(value)


#: A range whose magnitude is written once, after its upper end: "2-3k", "2到3千", "1.5~2万".
_SHARED_MAGNITUDE = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)(\s*(?:-|~|到|至|to)\s*)(\d+(?:\.\d+)?)\s*(k|w|千|万)(?![a-z])"
)


def _convert_magnitudes(text: str) -> str:
    def shared(m: re.Match[str]) -> str:
        low, high, unit = m.group(1), m.group(3), m.group(4)
        return f"{low}{unit}{m.group(2)}{high}{unit}" if float(low) < float(high) else m.group(0)

    def digits(m: re.Match[str]) -> str:
        value = float(m.group(1)) * _UNITS[m.group(2)]
        if m.group(3):
            value += int(m.group(3)) * _UNITS[m.group(2)] / 10
        return _fmt(value) if math.isfinite(value) else m.group(0)  # a run of digits too long for a float

    def latin(m: re.Match[str]) -> str:
        return _fmt(float(m.group(1)) * (1000 if m.group(2) == "k" else 10000))

    text = _SHARED_MAGNITUDE.sub(shared, text)
    text = _MAG_DIGITS.sub(digits, text)
    return _MAG_LATIN.sub(latin, text)


_EN_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
             "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}  # fmt: skip
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}  # fmt: skip
_EN_SCALE = {"hundred": 100, "thousand": 1000, "grand": 1000, "k": 1000}
_EN_WORD = "|".join([*_EN_UNITS, *_EN_TENS, "hundred", "thousand", "grand", "a", "an", "couple", "and"])
_EN_RUN = re.compile(r"\b(?:(?:" + _EN_WORD + r")[\s-]+)*(?:" + _EN_WORD + r")\b")


def _english_number(words: list[str]) -> int | None:
    """The value of number words ("three hundred and fifty" -> 350); None unless a real number word is there."""
    if not any(w in _EN_UNITS or w in _EN_TENS or w in _EN_SCALE for w in words):
        return None
    total = current = 0
    seen = False
    for w in words:
        if w in ("a", "an", "couple"):
            current = max(current, 2 if w == "couple" else 1)
        elif w in _EN_UNITS:
            current += _EN_UNITS[w]
            seen = True
        elif w in _EN_TENS:
            current += _EN_TENS[w]
            seen = True
        elif w in _EN_SCALE:
            scale = _EN_SCALE[w]
            current = max(current, 1) * scale
            if scale >= 1000:
                total, current = total + current, 0
            seen = True
    return total + current if seen else None


def _convert_english(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", m.group(0)) if w]
        # "one" / "a" alone are not amounts ("the blue one", "a dress"); a bare unit word needs a scale or money
        core = [w for w in words if w not in ("a", "an", "and", "couple")]
        if not core or (
            len(core) == 1
            and core[0] in _EN_UNITS
            and core[0] != "zero"
            and _EN_UNITS[core[0]] < 10
            and not re.match(r"\s*(?:bucks|dollars|yuan|rmb|quid|hundred|thousand)", text[m.end() :])
        ):
            return m.group(0)
        while words and words[-1] in ("a", "an", "and"):
            words.pop()
        value = _english_number(words)
        if value is None:
            return m.group(0)
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())]
        tail = " " if m.group(0).rstrip() != m.group(0) else ""
        return f"{lead}{value}{tail}"

    return _EN_RUN.sub(repl, text)


def convert_numerals(text: str) -> str:
    """Replace Chinese numerals, English number words and magnitude suffixes by digits (see the module docstring)."""
    text = _UNIT_START.sub(lambda m: {"百": "100", "千": "1000", "万": "10000"}[m.group(1)] + m.group(2), text)
    text = _CN_RUN.sub(lambda m: _convert_run(m, text), text)
    if text.isascii() or re.search(r"[a-z]{3}", text):
        text = _convert_english(text)
    return _convert_magnitudes(text)


def basic_normalize(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, collapsed whitespace; nothing else."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


#: Chat shorthand for "with" ("go w the black one", "w/ a case").
_WITH = re.compile(r"(?<![\w/])w/(?=\s|\w)|(?<![\w'])w(?= (?:the|a|an|my|that|this|those|these|it|them)\b)")


#: Money slang: "6 hunnit" (six hundred), "under a ton" (a hundred, British).
_SLANG = (
    (re.compile(r"\b(?:hunnit|hunnid|hunned|hundo|hunna)s?\b"), "hundred"),
    (re.compile(r"\b(under|below|less than|about|around|max|up to|within|for)\s+a\s+ton\b"), r"\1 100"),
)
_DIGIT_HUNDRED = re.compile(r"\b(\d+(?:\.\d+)?)\s*hundred\b")


def _money_slang(text: str) -> str:
    for pattern, repl in _SLANG:
        text = pattern.sub(repl, text)
    return _DIGIT_HUNDRED.sub(lambda m: f"{float(m.group(1)) * 100:g}", text)  # "6 hundred" -> 600


def normalize_text(text: str) -> str:
    """What the NLU reads: :func:`basic_normalize`, "w/" read as "with", money slang ("6 hunnit", "a ton") and
    :func:`convert_numerals`."""
    return convert_numerals(_money_slang(_WITH.sub("with", basic_normalize(text))))
