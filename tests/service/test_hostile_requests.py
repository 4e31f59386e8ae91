"""Hostile input over HTTP: each bad event is rejected alone with a reason and the rest of its batch is
stored; a storage error never shows SQL to the client and answers 503 only for an outage; ids and stored
text refuse control characters."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from servicekit import KNOWN_SHOPPER, Service, running_service

from shopguide.data.schema import EventType

ITEM = "demo-0001"


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(seeded_home, tmp_path_factory) as service:
        yield service


def event(user: str, **fields) -> dict:
    return {"user": user, "item": ITEM, "type": "view", "ts": time.time() - 60, **fields}


def post(svc: Service, events: list) -> dict:
    # the body as a client would send it, NaN and Infinity literals included (Python's json writes them)
    response = svc.client.post(
        "/v1/events", content=json.dumps({"events": events}), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_each_hostile_event_is_rejected_alone_and_the_rest_is_stored(svc: Service) -> None:
    user = "hostile-batch"
    batch = [
        event(user, item="demo-0002"),  # 0: fine
        event(user, ts=math.nan),  # 1
        event(user, ts=math.inf),  # 2
        event(user, ts="NaN"),  # 3
        event(user, ts="-Infinity"),  # 4
        event(user, ts=1e20),  # 5
        event(user, ts=946_684_799),  # 6: 1999-12-31
        event(user, ts=time.time() + 3 * 86_400),  # 7: three days ahead
        event(user, type="purchase", value=math.nan),  # 8
        event(user, type="purchase", value=-3),  # 9
        event(user, type="purchase", value=5e9),  # 10
        event(user, type="rating", value=11),  # 11
        event(user + "\x00x"),  # 12
        event(user, item="demo\x01"),  # 13
        event(user, session="s\x00"),  # 14
        event(user, context={"page": {"nested": True}}),  # 15
        event(user, context={"position": math.inf}),  # 16
        event(user, item="demo-0003", type="purchase", value=2),  # 17: fine
    ]
    body = post(svc, batch)
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 0, len(batch) - 2)
    fields = {e["index"]: e["field"] for e in body["errors"]}
    assert fields == {1: "ts", 2: "ts", 3: "ts", 4: "ts", 5: "ts", 6: "ts", 7: "ts", 8: "value", 9: "value",
                      10: "value", 11: "value", 12: "user", 13: "item", 14: "session", 15: "context",
                      16: "context"}  # fmt: skip
    reasons = {e["index"]: e["reason"] for e in body["errors"]}
    assert reasons[1] == "must be a finite number, not nan"
    assert "more than a day in the future" in reasons[5] and "before 2000-01-01" in reasons[6]
    assert "control characters" in reasons[12]
    stored = sorted((ev.item, ev.type, ev.value) for ev in svc.state.store.iter_events(user=user))
    assert stored == [("demo-0002", EventType.VIEW, 1.0), ("demo-0003", EventType.PURCHASE, 2.0)]


def test_personal_data_in_event_context_is_masked_before_it_is_stored(svc: Service) -> None:
    user = "hostile-pii"
    body = post(svc, [event(user, context={"note": "call 13812345678 or a.b@example.com", "page": "home"})])
    assert body["accepted"] == 1
    [stored] = svc.state.store.iter_events(user=user)
    assert "13812345678" not in stored.context["note"] and "a.b@example.com" not in stored.context["note"]
    assert stored.context["page"] == "home"


@pytest.fixture
def sqlite(svc: Service) -> Iterator[sa.Engine]:
    """A second connection to the service's SQLite file (to add and drop triggers)."""
    engine = sa.create_engine(svc.settings.resolved_store_url)
    yield engine
    engine.dispose()


def test_a_refused_event_does_not_drop_the_valid_ones_nor_leak_sql(svc: Service, sqlite, caplog) -> None:
    user = "hostile-refused"
    with sqlite.begin() as conn:  # the database itself refuses one event: a constraint, not an outage
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.item_id = 'demo-0099' "
            "BEGIN SELECT RAISE(ABORT, 'secret constraint text'); END"
        )
    try:
        caplog.set_level(logging.WARNING)
        batch = [event(user, item="demo-0097"), event(user, item="demo-0099"), event(user, item="demo-0098")]
        body = post(svc, batch)
    finally:
        with sqlite.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse_poison")
    assert (body["accepted"], body["rejected"]) == (2, 1)
    assert body["errors"] == [{"index": 1, "field": None, "reason": "the store could not hold this event"}]
    assert "secret" not in json.dumps(body) and "INSERT" not in json.dumps(body)
    assert sorted(ev.item for ev in svc.state.store.iter_events(user=user)) == ["demo-0097", "demo-0098"]
    assert any("secret constraint text" in r.getMessage() for r in caplog.records), "the details go to the log"


def test_a_store_outage_is_503_with_a_generic_message(svc: Service, sqlite, caplog) -> None:
    with sqlite.begin() as conn:  # every insert now fails inside the database (no such table): an outage
        conn.exec_driver_sql(
            "CREATE TRIGGER break_inserts BEFORE INSERT ON events BEGIN INSERT INTO missing_table VALUES (1); END"
        )
    try:
        caplog.set_level(logging.ERROR)
        response = svc.client.post("/v1/events", json={"events": [event("hostile-outage")]})
    finally:
        with sqlite.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER break_inserts")
        svc.state.store.engine.dispose()  # the service's connection keeps the failing statement prepared
    assert response.status_code == 503
    assert response.json() == {
        "error": "store_unavailable",
        "detail": "the store is unavailable; try again later",
        "field": None,
    }
    assert any("missing_table" in r.getMessage() for r in caplog.records), "the details go to the log"
    assert post(svc, [event("hostile-outage")])["accepted"] == 1, "back once the database is"


def test_items_with_absurd_numbers_or_control_characters_are_refused(svc: Service) -> None:
    for item, field in (
        ({"id": "hostile-i1", "title": "cup", "price": math.inf}, "items.0.price"),
        ({"id": "hostile-i1", "title": "cup", "price": 1e12}, "items.0.price"),
        ({"id": "hostile-i1\x00", "title": "cup"}, "items.0.id"),
        ({"id": "hostile-i1", "title": "cup\x00"}, "items.0.title"),
        ({"id": "hostile-i1", "title": "cup", "attributes": {"color": "red\x1b[31m"}}, "items.0.attributes"),
    ):
        response = svc.client.post(
            "/v1/items", content=json.dumps({"items": [item]}), headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, item
        assert response.json()["field"] == field
    assert svc.client.get("/v1/items/hostile-i1").status_code == 404
    ok = svc.client.post("/v1/items", json={"items": [{"id": "hostile-i2", "title": "cup\t350 ml", "price": 9.9}]})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "hello\x00"}, "message"),
        ({"message": "\x1b[2Jhi"}, "message"),
        ({"message": "hi", "session_id": "s\x00"}, "session_id"),
        ({"message": "hi", "user": "u\x01"}, "user"),
    ],
)
def test_chat_refuses_control_characters(svc: Service, body: dict, field: str) -> None:
    response = svc.client.post("/v1/chat", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_chat_accepts_line_breaks_and_tabs(svc: Service) -> None:
    response = svc.client.post("/v1/chat", json={"message": "推荐\n一件\t衬衫", "user": KNOWN_SHOPPER})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/v1/users/a%00b/recommendations", "/v1/users/a%1Fb/recommendations",
                                  "/v1/items/a%7Fb/similar"])  # fmt: skip
def test_path_ids_with_control_characters_are_422(svc: Service, path: str) -> None:
    response = svc.client.get(path)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
