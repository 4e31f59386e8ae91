"""Context-aware re-ranking, 搭配 bundles and search through the HTTP API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servicekit import KNOWN_SHOPPER, Service, running_service


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(seeded_home, tmp_path_factory, deadline_ms=10_000) as service:
        yield service


def item(svc: Service, item_id: str) -> dict:
    return svc.client.get(f"/v1/items/{item_id}").json()


def test_rain_lifts_rain_gear_and_says_why(svc: Service) -> None:
    plain = svc.client.get(f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 10}).json()
    rainy = svc.client.get(
        f"/v1/users/{KNOWN_SHOPPER}/recommendations", params={"n": 10, "weather": "下雨", "lang": "zh"}
    ).json()
    assert rainy["context"] == {"conditions": ["weather=rain"]}
    assert plain["context"] == {"conditions": []}
    fitting = [i for i in rainy["items"] if i["reasons"]["en"].startswith("fits today's rain")]
    assert fitting, rainy["items"]
    for it in fitting:
        full = item(svc, it["id"])
        assert full["category"][-1] in {"雨伞", "雨靴", "雨衣"} or {"rain", "waterproof"} & set(full["tags"])
        assert it["reason"].startswith("下雨天适用")
    assert [i["id"] for i in rainy["items"]] != [i["id"] for i in plain["items"]]


def test_bad_context_names_the_field(svc: Service) -> None:
    r = svc.client.get("/v1/users/x/recommendations", params={"local_time": "soon"})
    assert r.status_code == 422 and r.json()["field"] == "local_time"
    r = svc.client.get("/v1/users/x/recommendations", params={"hemisphere": "east"})
    assert r.status_code == 422 and r.json()["field"] == "hemisphere"


def test_bundle_pairs_complementary_types_with_reasons(svc: Service) -> None:
    anchor = item(svc, "demo-0001")
    body = svc.client.get("/v1/items/demo-0001/bundle", params={"n": 4, "lang": "zh"}).json()
    assert 1 <= len(body["items"]) <= 4
    for it in body["items"]:
        assert it["source"] == "pairing"
        assert it["category"][-1] != anchor["category"][-1]
        assert anchor["title"] in it["reasons"]["zh"]
    assert svc.client.get("/v1/items/nope/bundle").status_code == 404


def test_search_in_chinese_and_english_finds_rain_boots(svc: Service) -> None:
    zh = svc.client.get("/v1/search", params={"q": "雨靴", "n": 5}).json()
    en = svc.client.get("/v1/search", params={"q": "rain boots", "n": 5}).json()
    for body in (zh, en):
        assert body["items"]
        assert all(i["category"][-1] == "雨靴" for i in body["items"])
        assert all(i["source"] == "search" for i in body["items"])
    assert {i["id"] for i in zh["items"]} & {i["id"] for i in en["items"]}


def test_search_filters_and_errors(svc: Service) -> None:
    cheap = svc.client.get("/v1/search", params={"q": "衬衫", "max_price": 150}).json()
    assert cheap["items"] and all(i["price"] <= 150 for i in cheap["items"])
    assert svc.client.get("/v1/search", params={"q": ""}).status_code == 422
    blank = svc.client.get("/v1/search", params={"q": "   "})
    assert blank.status_code == 422 and blank.json()["field"] == "q"


def test_deleted_items_are_not_found_by_search(svc: Service) -> None:
    first = svc.client.get("/v1/search", params={"q": "雨伞", "n": 3}).json()["items"][0]["id"]
    assert svc.client.delete(f"/v1/items/{first}").status_code == 204
    after = svc.client.get("/v1/search", params={"q": "雨伞", "n": 50}).json()["items"]
    assert first not in {i["id"] for i in after}


def test_search_is_hybrid_a_paraphrase_without_shared_words_finds_rain_gear(svc: Service) -> None:
    body = svc.client.get("/v1/search", params={"q": "外面下雨了", "n": 5}).json()
    leaves = [i["category"][-1] for i in body["items"]]
    assert sum(leaf in {"雨伞", "雨靴", "雨衣", "冲锋衣"} for leaf in leaves) >= 3, leaves
