"""POST /v1/chat with the learned product tagger: an item the shop does not carry is named honestly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servicekit import Service, running_service

from shopguide.guide.ner import ProductTagger, Sentence
from shopguide.guide.ner.data import to_tags
from shopguide.service.routes import chat

TYPES = ["空气炸锅", "电饭煲", "加湿器", "衬衫", "运动鞋"]
TEMPLATES = ["我想买一个{t}", "有没有好用的{t}", "推荐一款{t}", "想要一台{t}"]


def tiny_tagger() -> ProductTagger:
    sentences = []
    for template in TEMPLATES:
        for kind in TYPES:
            text = template.format(t=kind)
            start = text.index(kind)
            sentences.append(Sentence(tuple(text), tuple(to_tags(len(text), [("HCCX", start, start + len(kind))]))))
    return ProductTagger.train(sentences, max_iterations=60, folds=3)


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    patch = pytest.MonkeyPatch()
    tagger = tiny_tagger()
    patch.setattr(chat, "product_tagger", lambda settings: tagger)
    with running_service(seeded_home, tmp_path_factory, deadline_ms=10_000) as service:
        yield service
    patch.undo()


def test_a_product_the_shop_does_not_carry_is_named_not_replaced(svc: Service) -> None:
    body = svc.client.post("/v1/chat", json={"session_id": "tag-1", "message": "我想买一个空气炸锅"}).json()
    assert body["understood"]["slots"].get("unknown_product") == "空气炸锅"
    assert body["action"] == "not_carried"
    assert "空气炸锅" in body["reply"] and body["cards"] == []


def test_catalog_products_are_still_found(svc: Service) -> None:
    body = svc.client.post("/v1/chat", json={"session_id": "tag-2", "message": "我想买一件衬衫"}).json()
    assert body["cards"]
    assert all(card["title"] for card in body["cards"])
