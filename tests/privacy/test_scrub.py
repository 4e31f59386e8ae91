"""Personal data is masked before a transcript is stored or logged: phones, e-mails, ID and card numbers,
addresses and names, in Chinese and English; order numbers, prices, sizes, dates, hotlines and model names stay."""

from __future__ import annotations

import pytest

from shopguide.privacy import PiiSpan, find_pii, scrub, scrub_value
from shopguide.privacy.scrub import luhn_ok, valid_resident_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话13812345678，邮箱 a.b@qq.com", "我的电话[电话]，邮箱 [邮箱]"),
        ("手机 +86 138-1234-5678 找我", "手机 [电话] 找我"),
        ("快递到了打我手机0086 15912345678，谢谢", "快递到了打我手机[电话]，谢谢"),
        ("座机 010-12345678", "座机 [电话]"),
        ("家里座机(010)12345678，晚上打010 1234 5678也行", "家里座机[电话]，晚上打[电话]也行"),
        ("白天打公司电话（0571）87654321", "白天打公司电话[电话]"),
        ("我电话１３８１２３４５６７８", "我电话[电话]"),  # full-width digits
        ("call me on +44 7700 900123", "call me on [phone]"),
        ("you can reach me at (415) 555-0132 after 6pm", "you can reach me at [phone] after 6pm"),
        ("mail me at jo.smith@example.co.uk", "mail me at [email]"),
        ("身份证110101199003074514", "身份证[身份证号]"),
        ("实名认证用的身份证号是 11010519491231002X 对吗", "实名认证用的身份证号是 [身份证号] 对吗"),
        ("card 4111 1111 1111 1111 please", "card [card number] please"),
        ("退款请打到我的工行卡6222021234567890128上", "退款请打到我的工行卡[卡号]上"),
        (
            "收货地址：浙江省杭州市西湖区文三路90号东部软件园3号楼501室，收件人张伟，电话138-1234-5678",
            "收货地址：[地址]，收件人[姓名]，电话[电话]",
        ),
        ("我住在北京市朝阳区建国路88号SOHO现代城5栋2单元1201，放门口就行", "我住在[地址]，放门口就行"),
        ("麻烦寄到上海市浦东新区张杨路500号华润时代广场10楼前台", "麻烦寄到[地址]前台"),
        ("家住幸福小区3-2-501，快递别放驿站", "家住[地址]，快递别放驿站"),
        ("送到3栋2单元501就行", "送到[地址]就行"),
        ("新地址是南京市鼓楼区中山北路200号", "新地址是[地址]"),
        ("我是李娜，想问一下这双鞋42码还有货吗", "我是[姓名]，想问一下这双鞋42码还有货吗"),
        ("我叫王小明，上周买的耳机坏了", "我叫[姓名]，上周买的耳机坏了"),
        ("联系人：欧阳娜娜 手机 139 1234 5678", "联系人：[姓名] 手机 [电话]"),
        ("张先生您好，您的退款已经原路返回", "[姓名]您好，您的退款已经原路返回"),
        ("收件人张三北京市朝阳区建国路88号3栋", "收件人[姓名][地址]"),
        ("王芳，13812345678，广东省深圳市南山区科技园南区R2-B栋5楼", "[姓名]，[电话]，[地址]"),  # a shipping label
        ("麻烦寄到广州市天河区体育西路191号中石化大厦B塔2008", "麻烦寄到[地址]"),
        ("my address is 221B Baker Street, London NW1 6XE", "my address is [address]"),
        ("Please ship to 1600 Pennsylvania Ave NW, Washington, DC 20500 asap", "Please ship to [address] asap"),
        ("deliver to 42 Oak Road, Apt 5B, Springfield by Friday", "deliver to [address] by Friday"),
        ("The parcel went to 17 Elm Street instead of my place", "The parcel went to [address] instead of my place"),
        ("Hi, I'm Emma. The zipper on my jacket broke", "Hi, I'm [name]. The zipper on my jacket broke"),
        ("My name is Li Wei and my phone is +44 7700 900123", "My name is [name] and my phone is [phone]"),
        ("Hello, this is John Smith from the Leeds store.", "Hello, this is [name] from the Leeds store."),
        ("Recipient: Tom Brown, 12 High Street", "Recipient: [name], [address]"),
        ("Ship to: John Smith, 12 Oak Road, Leeds LS1 4AB", "Ship to: [name], [address]"),
        (
            "Please send it to my sister, she lives at 55 Maple Ave, Apt 3, Boston, MA 02118.",
            "Please send it to my sister, she lives at [address].",
        ),
        ("Dear Mr. Wang, your refund is on its way", "Dear [name], your refund is on its way"),
    ],
)
def test_personal_data_is_masked_in_the_texts_language(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号 202611281234567 还没到",
        "order #4111111111111111 is late",
        "order number is 4111111111111111, 5500005555555559",
        "单号：2388839770-20130527-1087824169，麻烦查一下",
        "运单号 SF1234567890123 到哪了",
        "IMEI 356938035643809 的手机能保修吗",
        "身份证110101199003074515",  # bad check digit
        "尺码 42 码，价格 1999",
        "tracking 8812345",
        "客服热线400-820-1234，也可以拨800-820-8820",
        "call 1-800-555-0199 for support",
        "iPhone 15 Pro Max 256G 售价7999元，2024-05-12到货",
        "ISBN 978-7-111-12345-6，条码 9787111123456 和 6901234567892",
        "5号电池两节，42号鞋，下个月3号发货",
        "万达广场3楼的那家店还开着吗",
        "我家是3室2厅，沙发选多大的合适",
        "住在农村，信号一直很差",
        "寄到北京进行检测要多久",
        "我是王者荣耀玩家，充值没到账",
        "本人要再次声明，本人没开通任何业务",
        "请提供您的姓名、联系方式和收货地址",
        "请把安装地址按（xx市xx区xx路xx号）的格式发给我们",
        "谢谢先生",
        "I'm looking for a red dress in size M",
        "I'm not happy with the order, it arrived late",
        "Hi, I'm Chinese and I'm Interested in green tea",
        "This is Amazon Prime day, any deals?",
        "Do you ship to Canada? Can you deliver to my office?",
        "Product name: Nike Air Max 270",
        "my name is wrong on the invoice",
        "I love my Dr. Martens boots",
        "I bought 2 pairs for $59.99 on 2024-03-01 at 10:30",
        "Customer Service@Qunar.com never replied",
        "The jacket is $129.99, SKU 4111111111111111",
        "我的快递在312 National Highway旁边",
    ],
)
def test_order_numbers_and_ordinary_text_stay(text: str) -> None:
    assert scrub(text) == text


def test_find_pii_gives_sorted_typed_spans_and_scrub_is_built_on_them() -> None:
    text = "收件人：张伟，电话 13812345678，邮箱 zw@example.com，地址：杭州市西湖区文三路90号3栋501室"
    spans = find_pii(text)
    assert [(s.type, text[s.start : s.end]) for s in spans] == [
        ("name", "张伟"),
        ("phone", "13812345678"),
        ("email", "zw@example.com"),
        ("address", "杭州市西湖区文三路90号3栋501室"),
    ]
    assert spans == sorted(spans) and all(isinstance(s, PiiSpan) for s in spans)
    with pytest.raises(AttributeError):
        spans[0].start = 0  # type: ignore[misc]
    assert scrub(text) == "收件人：[姓名]，电话 [电话]，邮箱 [邮箱]，地址：[地址]"


def test_labels_follow_the_given_language() -> None:
    assert scrub("call 13812345678", "zh") == "call [电话]"
    assert scrub("电话13812345678", "en") == "电话[phone]"
    assert scrub("") == "" and find_pii("") == []


def test_scrub_value_scrubs_every_string_of_event_context_and_keeps_its_shape() -> None:
    context = {
        "query": "我电话13812345678",
        "page": 2,
        "filters": [{"note": "ship to 12 Oak Road, Leeds"}, "size 42", None],
        "pair": ("a@b.cn", 1.5),
        "13812345678": True,
        "order_id": "4111111111111111",  # a field name is context: a Luhn-valid order number stays
        "phone": "88886666",  # and a bare local number in a phone field goes
    }
    assert scrub_value(context) == {
        "query": "我电话[电话]",
        "page": 2,
        "filters": [{"note": "ship to [address]"}, "size 42", None],
        "pair": ("[email]", 1.5),
        "13812345678": True,  # keys are field names
        "order_id": "4111111111111111",
        "phone": "[phone]",
    }
    assert context["query"] == "我电话13812345678"  # a copy, the input is untouched


def test_checksums() -> None:
    assert valid_resident_id("110101199003074514") and not valid_resident_id("110101199003074515")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("有事打 0086 21 5489 3321 找我", "有事打 [电话] 找我"),  # 00 instead of +
        ("加我 1 5 8 2 2 3 4 5 6 7 8 私聊", "加我 [电话] 私聊"),  # a digit at a time, to dodge filters
        ("ring me on 07911 123456 after six", "ring me on [phone] after six"),  # UK mobile, trunk 0
        ("my mobile 0412 345 678 thx", "my mobile [phone] thx"),  # Australian mobile
        ("appelez 06 12 34 56 78", "appelez [phone]"),  # French pairs
    ],
)
def test_phone_numbers_in_national_and_spaced_forms(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1-800-275-2273 is the helpline",
        "型号 03 45 678 901",
        "IP 10.0.12.123",
        "日期 2026 12 03",
        "卡 6217 0038 4495 7166",
    ],
)
def test_hotlines_models_and_digit_groups_inside_other_numbers_stay(text: str) -> None:
    assert all(span.type != "phone" for span in find_pii(text))


def test_a_businesss_role_mailbox_stays_a_persons_address_is_masked() -> None:
    assert scrub("售后请发邮件到 support@shop-example.cn") == "售后请发邮件到 support@shop-example.cn"
    assert scrub("或者直接发我 wang.lei88@shop-example.cn") == "或者直接发我 [邮箱]"
