"""The FAQ: the packaged bilingual file loads, retrieval finds the right topic in both languages, and a
broken file is an error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguide.errors import DataError
from shopguide.guide.dialogue import DialogueManager
from shopguide.guide.faq import FAQ
from shopguide.guide.types import Intent

REQUIRED_TOPICS = {"shipping", "returns", "exchanges", "invoices", "payment", "warranty", "coupons", "size guide",
                   "order status"}  # fmt: skip


@pytest.fixture(scope="module")
def faq() -> FAQ:
    return FAQ.load()


def test_packaged_file_covers_every_topic_in_both_languages(faq: FAQ) -> None:
    assert {e.topic for e in faq.entries} >= REQUIRED_TOPICS
    for entry in faq.entries:
        assert entry.answer["zh"] and entry.answer["en"], entry.id
        assert entry.questions["zh"] and entry.questions["en"], entry.id
    assert sorted(e.id for e in faq.entries if e.handoff) == ["order_status", "payment_problem"]
    for entry in faq.entries:  # every entry answers an intent of the NLU
        assert entry.intents and set(entry.intents) <= {i.value for i in Intent}, entry.id


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("多久能发货呀", "shipping_time"),
        ("包邮吗", "shipping_cost"),
        ("退货怎么弄", "returns"),
        ("Can I return these shoes?", "returns"),
        ("能换个尺码吗", "exchanges"),
        ("I want to exchange for a bigger size", "exchanges"),
        ("发票怎么开", "invoice"),
        ("can I pay by alipay", "payment"),
        ("how long is the warranty on the phone", "warranty"),
        ("有优惠券吗", "coupons"),
        ("do you have any coupons", "coupons"),
        ("尺码偏大吗", "size_guide"),
        ("where is my package", "order_status"),
        ("我的快递到哪里了", "order_status"),
        ("do you ship abroad", "shipping_area"),
    ],
)
def test_retrieves_the_right_entry(faq: FAQ, question: str, expected: str) -> None:
    hit = faq.best(question)
    assert hit is not None and hit.entry.id == expected and hit.score >= 0.3, (question, hit)


def test_unrelated_questions_score_below_the_guides_fallback_threshold(faq: FAQ) -> None:
    threshold = DialogueManager.__init__.__kwdefaults__["faq_fallback_threshold"]
    for text in ("今天天气怎么样", "tell me a joke", "hello", "你好", "帮我写个作业", "what's the capital of France"):
        hit = faq.best(text)
        assert hit is None or hit.score < threshold, (text, hit)
    hits = faq.retrieve("退货 运费", n=3)
    assert hits[0].entry.id == "return_postage" and [h.score for h in hits] == sorted(
        (h.score for h in hits), reverse=True
    )


@pytest.mark.parametrize(
    ("question", "intent", "expected"),
    [
        ("能换货吗", "after_sales", "exchanges"),  # not the returns entry
        ("退货运费谁出", "after_sales", "return_postage"),  # not the shipping fee
        ("能寄到香港吗", "shipping", "shipping_area"),  # not delivery times
        ("do I have to pay to send it back", "after_sales", "return_postage"),
        ("买这个送啥", "price_discount", "freebies"),  # 送 of the shop: a free gift with purchase
        ("买完就降价了 能退差价吗", "price_discount", "price_protection"),
        ("is it cheaper anywhere else, do you match prices", "price_discount", "price_protection"),
        ("能开专票吗", "invoice", "invoice"),
        ("扣了我两次钱", "payment", "payment_problem"),
        ("忘记密码了怎么办", "account", "account"),
        ("这件能机洗吗", "usage", "usage_care"),
        ("can I get it with SF express", "shipping", "courier"),
    ],
)
def test_intent_narrows_the_entries_and_meaning_finds_paraphrases(
    faq: FAQ, question: str, intent: str, expected: str
) -> None:
    hit = faq.best(question, intent=intent)
    assert hit is not None and hit.entry.id == expected, (question, hit)


def test_answers_fall_back_to_the_other_language(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "- id: only_zh\n  questions: {zh: [怎么退货]}\n  answer: {zh: 七天无理由退货。}\n", encoding="utf-8"
    )
    faq = FAQ.load(path)
    assert faq.best("怎么退货").entry.text("en") == "七天无理由退货。"
    assert faq.get("only_zh") is not None and faq.get("missing") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not: a list}", "a list of entries"),
        ("- id: x\n  answer: {zh: 有}\n", "no questions"),
        ("- id: x\n  questions: {en: [hi]}\n", "no answer"),
        ("- questions: {en: [hi]}\n  answer: {en: hi}\n", "no id"),
        ("- id: x\n  questions: {en: [a]}\n  answer: {en: b}\n- id: x\n  questions: {en: [c]}\n  answer: {en: d}\n",
         "unique"),
        ("- id: [unclosed\n", "cannot read"),
    ],
)  # fmt: skip
def test_a_broken_file_names_itself(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        FAQ.load(path)
    assert str(path) in str(err.value)
