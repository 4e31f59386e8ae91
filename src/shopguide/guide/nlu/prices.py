"""Price ranges in shopper language, read from text that :func:`~.normalize.normalize_text` has normalised.

=====================================================  =====================================
"500以内", "500块以下", "不超过500", "under $50",        ``max``
"less than 100", "预算500", "nothing over 500"
"300以上", "不低于300", "at least 300", "300+"          ``min``
"500左右", "around 500", "大概500", "500ish"            ``min``/``max`` = amount ± 20 %
"200到500", "200-500", "between 200 and 500",          ``min`` and ``max``
"两三百" (normalised to 200-300)
"300块的", "$50", "50 bucks" (an amount with a currency  amount ± 20 %
marker and nothing else)
"三百出头", "300 or a bit more"                          300 - 360
"百来块", "千把块", "一千来块"                             amount - 20 % / + 25 %
"一百多", "两百多块" (normalised to 100多 / 200多)         100 - 199 / 200 - 299
"几十块", "几百", "小几百", "大几百", "几千",             10-99, 100-999, 100-500, 500-999,
"a few hundred"                                        1000-9999, 200-500
=====================================================  =====================================

Every amount is taken to be CNY, whatever the currency sign: the catalog is priced in CNY and the guide
does not convert currencies (a shopper typing "$50" in the demo means "about 50 on this site"). Numbers
without a currency marker or a price word (sizes, order numbers, heights) are never prices, and neither are
amounts above :data:`MAX_AMOUNT` (a run of digits too long to be a budget): the expression is ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from shopguide.data.schema import MAX_PRICE

AROUND = 0.2  # "around X" means X ± 20 %
#: The largest amount read as a price: the catalog's own limit.
MAX_AMOUNT = MAX_PRICE

_CUR_PRE = r"(?:[¥$￥]\s*|rmb\s*|cny\s*)?"
_CUR_POST = r"(?:\s*(?:块钱|块|元|rmb|cny|yuan|bucks|dollars|usd|刀|quid))?"
_NUM = r"(\d+(?:\.\d+)?)"
_AMT = _CUR_PRE + _NUM + _CUR_POST
#: What may not follow a number for it to be a price: units of size, weight, volume, people, age...
_NOT_PRICE = r"(?!\s*(?:码|号|人|岁|斤|cm|mm|m\b|g\b|kg|ml|l\b|寸|英寸|gb|tb|mah|w\b|年|月|天|个|件|双|%|x\b|\d))"
_AMT_END = _AMT + _NOT_PRICE

_RANGE = [
    re.compile(r"(?:between|from)\s+" + _AMT + r"\s*(?:and|to|-)\s*" + _AMT_END),
    re.compile(_AMT + r"\s*(?:到|至|-|~|—|–|to)\s*" + _AMT_END + r"(?:\s*(?:之间|区间|范围))?"),
]
_AROUND = [
    re.compile(r"(?:around|about|approximately|approx\.?|roughly|circa|~|大概|大约|差不多|约)\s*" + _AMT_END),
    re.compile(
        r"(?:budget|预算)\s*(?:is|of|'s|在|是|为)?\s*(?:around|about|roughly|大概|大约)?\s*"
        + _AMT
        + r"\s*(?:左右|上下|ish|or so)"
    ),
    re.compile(_AMT + r"\s*(?:左右|上下|差不多|-?ish\b|or so)"),
]
_MAX = [
    re.compile(
        r"(?<!不)(?<!不能)(?<!别)(?:under|below|less than|lower than|cheaper than|no more than|not more than|not over|nothing over|"
        r"no higher than|at most|max(?:imum)?|up to|within|budget(?:\s+(?:is|of))?|budget's|my budget is|"
        r"不超过|不高于|不要超过|别超过|不能超过|别超|不超|低于|少于|小于|不到|最多|最高|控制在|预算(?:在|是|为|只有)?)\s*"
        + _AMT_END
    ),
    re.compile(_AMT + r"\s*(?:以内|以下|之内|内|封顶|or less|or under|and under|max|tops)"),
]
#: A cap said loosely ("under 300 or so", "500以内左右"): the cap with the same give as "around", no floor.
_SOFT_MAX = [
    re.compile(
        r"(?:under|below|less than|no more than|not more than|up to|within|max(?:imum)?|不超过|别超过|不要超过)\s*"
        + _AMT
        + r"\s*(?:or so|ish|-ish|左右|上下)"
    ),
    re.compile(_AMT + r"\s*(?:以内|以下|之内)\s*(?:左右|上下)"),
]
_MIN = [
    re.compile(
        r"(?<![不别])(?:over|above|more than|at least|min(?:imum)?|starting (?:at|from)|不低于|不少于|不能低于|不能少于|别低于|"
        r"起码|高于|大于|超过|至少|最少|最低)\s*" + _AMT_END
    ),
    re.compile(_AMT + r"\s*(?:以上|起|\+|or more|and up|and above|plus)"),
]
#: Colloquial amounts (normalised text): X出头 / X来块 / X把块 / X多, and the vague 几十 / 几百 / 小几百 ...
_MONEY_AFTER = r"(?=\s*(?:块|元|rmb|的|左右|以内|吧|呢|啊|[,.!?，。！？~]|$))"
_NOT_COUNT = r"(?!\s*(?:个|件|人|斤|克|g\b|次|天|年|月|岁|条|双|款|位|单|%))"
_COLLOQUIAL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<![\d.])(\d+)\s*出头"), "over"),
    (re.compile(r"(?<![\d.])(\d+)\s*(?:来|把)\s*(?:块|元)"), "about"),
    (re.compile(r"(?<![\d.])(?:(百)|(千))\s*(?:来|把)\s*(?:块|元)?"), "about_unit"),
    (re.compile(r"(?<![\d.])(\d+)\s*多(?:块|元)?" + _NOT_COUNT + _MONEY_AFTER), "more"),
]
_VAGUE: list[tuple[re.Pattern[str], float, float]] = [
    (re.compile(r"小几百"), 100, 500),
    (re.compile(r"大几百"), 500, 999),
    (re.compile(r"大几千"), 5000, 9999),
    (re.compile(r"小几千"), 1000, 5000),
    (re.compile(r"几十(?:块|元)"), 10, 99),
    (re.compile(r"(?<![小大])几百(?:块|元)?"), 100, 999),
    (re.compile(r"(?<![小大])几千(?:块|元)?"), 1000, 9999),
    (re.compile(r"\b(?:a )?few 100\b"), 200, 500),
    (re.compile(r"\bunder 100s?\b"), 0, 100),
]


def _colloquial(text: str, out: PriceRange) -> None:
    for pattern, kind in _COLLOQUIAL:
        for m in pattern.finditer(text):
            if not _free(out.spans, m.start(), m.end()):
                continue
            value = (100.0 if m.group(1) else 1000.0) if kind == "about_unit" else float(m.group(1))
            if not _plausible(value):
                continue
            if kind == "over":
                out.min, out.max = value, round(value * 1.2, 2)
            elif kind in ("about", "about_unit"):
                out.min, out.max = round(value * 0.8, 2), round(value * 1.25, 2)
            else:  # 100多 = 100-199, 50多 = 50-59, 2000多 = 2000-2999
                step = 10 ** (len(str(int(value))) - 1)
                out.min, out.max = value, value + step - 1
            out.spans.append((m.start(), m.end()))
    for pattern, low, high in _VAGUE:
        for m in pattern.finditer(text):
            if _free(out.spans, m.start(), m.end()):
                out.min, out.max = (float(low) or None), float(high)
                out.spans.append((m.start(), m.end()))


_BARE = re.compile(r"(?:[¥$￥]\s*" + _NUM + r"|" + _NUM + r"\s*(?:块钱|块|元|rmb|yuan|bucks|dollars|刀))")


@dataclass
class PriceRange:
    """``min`` / ``max`` in CNY (None = open) and the character spans the expressions covered."""

    min: float | None = None
    max: float | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.min is None and self.max is None


def _free(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in spans)


def _numbers(match: re.Match[str]) -> list[float]:
    return [float(g) for g in match.groups() if g is not None]


def _plausible(value: float) -> bool:
    """A positive, finite amount no larger than MAX_AMOUNT."""
    return math.isfinite(value) and 0 < value <= MAX_AMOUNT


def extract_price(text: str) -> PriceRange:
    """The price range a normalised message asks for (see the module docstring)."""
    out = PriceRange()
    _colloquial(text, out)
    for kind, patterns in (
        ("range", _RANGE),
        ("soft_max", _SOFT_MAX),
        ("around", _AROUND),
        ("max", _MAX),
        ("min", _MIN),
    ):
        for pattern in patterns:
            for m in pattern.finditer(text):
                if not _free(out.spans, m.start(), m.end()):
                    continue
                values = _numbers(m)
                if not values or values[0] <= 0 or not all(math.isfinite(v) and v <= MAX_AMOUNT for v in values):
                    continue
                if kind == "range":
                    low, high = sorted(values[:2])
                    out.min, out.max = low, high
                elif kind == "soft_max":  # "under 300 or so": a cap with some give, no floor
                    out.max = round(values[0] * (1 + AROUND), 2)
                elif kind == "around":
                    out.min, out.max = round(values[0] * (1 - AROUND), 2), round(values[0] * (1 + AROUND), 2)
                elif kind == "max":
                    out.max = values[0]
                else:
                    out.min = values[0]
                out.spans.append((m.start(), m.end()))
    for m in _BARE.finditer(text):
        if out.empty and _free(out.spans, m.start(), m.end()):
            value = _numbers(m)[0]
            if not _plausible(value):
                continue
            out.min, out.max = round(value * (1 - AROUND), 2), round(value * (1 + AROUND), 2)
            out.spans.append((m.start(), m.end()))
    if out.min is not None and out.max is not None and out.min > out.max:
        out.min, out.max = out.max, out.min
    return out
