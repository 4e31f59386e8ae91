"""StoreContract: the behaviour every Store backend must show.

Use it as a mixin: a subclass provides a ``store_url`` fixture (a fresh, empty database per test) and
sets ``persistent = False`` when a reopened URL does not see the same data (in-memory databases), and
``local = False`` when reads go over a network (the service then never reads on its event loop).
Migration tests use ``store.engine`` (every backend is SQL through SQLAlchemy).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest
import sqlalchemy as sa

from shopguide.data.schema import Event, Item, User
from shopguide.errors import DataError, NotFoundError, StoreError
from shopguide.security.audit import AuditEntry
from shopguide.security.keys import new_key
from shopguide.store import LATEST_VERSION, AddEventsResult, ImportResult, Store, open_store
from shopguide.store.base import ErasureResult, PurgeResult, Ticket
from shopguide.store.migrations import MIGRATIONS, migrate, set_version


def item(item_id: str, **kw: Any) -> Item:
    return Item(id=item_id, title=kw.pop("title", f"title {item_id}"), **kw)


def event(user: str, item_id: str, ts: float, type: str = "click", **kw: Any) -> Event:
    return Event(user=user, item=item_id, type=type, ts=ts, **kw)


def snapshot(store: Store) -> tuple[list, list, list]:
    return list(store.iter_items(include_deleted=True)), list(store.iter_users()), list(store.iter_events())


class StoreContract:
    persistent: ClassVar[bool] = True
    local: ClassVar[bool] = True

    @pytest.fixture
    def store(self, store_url: str) -> Iterator[Store]:
        with open_store(store_url) as store:
            yield store

    @pytest.fixture
    def filled(self, store: Store) -> Store:
        store.upsert_items([item("a", price=10.0), item("b"), item("c")])
        store.upsert_users([User(id="u1"), User(id="u2")])
        store.add_events([event("u1", "a", 1.0), event("u1", "b", 2.0, "purchase"), event("u2", "a", 3.0)])
        return store

    # ---------------------------------------------------------------- items
    def test_is_a_store_and_starts_empty(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.stats()["items"] == store.stats()["events"] == store.stats()["users"] == 0
        assert store.count_events() == 0

    def test_item_round_trips_every_field(self, store: Store) -> None:
        full = Item(
            id="sku-1", title="纯棉T恤", title_alt="Cotton tee", description="柔软", category=["服装", "T恤"],
            brand="优衣库", price=99.5, attributes={"color": "白色", "size": "L"}, tags=["夏季", "new"],
            stock=0, created_at=1_700_000_000.25,
        )  # fmt: skip
        assert store.upsert_items([full]) == 1
        assert store.get_item("sku-1") == full

    def test_upsert_replaces_and_last_one_wins(self, store: Store) -> None:
        store.upsert_items([item("a", title="old"), item("b")])
        store.upsert_items([item("a", title="first"), item("a", title="new", price=5.0)])
        assert store.get_item("a") == item("a", title="new", price=5.0)
        assert [it.id for it in store.iter_items()] == ["a", "b"]

    def test_unknown_ids(self, filled: Store) -> None:
        with pytest.raises(NotFoundError, match="nope"):
            filled.get_item("nope")
        with pytest.raises(NotFoundError):
            filled.get_user("nope")
        with pytest.raises(NotFoundError):
            filled.delete_item("nope")
        assert set(filled.get_items(["a", "nope", "c", "a"])) == {"a", "c"}

    def test_iter_items_ordered_by_id_across_pages(self, store: Store) -> None:
        ids = [f"i{n:05d}" for n in range(6001)]
        store.upsert_items(item(i) for i in random.Random(1).sample(ids, len(ids)))
        assert [it.id for it in store.iter_items()] == ids

    def test_soft_delete_hides_everywhere(self, filled: Store) -> None:
        filled.delete_item("a")
        filled.delete_item("a")  # deleting twice is fine
        with pytest.raises(NotFoundError):
            filled.get_item("a")
        assert filled.get_item("a", include_deleted=True).price == 10.0
        assert [it.id for it in filled.iter_items()] == ["b", "c"]
        assert [it.id for it in filled.iter_items(include_deleted=True)] == ["a", "b", "c"]
        assert filled.deleted_item_ids() == {"a"}
        assert set(filled.get_items(["a", "b"])) == {"b"}
        stats = filled.stats()
        assert (stats["items"], stats["deleted_items"], stats["events"]) == (2, 1, 3)
        data = filled.load_dataset()
        assert "a" not in data.items and len(data) == 1  # u1's purchase of b only
        filled.upsert_items([item("a")])  # upserting brings it back
        assert filled.get_item("a").id == "a" and filled.deleted_item_ids() == set()

    # ---------------------------------------------------------------- users
    def test_users_upsert_get_iter(self, store: Store) -> None:
        assert store.upsert_users([User(id="u2"), User(id="u1", attributes={"city": "上海"})]) == 2
        store.upsert_users([User(id="u2", attributes={"age": "25-34"})])
        assert store.get_user("u1").attributes == {"city": "上海"}
        assert [u.model_dump() for u in store.iter_users()] == [
            {"id": "u1", "attributes": {"city": "上海"}},
            {"id": "u2", "attributes": {"age": "25-34"}},
        ]

    # ---------------------------------------------------------------- events
    def test_events_are_idempotent(self, store: Store) -> None:
        ev = event("u1", "a", 5.0)
        assert store.add_events([ev]) == AddEventsResult(accepted=1, duplicate=0)
        assert store.add_events([ev, event("u1", "b", 5.0)]) == AddEventsResult(accepted=1, duplicate=1)
        assert store.add_events([ev.model_copy(update={"id": "x"})] * 2) == AddEventsResult(1, 1)
        same_id = event("u9", "z", 9.0, "purchase", id="x")  # same key, other content: still a duplicate
        assert store.add_events([same_id]) == AddEventsResult(accepted=0, duplicate=1)
        assert store.count_events() == 3

    def test_event_round_trip_sets_id_to_key(self, store: Store) -> None:
        ev = event("u1", "a", 5.5, "rating", value=4.0, session="s1", context={"page": "首页"})
        store.add_events([ev])
        (back,) = store.iter_events()
        assert back == ev.model_copy(update={"id": ev.key()})
        assert back.key() == ev.key()

    def test_iter_events_in_ts_then_insertion_order_across_pages(self, store: Store) -> None:
        events = [event(f"u{n % 7}", f"i{n}", float(n // 9)) for n in range(12_001)]
        random.Random(2).shuffle(events)
        store.add_events(events)
        expected = sorted(events, key=lambda e: e.ts)  # stable: insertion order within equal ts
        assert [e.item for e in store.iter_events()] == [e.item for e in expected]
        since = [e.item for e in expected if e.ts >= 600 and e.user == "u3"]
        assert [e.item for e in store.iter_events(since_ts=600, user="u3")] == since

    def test_recent_events_newest_first_with_limit(self, store: Store) -> None:
        store.add_events([event("u1", "a", 1.0), event("u1", "b", 3.0), event("u2", "x", 9.0)])
        store.add_events([event("u1", "c", 3.0), event("u1", "d", 2.0)])
        assert [e.item for e in store.recent_events("u1")] == ["c", "b", "d", "a"]
        assert [e.item for e in store.recent_events("u1", limit=2)] == ["c", "b"]
        assert store.recent_events("u1", limit=0) == []
        assert store.recent_events("nobody") == []

    def test_says_whether_its_reads_stay_on_this_machine(self, store: Store) -> None:
        assert store.local is self.local

    def test_recent_actions_are_the_recent_events_items_and_types(self, store: Store) -> None:
        store.add_events([event("u1", "a", 1.0), event("u1", "b", 3.0, "purchase"), event("u2", "x", 9.0)])
        store.add_events([event("u1", "c", 3.0), event("u1", "d", 2.0, "cart")])
        expected = [(e.item, e.type.value) for e in store.recent_events("u1")]
        assert (
            store.recent_actions("u1") == expected == [("c", "click"), ("b", "purchase"), ("d", "cart"), ("a", "click")]
        )
        assert store.recent_actions("u1", limit=2) == expected[:2]
        assert store.recent_actions("u1", limit=0) == []
        # what was shown is not something the shopper did: impressions never crowd out the actions
        store.add_events([event("u1", item, 10.0 + k, "impression") for k, item in enumerate("xyz")])
        assert store.recent_actions("u1", limit=2) == expected[:2]
        assert [e.type.value for e in store.recent_events("u1", limit=1)] == ["impression"]
        assert store.recent_actions("nobody") == []

    def test_recent_action_times_leave_impressions_out(self, store: Store) -> None:
        store.add_events([event("u1", "a", 1.0, "view"), event("u1", "b", 2.0, "impression"), event("u1", "c", 3.0)])
        assert store.recent_action_times("u1") == [("c", "click", 3.0), ("a", "view", 1.0)]
        assert store.recent_action_times("u1", 1) == [("c", "click", 3.0)] and store.recent_action_times("nobody") == []

    def test_active_users_by_latest_action_most_recent_first(self, store: Store) -> None:
        store.add_events([event("old", "a", 1.0), event("old", "b", 2.0), event("mid", "a", 5.0, "cart")])
        store.add_events([event("new", "c", 9.0, "purchase"), event("old", "z", 50.0, "impression")])
        assert store.active_users() == ["new", "mid", "old"], "an impression is not an action"
        assert store.active_users(limit=2) == ["new", "mid"]
        assert store.active_users(limit=0) == []
        store.add_events([event("old", "c", 10.0)])
        assert store.active_users(limit=1) == ["old"]

    def test_stats_counts_event_types(self, filled: Store) -> None:
        stats = filled.stats()
        assert (stats["items"], stats["users"], stats["events"]) == (3, 2, 3)
        assert (stats["events_click"], stats["events_purchase"], stats["events_view"]) == (2, 1, 0)

    # ---------------------------------------------------------------- import_batch
    def test_import_batch_writes_everything(self, store: Store) -> None:
        result = store.import_batch(
            items=[item("a"), item("b")], users=[User(id="u1")], events=[event("u1", "a", 1.0)] * 2
        )
        assert result == ImportResult(items=2, users=1, events=AddEventsResult(accepted=1, duplicate=1))
        assert store.stats()["items"] == 2 and store.count_events() == 1

    def test_import_batch_is_all_or_nothing_when_input_fails(self, filled: Store) -> None:
        before = snapshot(filled)

        def events() -> Iterator[Event]:
            for n in range(2500):  # more than one insert batch is written before the failure
                yield event("u3", "a", 100.0 + n)
            raise DataError("bad timestamp", file="events.csv", line=2502, field="ts")

        with pytest.raises(DataError, match="line 2502"):
            filled.import_batch(items=[item("new"), item("a", title="changed")], users=[User(id="u3")], events=events())
        assert snapshot(filled) == before

    def test_import_batch_is_all_or_nothing_when_database_rejects(self, filled: Store) -> None:
        before = snapshot(filled)
        bad = Item.model_construct(**{**item("neg").model_dump(), "price": -1.0})  # skips validation
        with pytest.raises(StoreError):
            filled.import_batch(items=[item("ok"), bad], events=[event("u1", "c", 7.0)])
        assert snapshot(filled) == before

    # ---------------------------------------------------------------- dataset
    def test_load_dataset_round_trip(self, filled: Store) -> None:
        filled.add_events([event("u3", "zz", 4.0, "view"), event("u1", "a", 5.0, "impression")])
        data = filled.load_dataset(event_weights={"click": 1.0, "purchase": 4.0, "view": 0.5})
        assert data.items.to_list() == ["a", "b", "c", "zz"]  # catalog first (c has no events), then the rest
        assert data.users.to_list() == ["u1", "u2", "u3"]
        assert data.matrix.shape == (3, 4) and len(data) == 5
        assert data.item_meta[2] == filled.get_item("c") and data.item_meta[3] is None
        expected = np.zeros((3, 4), dtype=np.float32)
        expected[0, 0], expected[0, 1], expected[1, 0], expected[2, 3] = 1.0, 4.0, 1.0, 0.5
        np.testing.assert_array_equal(data.matrix.toarray(), expected)
        np.testing.assert_array_equal(data.ts, [1.0, 2.0, 3.0, 4.0, 5.0])

    # ---------------------------------------------------------------- chat sessions
    def test_sessions_round_trip_and_last_write_wins(self, store: Store) -> None:
        assert store.get_session("s1") is None
        state = {"slots": {"product_type": "衬衫", "price_max": 300.0}, "shown": ["a", "b"], "turns": 2, "x": None}
        store.put_session("s1", state)
        assert store.get_session("s1") == state
        store.put_session("s1", {"turns": 3})
        store.put_session("s2", {"turns": 1})
        assert store.get_session("s1") == {"turns": 3} and store.get_session("s2") == {"turns": 1}
        assert store.stats()["items"] == 0  # sessions are not catalog data

    def test_session_state_must_be_json(self, store: Store) -> None:
        with pytest.raises(DataError, match="JSON"):
            store.put_session("s1", {"bad": object()})
        with pytest.raises(DataError):
            store.put_session("", {"turns": 1})
        assert store.get_session("s1") is None

    # ---------------------------------------------------------------- hand-off tickets
    def test_tickets_are_appended_listed_newest_first_and_closed(self, store: Store) -> None:
        assert store.tickets() == []
        transcript = ({"role": "shopper", "text": "杯子碎了"}, {"role": "guide", "text": "请提供订单号"})
        first = store.add_ticket(Ticket("s1", "defect", "negative", user_id="u1", transcript=transcript))
        second = store.add_ticket(Ticket("s2", "human", order_id="88231", summary="asked for a person"))
        assert first.id is not None and second.id is not None and first.id != second.id
        assert first.created_at is not None and first.status == "open"
        listed = store.tickets()
        assert [t.id for t in listed] == [second.id, first.id]
        assert listed[1].transcript == transcript and listed[1].user_id == "u1" and listed[0].order_id == "88231"
        closed = store.set_ticket_status(first.id, "closed")
        assert closed.status == "closed" and closed.transcript == transcript
        assert [t.id for t in store.tickets(status="open")] == [second.id]
        assert [t.id for t in store.tickets(status="closed")] == [first.id]
        assert len(store.tickets(limit=1)) == 1

    def test_bad_tickets_are_refused_and_nothing_is_stored(self, store: Store) -> None:
        with pytest.raises(DataError):
            store.add_ticket(Ticket("", "defect"))
        with pytest.raises(DataError):
            store.add_ticket(Ticket("s1", "defect", status="lost"))
        assert store.tickets() == []
        with pytest.raises(NotFoundError):
            store.set_ticket_status(12345, "closed")
        with pytest.raises(DataError):
            store.set_ticket_status(1, "pending")

    def test_sessions_persist_across_reopen(self, store_url: str, store: Store) -> None:
        if not self.persistent:
            pytest.skip("this backend does not persist across connections")
        store.put_session("s1", {"lang": "zh", "shown": ["demo-0001"]})
        store.close()
        with open_store(store_url) as again:
            assert again.get_session("s1") == {"lang": "zh", "shown": ["demo-0001"]}

    def test_version_1_store_gains_sessions_and_tickets(self, store: Store) -> None:
        engine = store.engine
        with engine.begin() as conn:
            for table in ("experiments", "bandit_decisions", "bandit_policies"):
                conn.execute(sa.text(f"DROP TABLE {table}"))
            conn.execute(sa.text("DROP TABLE audit_log"))
            conn.execute(sa.text("DROP TABLE api_keys"))
            conn.execute(sa.text("DROP TABLE tickets"))
            conn.execute(sa.text("DROP TABLE sessions"))
            set_version(conn, 1)
        assert migrate(engine) == LATEST_VERSION >= 3
        store.put_session("s1", {"turns": 1})
        assert store.get_session("s1") == {"turns": 1}
        assert store.add_ticket(Ticket("s1", "human")).id is not None
        assert store.api_keys() == [] and store.audit_entries() == []  # version 4's tables
        assert store.policies() == [] and store.decisions() == [] and store.experiment_specs() == []  # version 5

    # ---------------------------------------------------------------- the learning loop's tables
    def test_policy_writes_are_compare_and_set(self, store: Store) -> None:
        config = {"arms": ["ask", "show"], "kind": "ucb1", "params": {}}
        assert store.save_policy("guide:vague", expected_version=None, config=config, enabled=True) == 1
        assert store.save_policy("guide:vague", expected_version=None, config=config) is None  # exists already
        assert store.save_policy("guide:vague", expected_version=1, state={"n": 1}, keep_state=True) == 2
        assert store.save_policy("guide:vague", expected_version=1, state={"n": 9}) is None  # a stale writer loses
        assert store.save_policy("guide:vague", expected_version=2, enabled=False, keep_state=True) == 3
        row = store.policy("guide:vague")
        assert (row.version, row.enabled, row.config, row.state) == (3, False, config, {"n": 1})
        assert [r.name for r in store.policies()] == ["guide:vague"] and store.policy("feed:none") is None
        assert store.learning_generation() == (("guide:vague", 3),)

    def test_decisions_are_appended_once_and_closed_once(self, store: Store) -> None:
        from shopguide.bandit.decisions import Closing, DecisionRecord

        config = {"arms": ["ask", "show"], "kind": "ucb1", "params": {}}
        store.save_policy("guide:vague", expected_version=None, config=config)
        made = [
            DecisionRecord(f"d{k}", "guide:vague", 100.0 + k, "ask", 0.5, "ucb1", 1, {"hour": 9}, ("i1",), f"u{k}")
            for k in range(3)
        ]
        assert store.add_decisions(made) == 3 and store.add_decisions(made[:1]) == 0
        assert [d.id for d in store.open_decisions(102.0)] == ["d0", "d1"]
        closing = [Closing("d0", 1.0, {"counts": {"click": 1}})]
        assert store.save_policy("guide:vague", expected_version=1, state={"n": 1}, closing=closing) == 2
        # closing d0 again (a second worker's stale pass) writes nothing at all: not even the policy
        assert store.save_policy("guide:vague", expected_version=2, state={"n": 2}, closing=closing) is None
        assert store.policy("guide:vague").state == {"n": 1}
        closed = store.decisions("guide:vague", closed=True)
        assert [(d.id, d.reward, d.outcome, d.context, d.items) for d in closed] == [
            ("d0", 1.0, {"counts": {"click": 1}}, {"hour": 9}, ("i1",))
        ]
        assert store.decision_counts() == {"guide:vague": {"open": 2, "closed": 1}}
        assert store.close_decisions([Closing("d0", 0.0, {}), Closing("d1", 0.0, {})]) == 1
        assert [d.id for d in store.decisions(limit=1)] == ["d2"]

    def test_experiments_round_trip(self, store: Store) -> None:
        store.put_experiment("e1", "feed:home", {"name": "e1", "enabled": True})
        store.put_experiment("e1", "feed:home", {"name": "e1", "enabled": False})  # last write wins
        assert store.experiment_specs() == [{"name": "e1", "enabled": False}]
        store.delete_experiment("e1")
        assert store.experiment_specs() == []
        with pytest.raises(NotFoundError):
            store.delete_experiment("e1")

    # ---------------------------------------------------------------- API keys and the audit log
    def test_api_keys_round_trip_revoke_and_touch(self, store: Store) -> None:
        _, first = new_key(b"s" * 32, "first", ["read", "ingest"], expires_in_days=30, rate_limit=5.0, now=100.0)
        _, second = new_key(b"s" * 32, "second", ["admin"], now=200.0)
        store.add_api_key(second)
        store.add_api_key(first)
        assert store.get_api_key(first.key_id) == first and store.get_api_key("nope") is None
        assert [k.name for k in store.api_keys()] == ["first", "second"]  # oldest first
        revoked = store.revoke_api_key(first.key_id, 300.0)
        assert revoked.revoked_at == 300.0 and store.revoke_api_key(first.key_id, 400.0).revoked_at == 300.0
        with pytest.raises(NotFoundError):
            store.revoke_api_key("nope", 1.0)
        store.touch_api_keys({second.key_id: 500.0})
        store.touch_api_keys({second.key_id: 450.0})  # never back in time
        assert store.get_api_key(second.key_id).last_used_at == 500.0

    def test_audit_entries_newest_first(self, store: Store) -> None:
        store.add_audit([AuditEntry(10.0, "key:a (a)", "GET admin", "/x", "1.2.3.4", "allowed")])
        store.add_audit([AuditEntry(20.0, "anonymous", "POST catalog", "/v1/items", "5.6.7.8", "unauthenticated")])
        entries = store.audit_entries()
        assert [(e.ts, e.outcome) for e in entries] == [(20.0, "unauthenticated"), (10.0, "allowed")]
        assert entries[0].id is not None and entries[0].client == "5.6.7.8"
        assert [e.ts for e in store.audit_entries(since_ts=15.0)] == [20.0]
        assert len(store.audit_entries(limit=1)) == 1

    # ---------------------------------------------------------------- a shopper's data, retention
    @pytest.fixture
    def shoppers(self, filled: Store) -> Store:
        """``filled`` plus chat sessions and tickets: u1 owns s1, u2 owns s2, s3 is anonymous; tickets on s1
        (named and not), on s2 and one naming u1 on a session unknown to the store."""
        filled.add_events([event("u1", "c", 4.0, "view"), event("u3", "a", 5.0)])  # u3: events, no user row
        filled.put_session("s1", {"session_id": "s1", "user_id": "u1", "history": [{"role": "shopper", "text": "hi"}]})
        filled.put_session("s2", {"session_id": "s2", "user_id": "u2"})
        filled.put_session("s3", {"session_id": "s3", "user_id": None})
        filled.add_ticket(Ticket("s1", "defect", user_id="u1", transcript=({"role": "shopper", "text": "broken"},)))
        filled.add_ticket(Ticket("s1", "human"))  # before the guide knew who it was talking to
        filled.add_ticket(Ticket("s2", "refund", user_id="u2"))
        filled.add_ticket(Ticket("gone", "human", user_id="u1"))
        from shopguide.bandit.decisions import DecisionRecord

        filled.add_decisions([
            DecisionRecord("d1", "feed:home", 3.0, "popular", 0.25, "ucb1", 1, {"hour": 9}, ("a",), "u1"),
            DecisionRecord("d2", "feed:home", 3.0, "model", 0.75, "ucb1", 1, {}, ("b",), "u2"),
        ])  # fmt: skip
        return filled

    def test_export_user_holds_everything_about_the_shopper(self, shoppers: Store) -> None:
        exported = shoppers.export_user("u1")
        json.dumps(exported)  # JSON as it is
        assert exported["user_id"] == "u1" and exported["user"] == {"id": "u1", "attributes": {}}
        assert [(e["item"], e["type"], e["ts"]) for e in exported["events"]] == [
            ("a", "click", 1.0), ("b", "purchase", 2.0), ("c", "view", 4.0)
        ]  # fmt: skip
        assert exported["events"][0] == Event.model_validate(exported["events"][0]).model_dump(mode="json")
        assert [s["session_id"] for s in exported["sessions"]] == ["s1"]
        assert exported["sessions"][0]["state"]["history"] == [{"role": "shopper", "text": "hi"}]
        assert [(t["session_id"], t["reason"]) for t in exported["tickets"]] == [
            ("s1", "defect"), ("s1", "human"), ("gone", "human")
        ]  # fmt: skip
        assert exported["tickets"][0]["transcript"] == [{"role": "shopper", "text": "broken"}]
        assert [(d["id"], d["arm"], d["context"], d["items"]) for d in exported["decisions"]] == [
            ("d1", "popular", {"hour": 9}, ["a"])
        ]
        other = shoppers.export_user("u2")
        assert {e["user"] for e in other["events"]} == {"u2"} and [s["session_id"] for s in other["sessions"]] == ["s2"]
        only_events = shoppers.export_user("u3")
        assert only_events["user"] is None and len(only_events["events"]) == 1
        with pytest.raises(NotFoundError, match="nobody"):
            shoppers.export_user("nobody")

    def test_erase_user_removes_the_shopper_and_nothing_else(self, shoppers: Store) -> None:
        assert shoppers.data_generation() == 0
        others = [e for e in shoppers.iter_events() if e.user != "u1"]
        result = shoppers.erase_user("u1")
        assert result == ErasureResult(users=1, events=3, sessions=1, tickets=3, decisions=1) and result.total == 9
        assert [d.id for d in shoppers.decisions()] == ["d2"]
        with pytest.raises(NotFoundError):
            shoppers.export_user("u1")
        with pytest.raises(NotFoundError):
            shoppers.get_user("u1")
        assert list(shoppers.iter_events()) == others and shoppers.recent_actions("u1") == []
        assert shoppers.get_session("s1") is None
        assert shoppers.get_session("s2") is not None and shoppers.get_session("s3") is not None
        assert [(t.session_id, t.user_id) for t in shoppers.tickets()] == [("s2", "u2")]
        data = shoppers.load_dataset()
        assert "u1" not in data.users.to_list() and data.users.to_list() == ["u2", "u3"]
        assert shoppers.data_generation() == 1
        with pytest.raises(NotFoundError):  # nothing is held any more
            shoppers.erase_user("u1")
        assert shoppers.data_generation() == 1
        assert shoppers.erase_user("u3") == ErasureResult(events=1)  # known by events alone

    def test_erasure_is_one_transaction(self, shoppers: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        before = snapshot(shoppers), shoppers.get_session("s1"), shoppers.tickets()

        def fail(conn: Any) -> int:
            raise StoreError("the disk is full")

        monkeypatch.setattr("shopguide.store.privacy_sql.bump_generation", fail)  # the transaction's last step
        with pytest.raises(StoreError, match="disk is full"):
            shoppers.erase_user("u1")
        assert (snapshot(shoppers), shoppers.get_session("s1"), shoppers.tickets()) == before

    def test_purge_removes_events_and_sessions_older_than_the_cutoffs(
        self, shoppers: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with shoppers.engine.begin() as conn:  # s2 and s3 were last written long ago
            conn.execute(sa.text("UPDATE sessions SET updated_at = 100 WHERE session_id IN ('s2', 's3')"))
        monkeypatch.setattr("shopguide.store.privacy_sql.PURGE_BATCH", 2)  # several short transactions
        assert shoppers.purge(3.5, sessions_before_ts=None) == PurgeResult(events=3, sessions=0, decisions=2)
        assert [e.ts for e in shoppers.iter_events()] == [4.0, 5.0]
        generation = shoppers.data_generation()
        assert generation >= 1
        assert shoppers.purge(None, sessions_before_ts=150.0) == PurgeResult(events=0, sessions=2)
        assert shoppers.get_session("s1") is not None and shoppers.get_session("s2") is None
        assert shoppers.purge(3.5, sessions_before_ts=150.0) == PurgeResult()  # idempotent
        assert shoppers.purge(None) == PurgeResult() and shoppers.data_generation() == generation + 1
        assert len(shoppers.tickets()) == 4 and shoppers.get_user("u1").id == "u1"  # not retention's business

    # ---------------------------------------------------------------- lifecycle and schema
    def test_close_and_context_manager(self, store_url: str) -> None:
        with open_store(store_url) as store:
            store.upsert_items([item("a")])
        with pytest.raises(StoreError, match="closed"):
            store.get_item("a")

    def test_persists_across_reopen(self, store_url: str, filled: Store) -> None:
        if not self.persistent:
            pytest.skip("this backend does not persist across connections")
        before, stats = snapshot(filled), filled.stats()
        filled.close()
        with open_store(store_url) as again:
            assert snapshot(again) == before and again.stats() == stats
            assert again.schema_version == LATEST_VERSION

    def test_new_step_is_applied_and_failed_step_rolls_back(self, store: Store) -> None:
        engine = store.engine
        assert store.schema_version == LATEST_VERSION

        def broken(conn: sa.Connection) -> None:
            conn.execute(sa.text("CREATE TABLE half_done (x INTEGER)"))
            raise RuntimeError("step failed")

        with pytest.raises(RuntimeError, match="step failed"):
            migrate(engine, [*MIGRATIONS, (LATEST_VERSION + 1, "broken", broken)])
        assert not sa.inspect(engine).has_table("half_done")
        assert migrate(engine) == LATEST_VERSION

        def add_table(conn: sa.Connection) -> None:
            conn.execute(sa.text("CREATE TABLE extra (x INTEGER)"))

        assert migrate(engine, [*MIGRATIONS, (LATEST_VERSION + 1, "extra", add_table)]) == LATEST_VERSION + 1
        assert sa.inspect(engine).has_table("extra")

    def test_future_version_is_refused(self, store_url: str, store: Store) -> None:
        with store.engine.begin() as conn:
            set_version(conn, LATEST_VERSION + 1)
        with pytest.raises(StoreError, match=f"version {LATEST_VERSION + 1}, newer"):
            migrate(store.engine)
        if self.persistent:
            store.close()
            with pytest.raises(StoreError, match="newer than this shopguide knows"):
                open_store(store_url)
