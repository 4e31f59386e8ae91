"""Turns about shown items and shop questions through the real POST /v1/chat on the demo catalog: both ends of
the price range compared, "these two" taken together, a quantity, a property no listing states said plainly,
whether the shop sells a kind of product, haggling, the people's hours, gift cards (not sold)."""

from __future__ import annotations

import pytest
from chat_helpers import say
from fastapi.testclient import TestClient

from shopguide.guide.message_cues import quantity
from shopguide.guide.nlu.cues import CHEAPEST, PRICIEST, find_references
from shopguide.guide.service import BARGAIN, PEOPLE_HOURS


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("最贵的和最便宜的有啥不一样", [PRICIEST, CHEAPEST]),
        ("最便宜的跟最贵的比呢", [CHEAPEST, PRICIEST]),
        ("how does the most expensive compare with the cheapest", [PRICIEST, CHEAPEST]),
        ("the cheapest vs the priciest?", [CHEAPEST, PRICIEST]),
        ("这俩一起要了", [1, 2]),
        ("最便宜的多少钱", []),  # a question about one end, answered by the superlative path
        ("这两天能发货吗", []),  # days, not cards
    ],
)
def test_references_to_both_ends_of_the_price_range_and_to_these_two(text: str, refs: list) -> None:
    assert find_references(text)[0] == refs


@pytest.mark.parametrize(
    ("text", "expected"),
    [("给我来三双", (3, "双")), ("要2件", (2, "件")), ("x2 please", (2, "件")), ("I'll get three of them", (3, "件")),
     ("就要第二个", (1, "")), ("两个都不错", (1, ""))],
)  # fmt: skip
def test_quantity(text: str, expected: tuple[int, str]) -> None:
    assert quantity(text) == expected


@pytest.mark.parametrize(
    ("text", "haggling"),
    [("能便宜点不", True), ("再便宜些吧", True), ("少点呗", True), ("could you give me a better price", True),
     ("480卖不卖", True), ("can you do it for 300?", True), ("有便宜点的吗", False), ("还有更便宜的没", False), ("any cheaper ones?", False)],
)  # fmt: skip
def test_haggling_is_told_from_asking_for_cheaper_items(text: str, haggling: bool) -> None:
    assert bool(BARGAIN.search(text)) is haggling


@pytest.mark.parametrize(
    ("text", "hours"),
    [("客服几点上班啊", True), ("晚上什么时候还有人", True), ("when is customer service available", True),
     ("what time do your staff come online", True), ("什么时候发货", False), ("when will my parcel arrive", False)],
)  # fmt: skip
def test_questions_about_the_peoples_hours(text: str, hours: bool) -> None:
    assert bool(PEOPLE_HOURS.search(text)) is hours


def test_the_dearest_and_the_cheapest_shown_are_compared(client: TestClient) -> None:
    shown = say(client, "ends-1", "看看连衣裙")["cards"]
    assert len(shown) >= 3
    reply = say(client, "ends-1", "最便宜的和最贵的有啥区别")
    assert reply["action"] == "compare"
    prices = sorted(c["price"] for c in shown)
    assert sorted(c["price"] for c in reply["cards"]) == [prices[0], prices[-1]]


def test_these_two_after_a_comparison_takes_both_compared_items(client: TestClient) -> None:
    shown = say(client, "pair-1", "show me some earphones", lang="en")["cards"]
    assert len(shown) >= 3
    say(client, "pair-1", "compare the first and the third")
    reply = say(client, "pair-1", "ok I'll take both")
    assert reply["action"] == "accept"
    assert [c["id"] for c in reply["cards"]] == [shown[0]["id"], shown[2]["id"]]
    assert shown[0]["title"] in reply["reply"] and shown[2]["title"] in reply["reply"]


def test_a_quantity_is_confirmed_with_the_choice(client: TestClient) -> None:
    shown = say(client, "qty-1", "看看跑步鞋")["cards"]
    reply = say(client, "qty-1", "第二个给我来两双")
    assert reply["action"] == "accept" and reply["cards"][0]["id"] == shown[1]["id"]
    assert "2 双" in reply["reply"]


def test_a_property_no_listing_states_is_said_plainly_not_answered_with_the_spec_sheet(client: TestClient) -> None:
    say(client, "prop-1", "看看跑步鞋")
    zh = say(client, "prop-1", "第一个适合扁平足吗")
    assert zh["action"] == "attribute" and "没有写到" in zh["reply"] and "扁平足" in zh["reply"]
    assert "库存" not in zh["reply"]  # not the whole spec sheet
    say(client, "prop-2", "show me backpacks", lang="en")
    en = say(client, "prop-2", "would the second one be ok on a plane?")
    assert en["action"] == "attribute" and "doesn't cover" in en["reply"] and "on a plane" in en["reply"]
    details = say(client, "prop-2", "tell me more about the second one")
    assert "stock" in details["reply"]  # asking for the description still gets it


def test_do_you_have_a_kind_of_product_is_a_search(client: TestClient) -> None:
    reply = say(client, "have-1", "请问有积木吗")
    assert reply["action"] == "results" and reply["cards"]


def test_haggling_gets_the_fixed_price_answer_not_a_cheaper_list(client: TestClient) -> None:
    say(client, "haggle-1", "看看连衣裙")
    reply = say(client, "haggle-1", "能便宜点不 我拿两件")
    assert reply["action"] == "faq" and "议价" in reply["reply"] and not reply["cards"]


def test_when_people_are_there_gets_the_hours(client: TestClient) -> None:
    zh = say(client, "hours-1", "你们客服晚上几点下班")
    assert zh["action"] == "faq" and "9:00" in zh["reply"] and not zh["handoff"]
    en = say(client, "hours-2", "what time do your agents come online", lang="en")
    assert en["action"] == "faq" and "9:00" in en["reply"] and not en["handoff"]


def test_gift_cards_are_named_as_not_sold(client: TestClient) -> None:
    say(client, "card-1", "show me headphones", lang="en")
    reply = say(client, "card-1", "can I buy a gift card here?")
    assert reply["action"] == "not_carried" and "gift card" in reply["reply"].lower()
    assert "don't carry" in reply["reply"] and ". Tell me" in reply["reply"]
    zh = say(client, "card-2", "有购物卡卖吗")
    assert zh["action"] == "not_carried" and not zh["cards"]


def test_the_price_of_a_card_is_a_price_question_not_a_discount_question(client: TestClient) -> None:
    shown = say(client, "price-1", "看看连衣裙")["cards"]
    reply = say(client, "price-1", "最便宜的那件多少钱啊")
    cheapest = min(shown, key=lambda c: c["price"])
    assert reply["understood"]["intent"] == "ask_attribute" and reply["action"] == "attribute"
    assert reply["cards"][0]["id"] == cheapest["id"] and "价格" in reply["reply"]


def test_how_a_size_runs_gets_the_sizes_and_the_size_guide(client: TestClient) -> None:
    say(client, "fit-1", "show me sweaters", lang="en")
    reply = say(client, "fit-1", "does the first one run small?")
    assert reply["action"] == "attribute" and "size" in reply["reply"].lower() and "15 days" in reply["reply"]


def test_the_hours_are_answered_also_after_a_hand_off(client: TestClient) -> None:
    assert say(client, "hours-3", "转人工")["handoff"]
    reply = say(client, "hours-3", "人工客服几点上班")
    assert reply["action"] == "faq" and "9:00" in reply["reply"]


def test_an_elliptical_follow_up_is_answered_within_the_previous_policy_question(client: TestClient) -> None:
    first = say(client, "follow-1", "do you deliver to Japan?", lang="en")
    assert first["action"] == "faq" and "mainland" in first["reply"].lower()
    again = say(client, "follow-1", "and what about Canada")
    assert again["action"] == "faq" and "mainland" in again["reply"].lower() and not again["handoff"]


def test_a_product_asked_for_next_to_an_after_sales_problem_is_shown_and_the_case_stays_open(
    client: TestClient,
) -> None:
    first = say(client, "two-1", "my earphones arrived broken, btw do you sell power banks", lang="en")
    assert first["understood"]["intent"] == "after_sales" and "order number" in first["reply"]
    assert first["cards"] and all("Power Bank" in c["title"] for c in first["cards"])
    second = say(client, "two-1", "order 202611281234567")
    assert second["action"] == "after_sales" and "202611281234567" in second["reply"]
    third = say(client, "two-1", "under 100")
    assert third["cards"] and all("Power Bank" in c["title"] and c["price"] <= 100 for c in third["cards"])


def test_an_angry_shopper_is_not_shown_products(client: TestClient) -> None:
    reply = say(client, "two-2", "垃圾店 耳机用一天就坏了 我要投诉 另外有充电宝吗", lang="zh")
    assert reply["handoff"] and not reply["cards"]


def test_the_price_of_the_shops_cheapest_or_dearest_of_a_type(client: TestClient) -> None:
    zh = say(client, "end-1", "你们家最便宜的羽绒服多少钱")
    assert zh["understood"]["intent"] == "ask_attribute" and zh["action"] == "attribute" and len(zh["cards"]) == 1
    assert "最便宜" in zh["reply"] and zh["cards"][0]["title"] in zh["reply"]
    cheapest = zh["cards"][0]["price"]
    listed = say(client, "end-2", "看看羽绒服 便宜的排前面")["cards"]
    assert cheapest <= min(c["price"] for c in listed)
    en = say(client, "end-3", "what's the price of your most expensive phone", lang="en")
    assert en["action"] == "attribute" and "most expensive" in en["reply"] and len(en["cards"]) == 1


def test_the_price_of_the_cheapest_shown_when_no_product_is_named(client: TestClient) -> None:
    shown = say(client, "end-4", "看看手机")["cards"]
    reply = say(client, "end-4", "最便宜的多少钱")
    assert reply["action"] == "attribute" and reply["cards"][0]["id"] == min(shown, key=lambda c: c["price"])["id"]


def test_small_talk_after_a_hand_off_is_not_another_hand_off(client: TestClient) -> None:
    assert say(client, "wait-1", "转人工")["handoff"]
    assert say(client, "wait-1", "好的 那我等一下")["action"] != "handoff"


@pytest.mark.parametrize(("text", "sort"), [("都好贵啊", "cheaper"), ("有点贵", "cheaper"), ("bit pricey tbh", "cheaper"),
                                            ("贵一点的", "more_expensive"), ("the pricey one", None)])  # fmt: skip
def test_a_complaint_about_the_price_asks_for_cheaper(text: str, sort: str | None) -> None:
    from shopguide.guide.nlu.cues import find_sort

    assert find_sort(text) == sort


def test_too_expensive_shows_a_cheaper_list(client: TestClient) -> None:
    shown = say(client, "dear-1", "看看运动鞋")["cards"]
    reply = say(client, "dear-1", "这些都太贵了吧")
    dearest = max(c["price"] for c in shown)
    assert reply["cards"] and all(c["price"] < dearest for c in reply["cards"])


def test_a_colour_called_too_loud_is_ruled_out(client: TestClient) -> None:
    say(client, "loud-1", "看看T恤")
    reply = say(client, "loud-1", "黑色太闷了")
    assert reply["negated"].get("color") == ["黑色"] and reply["cards"]
    assert all("黑色" not in c["title"] for c in reply["cards"])


def test_closing_a_policy_topic_is_small_talk(client: TestClient) -> None:
    say(client, "later-1", "包邮吗")
    reply = say(client, "later-1", "行 我再考虑一下")
    assert reply["action"] == "chitchat" and reply["understood"]["intent"] == "chitchat"


def test_choosing_a_colour_no_single_card_has_is_a_refinement(client: TestClient) -> None:
    say(client, "colour-1", "看看卫衣")
    reply = say(client, "colour-1", "那就要白色的吧")
    assert reply["understood"]["intent"] == "refine" and reply["cards"]
    assert all("白色" in c["title"] for c in reply["cards"])


def test_which_of_two_has_more_of_a_property_is_a_comparison_quoting_the_description(client: TestClient) -> None:
    say(client, "batt-1", "看看耳机")
    reply = say(client, "batt-1", "第一个和第三个哪个续航久")
    assert reply["action"] == "compare" and len(reply["cards"]) == 2
    assert reply["reply"].count("商品资料里") == 2 and "Earphones" not in reply["reply"]  # a sentence, not the title
