"""``shopguide users export / erase`` and ``shopguide purge``: what is held comes out whole, what is erased or
expired is gone, and the tables say how much."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from shopguide.data.schema import Event, User
from shopguide.store import open_store

DAY = 86400.0


def table_rows(out: str) -> dict[str, list[str]]:
    """The body rows of rich tables in ``out``: first cell -> the other cells."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) > 1:
            rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture
def shop(store_url: str) -> str:
    now = time.time()
    with open_store(store_url) as st:
        st.upsert_users([User(id="u-li", attributes={"city": "杭州"}), User(id="u-wang")])
        st.add_events(
            [
                Event(user="u-li", item="tea", type="view", ts=now - 400 * DAY),
                Event(user="u-li", item="tea", type="purchase", ts=now - 2 * DAY),
                Event(user="u-wang", item="mug", type="view", ts=now - 1 * DAY),
            ]
        )
        st.put_session("chat-li", {"user_id": "u-li", "history": [{"role": "shopper", "text": "龙井"}]})
    return store_url


def test_users_export_to_stdout_and_to_a_file(cli, shop: str, home: Path, tmp_path: Path) -> None:
    run = cli("users", "export", "u-li", "--home", home, "--store", shop)
    assert run.code == 0, run.out
    data = json.loads(run.stdout)
    assert data["user"] == {"id": "u-li", "attributes": {"city": "杭州"}} and len(data["events"]) == 2
    assert data["sessions"][0]["state"]["history"][0]["text"] == "龙井" and data["pseudonym"].startswith("u_")
    out = tmp_path / "exports" / "u-li.json"
    run = cli("users", "export", "u-li", "--out", out, "--home", home, "--store", shop)
    assert run.code == 0 and "2 events, 1 chat sessions and 0 tickets" in run.out
    assert json.loads(out.read_text(encoding="utf-8"))["user_id"] == "u-li"
    missing = cli("users", "export", "nobody", "--home", home, "--store", shop)
    assert missing.code == 3 and "nothing is held about user 'nobody'" in missing.out


def test_users_erase_asks_first_and_shows_the_counts(cli, shop: str, home: Path) -> None:
    declined = cli("users", "erase", "u-li", "--home", home, "--store", shop)  # no input: the answer is no
    assert declined.code != 0
    with open_store(shop) as st:
        assert st.get_user("u-li").id == "u-li"
    run = cli("users", "erase", "u-li", "--yes", "--home", home, "--store", shop)
    assert run.code == 0, run.out
    rows = table_rows(run.out)
    assert [rows[k] for k in ("users", "events", "sessions", "tickets")] == [["1"], ["2"], ["1"], ["0"]]
    with open_store(shop) as st:
        assert [e.user for e in st.iter_events()] == ["u-wang"] and st.get_session("chat-li") is None
    again = cli("users", "erase", "u-li", "--yes", "--home", home, "--store", shop)
    assert again.code == 3


def test_purge_by_settings_or_older_than(cli, shop: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = cli("purge", "--home", home, "--store", shop)  # defaults: events forever, sessions 30 days
    assert run.code == 0, run.out
    assert table_rows(run.out)["events"] == ["forever", "0"]
    assert table_rows(run.out)["chat sessions"] == ["30 days", "0"]
    with open_store(shop) as st:
        assert st.count_events() == 3 and st.get_session("chat-li") is not None  # written just now
    monkeypatch.setenv("SHOPGUIDE_RETENTION_DAYS", "365")
    run = cli("purge", "--home", home, "--store", shop)
    assert table_rows(run.out)["events"] == ["365 days", "1"]
    run = cli("purge", "--older-than", "1.5", "--home", home, "--store", shop)
    assert run.code == 0
    with open_store(shop) as st:
        assert [e.item for e in st.iter_events()] == ["mug"]
    nothing = cli("purge", "--older-than", "0", "--home", home, "--store", shop)
    assert nothing.code == 0 and "nothing to purge" in nothing.out
