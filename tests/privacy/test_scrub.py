"""Personal data is masked before a transcript is stored: phones, e-mails, ID and card numbers, not order numbers."""

from __future__ import annotations

import pytest

from shopguide.privacy import scrub
from shopguide.privacy.scrub import luhn_ok, valid_resident_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话13812345678，邮箱 a.b@qq.com", "我的电话[电话]，邮箱 [邮箱]"),
        ("手机 +86 138-1234-5678 找我", "手机 [电话] 找我"),
        ("座机 010-12345678", "座机 [电话]"),
        ("call me on +44 7700 900123", "call me on [phone]"),
        ("mail me at jo.smith@example.co.uk", "mail me at [email]"),
        ("身份证110101199003074514", "身份证[身份证号]"),
        ("card 4111 1111 1111 1111 please", "card [card number] please"),
    ],
)
def test_personal_data_is_masked_in_the_texts_language(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    ["订单号 202611281234567 还没到", "order #4111111111111111 is late", "身份证110101199003074515",  # bad check digit
     "尺码 42 码，价格 1999", "tracking 8812345"],
)  # fmt: skip
def test_order_numbers_and_ordinary_numbers_stay(text: str) -> None:
    assert scrub(text) == text


def test_checksums() -> None:
    assert valid_resident_id("110101199003074514") and not valid_resident_id("110101199003074515")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
