"""The simulated bandit environments: determinism, bounds, structure, agreement with the simulator, learning."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from shopguide.bandit.features import N_FEATURES
from shopguide.bandit.linear import LinUCB
from shopguide.bandit.policies import EpsilonGreedy
from shopguide.bandit.simulation import (
    FEED_ARMS,
    GUIDE_MOVES,
    LEAVE_AFTER_ASK,
    Environment,
    World,
    build_world,
    feed_environment,
    guide_environment,
    play,
)
from shopguide.data.schema import EventType
from shopguide.errors import ConfigError


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=3, n_shoppers=300, days=40)


@pytest.fixture(scope="module")
def feed(world: World) -> Environment:
    return feed_environment(world, seed=0, n_states=1500)


@pytest.fixture(scope="module")
def guide(world: World) -> Environment:
    return guide_environment(world, seed=0, n_states=1500)


def group_means(env: Environment) -> dict[str, np.ndarray]:
    groups = np.array(env.groups)
    return {g: env.expected[groups == g].mean(axis=0) for g in set(env.groups)}


def test_same_seed_same_world_and_states() -> None:
    a = feed_environment(build_world(seed=5, n_shoppers=60, days=20), seed=1, n_states=150)
    b = feed_environment(build_world(seed=5, n_shoppers=60, days=20), seed=1, n_states=150)
    assert a.contexts == b.contexts
    np.testing.assert_array_equal(a.expected, b.expected)
    np.testing.assert_array_equal(a.slates, b.slates)


def test_environment_seed_changes_the_states_not_the_world(world: World, feed: Environment) -> None:
    # drawn after other environments used the world; states are drawn one by one, so a shorter run is a prefix
    again = feed_environment(world, seed=0, n_states=200)
    np.testing.assert_array_equal(again.expected, feed.expected[:200])
    assert again.contexts == feed.contexts[:200]
    other = feed_environment(world, seed=1, n_states=200)
    assert other.contexts != feed.contexts[:200]


def test_expected_rewards_are_probabilities_with_spread(feed: Environment, guide: Environment) -> None:
    for env, arms in ((feed, FEED_ARMS), (guide, GUIDE_MOVES)):
        assert env.arms == arms
        assert env.expected.shape == (env.n_states, len(arms))
        assert env.features.shape == (env.n_states, N_FEATURES)
        assert np.all(np.isfinite(env.expected))
        assert env.expected.min() >= 0.0 and env.expected.max() <= 1.0
    assert feed.expected.min() < 0.02 and feed.expected.max() > 0.4


def test_slates_hold_distinct_in_stock_items_and_are_nearly_always_full(world: World, feed: Environment) -> None:
    in_stock = np.array([it.in_stock for it in world.items])
    assert in_stock[feed.slates[feed.slates >= 0]].all()
    for row in feed.slates.reshape(-1, feed.slates.shape[2]):
        shown = row[row >= 0]
        assert len(set(shown.tolist())) == len(shown)
    # a slate is short only when a returning shopper has interacted with nearly all of a small focus category
    assert ((feed.slates >= 0).sum(axis=2) == 10).mean() > 0.99


def test_closed_form_matches_the_simulators_own_sessions(world: World, feed: Environment) -> None:
    """At session start, the expected reward equals the share of simulated sessions that click a slate item."""
    starts = [s for s in range(feed.n_states) if feed.contexts[s].session_actions == 0][:4]
    rng = np.random.default_rng(11)
    checked = 0
    for s in starts:
        shopper = world.shoppers[feed.shoppers[s]]
        shopper.rng = rng
        hits = np.zeros(len(FEED_ARMS))
        n = 800
        for _ in range(n):
            raw = shopper.session(0.0, int(feed.focus[s]), None)
            clicked = {i for _, i, etype, _ in raw if etype is EventType.CLICK}
            hits += [bool(clicked & set(feed.slates[s, a])) for a in range(len(FEED_ARMS))]
        np.testing.assert_allclose(feed.expected[s], hits / n, atol=0.06)
        checked += 1
    assert checked == 4


def test_the_best_arm_depends_on_the_context(feed: Environment) -> None:
    means = group_means(feed)
    best = {g: FEED_ARMS[int(m.argmax())] for g, m in means.items()}
    assert best["returning, session start"] == "model"
    assert best["returning, focus, 4+ actions"] == "category_popular"
    assert best["new, focus, 4+ actions"] == "model"
    assert len(set(feed.expected.argmax(axis=1))) >= 3


def test_linucb_has_less_regret_than_random(feed: Environment) -> None:
    linucb = play(LinUCB(FEED_ARMS, N_FEATURES, alpha=0.3), feed, 3000, seed=0).regret(feed)[-1]
    random = play(EpsilonGreedy(FEED_ARMS, epsilon=1.0), feed, 3000, seed=0, contextual=False).regret(feed)[-1]
    assert linucb < 0.7 * random


def test_play_is_deterministic_for_a_seed(feed: Environment) -> None:
    a = play(LinUCB(FEED_ARMS, N_FEATURES), feed, 300, seed=4)
    b = play(LinUCB(FEED_ARMS, N_FEATURES), feed, 300, seed=4)
    np.testing.assert_array_equal(a.arms, b.arms)
    np.testing.assert_array_equal(a.rewards, b.rewards)


def test_the_better_guide_move_depends_on_the_context(guide: Environment) -> None:
    means = group_means(guide)
    better = {g: GUIDE_MOVES[int(m.argmax())] for g, m in means.items()}
    assert better["desktop/new"] == "ask"
    assert better["app/new"] == "ask"
    assert better["mobile/returning"] == "show"


def test_asking_costs_exactly_the_leave_probability(world: World, guide: Environment) -> None:
    patient = guide_environment(world, seed=0, n_states=1500, leave_after_ask=dict.fromkeys(LEAVE_AFTER_ASK, 0.0))
    stay = np.array([1 - LEAVE_AFTER_ASK[c.device or "mobile"] for c in guide.contexts])
    np.testing.assert_allclose(guide.expected[:, 0], stay * patient.expected[:, 0])
    np.testing.assert_array_equal(guide.expected[:, 1], patient.expected[:, 1])


def test_new_shoppers_are_unknown_to_the_models(world: World) -> None:
    new = [world.shoppers[i].taste.user for i in np.flatnonzero(~world.returning)]
    assert world.dataset.users.indices(new).max() == -1
    assert world.returning.mean() == pytest.approx(0.75)


def test_bad_new_share_is_refused() -> None:
    with pytest.raises(ConfigError):
        build_world(new_share=1.0)


def test_regret_is_zero_for_the_oracle(feed: Environment) -> None:
    run = play(EpsilonGreedy(FEED_ARMS, epsilon=0.0), feed, 50, seed=0, contextual=False)
    oracle = replace(run, arms=feed.expected[run.states].argmax(axis=1))
    assert oracle.regret(feed)[-1] == 0.0
    assert np.all(np.diff(run.regret(feed)) >= 0)
