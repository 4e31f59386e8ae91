"""Turns of the kinds the fourth session found failing (own wordings, not the held-out sets'), through the real
POST /v1/chat on the demo catalog where the dialogue matters: a magnitude written once after a range, two cards
named in one comparison, medical questions, torn between two sizes, plural and brand-for-product words, "do you
sell <something we never heard of>", choosing by colour from the list before, a policy question after a choice,
"cheaper" with one card shown, narrowing the list in focus without naming it."""

from __future__ import annotations

import pytest
from chat_helpers import say
from fastapi.testclient import TestClient

from shopguide.guide.message_cues import BETWEEN_SIZES
from shopguide.guide.nlu import NLU
from shopguide.guide.nlu.cues import find_references
from shopguide.guide.nlu.normalize import normalize_text
from shopguide.guide.nlu.prices import extract_price
from shopguide.guide.service_cues import medical_question


@pytest.fixture(scope="module")
def nlu() -> NLU:
    return NLU()


# ---------------------------------------------------------------- pure functions
@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("laptop 4-6k", 4000, 6000), ("预算3到5千", 3000, 5000), ("1.2~1.8万的相机", 12000, 18000),
     ("between 2k and 3k", 2000, 3000)],
)  # fmt: skip
def test_a_magnitude_written_once_applies_to_both_ends(text: str, low: float, high: float) -> None:
    price = extract_price(normalize_text(text))
    assert (price.min, price.max) == (low, high)


def test_a_magnitude_is_not_spread_over_a_falling_pair() -> None:
    assert normalize_text("9-3k") == "9-3000"  # not a range that runs downwards


@pytest.mark.parametrize(
    ("text", "refs"),
    [("how do the 2nd and 3rd differ", [2, 3]), ("compare 2 and 4 for me", [2, 4]),
     ("first vs last, which is warmer", [1, -1]), ("the third one", [3])],
)  # fmt: skip
def test_two_cards_named_in_one_breath(text: str, refs: list[int]) -> None:
    assert find_references(text)[0] == refs


@pytest.mark.parametrize(
    ("text", "medical"),
    [("my mum has high blood pressure, how much of this can she have a day", True),
     ("糖尿病人每天能吃几块", True), ("最近失眠 吃什么药管用", True), ("is it ok to take with my medication", True),
     ("do you sell blood pressure monitors", False), ("这个含糖吗", False), ("is it safe for toddlers", False)],
)  # fmt: skip
def test_medical_questions_are_told_apart_from_product_questions(text: str, medical: bool) -> None:
    assert medical_question(text) is medical


@pytest.mark.parametrize(
    ("text", "between"),
    [("i'm between a s and a m, which one", True), ("穿M还是L码 选哪个", True), ("我在两个码中间纠结", True),
     ("between 200 and 300 please", False), ("M码有吗", False)],
)  # fmt: skip
def test_torn_between_two_sizes(text: str, between: bool) -> None:
    assert bool(BETWEEN_SIZES.search(normalize_text(text))) is between


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [("do u have iphones", "unknown_brand", "苹果"), ("got any kayaks?", "unknown_product", "kayaks"),
     ("do u carry snowshoes", "unknown_product", "snowshoes"), ("any camping stoves in stock", "unknown_product", "露营炉")],
)  # fmt: skip
def test_things_the_shop_does_not_sell_are_named(nlu: NLU, text: str, slot: str, value: str) -> None:
    u = nlu.understand(text)
    assert u.intent.value == "find_product" and u.slots.get(slot) == value


def test_an_unknown_word_that_is_not_asked_for_is_not_a_product(nlu: NLU) -> None:
    u = nlu.understand("do you have anything for my grumpy dad")
    assert "unknown_product" not in u.slots


# ---------------------------------------------------------------- conversations
def test_a_brand_we_do_not_sell_is_named_in_english(client: TestClient) -> None:
    reply = say(client, "s4-01", "do you have apple phones", lang="en")
    assert reply["action"] == "not_carried" and "Apple" in reply["reply"] and "苹果" not in reply["reply"]


def test_a_medical_question_is_out_of_scope_and_says_why(client: TestClient) -> None:
    say(client, "s4-02", "show me some honey", lang="en")
    reply = say(client, "s4-02", "my dad is diabetic, how many spoons a day would be ok?", lang="en")
    assert reply["action"] == "out_of_scope" and "doctor" in reply["reply"] and not reply["cards"]


def test_between_two_sizes_gets_the_size_advice(client: TestClient) -> None:
    say(client, "s4-03", "想买件卫衣", lang="zh")
    reply = say(client, "s4-03", "我平时穿M和L都行 选哪个", lang="zh")
    assert reply["understood"]["intent"] == "ask_attribute" and "大一码" in reply["reply"]


def test_choosing_by_colour_from_the_list_before(client: TestClient) -> None:
    first = say(client, "s4-04", "show me phones under 3000", lang="en")
    purple = [c for c in first["cards"] if c["title"].endswith("Purple")]
    assert len(purple) == 1  # the demo catalog (seed 7) shows one purple phone under 3000
    second = say(client, "s4-04", "do you have huawei?", lang="en")  # a not-carried answer shows other phones
    assert purple[0]["id"] not in {c["id"] for c in second["cards"]}
    reply = say(client, "s4-04", "fine, i'll go with the purple one", lang="en")
    assert reply["action"] == "accept" and reply["cards"][0]["title"] == purple[0]["title"]


def test_a_policy_question_after_a_choice_is_answered_too(client: TestClient) -> None:
    say(client, "s4-05", "有没有双肩包", lang="zh")
    reply = say(client, "s4-05", "就要第二个了 可以开发票吗", lang="zh")
    assert reply["action"] == "accept" and "发票" in reply["reply"]


def test_two_policy_questions_in_one_message_get_two_answers(client: TestClient) -> None:
    reply = say(client, "s4-06", "when would it arrive? and can i choose sf express?", lang="en")
    assert reply["action"] == "faq" and "2-5" in reply["reply"] and "12" in reply["reply"]


def test_cheaper_than_the_only_card_shown_is_strictly_cheaper(client: TestClient) -> None:
    first = say(client, "s4-07", "grey sneakers", lang="en")  # the demo has one grey pair, not the cheapest
    assert len(first["cards"]) == 1
    reply = say(client, "s4-07", "similar but less money?", lang="en")
    assert reply["cards"] and all(c["price"] < first["cards"][0]["price"] for c in reply["cards"])
    assert "in others" in reply["reply"] or "relaxed the colour" in reply["reply"]  # another colour: said so


def test_narrowing_the_list_in_focus_without_naming_it(client: TestClient) -> None:
    say(client, "s4-08", "need a shirt and trousers for an interview", lang="en")
    ties = say(client, "s4-08", "and a tie to go with it?", lang="en")
    assert ties["cards"]
    reply = say(client, "s4-08", "no red ones please, too loud", lang="en")
    assert reply["understood"]["intent"] == "refine" and reply["action"] == "results"
    assert reply["cards"] and all("Tie" in c["title"] and not c["title"].endswith("Red") for c in reply["cards"])


@pytest.mark.parametrize(
    ("text", "negated", "wanted"),
    [("靴子有灰的吗 黑的我有了", ["黑色"], "灰色"), ("白的也不要 红的算了", ["白色", "红色"], None),
     ("绿的 算了", ["绿色"], None)],
)  # fmt: skip
def test_a_rejection_after_a_space_covers_only_its_own_clause(
    nlu: NLU, text: str, negated: list[str], wanted: str | None
) -> None:
    u = nlu.understand(text, context_slots={"product_type": "短靴"})
    assert sorted(u.negated.get("color", [])) == sorted(negated) and u.slots.get("color") == wanted


@pytest.mark.parametrize("text", ["shes into hiking", "take the metro home", "hes picky"])
def test_chat_words_near_catalog_words_are_not_typos(nlu: NLU, text: str) -> None:
    assert nlu.speller.correct(text) == text


def test_a_model_name_says_which_product_the_missing_brand_is(nlu: NLU) -> None:
    u = nlu.understand("got an ipad?")
    assert u.slots.get("unknown_brand") == "苹果" and u.slots.get("product_type") == "平板电脑"


def test_a_model_we_do_not_sell_keeps_its_product_for_the_next_turn(client: TestClient) -> None:
    first = say(client, "s4-09", "do u sell airpods", lang="en")
    assert first["action"] == "not_carried" and "Apple" in first["reply"]
    reply = say(client, "s4-09", "fine, something similar under 300 then", lang="en")
    assert reply["cards"] and all(c["price"] <= 300 and "Earphones" in c["title"] for c in reply["cards"])


def test_a_product_named_after_what_about_is_named_as_not_sold(client: TestClient) -> None:
    say(client, "s4-10", "do you sell dog beds", lang="en")
    reply = say(client, "s4-10", "how about a scratching post haha", lang="en")
    assert reply["action"] == "not_carried"


def test_asking_for_others_when_all_were_shown_says_so(client: TestClient) -> None:
    first = say(client, "s4-11", "umbrellas under 50", lang="en")
    shown = {c["id"] for c in first["cards"]}
    reply = say(client, "s4-11", "any others?", lang="en")
    assert reply["action"] == "no_results" and "seen all" in reply["reply"]
    assert not shown & {c["id"] for c in reply["cards"]}  # never the same list again as if it were new


@pytest.mark.parametrize(
    ("text", "fact"),
    [("没拆封的话 不喜欢能退不", "7"), ("鞋子小了能换大一码不", "15"), ("保修几年啊", "1年"),
     ("if she doesn't like it can i return it unopened?", "7")],
)  # fmt: skip
def test_after_sales_policy_questions_get_the_policy_not_a_case(client: TestClient, text: str, fact: str) -> None:
    reply = say(client, f"s4-12-{len(text)}", text)
    assert reply["action"] == "faq" and fact in reply["reply"] and not reply["handoff"]


def test_the_refund_timing_asked_in_an_open_case_is_answered(client: TestClient) -> None:
    say(client, "s4-13", "收到的杯子是碎的", lang="zh")
    say(client, "s4-13", "订单号 448812093311", lang="zh")
    reply = say(client, "s4-13", "退款几天能到账", lang="zh")
    assert "1-3" in reply["reply"]


def test_an_order_change_after_it_shipped_goes_to_a_person(client: TestClient) -> None:
    say(client, "s4-14", "can i change the address on my order", lang="en")
    reply = say(client, "s4-14", "it has already been dispatched though", lang="en")
    assert reply["handoff"] and reply["action"] == "handoff"


def test_a_gift_with_a_budget_shows_ideas_and_asks_who_it_is_for(client: TestClient) -> None:
    reply = say(client, "s4-15", "年会要准备小礼品 每份八十以内", lang="zh")
    assert reply["action"] == "results" and all(c["price"] <= 80 for c in reply["cards"])
    assert "送给谁" in reply["reply"]


def test_pricier_is_fine_lifts_the_cap(client: TestClient) -> None:
    say(client, "s4-16", "智能手表 一千以内", lang="zh")
    reply = say(client, "s4-16", "银色的有吗 贵点也行", lang="zh")
    assert reply["action"] == "results" and reply["cards"]
    assert all(c["title"].endswith("银色") for c in reply["cards"])


def test_what_a_device_measures_is_a_product_question(client: TestClient) -> None:
    say(client, "s4-17", "想给我妈买个智能手表", lang="zh")
    reply = say(client, "s4-17", "能测心率不 她心脏不太好", lang="zh")
    assert reply["understood"]["intent"] == "ask_attribute"


def test_a_region_in_a_shipping_follow_up_gets_the_regions_answer(client: TestClient) -> None:
    say(client, "s4-18", "do you deliver to taiwan?", lang="en")
    reply = say(client, "s4-18", "and what about singapore, my sister lives there", lang="en")
    assert reply["action"] == "faq" and "mainland" in reply["reply"]
