"""Masking personal data in free text (脱敏) before it is stored or logged.

``scrub("我的电话13812345678，邮箱 a.b@qq.com")`` -> ``"我的电话[电话]，邮箱 [邮箱]"``; English labels for English
text (``[phone]``, ``[email]``, ``[ID number]``, ``[card number]``, ``[address]``, ``[name]``). It runs before a chat
turn enters a session's history (and so a hand-off ticket), on event context (:func:`scrub_value`) and on every
log record (:mod:`shopguide.privacy.log_filter`).

:func:`find_pii` says where the personal data is: phone numbers, e-mail addresses, resident ID and bank card
numbers (:mod:`shopguide.privacy.numbers`), street addresses and personal names (:mod:`shopguide.privacy.patterns`);
those modules say which rule catches what, and why. The rules read the text with full-width forms folded to ASCII
(``１３８…`` is a phone number too), one character for one, so offsets are those of the text given.

Overlaps are settled by how certain a kind is: e-mail > ID number > phone > card > name > address (a checksum or
an ``@`` is surer than a cue). Candidates of one kind that overlap are joined; a name or an address that overlaps a
surer span keeps its longest part outside it, a number is dropped. Order numbers are never masked: the after-sales
team needs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shopguide.privacy.numbers import Candidate, find_numbers, luhn_ok, valid_resident_id
from shopguide.privacy.patterns import find_words

__all__ = [
    "PII_TYPES",
    "PiiSpan",
    "PiiType",
    "find_pii",
    "luhn_ok",
    "scrub",
    "scrub_field",
    "scrub_value",
    "valid_resident_id",
]

PiiType = Literal["phone", "email", "id_number", "card", "address", "name"]
PII_TYPES: tuple[PiiType, ...] = ("phone", "email", "id_number", "card", "address", "name")


@dataclass(frozen=True, order=True, slots=True)
class PiiSpan:
    """Personal data at ``text[start:end]``, of one of :data:`PII_TYPES`."""

    start: int
    end: int
    type: PiiType


_PRIORITY = {"email": 6, "id_number": 5, "phone": 4, "card": 3, "name": 2, "address": 1}
_LABELS = {
    "zh": {"phone": "[电话]", "email": "[邮箱]", "id_number": "[身份证号]", "card": "[卡号]", "address": "[地址]",
           "name": "[姓名]"},
    "en": {"phone": "[phone]", "email": "[email]", "id_number": "[ID number]", "card": "[card number]",
           "address": "[address]", "name": "[name]"},
}  # fmt: skip
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}  # full-width ASCII, ideographic space
_HAN = re.compile(r"[\u4e00-\u9fff]")
_EDGE = " \t\r\n,.;:!?，。；：！？、-'\"“”‘’()（）"  # trimmed off the ends of a word span's remainder


def _subtract(start: int, end: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces = [(start, end)]
    for s, e in taken:
        pieces = [p for a, b in pieces for p in ((a, min(b, s)), (max(a, e), b)) if p[1] > p[0]]
    return pieces


def _resolve(text: str, candidates: list[Candidate]) -> list[PiiSpan]:
    merged: list[list[Any]] = []
    for start, end, kind in sorted(candidates, key=lambda c: (c[2], c[0], -c[1])):
        if not 0 <= start < end <= len(text):
            continue  # no finder should give one; a span outside the text would corrupt the output
        if merged and merged[-1][2] == kind and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, kind])
    taken: list[tuple[int, int]] = []
    spans: list[PiiSpan] = []
    for start, end, kind in sorted(merged, key=lambda c: (-_PRIORITY[c[2]], c[0] - c[1], c[0])):
        pieces = _subtract(start, end, taken)
        if pieces != [(start, end)]:
            if kind not in ("name", "address"):
                continue  # a number cut by a surer span is no number
            a, b = max(pieces, key=lambda p: p[1] - p[0], default=(start, start))
            while a < b and text[a] in _EDGE:
                a += 1
            while b > a and text[b - 1] in _EDGE:
                b -= 1
            if b - a < 2:
                continue
            start, end = a, b
        taken.append((start, end))
        spans.append(PiiSpan(start, end, kind))
    return sorted(spans)


def find_pii(text: str, lang: str | None = None) -> list[PiiSpan]:
    """Where ``text`` holds personal data: sorted, non-overlapping spans (``lang`` is accepted for symmetry with
    :func:`scrub`; every rule runs on every text, as shoppers mix languages)."""
    del lang
    if not text:
        return []
    folded = text.translate(_FOLD)
    return _resolve(folded, find_numbers(folded) + find_words(folded))


def scrub(text: str, lang: str | None = None) -> str:
    """``text`` with personal data replaced by labels ([电话] / [phone] ...) in ``lang`` ("zh" / "en"; by default
    Chinese labels when the text has a Chinese character)."""
    if not text:
        return text
    spans = find_pii(text, lang)
    if not spans:
        return text
    zh = lang.lower().startswith("zh") if lang else bool(_HAN.search(text))
    labels = _LABELS["zh" if zh else "en"]
    out: list[str] = []
    pos = 0
    for span in spans:
        out += [text[pos : span.start], labels[span.type]]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def scrub_field(key: object, value: str, lang: str | None = None) -> str:
    """``value`` scrubbed as the value of a field named ``key``: the name is context, so that ``order_id``
    keeps an order number and ``phone`` masks a bare local number."""
    prefix = f"{str(key).replace('_', ' ')}: "
    scrubbed = scrub(prefix + value, lang)
    return scrubbed[len(prefix) :] if scrubbed.startswith(prefix) else scrub(value, lang)


def scrub_value(obj: Any, lang: str | None = None) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples, scalars) with every string in it scrubbed; keys are
    field names: they stay as they are and give their values context (:func:`scrub_field`)."""
    if isinstance(obj, str):
        return scrub(obj, lang)
    if isinstance(obj, Mapping):
        return {key: scrub_field(key, value, lang) if isinstance(value, str) else scrub_value(value, lang)
                for key, value in obj.items()}  # fmt: skip
    if isinstance(obj, list):
        return [scrub_value(value, lang) for value in obj]
    if isinstance(obj, tuple):
        return tuple(scrub_value(value, lang) for value in obj)
    return obj
