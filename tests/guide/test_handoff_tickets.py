"""Hand-offs leave a ticket a person can pick up: after-sales cases, anger, asking for a person, repeated failure;
the transcript is stored with personal data masked, and the admin API lists and closes tickets."""

from __future__ import annotations

from chat_helpers import say
from fastapi.testclient import TestClient


def tickets(client: TestClient, **params: str) -> list[dict]:
    response = client.get("/v1/admin/tickets", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_after_sales_case_asks_once_then_records_a_ticket_with_a_masked_transcript(client: TestClient) -> None:
    first = say(client, "case-1", "收到的杯子碎了，我电话13812345678")
    assert first["action"] == "after_sales" and "订单号" in first["reply"] and not first["handoff"]
    second = say(client, "case-1", "订单号 202611281234567")
    assert second["action"] == "after_sales" and "工单号" in second["reply"]
    ticket = next(t for t in tickets(client) if t["session_id"] == "case-1")
    assert ticket["reason"] == "defect" and ticket["order_id"] == "202611281234567" and ticket["status"] == "open"
    text = " ".join(turn["text"] for turn in ticket["transcript"])
    assert "13812345678" not in text and "[电话]" in text and "杯子碎了" in text
    assert f"工单号 {ticket['id']}" in second["reply"]


def test_anger_hands_off_at_once_and_the_ticket_says_so(client: TestClient) -> None:
    reply = say(client, "angry-1", "你们卖的什么垃圾 用一次就坏了 我要去12315投诉", lang="zh")
    assert reply["handoff"] and "工单号" in reply["reply"]
    ticket = next(t for t in tickets(client) if t["session_id"] == "angry-1")
    assert ticket["sentiment"] == "angry" and ticket["reason"] in ("complaint", "defect")  # what it is about


def test_asking_for_a_person_hands_off_with_a_ticket_once(client: TestClient) -> None:
    first = say(client, "human-1", "转人工")
    assert first["handoff"] and "工单号" in first["reply"]
    again = say(client, "human-1", "人呢 快点")
    assert again["handoff"] and "已经为您转接" in again["reply"]  # no second ticket for the same wait
    assert [t["reason"] for t in tickets(client) if t["session_id"] == "human-1"] == ["human"]


def test_tickets_are_listed_by_status_and_closed(client: TestClient) -> None:
    say(client, "close-1", "I want to talk to a real person")
    ticket = next(t for t in tickets(client, status="open") if t["session_id"] == "close-1")
    closed = client.post(f"/v1/admin/tickets/{ticket['id']}", json={"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert all(t["id"] != ticket["id"] for t in tickets(client, status="open"))
    assert any(t["id"] == ticket["id"] for t in tickets(client, status="closed"))
    assert client.post("/v1/admin/tickets/999999", json={"status": "closed"}).status_code == 404
    assert client.post(f"/v1/admin/tickets/{ticket['id']}", json={"status": "lost"}).status_code == 422
    assert client.get("/v1/admin/tickets", params={"status": "pending"}).status_code == 422
