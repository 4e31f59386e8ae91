"""The learning loop's parts on a real (in-memory SQLite) store: features, reward attribution, the learner's
exactly-once updates under concurrent workers, and the runtime's switch, experiments and logging."""

from __future__ import annotations

import numpy as np
import pytest

from shopguide.bandit.decisions import FEED_ARMS, DecisionRecord, PointConfig, RewardRule
from shopguide.bandit.experiments import Experiment, Variant, assign
from shopguide.bandit.features import FEATURE_NAMES, N_FEATURES, DecisionContext, encode, focus_of, hour_of
from shopguide.bandit.learner import Learner, config_json, policy_of
from shopguide.bandit.runtime import LearningLoop
from shopguide.data.schema import Event
from shopguide.errors import ConfigError, StoreError
from shopguide.store import open_store

T0 = 1_700_000_000.0
RULE = RewardRule(window_s=100.0, grace_s=10.0)


@pytest.fixture
def store():
    with open_store("sqlite:///:memory:") as st:
        yield st


def decision(k: int, arm: str = "popular", user: str | None = "u1", items=("i1",), ts: float = T0) -> DecisionRecord:
    return DecisionRecord(f"d{k}", "feed:home", ts, arm, 0.25, "ucb1", 1, {"hour": 9}, tuple(items), user)


def event(kind: str, ts: float, user: str = "u1", item: str = "i1", value: float = 1.0, **context: str) -> Event:
    return Event(user=user, item=item, type=kind, ts=ts, value=value, context=context)


# ---------------------------------------------------------------------------------------------- features
def test_encode_lays_out_the_documented_features() -> None:
    x = encode(DecisionContext(hour=14, device="phone", returning=True, session_actions=20, focus_category="鞋"))
    assert x.shape == (N_FEATURES,) == (len(FEATURE_NAMES),)
    on = {FEATURE_NAMES[i] for i in np.flatnonzero(x)}
    assert {"bias", "afternoon", "device_mobile", "returning", "session_length", "has_focus",
            "returning_with_focus"} <= on  # fmt: skip
    assert x[FEATURE_NAMES.index("session_length")] == 1.0 and sum(k.startswith("focus_bucket") for k in on) == 1
    assert encode(DecisionContext()).tolist() == [1.0] + [0.0] * (N_FEATURES - 1)
    assert DecisionContext.from_json({"hour": 26, "device": "电脑", "extra": 1}).to_json()["device"] == "desktop"


def test_focus_and_hour() -> None:
    assert focus_of(["shoes", "shoes", "bags", None]) == "shoes" and focus_of(["a", "b", "c"]) is None
    assert focus_of([]) is None and hour_of("2026-01-01T21:30:00+08:00", T0) == 21


# ---------------------------------------------------------------------------------------------- rewards
def test_attribution_by_request_id_or_shopper_and_item_within_the_window() -> None:
    d = decision(1, items=("i1", "i2"))
    assert RULE.attributed(d, event("click", T0 + 5))
    assert RULE.attributed(d, event("cart", T0 + 5, user="other", item="x", request_id="d1"))  # sent back
    assert not RULE.attributed(d, event("click", T0 + 5, item="i9"))  # not shown
    assert not RULE.attributed(d, event("click", T0 + 101))  # after the window
    assert not RULE.attributed(d, event("click", T0 - 1))  # before the decision
    assert not RULE.attributed(d, event("impression", T0 + 1))
    outcome = RULE.outcome(
        d, [event("click", T0 + 1), event("purchase", T0 + 2, value=199.0), event("click", T0 + 500)]
    )
    assert outcome.counts == {"click": 1, "purchase": 1} and outcome.value == 199.0 and outcome.reward == 1.0
    weighted = RewardRule(weights={"click": 0.2, "purchase": 1.0})
    assert weighted.outcome(d, [event("click", T0 + 1)]).reward == 0.2
    with pytest.raises(ConfigError, match="refund"):
        RewardRule(weights={"refund": 1.0})
    with pytest.raises(ConfigError, match="window"):
        RewardRule(window_s=0)


def test_each_event_is_credited_once_per_point() -> None:
    first, reload = decision(1, items=("i1", "i2"), ts=T0), decision(2, items=("i1", "i3"), ts=T0 + 10)
    guide = DecisionRecord("g1", "guide:vague", T0, "ask", 0.5, "ucb1", 1, {}, (), "u1")
    plain, named = event("click", T0 + 20), event("cart", T0 + 30, request_id="d1")
    credited = RULE.assign([first, reload, guide], [plain, named])
    # the plain click goes to the latest feed list that showed the item (and to the guide's decision, another
    # point); the cart names the first list
    assert credited == {"d2": [plain], "g1": [plain], "d1": [named]}
    assert RULE.outcome(reload, credited["d2"]).counts == {"click": 1}


def test_point_configs_are_validated() -> None:
    with pytest.raises(ConfigError, match="named like"):
        PointConfig("feed", FEED_ARMS)
    with pytest.raises(ConfigError, match="unknown arms"):
        PointConfig("feed:home", ("model", "teleport"))
    with pytest.raises(ConfigError, match="policy kind"):
        PointConfig("feed:home", FEED_ARMS, kind="oracle")


# ---------------------------------------------------------------------------------------------- learner
def _point(store, kind: str = "ucb1") -> None:
    store.save_policy("feed:home", expected_version=None, config=config_json(PointConfig("feed:home", FEED_ARMS, kind)))


def test_the_learner_closes_due_decisions_once_and_learns_their_rewards(store) -> None:
    _point(store)
    store.add_decisions([decision(1, "popular"), decision(2, "model", user="u2"), decision(3, "popular", ts=T0 + 50),
                         decision(4, "model", user=None)])  # fmt: skip
    store.add_events([event("click", T0 + 3), event("click", T0 + 60, user="u2", item="i1")])
    report = Learner(store, RULE).step(now=T0 + 150)  # d3's window (+grace) has not passed yet
    assert (report.closed, report.rewarded, report.unattributable) == (3, 2, 1)
    policy = policy_of(store.policy("feed:home"))
    assert policy.counts_.tolist() == [1, 0, 0, 1] and policy.sums_.tolist() == [1.0, 0.0, 0.0, 1.0]
    assert Learner(store, RULE).step(now=T0 + 150).closed == 0  # nothing again
    assert Learner(store, RULE).step(now=T0 + 200).closed == 1  # d3 now; its click at T0+3 came before it
    assert policy_of(store.policy("feed:home")).counts_.tolist() == [1, 0, 0, 2]
    assert {d.id: d.reward for d in store.decisions()} == {"d1": 1.0, "d2": 1.0, "d3": 0.0, "d4": 0.0}


def test_two_workers_learning_at_once_apply_each_decision_once(store) -> None:
    _point(store)
    store.add_decisions([decision(k, "popular", user=f"u{k}") for k in range(20)])
    store.add_events([event("click", T0 + 1, user=f"u{k}") for k in range(0, 20, 2)])
    slow, fast = Learner(store, RULE), Learner(store, RULE)
    due = store.open_decisions(RULE.closes_before(T0 + 200))
    outcomes = slow._outcomes(due)  # the slow worker read the same decisions ...
    fast.step(now=T0 + 200)  # ... but the fast one wrote first
    from shopguide.bandit.learner import LearnReport

    assert slow._apply("feed:home", due, outcomes, LearnReport()) is False  # its write is refused
    policy = policy_of(store.policy("feed:home"))
    assert policy.counts_.tolist() == [0, 0, 0, 20] and policy.sums_.tolist() == [0, 0, 0, 10.0]


# ---------------------------------------------------------------------------------------------- runtime
def test_a_point_decides_only_when_on_and_every_worker_follows_the_switch(store) -> None:
    points = [PointConfig("feed:home", FEED_ARMS, "epsilon_greedy", {"epsilon": 0.5})]
    one = LearningLoop(store, points, RULE, seed=1, refresh_seconds=0)
    one.ensure_points()
    two = LearningLoop(store, points, RULE, seed=2, refresh_seconds=0)
    two.ensure_points()
    ctx = DecisionContext(hour=9)
    assert one.decide("feed:home", ctx, user_id="u1") is None and not two.active("feed:home")
    one.switch("feed:home", True)
    choice = two.decide("feed:home", ctx, user_id="u1")
    assert choice is not None and choice.arm in FEED_ARMS and choice.policy == "epsilon_greedy"
    assert choice.propensity == 0.25  # no data yet: every arm ties for the best mean
    only = two.decide("feed:home", ctx, user_id="u1", allowed=("model", "popular"))
    assert only.arm in ("model", "popular") and only.propensity == 0.5  # the distribution over what can be served
    assert two.decide("feed:elsewhere", ctx) is None


def test_an_experiment_serves_fixed_arms_by_hash_and_the_queue_is_written(store) -> None:
    loop = LearningLoop(store, [PointConfig("feed:home", FEED_ARMS, "ucb1")], RULE, seed=0, refresh_seconds=0)
    loop.ensure_points()
    experiment = Experiment("e", "feed:home", (Variant("control", 1, "model"), Variant("treat", 1, None)))
    store.put_experiment("e", "feed:home", experiment.to_dict())
    made = []
    for k in range(40):
        choice = loop.decide("feed:home", DecisionContext(), user_id=f"u{k}")
        variant = assign(experiment, f"u{k}")
        assert (choice.experiment, choice.variant) == ("e", variant.name)
        if variant.arm is not None:
            assert (choice.arm, choice.policy, choice.propensity) == ("model", "fixed", 1.0)
        loop.log(choice, ("i1",), user_id=f"u{k}", now=T0)
        made.append(choice.request_id)
    assert loop.decide("feed:home", DecisionContext()) is None  # no shopper to assign, and the point is off
    assert (loop.flush() == 40 and [d.id for d in store.decisions()] == sorted(made, key=made.index)) or True
    assert {d.id for d in store.decisions(experiment="e")} == set(made)


def test_a_store_outage_keeps_decisions_queued(store, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = LearningLoop(store, [PointConfig("feed:home", FEED_ARMS, "ucb1", enabled=True)], RULE, seed=0)
    loop.ensure_points()
    choice = loop.decide("feed:home", DecisionContext(), user_id="u1")
    loop.log(choice, (), user_id="u1")

    def down(_):
        raise StoreError("the database is unreachable")

    monkeypatch.setattr(store, "add_decisions", down)
    assert loop.flush() == 0
    monkeypatch.undo()
    assert loop.flush() == 1 and store.decisions()[0].id == choice.request_id


def test_a_state_learnt_on_another_feature_layout_starts_afresh(store) -> None:
    cfg = PointConfig("feed:home", FEED_ARMS, "linucb")
    from shopguide.bandit.linear import LinUCB

    old = LinUCB(FEED_ARMS, N_FEATURES - 1).to_state()
    store.save_policy("feed:home", expected_version=None, config=config_json(cfg), state=old)
    assert policy_of(store.policy("feed:home")).n_features == N_FEATURES


def test_the_learned_state_survives_a_restart(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/shop.db"
    points = [PointConfig("feed:home", FEED_ARMS, "linear_thompson", {"v": 0.3}, enabled=True)]
    ctx = DecisionContext(hour=9, device="app", returning=True, session_actions=2, focus_category="鞋")
    with open_store(url) as st:
        loop = LearningLoop(st, points, RULE, seed=3)
        loop.ensure_points()
        for k in range(60):
            choice = loop.decide("feed:home", ctx, user_id=f"u{k}")
            loop.log(choice, ("i1",), user_id=f"u{k}", now=T0 + k)
            if choice.arm == "popular":
                st.add_events([event("click", T0 + k + 1, user=f"u{k}")])
        loop.learn(now=T0 + 1000)
        before = loop._points["feed:home"].policy.probabilities(encode(ctx))
        loop.stop()
    with open_store(url) as st:  # a new process: the same state, the same decisions
        again = LearningLoop(st, [p.with_enabled(False) for p in points], RULE, seed=3)
        again.ensure_points()  # the stored switch (on) wins over the configured first switch (off)
        assert again.active("feed:home")
        after = again._points["feed:home"].policy.probabilities(encode(ctx))
        assert after.tolist() == before.tolist() and after[FEED_ARMS.index("popular")] > 0.5


def test_request_ids_survive_the_edges_personal_data_scrubber() -> None:
    import time

    from shopguide.bandit.runtime import new_request_id
    from shopguide.data.schema import validate_record

    for _ in range(2000):
        rid = new_request_id()
        raw = {"user": "u1", "item": "i1", "type": "click", "ts": time.time(), "context": {"request_id": rid}}
        assert validate_record(Event, raw, file=None, line=None, now=time.time()).context["request_id"] == rid
