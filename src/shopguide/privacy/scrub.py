"""Masking personal data in free text (脱敏): phone numbers, e-mail addresses, ID and bank card numbers.

``scrub("我的电话13812345678，邮箱 a.b@qq.com")`` -> ``"我的电话[电话]，邮箱 [邮箱]"`` (English labels for English
text: ``[phone]``, ``[email]``). Runs before a chat transcript is written to a hand-off ticket.

* mobile numbers: Chinese 1[3-9]xxxxxxxxx with an optional +86 / 0086 and spaces or dashes; international
  ``+<country> ...`` numbers of 8-15 digits;
* landlines: 0xx(x)-xxxxxxx(x);
* e-mail addresses;
* Chinese resident ID numbers (18 characters whose ISO 7064 check digit is right);
* bank card numbers: 13-19 digits that pass the Luhn check.

Order numbers stay: they are what the after-sales team needs. A run of digits that is none of the above is
left alone, and so is a Luhn-valid one right after 订单 / 单号 / "order" (an order number, not a card).
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CN_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
_INTL = re.compile(r"(?<![\w+])\+\d{1,3}[\s-]?\d(?:[\s-]?\d){6,13}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_CARD = re.compile(r"(?<![\d+])\d(?:[\s-]?\d){12,18}(?!\d)")
_ORDER_CUE = re.compile(r"订单|单号|order|#", re.IGNORECASE)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_resident_id(number: str) -> bool:
    """Whether an 18-character Chinese resident ID number has the right check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a card number (digits only)."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def scrub(text: str, lang: str | None = None) -> str:
    """``text`` with personal data replaced by labels ([电话] / [phone] ...), in the text's language."""
    if not text:
        return text
    zh = lang == "zh" if lang else bool(re.search(r"[\u4e00-\u9fff]", text))
    label = {"email": "[邮箱]" if zh else "[email]", "phone": "[电话]" if zh else "[phone]",
             "id": "[身份证号]" if zh else "[ID number]", "card": "[卡号]" if zh else "[card number]"}  # fmt: skip
    text = _EMAIL.sub(label["email"], text)
    text = _ID_CARD.sub(lambda m: label["id"] if valid_resident_id(m.group(0)) else m.group(0), text)

    def card(m: re.Match[str]) -> str:
        if _ORDER_CUE.search(m.string, max(0, m.start() - 12), m.start()):
            return m.group(0)  # an order number (18-19 digits on Taobao) passes Luhn one time in ten
        digits = re.sub(r"\D", "", m.group(0))
        return label["card"] if 13 <= len(digits) <= 19 and luhn_ok(digits) else m.group(0)

    for pattern in (_CN_MOBILE, _INTL, _LANDLINE):  # phones first: +86 138-1234-5678 is no card number
        text = pattern.sub(label["phone"], text)
    return _CARD.sub(card, text)
