"""End-to-end: scripted multi-turn conversations through the real POST /v1/chat on the demo catalog, and
the grounding check (every title, price and attribute value a reply states is the catalog's).

Each file in ``conversations/`` holds a list of conversations; each turn has the message (``say``) and
expectations, all optional: ``intent``, ``slots`` (a subset of what the NLU understood), ``state`` (a
subset of the session's slots after the turn; ``null`` values must be absent), ``action``, ``handoff``,
``reply_has`` / ``reply_lacks`` (substrings), ``cards`` (``min``, ``max``, ``category``, ``price_max``,
``price_min``, ``attrs`` {field: value}, ``not`` {field: value}, ``brand``, ``cheaper``: cheaper than the
previous list (under its dearest card, and on average), ``new``: none of the previous list, ``from_list``:
positions in the last list shown)
and ``fact`` (the reply states this catalog fact of the first card).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from authkit import ADMIN_KEY, AUTH
from shopguide.config import Settings
from shopguide.guide.kg import ATTRIBUTE_FIELDS
from shopguide.service.app import create_app
from shopguide.service.routes import chat as chat_route
from shopguide.service.state import ServiceState

CONVERSATIONS = sorted((Path(__file__).parent / "conversations").glob("*.yaml"))
NEW_LIST_ACTIONS = {"results", "bundle", "similar", "no_results"}
LABELS = {"zh": {"color": "颜色", "material": "材质", "style": "风格", "season": "季节", "occasion": "适用场合",
                 "size": "尺码", "brand": "品牌", "gender": "适用人群"},
          "en": {"color": "colour", "material": "material", "style": "style", "season": "season",
                 "occasion": "occasion", "size": "sizes", "brand": "brand", "gender": "for"}}  # fmt: skip


def load_conversations() -> list[dict[str, Any]]:
    out = []
    for path in CONVERSATIONS:
        for conv in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.append({**conv, "file": path.name})
    return out


ALL = load_conversations()


def settings(home: Path) -> Settings:
    return Settings(_env_file=None, home=home, store_url="", admin_key=ADMIN_KEY)


def has_route(routes: list[Any], path: str) -> bool:
    """Whether ``path`` is served, looking into included routers too (FastAPI nests them)."""
    return any(
        getattr(r, "path", None) == path or has_route(getattr(getattr(r, "original_router", None), "routes", []), path)
        for r in routes
    )


def app_on(home: Path) -> FastAPI:
    app = create_app(settings(home))
    if not has_route(app.routes, "/v1/chat"):  # until the app factory includes the chat router
        app.include_router(chat_route.router)
    return app


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chat-home")
    ServiceState.start(settings(path)).close()
    return path


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(app_on(home), headers=AUTH) as client:
        yield client


@pytest.fixture(scope="module")
def catalog(client: TestClient) -> Any:
    return client.app.state.shopguide.models.served.model.dataset_


def item(catalog: Any, item_id: str) -> Any:
    idx = catalog.items.index(item_id)
    assert idx is not None, f"unknown item {item_id}"
    return catalog.item(idx)


def check_cards(catalog: Any, cards: list[dict], expect: dict, previous: list[dict], where: str) -> None:
    assert len(cards) >= expect.get("min", 1), f"{where}: too few cards {cards}"
    assert len(cards) <= expect.get("max", 10), f"{where}: too many cards"
    for card in cards:
        it = item(catalog, card["id"])
        what = f"{where}: card {card['id']} {it.title}"
        if "category" in expect:
            assert expect["category"] in it.category, what
        if "price_max" in expect:
            assert it.price <= expect["price_max"], what
        if "price_min" in expect:
            assert it.price >= expect["price_min"], what
        if "brand" in expect:
            assert it.brand == expect["brand"], what
        for key, value in (expect.get("attrs") or {}).items():
            assert it.attributes.get(key) == value, what
        for key, value in (expect.get("not") or {}).items():
            values = value if isinstance(value, list) else [value]
            got = it.leaf_category if key == "category" else it.attributes.get(key)
            assert got not in values, what
        if "gender_in" in expect:
            assert it.attributes.get("gender") in [*expect["gender_in"], None], what
    if expect.get("cheaper"):  # below the previous list: every card under its dearest, and on average
        assert previous, f"{where}: no previous list"
        assert max(c["price"] for c in cards) < max(c["price"] for c in previous), where
        mean = sum(c["price"] for c in cards) / len(cards)
        assert mean < sum(c["price"] for c in previous) / len(previous), where
    if expect.get("new"):  # "show me more": none of the previous list again
        assert not {c["id"] for c in cards} & {c["id"] for c in previous}, where
    if "from_list" in expect:
        assert [c["id"] for c in cards] == [previous[k - 1]["id"] for k in expect["from_list"]], where


def check_turn(catalog: Any, body: dict, turn: dict, previous: list[dict], where: str) -> None:
    understood = body["understood"]
    if "intent" in turn:
        allowed = turn["intent"] if isinstance(turn["intent"], list) else [turn["intent"]]
        assert understood["intent"] in allowed, f"{where}: intent {understood['intent']} ({understood})"
    for key, value in (turn.get("slots") or {}).items():
        assert understood["slots"].get(key) == value, f"{where}: slot {key} in {understood['slots']}"
    for key, value in (turn.get("state") or {}).items():
        assert body["slots"].get(key) == value, f"{where}: state {key} in {body['slots']}"
    if "action" in turn:
        allowed = turn["action"] if isinstance(turn["action"], list) else [turn["action"]]
        assert body["action"] in allowed, f"{where}: action {body['action']}: {body['reply']}"
    assert body["handoff"] == turn.get("handoff", False), f"{where}: handoff {body['handoff']}: {body['reply']}"
    for text in turn.get("reply_has") or []:
        assert text in body["reply"], f"{where}: {text!r} not in {body['reply']!r}"
    for text in turn.get("reply_lacks") or []:
        assert text not in body["reply"], f"{where}: {text!r} in {body['reply']!r}"
    if "cards" in turn:
        if turn["cards"] == 0:
            assert body["cards"] == [], f"{where}: expected no cards"
        else:
            check_cards(catalog, body["cards"], turn["cards"], previous, where)
    if "fact" in turn:
        it = item(catalog, body["cards"][0]["id"])
        if turn["fact"] == "stock":
            shown = (
                ("有货" if body["lang"] == "zh" else "in stock")
                if it.in_stock
                else ("缺货" if body["lang"] == "zh" else "out of stock")
            )
        else:
            shown = name_of(it.brand if turn["fact"] == "brand" else it.attributes[turn["fact"]], body["lang"])
        assert shown in body["reply"], f"{where}: {shown!r} not in {body['reply']!r}"


@pytest.mark.parametrize("conv", ALL, ids=[f"{c['file']}:{c['name']}" for c in ALL])
def test_conversation(client: TestClient, catalog: Any, conv: dict[str, Any]) -> None:
    session = re.sub(r"[^\w-]", "-", f"conv-{conv['file']}-{conv['name']}")[:120]
    last_list: list[dict] = []
    for n, turn in enumerate(conv["turns"], 1):
        payload = {"session_id": session, "message": turn["say"]}
        if conv.get("lang"):
            payload["lang"] = conv["lang"]
        if conv.get("user"):
            payload["user_id"] = conv["user"]
        response = client.post("/v1/chat", json=payload)
        assert response.status_code == 200, response.text
        body = response.json()
        where = f"{conv['name']} turn {n} ({turn['say']})"
        assert not body["degraded"], f"{where}: degraded"
        check_turn(catalog, body, turn, last_list, where)
        assert_grounded(catalog, body, where)
        if body["action"] in NEW_LIST_ACTIONS and body["cards"]:
            last_list = body["cards"]


def test_suite_size_and_languages() -> None:
    assert len(ALL) >= 40
    langs = {c.get("lang") or ("zh" if re.search(r"[\u4e00-\u9fff]", c["turns"][0]["say"]) else "en") for c in ALL}
    assert langs == {"zh", "en"}
    assert sum(len(c["turns"]) > 1 for c in ALL) >= 30


# ---------------------------------------------------------------------------------------------- grounding
TITLE = {"zh": re.compile(r"「([^」]+)」"), "en": re.compile(r"“([^”]+)”")}
LINE = re.compile(r"^\d+\. [「“](.+?)[」”] ¥([\d.]+)")
FACT_LINE = {"zh": re.compile(r"^· (.+?)：(.+)$"), "en": re.compile(r"^· (.+?): (.+)$")}
DETAILS = {"zh": re.compile(r"^「(.+?)」：(.+)$"), "en": re.compile(r"^“(.+?)”: (.+)$")}
ATTRIBUTE_ANSWER = {"zh": re.compile(r"「(.+?)」的(.+?)：(.+?)。"), "en": re.compile(r"The (.+?) of “(.+?)”: (.+?)\.")}


def assert_grounded(catalog: Any, body: dict, where: str) -> None:
    """Every title, price and attribute value in the reply and the cards is the catalog's own."""
    lang, reply = body["lang"], body["reply"]
    by_title = {}
    for meta in catalog.item_meta:
        if meta is not None:
            by_title[meta.title] = meta
            if meta.title_alt:
                by_title[meta.title_alt] = meta
    for card in body["cards"]:
        meta = item(catalog, card["id"])
        assert card["title"] in (meta.title, meta.title_alt) and card["price"] == meta.price, f"{where}: card {card}"
    assert body["items"] == body["cards"]
    if body["action"] in ("faq", "handoff", "fallback"):
        return  # FAQ and hand-off texts come word for word from the FAQ file / fixed templates
    quoted = TITLE[lang].findall(reply)
    for title in quoted:
        assert title in by_title, f"{where}: invented title {title!r}"
    prices = {by_title[t].price for t in quoted}
    for amount in re.findall(r"¥([\d.]+)", reply):
        assert float(amount) in prices, f"{where}: price ¥{amount} is not a price of the items named"
    for line in reply.splitlines():
        if m := LINE.match(line):
            assert by_title[m.group(1)].price == float(m.group(2)), f"{where}: wrong price in {line!r}"
    shown = [by_title[t] for t in quoted]
    labels = {v: k for k, v in LABELS[lang].items()}
    for line in reply.splitlines():
        m = FACT_LINE[lang].match(line)
        if m and m.group(1) in labels:
            field = labels[m.group(1)]
            values = m.group(2).split(" | ")
            for meta, value in zip(shown, values, strict=False):
                truth = meta.brand if field == "brand" else meta.attributes.get(field)
                assert value == "—" if truth is None else name_of(truth, lang) == value, f"{where}: {line!r}"
    for line in reply.splitlines():
        if (m := DETAILS[lang].match(line)) and m.group(1) in by_title:
            meta = by_title[m.group(1)]
            for part in m.group(2).split("；" if lang == "zh" else "; "):
                label, _, value = part.partition(" ")
                field = labels.get(label)
                if field in ATTRIBUTE_FIELDS or field == "brand":
                    truth = meta.brand if field == "brand" else meta.attributes.get(field)
                    assert name_of(truth, lang) == value, f"{where}: {part!r} of {meta.id}"
    for card in body["cards"]:
        for a, b in re.findall(r"「([^」]+)」|“([^”]+)”", card["reason"]):
            assert (a or b) in by_title, f"{where}: invented title in reason {card['reason']!r}"
    for m in ATTRIBUTE_ANSWER[lang].finditer(reply):
        title, label, value = (
            (m.group(1), m.group(2), m.group(3)) if lang == "zh" else (m.group(2), m.group(1), m.group(3))
        )
        field = labels.get(label)
        if field in ATTRIBUTE_FIELDS or field == "brand":
            meta = by_title[title]
            truth = meta.brand if field == "brand" else meta.attributes.get(field)
            assert name_of(truth, lang) == value, f"{where}: {m.group(0)!r}"


def name_of(value: str, lang: str) -> str:
    from shopguide.data.demo import ATTRIBUTE_VALUES, BRAND_NAMES, CATEGORY_NAMES

    return {**ATTRIBUTE_VALUES, **CATEGORY_NAMES, **BRAND_NAMES}.get(value, value) if lang == "en" else value


# ---------------------------------------------------------------------------------------------- the route
def test_storefront_spellings_and_items(client: TestClient) -> None:
    body = client.post("/v1/chat", json={"message": "我想买衬衫", "session": "web-abc", "user": "shopper-001"}).json()
    assert body["session_id"] == "web-abc" and body["items"] == body["cards"] and body["reply"]
    assert set(body["understood"]) >= {"intent", "slots", "confidence"}
    fresh = client.post("/v1/chat", json={"message": "hello"}).json()
    assert fresh["session_id"].startswith("chat-") and fresh["lang"] == "en"


@pytest.mark.parametrize(
    "payload",
    [{"message": ""}, {"session_id": "a b", "message": "hi"}, {"message": "x" * 501}, {"message": "hi", "lang": "fr"}],
)
def test_invalid_requests_are_422(client: TestClient, payload: dict) -> None:
    response = client.post("/v1/chat", json=payload)
    assert response.status_code == 422 and response.json()["error"] == "invalid_input"


def test_a_failing_turn_is_a_polite_fallback(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = chat_route.guide_for(client.app.state, client.app.state.shopguide)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("model down")

    monkeypatch.setattr(guide.manager, "turn", boom)
    body = client.post("/v1/chat", json={"session_id": "boom", "message": "我想买衬衫"}).json()
    assert body["degraded"] and body["action"] == "fallback" and body["lang"] == "zh" and "抱歉" in body["reply"]


def test_the_guide_is_built_once_per_model(client: TestClient) -> None:
    state = client.app.state
    first = chat_route.guide_for(state, state.shopguide)
    client.post("/v1/chat", json={"session_id": "once", "message": "你好"})
    assert chat_route.guide_for(state, state.shopguide) is first


def test_session_survives_a_restart(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    with TestClient(app_on(copy), headers=AUTH) as c:
        c.post("/v1/chat", json={"session_id": "restart", "message": "我想买黑色衬衫", "user_id": "shopper-001"})
        shown = c.post("/v1/chat", json={"session_id": "restart", "message": "便宜点的"}).json()["cards"]
    with TestClient(app_on(copy), headers=AUTH) as c:
        body = c.post("/v1/chat", json={"session_id": "restart", "message": "第一个是什么材质"}).json()
    assert body["slots"]["product_type"] == "衬衫" and body["action"] == "attribute"
    assert body["cards"][0]["id"] == shown[0]["id"]


def test_the_grounding_check_catches_inventions(catalog: Any) -> None:
    meta = catalog.item(0)
    good = {"lang": "zh", "action": "results", "cards": [], "items": [],
            "reply": f"为你找到 1 款：\n1. 「{meta.title}」 ¥{meta.price:g}"}  # fmt: skip
    assert_grounded(catalog, good, "good")
    for reply in (
        f"1. 「{meta.title}」 ¥{meta.price + 1:g}",
        "1. 「不存在的商品」 ¥99",
        f"「{meta.title}」的颜色：不存在色。",
    ):
        with pytest.raises(AssertionError):
            assert_grounded(catalog, {**good, "reply": reply}, "bad")
    card = {"id": meta.id, "title": meta.title, "price": (meta.price or 0) + 1, "reason": ""}
    with pytest.raises(AssertionError):
        assert_grounded(catalog, {**good, "cards": [card], "items": [card]}, "bad card")
