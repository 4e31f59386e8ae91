"""The NLU's lexicon: every surface form a shopper may type, mapped to (slot, canonical catalog value).

Built from the catalog itself (category paths, brands, attribute values), the demo vocabulary's English
names (``CATEGORY_NAMES``, ``BRAND_NAMES``, ``ATTRIBUTE_VALUES``), the hand-written synonyms of
:mod:`.synonyms` and the gazetteer of products and brands the shop does not sell (:mod:`.gazetteer`: they
become ``unknown_product`` / ``unknown_brand`` so the guide can say so). A synonym is only added when its
canonical value exists in the catalog, so a shop without dresses never hears "dress".

Extraction is greedy longest-match, left to right, on normalised text, **on word boundaries**: an ASCII
surface must sit between non-alphanumerics ("men" is not found in "women"); a Chinese surface must start and
end where the message's words do (a jieba segmentation that knows every lexicon word: 茶具 is not 茶, 干皮 is
not 皮, 他妈的 is not 妈), except a product word at the end of a word whose beginning only modifies it
(白衬衫, 男鞋, 羊毛围巾). A single-character word right after a numeral is a measure word (三包, 两箱), not a
product.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shopguide.data.schema import Item
from shopguide.guide.nlu import synonyms as syn
from shopguide.guide.nlu.gazetteer import Gazetteer, default_gazetteer
from shopguide.guide.nlu.normalize import basic_normalize, convert_numerals
from shopguide.guide.nlu.segment import WordSegmenter

Pair = tuple[str, str]
#: Catalog attributes the lexicon reads, and the slot each fills.
ATTRIBUTE_SLOTS = {"color": "color", "material": "material", "style": "style", "season": "season",
                   "occasion": "occasion", "gender": "gender"}  # fmt: skip
#: When one catalog surface names values of several slots, the first slot here wins (商务: occasion, not style).
SLOT_PRIORITY = ("product_type", "category", "brand", "color", "material", "occasion", "style", "season", "gender")
PRODUCT_SLOTS = frozenset({"product_type", "category"})
#: Slots about the shopper or the recipient rather than the catalog: their words are always known.
PEOPLE_SLOTS = frozenset({"gender", "age_group", "recipient"})
#: Slots whose words may modify a product word inside one Chinese word (白衬衫, 真皮钱包, 男鞋).
MODIFIER_SLOTS = frozenset({"color", "material", "style", "season", "gender", "brand", "unknown_brand"})
_MODIFIER_CHARS = frozenset("男女童")
#: Numerals and measure words that may precede a product word inside one jieba word (双鞋, 条裤子, 件衬衫).
_MEASURE_CHARS = frozenset("一二两三四五六七八九十几双条件个只支瓶套款顶台部把块盒袋副对")
_NUMERAL_BEFORE = frozenset("0123456789一二两三四五六七八九十几半多每")


def _surface(text: str) -> str:
    return convert_numerals(basic_normalize(text))


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True)
class Match:
    """One lexicon hit: ``text[start:end]`` means ``pairs`` (several for 女朋友: recipient and gender)."""

    start: int
    end: int
    surface: str
    pairs: tuple[Pair, ...]

    def slots(self) -> set[str]:
        return {slot for slot, _ in self.pairs}


class Lexicon:
    """Surface form -> (slot, canonical value) pairs, with longest-match extraction."""

    def __init__(self, entries: Mapping[str, Sequence[Pair]], gazetteer: Gazetteer | None = None) -> None:
        """``gazetteer``: the foreign products and brands behind the ``unknown_*`` entries (for alternatives)."""
        self.gazetteer = gazetteer if gazetteer is not None else Gazetteer()
        self._entries: dict[str, tuple[Pair, ...]] = {}
        for surface, pairs in entries.items():
            key = _surface(surface)
            if key:
                self._entries[key] = tuple(dict.fromkeys(tuple(p) for p in pairs))
        lengths: dict[str, set[int]] = {}
        for key in self._entries:
            lengths.setdefault(key[0], set()).add(len(key))
        self._lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}

    @classmethod
    def from_catalog(
        cls,
        items: Iterable[Item],
        extra: Mapping[str, Sequence[Pair]] | None = None,
        *,
        gazetteer: Gazetteer | None = None,
    ) -> Lexicon:
        """The lexicon of a catalog: its own values, English names from the demo vocabulary, synonyms, the
        gazetteer's foreign products and brands (default: the packaged one), ``extra``."""
        from shopguide.data.demo.vocab import ATTRIBUTE_VALUES, BRAND_NAMES, CATEGORY_NAMES, PRODUCT_TYPES

        found: dict[str, set[Pair]] = {}

        def add(surface: str | None, slot: str, value: str) -> None:
            if surface and surface.strip():
                found.setdefault(_surface(surface), set()).add((slot, value))

        values: dict[str, set[str]] = {}
        for item in items:
            pairs: list[Pair] = []
            if item.category:
                pairs.append(("category", item.category[0]))
                if len(item.category) > 1:
                    pairs.append(("product_type", item.category[-1]))
            if item.brand:
                pairs.append(("brand", item.brand))
            for attr, slot in ATTRIBUTE_SLOTS.items():
                if item.attributes.get(attr):
                    pairs.append((slot, item.attributes[attr]))
            for slot, value in pairs:
                values.setdefault(slot, set()).add(value)
        for slot, vals in values.items():
            for value in vals:
                if not (slot == "gender" and len(value) == 1):
                    add(value, slot, value)
                english = {"brand": BRAND_NAMES}.get(
                    slot, CATEGORY_NAMES if slot in PRODUCT_SLOTS else ATTRIBUTE_VALUES
                )
                en = english.get(value)
                if en:
                    add(en, slot, value)
                    if slot == "product_type" and value in PRODUCT_TYPES:
                        add(PRODUCT_TYPES[value].noun_en, slot, value)
        entries: dict[str, tuple[Pair, ...]] = {}
        for surface, pairs in found.items():
            best = min(pairs, key=lambda p: (SLOT_PRIORITY.index(p[0]) if p[0] in SLOT_PRIORITY else 99, p[1]))
            entries[surface] = (best,)
            if best[0] == "product_type" and surface.isascii() and not surface.endswith("s"):
                entries.setdefault(surface + "s", (best,))
        entries.update(_synonym_entries(values))
        gazetteer = gazetteer if gazetteer is not None else default_gazetteer()
        foreign = gazetteer.entries(values.get("product_type", ()), values.get("brand", ()))
        products = [k for k, pairs in entries.items() if len(k) > 1 and any(p[0] in PRODUCT_SLOTS for p in pairs)]
        for surface, pairs in foreign.items():  # the catalog's own words win; a blocker yields to a whole word
            key = _surface(surface)
            if not key or entries.get(key):
                continue
            if pairs[0][0] == "unknown_brand" and any(_ends_with_word(key, p) for p in products):
                continue  # 苹果手机 is the brand 苹果 + the catalog's 手机, not one brand word (but iphone is)
            entries[key] = pairs
            if key.isascii() and key[-1:].isalpha() and key[-1] not in "sy":
                entries.setdefault(key + "s", pairs)  # iphones, camping stoves, fishing rod -> rods
        for surface, pairs in (extra or {}).items():
            entries[_surface(surface)] = tuple(pairs)
        return cls(entries, gazetteer)

    def lookup(self, surface: str) -> tuple[Pair, ...]:
        """The pairs of one surface form (empty if unknown or a blocker)."""
        return self._entries.get(_surface(surface), ())

    def values(self, slot: str) -> set[str]:
        """Every canonical value of ``slot`` the lexicon can produce."""
        return {v for pairs in self._entries.values() for s, v in pairs if s == slot}

    def type_names(self, per_type: int = 8) -> dict[str, list[str]]:
        """Product type -> up to ``per_type`` of its surface forms (for matching types by meaning)."""
        names: dict[str, list[str]] = {}
        for surface, pairs in self._entries.items():
            for slot, value in pairs:
                if slot == "product_type" and len(pairs) == 1:
                    names.setdefault(value, []).append(surface)
        return {
            value: sorted(surfaces, key=lambda x: (x != value, len(x)))[:per_type] for value, surfaces in names.items()
        }

    def surfaces(self) -> set[str]:
        """Every surface form (catalog words, synonyms, gazetteer words and blockers)."""
        return set(self._entries)

    def words(self) -> list[str]:
        """CJK surface forms, for a jieba user dictionary."""
        return sorted(k for k in self._entries if not k.isascii() and len(k) > 1)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, surface: object) -> bool:
        return isinstance(surface, str) and _surface(surface) in self._entries

    @property
    def segmenter(self) -> WordSegmenter:
        """The word segmenter that knows this lexicon's Chinese words (built on first use)."""
        if getattr(self, "_segmenter", None) is None:
            self._segmenter = WordSegmenter(k for k in self._entries if not k.isascii() and len(k) > 1)
        return self._segmenter

    def _is_modifier(self, text: str) -> bool:
        """Whether ``text`` (the start of a Chinese word) only modifies what follows: 白, 真皮, 男, 黑色 ..."""
        i = 0
        while i < len(text):
            if text[i] in syn.COLOR_CHARS or text[i] in _MODIFIER_CHARS or text[i] in _MEASURE_CHARS:
                i += 1
                continue
            for length in self._lengths.get(text[i], ()):
                pairs = self._entries.get(text[i : i + length])
                if i + length <= len(text) and pairs and all(s in MODIFIER_SLOTS for s, _ in pairs):
                    i += length
                    break
            else:
                return False
        return True

    def _on_words(self, text: str, start: int, end: int, word_at: dict[int, tuple[int, int]]) -> bool:
        """Whether a Chinese surface at ``text[start:end]`` sits on the message's word boundaries."""
        first, last = word_at.get(start), word_at.get(end - 1)
        if first is None or last is None:
            return True  # not inside a segmented run (mixed scripts): nothing to check against
        if last[1] != end:
            return False  # 雨伞架, 咖啡机: the word goes on
        if first[0] == start:
            return True
        return first == last and self._is_modifier(text[first[0] : start])  # 白衬衫, 男鞋

    def _at(
        self, text: str, i: int, word_at: dict[int, tuple[int, int]] | None = None
    ) -> tuple[str, tuple[Pair, ...]] | None:
        n = len(text)
        for length in self._lengths.get(text[i], ()):
            end = i + length
            if end > n:
                continue
            key = text[i:end]
            pairs = self._entries.get(key)
            if pairs is None:
                continue
            if _is_word_char(key[0]) and i > 0 and _is_word_char(text[i - 1]):
                continue
            if _is_word_char(key[-1]) and end < n and _is_word_char(text[end]):
                continue
            if word_at is not None and not key.isascii():
                if not self._on_words(text, i, end, word_at):
                    continue
                if length == 1 and i > 0 and text[i - 1] in _NUMERAL_BEFORE and pairs:
                    continue  # 三包 / 两箱: a measure word after a numeral
            return key, pairs
        return None

    def _product_inside(
        self, text: str, i: int, length: int, pairs: tuple[Pair, ...], word_at: dict[int, tuple[int, int]] | None
    ) -> bool:
        """Whether a modifier hit at ``text[i:i+length]`` hides the start of a longer product hit after it."""
        if any(s in PRODUCT_SLOTS for s, _ in pairs):
            return False
        for j in range(i + 1, i + length):
            later = self._at(text, j, word_at)
            if later and j + len(later[0]) > i + length and any(s in PRODUCT_SLOTS for s, _ in later[1]):
                return True
        return False

    def match(self, text: str, *, words: bool = True) -> list[Match]:
        """Longest-match hits in normalised ``text``, left to right, non-overlapping; blockers are skipped.

        ``words``: Chinese surfaces must sit on word boundaries (see the module docstring). A single colour
        character right before a product word is a colour (白衬衫, 黑裙子).
        """
        word_at: dict[int, tuple[int, int]] | None = None
        if words and not text.isascii():
            word_at = {k: span for span in self.segmenter.spans(text) for k in range(*span)}
        out: list[Match] = []
        i, n = 0, len(text)
        while i < n:
            hit = self._at(text, i, word_at)
            if hit is None:
                colour = syn.COLOR_CHARS.get(text[i])
                nxt = self._at(text, i + 1, word_at) if colour and i + 1 < n else None
                if colour and nxt and any(s in PRODUCT_SLOTS for s, _ in nxt[1]):
                    out.append(Match(i, i + 1, text[i], (("color", colour),)))
                i += 1
                continue
            key, pairs = hit
            if self._product_inside(text, i, len(key), pairs, word_at):
                i += 1  # "for running shoes": the product word wins over the modifier it overlaps
                continue
            if pairs:
                out.append(Match(i, i + len(key), key, pairs))
            i += len(key)
        return out


def _ends_with_word(key: str, word: str) -> bool:
    """Whether ``key`` is something + ``word`` (Chinese: any prefix; Latin: a separate word, so not iphone)."""
    if key == word or not key.endswith(word):
        return False
    return not word.isascii() or key[-len(word) - 1] == " "


def _split(surfaces: str) -> list[str]:
    return [s for s in surfaces.split("|") if s]


def _synonym_entries(values: Mapping[str, set[str]]) -> dict[str, tuple[Pair, ...]]:
    """Hand-written synonyms for the values the catalog has (words for people, and blockers, always)."""
    out: dict[str, tuple[Pair, ...]] = {}

    def known(slot: str, value: str) -> bool:
        return slot in PEOPLE_SLOTS or value in values.get(slot, ())

    tables = (("product_type", syn.PRODUCT_TYPE), ("category", syn.CATEGORY), ("color", syn.COLOR),
              ("material", syn.MATERIAL), ("season", syn.SEASON), ("style", syn.STYLE),
              ("occasion", syn.OCCASION), ("gender", syn.GENDER))  # fmt: skip
    for slot, table in tables:
        for value, surfaces in table.items():
            if known(slot, value):
                for surface in _split(surfaces):
                    out[surface] = ((slot, value),)
                    if slot in PRODUCT_SLOTS and surface.isascii() and surface[-1:].isalpha() and surface[-1] != "s":
                        out.setdefault(surface + "s", ((slot, value),))  # rain jacket -> rain jackets
    for value, surfaces in syn.AGE_GROUP.items():
        for surface in _split(surfaces):
            out[surface] = (("age_group", value),)
    for value, (surfaces, gender, age) in syn.RECIPIENT.items():
        pairs: list[Pair] = [("recipient", value)]
        if gender:
            pairs.append(("gender", gender))
        if age:
            pairs.append(("age_group", age))
        for surface in _split(surfaces):
            out[surface] = tuple(pairs)
    for surface, pairs in syn.MULTI.items():
        kept = tuple(p for p in pairs if known(*p))
        if kept or not pairs:  # a blocker stays a blocker; 小白鞋 needs 运动鞋 in the catalog
            out[surface] = kept
    return out


@functools.cache
def default_lexicon() -> Lexicon:
    """The lexicon of the built-in demo catalog (built once per process)."""
    from shopguide.data.demo import build_catalog

    return Lexicon.from_catalog(build_catalog(7))
