"""The dialogue manager with a tiny keyword NLU (defined here, so these tests pin the manager alone):
slot carry-over and refinement, references to shown cards, one clarifying question, negations, gifts,
comparisons, bundles, FAQ and hand-off, and state that survives reopening the store."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.demo import demo_data
from shopguide.guide.dialogue import DialogueManager
from shopguide.guide.faq import FAQ
from shopguide.guide.kg import KnowledgeGraph
from shopguide.guide.llm import LLMConfig, LLMPhraser, grounded
from shopguide.guide.retrieval import Retriever
from shopguide.guide.types import Intent, Understanding
from shopguide.recommend.pairing import PairingIndex
from shopguide.recommend.registry import make_model
from shopguide.service.models import search_index
from shopguide.store import Store, open_store
from shopguide.text.tokenize import has_cjk

USER = "shopper-001"


class KeywordNLU:
    """Just enough understanding for these tests: keyword tables, nothing learned."""

    TYPES: ClassVar[dict[str, str]] = {
        "衬衫": "衬衫",
        "shirt": "衬衫",
        "牛仔裤": "牛仔裤",
        "jeans": "牛仔裤",
        "手机": "手机",
        "phone": "手机",
    }
    COLORS: ClassVar[dict[str, str]] = {
        "黑色": "黑色",
        "black": "黑色",
        "白色": "白色",
        "white": "白色",
        "粉色": "粉色",
        "pink": "粉色",
    }
    REFS = (("前两个", [1, 2]), ("first two", [1, 2]), ("第一个", [1]), ("first", [1]), ("第二个", [2]),
            ("second", [2]), ("第九个", [9]))  # fmt: skip
    INTENTS = ((("比较", "compare"), Intent.COMPARE), (("材质", "made of"), Intent.ASK_ATTRIBUTE),
               (("搭配", "go with"), Intent.OUTFIT), (("送", "gift"), Intent.GIFT),
               (("退货", "return"), Intent.AFTER_SALES), (("订单", "my order"), Intent.ORDER_STATUS),
               (("人工", "human"), Intent.HUMAN), (("你好", "hello"), Intent.GREETING),
               (("谢谢", "thanks"), Intent.THANKS), (("便宜", "cheaper"), Intent.REFINE),
               (("类似", "similar"), Intent.RECOMMEND), (("推荐", "recommend"), Intent.RECOMMEND),
               (("想买", "looking for"), Intent.FIND_PRODUCT))  # fmt: skip

    def understand(self, text: str, *, lang: str | None = None, context_slots: Mapping[str, Any] | None = None):
        t = text.lower()
        slots: dict[str, Any] = {}
        negated: dict[str, list[str]] = {}
        for word, value in self.TYPES.items():
            if word in t:
                slots["product_type"] = value
        for word, value in self.COLORS.items():
            if word in t:
                if "不要" in t or "not " in t:
                    negated.setdefault("color", []).append(value)
                else:
                    slots["color"] = value
        if m := re.search(r"(\d+)\s*元?以内|under (\d+)", t):
            slots["price_max"] = float(m.group(1) or m.group(2))
        for word, refs in self.REFS:
            if word in t:
                slots["reference"] = refs
                break
        intent = next((it for words, it in self.INTENTS if any(w in t for w in words)), None)
        confidence = 0.9
        if intent is None:
            intent, confidence = (Intent.FIND_PRODUCT, 0.8) if slots or negated else (Intent.CHITCHAT, 0.2)
        if intent == Intent.ASK_ATTRIBUTE:
            slots["attribute_asked"] = "material"
        if intent == Intent.REFINE:
            slots["sort"] = "cheaper"
        for who in ("女朋友", "girlfriend", "爸爸", "dad"):
            if who in t:
                slots["recipient"] = who
        return Understanding(text=text, lang=lang or ("zh" if has_cjk(text) else "en"), intent=intent,
                             confidence=confidence, slots=slots, negated=negated)  # fmt: skip


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    demo = demo_data()
    data = Dataset.from_events(demo.events, demo.items, demo.users)
    model = make_model("item_knn").fit(data)
    search = search_index(model)
    kg = KnowledgeGraph.build(data, PairingIndex.build(data))
    url = f"sqlite:///{tmp_path_factory.mktemp('guide')}/guide.db"
    store = open_store(url)
    store.import_batch(items=demo.items, users=demo.users, events=demo.events)
    yield {"kg": kg, "search": search, "model": model, "store": store, "url": url,
           "faq": FAQ.load(tokenizer=search.tokenizer)}  # fmt: skip
    store.close()


def manager(parts: dict[str, Any], store: Store | None = None, deleted: set[str] | None = None) -> DialogueManager:
    store = store or parts["store"]
    retriever = Retriever(parts["kg"], parts["search"], parts["model"], store, deleted=deleted)
    return DialogueManager(parts["kg"], retriever, store, KeywordNLU(), parts["faq"])


@pytest.fixture
def chat(parts: dict[str, Any], request: pytest.FixtureRequest):
    dm = manager(parts)
    session = f"s-{request.node.name}"

    def say(message: str, user: str | None = USER, lang: str | None = None):
        return dm.turn(session, user, message, lang)

    return say


def meta(parts: dict[str, Any], item_id: str):
    return parts["kg"].item(item_id)


def test_slots_carry_over_and_get_refined(chat, parts) -> None:
    first = chat("我想买衬衫")
    assert first.action == "results" and len(first.cards) == 4
    assert all(meta(parts, c.id).leaf_category == "衬衫" for c in first.cards)
    second = chat("要黑色的")
    assert second.slots == {"product_type": "衬衫", "color": "黑色"}
    assert second.cards and all(meta(parts, c.id).attributes["color"] == "黑色" for c in second.cards)
    assert all(meta(parts, c.id).leaf_category == "衬衫" for c in second.cards)
    third = chat("不要黑色")
    assert third.negated == {"color": ["黑色"]} and "color" not in third.slots
    assert third.cards and all(meta(parts, c.id).attributes.get("color") != "黑色" for c in third.cards)
    assert "不要黑色" in third.reply


def test_card_facts_are_the_catalogs(chat, parts) -> None:
    reply = chat("black shirts under 300", lang="en")
    assert reply.lang == "en" and reply.reply.startswith("Here are")
    for card in reply.cards:
        item = meta(parts, card.id)
        assert card.title == item.title_alt and card.price == item.price <= 300
        assert f"“{item.title_alt}” ¥{item.price:g}" in reply.reply
        assert "Black" in card.reason


def test_one_clarifying_question_then_search(chat) -> None:
    ask = chat("我想买点东西")
    assert ask.action == "clarify" and not ask.cards and "预算" in ask.reply
    again = chat("想买")
    assert again.action == "results" and again.cards  # asked once already: search with what we have
    assert chat("衬衫").action == "results"


def test_references_resolve_to_the_cards_shown(chat, parts) -> None:
    shown = [c.id for c in chat("我想买衬衫").cards]
    material = chat("第二个是什么材质")
    assert [c.id for c in material.cards] == [shown[1]]
    assert meta(parts, shown[1]).attributes["material"] in material.reply
    assert f"「{meta(parts, shown[1]).title}」" in material.reply
    compare = chat("比较前两个")
    assert [c.id for c in compare.cards] == shown[:2] and compare.action == "compare"
    assert f"¥{meta(parts, shown[0]).price:g} | ¥{meta(parts, shown[1]).price:g}" in compare.reply
    assert chat("第九个").reply.startswith("我刚才只推荐了 4 款")
    outfit = chat("第一个怎么搭配")
    assert outfit.action == "bundle" and outfit.cards
    assert all(meta(parts, c.id).leaf_category != "衬衫" and "搭配" in c.reason for c in outfit.cards)
    # the bundle is now the list "the first one" refers to
    assert chat("第一个是什么材质").cards[0].id == outfit.cards[0].id


def test_similar_items_for_a_card(chat, parts) -> None:
    shown = [c.id for c in chat("我想买衬衫").cards]
    similar = chat("有和第一个类似的吗")
    assert similar.action == "similar" and similar.cards and shown[0] not in {c.id for c in similar.cards}
    assert all(meta(parts, c.id).leaf_category == "衬衫" for c in similar.cards)


def test_cheaper_means_below_the_cheapest_card(chat, parts) -> None:
    first = chat("我想买衬衫")
    cheapest = min(c.price for c in first.cards)
    cheaper = chat("有便宜点的吗")
    assert cheaper.cards and all(c.price < cheapest for c in cheaper.cards)
    assert cheaper.slots["price_max"] < cheapest


def test_new_product_type_starts_a_new_topic(chat) -> None:
    chat("我想买黑色衬衫")
    reply = chat("我想买手机")
    assert reply.slots == {"product_type": "手机"}


def test_budget_too_low_shows_the_closest_prices(chat, parts) -> None:
    reply = chat("我想买手机 500元以内")
    assert reply.action == "no_results" and "500元以内" in reply.reply
    assert reply.cards and min(c.price for c in reply.cards) == min(
        it.price for it in (meta(parts, i) for i in parts["kg"].dataset.items.to_list()) if it.leaf_category == "手机"
    )


def test_gift_asks_once_then_searches_with_hints(chat, parts) -> None:
    ask = chat("想送女朋友一个礼物")
    assert ask.action == "clarify" and "预算" in ask.reply and not ask.cards
    ideas = chat("1000元以内")
    assert ideas.action == "results" and len(ideas.cards) == 4
    assert all(c.price <= 1000 for c in ideas.cards)
    assert all(meta(parts, c.id).attributes.get("gender") in ("女", "中性", None) for c in ideas.cards)
    assert len({meta(parts, c.id).leaf_category for c in ideas.cards}) == 4  # varied product types


def test_faq_handoff_and_small_talk(chat) -> None:
    faq = chat("怎么退货")
    assert faq.action == "faq" and "7天无理由退货" in faq.reply and not faq.handoff
    order = chat("我的订单到哪了")
    assert order.handoff and order.action == "handoff"
    assert chat("转人工").handoff
    assert chat("你好").reply.startswith("你好")
    assert chat("hello", lang="en").reply.startswith("Hi")
    unsure = chat("blorp zzz")  # the NLU is not confident and no FAQ entry fits: ask, don't guess
    assert not unsure.handoff and unsure.action == "clarify" and not unsure.cards
    assert chat("qwop").action == "clarify"
    third = chat("zzkk")  # the third turn in a row the guide cannot handle goes to a person, with a ticket
    assert third.handoff and third.action == "handoff" and third.ticket is not None


def test_deleted_items_are_never_shown(parts) -> None:
    dm = manager(parts)
    shown = [c.id for c in dm.turn("del-1", USER, "我想买衬衫").cards]
    dm = manager(parts, deleted={shown[0]})
    assert shown[0] not in {c.id for c in dm.turn("del-2", USER, "我想买衬衫").cards}


def test_state_survives_reopening_the_store(parts) -> None:
    manager(parts).turn("persist", USER, "我想买黑色衬衫")
    with open_store(parts["url"]) as reopened:
        reply = manager(parts, store=reopened).turn("persist", USER, "第一个是什么材质")
        assert reply.slots == {"product_type": "衬衫", "color": "黑色"} and reply.action == "attribute"
        assert reopened.get_session("persist")["turns"] == 2


def test_unreadable_state_starts_afresh(parts) -> None:
    parts["store"].put_session("broken", {"session_id": "broken", "turns": "many"})
    reply = manager(parts).turn("broken", USER, "你好")
    assert reply.action == "greeting"


def test_model_failure_still_answers_from_the_catalog(parts) -> None:
    class Broken:
        def recommend(self, *args: Any, **kwargs: Any):
            raise RuntimeError("model down")

    retriever = Retriever(parts["kg"], parts["search"], Broken(), parts["store"])  # type: ignore[arg-type]
    dm = DialogueManager(parts["kg"], retriever, parts["store"], KeywordNLU(), parts["faq"])
    reply = dm.turn("broken-model", USER, "我想买衬衫")
    assert reply.action == "results" and len(reply.cards) == 4


# ---------------------------------------------------------------------------------------------- optional LLM
class CannedLLM(http.server.BaseHTTPRequestHandler):
    """A real HTTP server speaking the OpenAI chat-completions shape, answering what the test sets."""

    answer: ClassVar[str] = ""
    delay: ClassVar[float] = 0.0
    hits: ClassVar[int] = 0

    def do_POST(self) -> None:
        type(self).hits += 1
        length = int(self.headers["Content-Length"])
        prompt = json.loads(self.rfile.read(length))["messages"][-1]["content"]
        time.sleep(self.delay)
        payload = json.dumps({"choices": [{"message": {"content": self.answer.format(prompt=prompt)}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def llm_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CannedLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    CannedLLM.answer, CannedLLM.delay, CannedLLM.hits = "", 0.0, 0
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_llm_rewording_is_used_only_when_grounded(parts, llm_url: str) -> None:
    phraser = LLMPhraser(LLMConfig(llm_url, "test-model", timeout_s=0.5, failures_to_open=2, reset_after_s=60))
    dm = manager(parts)
    dm.phraser = phraser
    CannedLLM.answer = "好的！{prompt}"  # keeps every title and price
    reply = dm.turn("llm-1", USER, "我想买衬衫")
    assert reply.reply.startswith("好的！为你找到") and CannedLLM.hits == 1
    CannedLLM.answer = "推荐「不存在的衬衫」，只要 ¥1"  # invents a product and a price: dropped
    invented = dm.turn("llm-2", USER, "我想买衬衫")
    assert invented.reply.startswith("为你找到") and "不存在" not in invented.reply
    assert dm.turn("llm-3", USER, "你好").reply.startswith("你好") and CannedLLM.hits == 2  # small talk: no LLM
    CannedLLM.answer, CannedLLM.delay = "好的！{prompt}", 1.0  # too slow: the rule reply, twice, then the breaker opens
    for n in range(3):
        assert dm.turn(f"llm-slow-{n}", USER, "我想买衬衫").reply.startswith("为你找到")
    assert CannedLLM.hits == 4 and not phraser.breaker.allow()
    phraser.close()


def test_grounded_check() -> None:
    original = "为你找到 1 款衬衫：\n1. 「栖木 衬衫」 ¥189"
    assert grounded("好的，" + original, original)
    assert not grounded("为你找到 1 款衬衫：「栖木 衬衫」 ¥179", original)  # changed price
    assert not grounded("为你找到 1 款衬衫。", original)  # dropped the product
    assert not grounded(original + " 另有 50% 折扣", original)  # a new number
