"""The learning loop end to end: served decisions, rewards through POST /v1/events, a policy update, a changed
decision; the on/off switch, A/B experiments with fixed arms, the guide's ask-or-show point, off-policy
evaluation and the guarded promotion over the admin API.

The module's app learns only when a test asks (``learn_seconds=0``); a test passes the learner a time after the
reward window instead of waiting for it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from servicekit import KNOWN_SHOPPER, Service, recommend, running_service

from shopguide.bandit.decisions import FEED_ARMS
from shopguide.bandit.experiments import Experiment, Variant, assign

WINDOW_S = 60.0
SHOPPERS = [f"shopper-{k:03d}" for k in range(1, 41)]


@pytest.fixture(scope="module")
def svc(seeded_home, tmp_path_factory) -> Iterator[Service]:
    with running_service(
        seeded_home, tmp_path_factory, learning_enabled=["feed:home", "guide:vague"], learning_seed=7,
        learn_seconds=0, reward_window_seconds=WINDOW_S, reward_grace_seconds=0, learning_policy="linear_thompson",
    ) as service:  # fmt: skip
        yield service


def learn_after_window(svc: Service) -> dict:
    """One learner pass as if the reward window of everything logged so far had passed."""
    return svc.app.state.learning.learn(now=time.time() + WINDOW_S + 1).to_json()


def click(svc: Service, user: str, item: str, request_id: str) -> dict:
    event = {"user": user, "item": item, "type": "click", "ts": time.time(), "context": {"request_id": request_id}}
    assert svc.client.post("/v1/events", json={"events": [event]}).json()["accepted"] == 1
    return event


def popular_share(svc: Service, rounds: int) -> float:
    arms = Counter(recommend(svc, SHOPPERS[k % len(SHOPPERS)])["decision"]["arm"] for k in range(rounds))
    return arms["popular"] / rounds


def test_a_feed_answer_says_how_its_strategy_was_chosen(svc: Service) -> None:
    body = recommend(svc, KNOWN_SHOPPER)
    decision = body["decision"]
    assert decision["point"] == "feed:home" and decision["arm"] in FEED_ARMS
    assert decision["policy"] == "linear_thompson" and 0 < decision["propensity"] <= 1
    assert body["strategy"] == decision["arm"] and len(body["items"]) == 10
    assert decision["request_id"] != recommend(svc, KNOWN_SHOPPER)["decision"]["request_id"]  # one per request


def test_rewards_through_events_update_the_policy_and_change_its_decisions(svc: Service) -> None:
    before = popular_share(svc, 40)
    learn_after_window(svc)  # close what earlier requests logged (no rewards)
    version = next(p for p in svc.client.get("/v1/admin/bandit").json() if p["point"] == "feed:home")["version"]
    clicks = []
    for k in range(120):  # the shoppers click only on what the popular strategy shows
        user = SHOPPERS[k % len(SHOPPERS)]
        body = recommend(svc, user)
        if body["decision"]["arm"] == "popular":
            clicks.append(click(svc, user, body["items"][0]["id"], body["decision"]["request_id"]))
    report = learn_after_window(svc)
    # a click also rewards the shopper's other open decisions that showed the item (same shopper, item, window)
    assert report["updates"]["feed:home"] >= 120 and report["rewarded"] >= len(clicks) > 0
    status = next(p for p in svc.client.get("/v1/admin/bandit").json() if p["point"] == "feed:home")
    assert status["version"] > version
    rates = {arm: r["rate"] for arm, r in status["arm_rates"].items()}
    assert rates["popular"] > max(r for arm, r in rates.items() if arm != "popular") + 0.3
    assert status["probabilities"]["popular"] > 0.5 > status["probabilities"]["model"]
    after = popular_share(svc, 40)
    print(f"popular share before {before:.2f} after {after:.2f}")
    assert after > 0.5 and after > before + 0.25
    # replaying the same click events changes nothing: they are duplicates, and their decisions are closed
    # (a reward adds to the arm's b vector; the decisions made since were not clicked, so b must not move)
    popular = FEED_ARMS.index("popular")
    b_before = svc.state.store.policy("feed:home").state["stats"]["b"][popular]
    for event in clicks[:5]:  # a client retrying its batch
        assert svc.client.post("/v1/events", json={"events": [event]}).json()["duplicate"] == 1
    learn_after_window(svc)
    assert svc.state.store.policy("feed:home").state["stats"]["b"][popular] == b_before


def test_cached_answers_still_carry_a_new_logged_decision(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    import shopguide.service.routes.recommend as route

    seen = []
    real = route.look_up
    monkeypatch.setattr(route, "look_up", lambda *a, **k: seen.append(a) or real(*a, **k))
    user = "fast-path-shopper"
    decisions = [recommend(svc, user)["decision"] for _ in range(30)]
    assert len({d["request_id"] for d in decisions}) == 30
    # a hit for the arm the fast path chose never reaches the route (a miss goes there and is decided afresh)
    assert len(seen) < len(decisions) // 2
    svc.app.state.learning.flush()
    logged = {d.id: d.arm for d in svc.state.store.decisions("feed:home", limit=200)}
    assert all(logged[d["request_id"]] == d["arm"] for d in decisions)


def test_the_switch_turns_a_point_off_and_on_without_a_restart(svc: Service) -> None:
    off = svc.client.put("/v1/admin/bandit/feed:home", json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    body = recommend(svc, KNOWN_SHOPPER)
    assert "decision" not in body and body["strategy"] == "model"
    assert svc.client.put("/v1/admin/bandit/feed:home", json={"enabled": True}).json()["enabled"] is True
    assert recommend(svc, KNOWN_SHOPPER)["decision"]["point"] == "feed:home"
    assert svc.client.put("/v1/admin/bandit/feed:nowhere", json={"enabled": True}).status_code == 404


def test_an_experiment_assigns_shoppers_by_hash_and_serves_the_variants_arm(svc: Service) -> None:
    spec = {"point": "feed:home", "enabled": True, "variants": [
        {"name": "control", "weight": 1, "arm": "model"}, {"name": "popular", "weight": 1, "arm": "popular"}]}  # fmt: skip
    created = svc.client.put("/v1/admin/experiments/lead-test", json=spec)
    assert created.status_code == 200, created.text
    experiment = Experiment.from_dict(created.json()["experiment"])
    for user in SHOPPERS[:12]:
        expected = assign(experiment, user)
        for _ in range(2):  # the same shopper always gets the same variant
            decision = recommend(svc, user)["decision"]
            assert (decision["experiment"], decision["variant"]) == ("lead-test", expected.name)
            assert (decision["arm"], decision["policy"], decision["propensity"]) == (expected.arm, "fixed", 1.0)
    svc.app.state.learning.flush()
    result = svc.client.get("/v1/admin/experiments/lead-test").json()
    shoppers = {v["variant"]: v["shoppers"] for v in result["variants"]}
    assert sum(shoppers.values()) == 12 and result["srm"]["verdict"] in ("ok", "mismatch")
    assert svc.client.put("/v1/admin/experiments/lead-test/switch", json={"enabled": False}).status_code == 200
    assert recommend(svc, SHOPPERS[0])["decision"]["experiment"] is None  # the policy decides again
    bad = {**spec, "variants": [{"name": "a", "arm": "model"}, {"name": "b", "arm": "teleport"}]}
    assert svc.client.put("/v1/admin/experiments/bad", json=bad).status_code == 400
    assert svc.client.delete("/v1/admin/experiments/lead-test").status_code == 204
    assert svc.client.get("/v1/admin/experiments/lead-test").status_code == 404


def test_the_guide_asks_or_shows_as_its_decision_point_says(svc: Service) -> None:
    experiment = Experiment("ask-or-show", "guide:vague", (Variant("show", 1.0, "show"), Variant("ask", 1.0, "ask")))
    spec = {k: v for k, v in experiment.to_dict().items() if k != "name"}
    assert svc.client.put("/v1/admin/experiments/ask-or-show", json=spec).status_code == 200
    shows = next(u for u in SHOPPERS if assign(experiment, u).name == "show")
    asks = next(u for u in SHOPPERS if assign(experiment, u).name == "ask")
    for user, action in ((shows, "results"), (asks, "clarify")):
        reply = svc.client.post("/v1/chat", json={"message": "I want something black", "user_id": user, "lang": "en"})
        assert reply.status_code == 200 and reply.json()["action"] == action, reply.text
    svc.app.state.learning.flush()
    logged = {d.user_id: d.arm for d in svc.state.store.decisions("guide:vague")}
    assert logged[shows] == "show" and logged[asks] == "ask"
    svc.client.delete("/v1/admin/experiments/ask-or-show")


def test_a_candidate_is_valued_on_the_logs_and_promoted_only_through_the_guardrail(svc: Service) -> None:
    learn_after_window(svc)
    since = time.time()
    for k in range(150):  # fresh traffic in which the shoppers click what the popular strategy shows
        user = SHOPPERS[k % len(SHOPPERS)]
        body = recommend(svc, user)
        if body["decision"]["arm"] == "popular":
            click(svc, user, body["items"][0]["id"], body["decision"]["request_id"])
    learn_after_window(svc)
    body = {"kind": "epsilon_greedy", "params": {"epsilon": 0.9}, "n_bootstrap": 200, "since_ts": since,
            "min_effective": 10}  # fmt: skip
    report = svc.client.post("/v1/admin/bandit/feed:home/evaluate", json=body)
    assert report.status_code == 200, report.text
    estimates = report.json()["estimates"]
    assert set(estimates) == {"ips", "snips", "dm", "dr", "switch_dr"}
    low, high = estimates["snips"]["candidate_ci"]
    assert low <= estimates["snips"]["candidate"] <= high
    # a nearly random policy is worse than the learned one, which serves what the shoppers click
    assert estimates["snips"]["candidate"] < estimates["snips"]["current"]
    promoted = svc.client.post("/v1/admin/bandit/feed:home/promote", json=body).json()
    assert promoted["promoted"] is False and "keep the current policy" in promoted["reason"]
    assert svc.state.store.policy("feed:home").config["kind"] == "linear_thompson"
    unknown = svc.client.post("/v1/admin/bandit/feed:home/evaluate", json={"kind": "oracle"})
    assert unknown.status_code == 400 and "oracle" in unknown.json()["detail"]


def test_admin_routes_need_the_admin_scope(svc: Service) -> None:
    anonymous = svc.client.get("/v1/admin/bandit", headers={"Authorization": ""})
    assert anonymous.status_code == 401
