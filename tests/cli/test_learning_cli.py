"""``shopguide bandit``, ``shopguide ope`` and ``shopguide experiments`` on a store with a logged history:
the switch, a learning pass over rewards read from events, off-policy evaluation with the guardrail's verdict,
and experiments created, stopped and removed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from shopguide.bandit.decisions import FEED_ARMS, DecisionRecord
from shopguide.bandit.features import DecisionContext
from shopguide.data.schema import Event
from shopguide.store import open_store

HOUR = 3600.0


@pytest.fixture
def logged(store_url: str) -> str:
    """600 decisions of feed:home two hours ago under a uniform logger; shoppers clicked what the
    ``popular`` strategy showed 60 % of the time and other strategies 10 % of the time."""
    rng = np.random.default_rng(0)
    start = time.time() - 2 * HOUR
    decisions, events = [], []
    for k in range(600):
        arm = FEED_ARMS[int(rng.integers(len(FEED_ARMS)))]
        ctx = DecisionContext(hour=int(rng.integers(24)), device="mobile", returning=bool(k % 2), session_actions=k % 5)
        ts = start + k
        decisions.append(DecisionRecord(f"d{k}", "feed:home", ts, arm, 0.25, "uniform", 1, ctx.to_json(),
                                        (f"i{k}",), f"u{k % 50}"))  # fmt: skip
        if rng.random() < (0.6 if arm == "popular" else 0.1):
            events.append(Event(user=f"u{k % 50}", item=f"i{k}", type="click", ts=ts + 5))
    with open_store(store_url) as st:
        st.add_decisions(decisions)
        st.add_events(events)
    return store_url


def test_status_switch_and_learn(cli, home: Path, logged: str) -> None:
    status = cli("bandit", "status", "--json", "--home", home, "--store", logged)
    assert status.code == 0, status.out
    points = {p["point"]: p for p in json.loads(status.stdout)}
    assert set(points) == {"feed:home", "guide:vague"} and not points["feed:home"]["enabled"]
    on = cli("bandit", "on", "feed:home", "--home", home, "--store", logged)
    assert on.code == 0 and "feed:home is ON" in on.out
    learned = cli("bandit", "learn", "--home", home, "--store", logged)
    assert learned.code == 0 and "'closed': 600" in learned.out
    status = json.loads(cli("bandit", "status", "--json", "--home", home, "--store", logged).stdout)
    feed = next(p for p in status if p["point"] == "feed:home")
    assert feed["enabled"] and feed["decisions"] == {"open": 0, "closed": 600}
    assert feed["arm_rates"]["popular"]["rate"] > 0.45 > feed["arm_rates"]["model"]["rate"]
    assert max(feed["probabilities"], key=feed["probabilities"].get) == "popular"
    assert cli("bandit", "on", "feed:nowhere", "--home", home, "--store", logged).code != 0


def test_ope_values_candidates_and_the_guardrail_decides(cli, home: Path, logged: str) -> None:
    cli("bandit", "learn", "--home", home, "--store", logged)
    # the current policy learnt popular is best: a nearly uniform candidate is worse and is refused
    weak = cli("ope", "feed:home", "--kind", "epsilon_greedy", "-p", "epsilon=1.0", "--json", "--bootstrap", "200",
               "--home", home, "--store", logged)  # fmt: skip
    assert weak.code == 0, weak.out
    report = json.loads(weak.stdout)
    assert report["rounds"] == {"train": 420, "test": 180, "left_out": 0}
    snips = report["estimates"]["snips"]
    assert snips["candidate"] == pytest.approx(report["logged_reward"]["value"], abs=0.02)  # uniform = the logger
    assert snips["candidate"] < snips["current"] and not report["guardrail"]["promote"]
    refused = cli("bandit", "promote", "feed:home", "--kind", "epsilon_greedy", "-p", "epsilon=1.0",
                  "--home", home, "--store", logged)  # fmt: skip
    assert refused.code == 1 and "not promoted" in refused.out
    forced = cli("bandit", "promote", "feed:home", "--kind", "epsilon_greedy", "-p", "epsilon=1.0", "--force",
                 "--home", home, "--store", logged)  # fmt: skip
    assert forced.code == 0 and "now runs epsilon_greedy" in forced.out
    with open_store(logged) as st:
        assert st.policy("feed:home").config["kind"] == "epsilon_greedy"
    bad = cli("ope", "feed:home", "--kind", "oracle", "--home", home, "--store", logged)
    assert bad.code != 0 and "oracle" in bad.out


def test_experiments_are_created_listed_stopped_and_deleted(cli, home: Path, store_url: str) -> None:
    made = cli("experiments", "set", "lead", "--point", "feed:home", "-V", "control=1:model", "-V", "bandit=1",
               "--home", home, "--store", store_url)  # fmt: skip
    assert made.code == 0, made.out
    assert "lead on feed:home: running" in made.out and "(policy)" in made.out
    assert "stopped" in cli("experiments", "stop", "lead", "--home", home, "--store", store_url).out
    listed = cli("experiments", "list", "--home", home, "--store", store_url)
    assert "lead on feed:home: stopped" in listed.out and "no data" in listed.out
    bad = cli("experiments", "set", "x", "--point", "feed:home", "-V", "a=1:teleport", "-V", "b=1",
              "--home", home, "--store", store_url)  # fmt: skip
    assert bad.code != 0 and "teleport" in bad.out
    assert cli("experiments", "delete", "lead", "--home", home, "--store", store_url).code == 0
    assert cli("experiments", "delete", "lead", "--home", home, "--store", store_url).code != 0
