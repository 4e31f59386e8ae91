"""Personal data written with digits: phone numbers, e-mail addresses, resident ID and bank card numbers.

Each finder returns candidate spans ``(start, end, type)``; :func:`shopguide.privacy.scrub.find_pii` resolves the
overlaps. The rules, and why each exists:

* **Chinese mobiles**: ``1[3-9]`` + 9 digits (no mobile prefix starts 10-12), written 11 together, 3-4-4 or 4-3-4
  with spaces or dashes, after an optional ``+86`` / ``0086`` / ``86``.
* **Chinese landlines**: a real area code (``010``, ``02x`` or ``0[3-9]xx``; ``01x`` other than 010 does not exist)
  and a 7-8 digit local number, with a dash, a space, brackets ``(010)`` / ``（010）`` or nothing between. Checking
  the area code is what keeps a bare 11-12 digit run that starts with 0 from being taken for any number.
* **Other numbers**: ``+<country>`` and 8-15 digits; North American ``(212) 555-0123`` / ``212-555-0123`` (the
  separators are required: a bare 10-digit run is as likely a QQ or an order number); after a phone cue
  (电话, 手机, 座机, "phone", "call me at" ...) also a bare 7-8 digit local number.
* **Service lines stay**: 400 / 800 numbers (Chinese company hotlines, North American toll-free 8xx) are not
  personal; neither are 5-digit carrier lines (10086, 95555), which no rule reaches.
* **E-mail addresses**, except ``Service@Qunar.com``-like glue of a capitalised word and a Weibo @mention.
* **Resident ID numbers** (18 characters, GB 11643): a real province code, a real birth date and the ISO 7064
  MOD 11-2 check character. The date and the province make an 18-digit order number that passes the check by
  chance (one in eleven) still fail.
* **Bank cards**: 13-19 digits (together, or in groups of four) that pass the Luhn check and whose first digits
  and length are those of an issuer (Visa 4 with 13/16/19 digits, Mastercard 51-55 and 2221-2720, Amex 34/37 with
  15, UnionPay 62, JCB 35, old domestic 95..): one random digit run in ten passes Luhn, so the issuer check is what
  keeps a bare order number (2026112812345678), a timestamp (1700000000000) or a bar code (69..., 978...) from
  being taken for a card.
* **Order numbers stay**: the after-sales team needs them. A number right after an order cue (订单, 单号, 运单,
  "order", "tracking", IMEI, ``#`` ...) or a product-code cue (货号, 型号, SKU, barcode ...), possibly after a list
  of numbers that follows one or a letter prefix (SF1234...), is none of the above.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Candidate = tuple[int, int, str]


def words(text: str) -> frozenset[str]:
    """The space-separated words of ``text`` (long word lists read better as one string)."""
    return frozenset(text.split())


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PROVINCES = words(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_MENTION_GLUE = re.compile(r"[A-Z][a-z]+@[A-Z]")  # "Customer Service@Qunar.com": a word, then a Weibo @mention
MOBILE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[\s-]?|\(\+?86\)\s?|（\+?86）)?"
    r"1[3-9](?:\d{9}|\d[\s-]\d{4}[\s-]\d{4}|\d{2}[\s-]\d{3}[\s-]\d{4})(?!\d)"
)
_LANDLINE = re.compile(
    r"(?<![\d+\-])(?:\((?:010|02\d|0[3-9]\d{2})\)|（(?:010|02\d|0[3-9]\d{2})）|(?:010|02\d|0[3-9]\d{2})[\s-]?)\s?"
    r"[1-9]\d{2,3}[\s-]?\d{4}(?![\d-])"
)
_INTL = re.compile(r"(?<![\d+])(?<!\d[\s-])(?:\+|00)\d{1,3}(?:[\s.-]?(?:\(\d{1,4}\)|\d{2,5})){2,6}(?!\d)")
#: a Chinese mobile typed with a space or dash between every digit or pair ("1 3 9 7 1 2 0 5 4 8 8")
_SPACED_MOBILE = re.compile(r"(?<![\d+])(?<!\d )1 [3-9](?: \d){9}(?! ?\d)")
#: national numbers with a trunk 0 in groups (UK 07700 900123, Australia 0412 345 678, Europe 06 12 34 56 78)
_TRUNK = re.compile(r"(?<![\d+\-])(?<!\d[\s.-])0[1-9]\d{0,4}(?:[\s.-]\d{2,6}){1,4}(?![\d-])")
_NANP = re.compile(r"(?<![\d+\-(])(?:\+?1[\s.-]?)?(?:\((\d{3})\)\s?|(\d{3})[\s.-])\d{3}[\s.-]\d{4}(?![\d-])")
_PHONE_CUE = re.compile(
    r"(?:电话|手机|座机|固话|号码|联系方式|(?<![A-Za-z])(?:tel|phone|mobile|cell|call me|reach me|text me))"
    r"(?:\s*(?:号码|号|number|no\.?))?(?:\s*(?:是|为|at|on|is))?\s*[:：]?\s*\Z",
    re.IGNORECASE,
)
_PHONE_AFTER = re.compile(r"\s*的?(?:电话|来电|手机)")  # 接到25418826的电话
_LOCAL = re.compile(r"(?<!\d)[2-9]\d{2,3}-?\d{4}(?![\d-])")
_ID = re.compile(r"(?<!\d)\d{6}[\s-]?\d{8}[\s-]?\d{3}[\dXx](?!\d)")
_CARD = re.compile(
    r"(?<![\d+\-])(?:\d{13,19}|\d{4}(?:[\s-]\d{4}){2,3}(?:[\s-]\d{1,4})?|\d{4}[\s-]\d{6}[\s-]\d{5})(?![\d-])"
)
_ORDER_CONTEXT = re.compile(
    r"(?:(?:订单|运单|快递单|物流单|退货单|售后单|工单|单号|流水号|交易号|串号|序列号|快递|物流|商品编号|货号|型号|条码|条形码|批号)"
    r"|(?<![A-Za-z])(?:order|tracking|waybill|invoice|ticket|case|ref|reference|transaction|imei|serial|sn|rma|sku|"
    r"item|product|model|barcode|upc|ean|asin|isbn)"
    r"(?:\s*(?:no\.?|number|num|id|code))?)"
    r"(?:[\s:：#\-,，;；、/\d]|是|为|(?<![A-Za-z])(?:is|was|are|and)(?![A-Za-z]))*\Z"
    r"|#\s*\Z",
    re.IGNORECASE,
)
_CODE_PREFIX = re.compile(r"[A-Za-z]{0,4}\Z")
_TOLL_FREE = frozenset({"400", "800", "822", "833", "844", "855", "866", "877", "888"})


def valid_resident_id(number: str) -> bool:
    """Whether an 18-character Chinese resident ID number has the right check character (ISO 7064 MOD 11-2)."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def plausible_resident_id(number: str) -> bool:
    """A valid check character, a real province code and a birth date between 1900 and 2099."""
    if not valid_resident_id(number) or number[:2] not in _PROVINCES:
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1] - (month == 2 and not leap)


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a card number (digits only)."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def after_order_cue(text: str, start: int) -> bool:
    """Whether the number at ``start`` follows an order cue (directly, or after other numbers of a list)."""
    start -= len(_CODE_PREFIX.search(text, max(0, start - 4), start).group(0))  # SF1234567890123: a waybill
    return _ORDER_CONTEXT.search(text, max(0, start - 48), start) is not None


#: the local parts of a business's role addresses (a shop's service desk, not a person): like a 400 hotline,
#: they stay readable in a transcript
_ROLE_MAILBOXES = frozenset(
    [
        "service",
        "services",
        "support",
        "help",
        "helpdesk",
        "info",
        "contact",
        "customerservice",
        "cs",
        "kefu",
        "sales",
        "noreply",
        "no-reply",
        "webmaster",
        "admin",
        "postmaster",
        "feedback",
        "care",
        "hello",
        "press",
        "marketing",
        "billing",
    ]
)


def emails(text: str) -> Iterator[Candidate]:
    for m in _EMAIL.finditer(text):
        if not _MENTION_GLUE.match(m.group(0)) and m.group(0).split("@")[0].lower() not in _ROLE_MAILBOXES:
            yield m.start(), m.end(), "email"


def phones(text: str) -> Iterator[Candidate]:
    for pattern in (MOBILE, _LANDLINE):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), "phone"
    for m in _INTL.finditer(text):
        if 8 <= len(_digits(m.group(0))) <= 15:
            yield m.start(), m.end(), "phone"
    for m in _SPACED_MOBILE.finditer(text):
        yield m.start(), m.end(), "phone"
    for m in _TRUNK.finditer(text):
        if 10 <= len(_digits(m.group(0))) <= 11:
            yield m.start(), m.end(), "phone"
    for m in _NANP.finditer(text):
        if (m.group(1) or m.group(2)) not in _TOLL_FREE and (m.group(1) or m.group(2))[0] not in "01":
            yield m.start(), m.end(), "phone"
    for m in _LOCAL.finditer(text):
        cued = _PHONE_CUE.search(text, max(0, m.start() - 24), m.start()) or _PHONE_AFTER.match(text, m.end())
        if cued:
            yield m.start(), m.end(), "phone"


def id_numbers(text: str) -> Iterator[Candidate]:
    for m in _ID.finditer(text):
        if plausible_resident_id(re.sub(r"[\s-]", "", m.group(0))):
            yield m.start(), m.end(), "id_number"


def _card_like(digits: str) -> bool:
    """Luhn-valid, and a length that the card's issuer range (its first digits) issues."""
    n, two = len(digits), digits[:2]
    issued = (
        (two in ("34", "37") and n == 15)  # American Express
        or (two == "35" and 16 <= n <= 19)  # JCB
        or (two in ("30", "36", "38", "39") and 14 <= n <= 16)  # Diners Club
        or (digits[0] == "4" and n in (13, 16, 19))  # Visa
        or (digits[0] == "5" and 16 <= n <= 19)  # Mastercard, Maestro
        or (2221 <= int(digits[:4]) <= 2720 and n == 16)  # Mastercard 2-series
        or (digits[0] == "6" and 16 <= n <= 19)  # UnionPay 62, Discover 6011/64/65, Maestro
        or (two == "95" and 16 <= n <= 19)  # old domestic debit cards (ICBC 9558)
    )
    return issued and luhn_ok(digits)


def cards(text: str) -> Iterator[Candidate]:
    for m in _CARD.finditer(text):
        groups = re.split(r"[\s-]", m.group(0))
        # a short last group may be the next number of the sentence ("4111 1111 1111 1111 2 pcs"): try without it
        for n in (len(groups), len(groups) - 1) if len(groups) > 4 else (len(groups),):
            if _card_like("".join(groups[:n])):
                yield m.start(), m.start() + sum(map(len, groups[:n])) + n - 1, "card"
                break


def find_numbers(text: str) -> list[Candidate]:
    """Candidate phone / e-mail / ID / card spans of ``text`` (overlapping; not after an order cue)."""
    found = list(emails(text))
    for finder in (id_numbers, phones, cards):
        found.extend(c for c in finder(text) if not after_order_cue(text, c[0]))
    return found
