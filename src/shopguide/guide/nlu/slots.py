"""Slot extraction: lexicon hits, prices, sizes, ages, references, negation, refinements, asked attributes.

``SlotExtractor(lexicon).extract("不要红色的连衣裙，500以内")`` ->
``slots={"product_type": "连衣裙", "price_max": 500.0}, negated={"color": ["红色"]}``.

Values are canonical catalog values. A slot with several values ("真皮和PU皮") holds a list; ``reference``
is always a list of 1-based card positions (-1 = the last card). Negation: a value inside the clause
that follows a cue (不要 / 别 / 除了 / not / no / without / except) goes to ``negated`` instead of
``slots``; a product word there is negated only when it comes first ("不要连衣裙"), so "不要红色的连衣裙"
still looks for dresses. People (recipient, gender, age group) are never negated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shopguide.guide.nlu import cues
from shopguide.guide.nlu.lexicon import PRODUCT_SLOTS, Lexicon, Match
from shopguide.guide.nlu.normalize import normalize_text
from shopguide.guide.nlu.prices import extract_price

#: Slots whose values a shopper can rule out.
NEGATABLE = frozenset({"color", "material", "brand", "style", "season", "occasion", "size", *PRODUCT_SLOTS,
                       "unknown_product", "unknown_brand"})  # fmt: skip
#: Slots that name WHAT is wanted (a scope holding only these negates them; next to an attribute they stay wanted).
WHAT_SLOTS = frozenset({*PRODUCT_SLOTS, "unknown_product"})

_SIZE_PATTERNS: list[tuple[re.Pattern[str], dict[str, str] | None]] = [
    (re.compile(r"(?<![\d.])(\d{2}(?:\.5)?)\s*(?:码|号)"), None),
    (re.compile(r"(?<![a-z])(xxxl|xxl|xl|xs|[2-4]xl|s|m|l)\s*(?:码|号)"), None),
    (re.compile(r"\bsize\s+(xxxl|xxl|xl|xs|s|m|l|\d{2}(?:\.5)?)\b"), None),
    (re.compile(r"\b(?:size|in)\s+(?:a\s+|an\s+)?(small|medium|large|x-large)\b"),
     {"small": "S", "medium": "M", "large": "L", "x-large": "XL"}),
    (re.compile(r"\b(xxxl|xxl|xl|xs|[2-4]xl)\b"), None),
    (re.compile(r"(均码|\bone size\b)"), {"均码": "均码", "one size": "均码"}),
    (re.compile(r"(?<![\d.])(\d{2,4}\s*(?:gb|tb))\b"), None),
]  # fmt: skip
_AGE = re.compile(r"(?<![\d.])(\d{1,2})\s*(?:岁|周岁|-?\s*years?[- ]old\b|yo\b)")
_AGE_BINS = ((3, "婴儿"), (13, "儿童"), (18, "青少年"), (36, "青年"), (60, "中年"), (200, "老人"))


def age_group(age: int) -> str:
    """The age group of an age in years (婴儿 under 3, 儿童 under 13, ... 老人 from 60)."""
    return next(group for limit, group in _AGE_BINS if age < limit)


@dataclass
class SlotReading:
    """What :meth:`SlotExtractor.extract` found: slots, negated values, and the normalised text it read."""

    normalized: str
    slots: dict[str, Any] = field(default_factory=dict)
    negated: dict[str, list[str]] = field(default_factory=dict)
    matches: list[Match] = field(default_factory=list)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _put(target: dict[str, list[Any]], slot: str, value: Any) -> None:
    values = target.setdefault(slot, [])
    if value not in values:
        values.append(value)


class SlotExtractor:
    """Reads slots from one message with a :class:`~.lexicon.Lexicon`."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def extract(self, text: str, *, normalized: bool = False) -> SlotReading:
        """Slots and negated values of ``text`` (normalised first unless ``normalized``)."""
        norm = text if normalized else normalize_text(text)
        found: dict[str, list[Any]] = {}
        negated: dict[str, list[Any]] = {}

        price = extract_price(norm)
        if price.min is not None:
            found["price_min"] = [price.min]
        if price.max is not None:
            found["price_max"] = [price.max]
        refs, ref_spans = cues.find_references(norm)
        masked = _mask(norm, price.spans + ref_spans)

        scopes = cues.negation_scopes(norm)

        def scope_of(pos: int) -> tuple[int, int] | None:
            return next((s for s in scopes if s[0] <= pos < s[1]), None)

        size_spans: list[tuple[int, int]] = []
        for pattern, mapping in _SIZE_PATTERNS:
            for m in pattern.finditer(masked):
                if any(m.start() < e and m.end() > s for s, e in size_spans):
                    continue
                raw = m.group(1)
                value = mapping[raw] if mapping else raw.replace(" ", "").upper()
                size_spans.append((m.start(), m.end()))
                _put(negated if scope_of(m.start()) else found, "size", value)
        masked = _mask(masked, size_spans)
        for m in _AGE.finditer(masked):
            _put(found, "age_group", age_group(int(m.group(1))))

        matches = self.lexicon.match(masked)
        # In a negation scope, attributes are ruled out and a product word next to them stays wanted
        # ("不要红色的连衣裙"); a scope that names only products rules the products out ("奶茶喝腻了", "no more tents").
        has_attribute: dict[tuple[int, int], bool] = {}
        for match in matches:
            scope = scope_of(match.start)
            if scope is not None and any(s in NEGATABLE and s not in WHAT_SLOTS for s, _ in match.pairs):
                has_attribute[scope] = True
        for match in matches:
            scope = scope_of(match.start)
            for slot, value in match.pairs:
                negate = (
                    scope is not None
                    and slot in NEGATABLE
                    and (slot not in WHAT_SLOTS or not has_attribute.get(scope, False))
                )
                _put(negated if negate else found, slot, value)

        if refs:
            found["reference"] = [refs]
        sort = cues.find_sort(_mask(norm, ref_spans))
        if sort:
            found["sort"] = [sort]
        changes = cues.find_changes(norm)
        if changes:
            found["attribute_change"] = changes
        asked = cues.find_asked(masked)
        if asked:
            found["attribute_asked"] = asked

        for slot, values in negated.items():  # a value both wanted and ruled out is ruled out
            if slot in found:
                found[slot] = [v for v in found[slot] if v not in values]
        slots = {slot: values[0] if len(values) == 1 else values for slot, values in found.items() if values}
        return SlotReading(norm, slots, {slot: list(values) for slot, values in negated.items()}, matches)

    def infer_asked(self, reading: SlotReading) -> list[str]:
        """For a question with no explicit attribute word: the attribute it names a value of.

        "是纯棉的吗" / "is it real leather?" -> material, "有白色的吗" -> color, "do you have it in XL" ->
        size; "is size 38 available" -> stock, but "is it available in pink" -> color.
        """
        named = [slot for slot in ("material", "color", "size") if slot in reading.slots or slot in reading.negated]
        weak = cues.find_asked(reading.normalized, weak=True)
        if weak and " available in " not in f" {reading.normalized} ":
            return weak
        return named[:1] or weak
