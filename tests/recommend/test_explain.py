"""Reasons read naturally in both languages; cold-start items are explained by content."""

from __future__ import annotations

from shopguide.recommend.explain import Reason
from shopguide.recommend.registry import make_model


def test_reason_texts_in_english_and_chinese():
    r = Reason("because_you", item="Lumora Shirt", action=4)
    assert r.text("en") == "because you added to cart Lumora Shirt"
    assert r.text("zh") == "因为您加购了「Lumora Shirt」"
    p = Reason("popular_in", category="女鞋", period="week")
    assert p.text("en") == "popular in 女鞋 this week"
    assert p.text("zh") == "女鞋本周热销"
    s = Reason("similar_to", item="X", traits=("same brand", "same style"))
    assert s.text("en") == "similar to X: same brand, same style"
    assert s.text("zh") == "与「X」相似：同品牌、同风格"
    assert s.to_dict()["zh"] == s.text("zh")


def test_item_cf_reason_names_the_history_item_and_action(checkerboard):
    model = make_model("item_knn").fit(checkerboard)
    rec = model.recommend("ua0", 1)[0]
    assert rec.item == "a3"
    assert rec.reason.kind == "because_you"
    assert rec.reason.item.startswith("Red cotton shirt a")
    carted = model.recommend("visitor", 1, history=[("a1", "cart")])[0]
    assert carted.reason.item == "Red cotton shirt a1 红色纯棉衬衫"
    assert carted.reason.text("en").startswith("because you added to cart")
    assert carted.reason.text("zh").startswith("因为您加购了")


def test_brand_new_item_gets_similar_items_from_content(checkerboard):
    model = make_model("fallback").fit(checkerboard)
    recs = model.similar_items("new-shirt", 3)
    assert {r.item for r in recs} <= {"a0", "a1", "a2", "a3"}
    assert recs[0].source == "content"
    assert "same brand" in recs[0].reason.traits


def test_new_visitor_with_a_session_gets_reasons_from_the_session(checkerboard):
    model = make_model("fallback").fit(checkerboard)
    recs = model.recommend("visitor", 3, history=[("b1", "cart")])
    assert recs[0].item in {"b0", "b2", "b3"}
    assert recs[0].reason.kind == "because_you"
    assert recs[0].reason.text("en").startswith("because you added to cart Blue phone case b1")


def test_english_reasons_use_the_second_language_title():
    r = Reason("because_you", item="北辰 白衬衫", item_alt="Beichen White Shirt", action=1)
    assert r.text("en") == "because you viewed Beichen White Shirt"
    assert r.text("zh") == "因为您浏览过「北辰 白衬衫」"
