"""Helpers the guide tests share (imported by module name, as ``tests/store/contract.py`` is)."""

from __future__ import annotations

from fastapi.testclient import TestClient

#: A neural tagger small enough to train in seconds in a test.
SMALL_NEURAL = {"hidden": 24, "char_dim": 16, "bigram_dim": 16, "word_dim": 8, "tag_dim": 4, "epochs": 25,
                "folds": 3, "members": 1}  # fmt: skip


def say(client: TestClient, session: str, message: str, lang: str | None = None) -> dict:
    """One chat turn through ``POST /v1/chat``; its JSON body (the status must be 200)."""
    payload = {"session_id": session, "message": message, **({"lang": lang} if lang else {})}
    response = client.post("/v1/chat", json=payload)
    assert response.status_code == 200, response.text
    return response.json()
