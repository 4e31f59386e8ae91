"""Bandit policies: golden fixed-seed sequences, propensities, idempotent updates, state, errors and learning."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from shopguide.bandit.linear import LinearThompson, LinUCB
from shopguide.bandit.policies import (
    UCB1,
    BanditPolicy,
    BasePolicy,
    BernoulliThompson,
    Decision,
    EpsilonGreedy,
    policy_from_state,
)
from shopguide.errors import ConfigError, DataError

ARMS = ["a", "b", "c"]
# A fixed reward stream: the reward depends only on the arm (a pays nothing, b always pays, c pays half).
FIXED_REWARD = {0: 0.0, 1: 1.0, 2: 0.5}
ONE = np.array([1.0])  # an intercept-only context: the linear policies become context-free ones

MAKERS: dict[str, Callable[..., BasePolicy]] = {
    "epsilon_greedy": lambda **kw: EpsilonGreedy(ARMS, **kw),
    "ucb1": lambda **kw: UCB1(ARMS, **kw),
    "bernoulli_thompson": lambda **kw: BernoulliThompson(ARMS, **kw),
    "linucb": lambda **kw: LinUCB(ARMS, 2, **kw),
    "linear_thompson": lambda **kw: LinearThompson(ARMS, 2, v=0.3, **kw),
}


def context_for(policy: BasePolicy, s: float = 1.0) -> np.ndarray | None:
    return np.array([1.0, s]) if isinstance(policy, LinUCB | LinearThompson) else None


def play(policy: BasePolicy, rounds: int, context: np.ndarray | None = None, seed: int = 0) -> str:
    """The arm names chosen over ``rounds`` rounds of the fixed reward stream, as one string."""
    rng = np.random.default_rng(seed)
    chosen = []
    for _ in range(rounds):
        d = policy.choose(context, rng)
        chosen.append(d.arm_name)
        policy.update(d.arm, FIXED_REWARD[d.arm], context)
    return "".join(chosen)


def train(policy: BasePolicy, rounds: int = 40, seed: int = 1) -> BasePolicy:
    """Some history on stochastic rewards so that every policy has non-trivial state."""
    rng, env = np.random.default_rng(seed), np.random.default_rng(seed + 100)
    for i in range(rounds):
        x = context_for(policy, float(i % 2))
        d = policy.choose(x, rng)
        policy.update(d.arm, float(env.random() < 0.3 + 0.2 * d.arm), x, event_id=f"e{i}")
    return policy


# -- golden sequences ---------------------------------------------------------------------------------------------
def test_ucb1_golden_tries_each_arm_once_then_follows_the_bound() -> None:
    seq = play(UCB1(ARMS), 20)
    # Rounds 1-3: every arm untried (score inf), ties split at random -> a permutation of a, b, c.
    # Then with t pulls so far, score = mean + sqrt(2 ln t / n):
    #   t=3 n=(1,1,1): a 1.482, b 2.482, c 1.982 -> b
    #   t=4 n=(1,2,1): a 1.665, b 1+1.177=2.177, c 0.5+1.665=2.165 -> b
    #   t=5 n=(1,3,1): a 1.794, b 1+1.036=2.036, c 0.5+1.794=2.294 -> c
    #   t=6 n=(1,3,2): a 1.893, b 2.093, c 0.5+1.339=1.839 -> b
    #   t=7 n=(1,4,2): a 1.973, b 1.986, c 1.895 -> b
    #   t=8 n=(1,5,2): a 2.039, b 1.912, c 1.942 -> a
    assert sorted(seq[:3]) == ARMS
    assert seq == "bacbbcbbacbbbcbbbbca"


def test_epsilon_zero_is_greedy_and_locks_onto_the_first_arm_that_pays() -> None:
    # All means 0: ties split at random (a, a); c pays 0.5 and beats the untried b's 0 forever after.
    assert play(EpsilonGreedy(ARMS, epsilon=0.0), 12) == "aacccccccccc"


def test_epsilon_greedy_golden() -> None:
    seq = play(EpsilonGreedy(ARMS, epsilon=0.2), 30)
    assert seq == "aaccccccccaacccccccccccccccccc"
    # once c has paid, every other choice is an exploration step (rng.random() < 0.2)
    assert seq.count("a") == 4


def test_bernoulli_thompson_golden_converges_to_the_paying_arm() -> None:
    seq = play(BernoulliThompson(ARMS), 30)
    assert seq == "cabccbbbbbabbbbbbbbbbbbbbbbbbb"
    assert seq[-19:] == "b" * 19


def test_linucb_golden_with_an_intercept_context() -> None:
    # Round 1: theta = 0 and width 1 for every arm, the tie goes to b, which pays 1. After n pulls of b its score is
    # n/(n+1) + 1/sqrt(n+1) > 1 = the untried arms' score, so b is chosen every time.
    assert play(LinUCB(ARMS, 1), 20, ONE) == "b" * 20


def test_linear_thompson_golden() -> None:
    seq = play(LinearThompson(ARMS, 1, v=0.3), 30, ONE)
    # c pays 0.5 early and is exploited; b (which pays 1) is found once c's posterior narrows.
    assert seq == "ccacccccccccccccccccccccccbbbb"


# -- propensities ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MAKERS))
def test_probabilities_sum_to_one_respect_the_floor_and_match_the_choice(kind: str) -> None:
    policy = train(MAKERS[kind](min_explore=0.3))
    x = context_for(policy)
    rng = np.random.default_rng(7)
    decisions = [policy.choose(x, rng) for _ in range(3000)]
    probs = np.array(decisions[0].probabilities)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert probs.min() >= 0.3 / 3 - 1e-12
    assert all(d.propensity == probs[d.arm] for d in decisions)  # the state did not change between choices
    freq = np.bincount([d.arm for d in decisions], minlength=3) / len(decisions)
    np.testing.assert_allclose(freq, probs, atol=0.03)  # the propensity is the probability choose() really used


def test_exact_propensities_for_epsilon_greedy_with_floor_and_cap() -> None:
    policy = EpsilonGreedy(ARMS, epsilon=0.5, max_explore=0.3, min_explore=0.2)
    policy.update("b", 1.0)
    # epsilon capped to 0.3: policy p = [0.1, 0.7 + 0.1, 0.1]; floor: 0.8 * p + 0.2 / 3
    expected = [0.08 + 0.2 / 3, 0.64 + 0.2 / 3, 0.08 + 0.2 / 3]
    np.testing.assert_allclose(policy.probabilities(), expected, rtol=1e-12)
    d = policy.choose(None, np.random.default_rng(0))
    assert isinstance(d, Decision) and d.propensity == pytest.approx(expected[d.arm], rel=1e-12)


def test_exact_propensities_for_ucb1_with_floor_and_ties() -> None:
    policy = UCB1(ARMS, min_explore=0.3)
    np.testing.assert_allclose(policy.probabilities(), [1 / 3] * 3)  # all untried: a three-way tie
    for arm, r in (("a", 0.0), ("b", 1.0), ("c", 0.0)):
        policy.update(arm, r)
    np.testing.assert_allclose(policy.probabilities(), [0.1, 0.8, 0.1], rtol=1e-12)


def test_thompson_propensity_is_deterministic_and_leaves_the_callers_generator_alone() -> None:
    policy = train(BernoulliThompson(ARMS))
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    first = policy.choose(None, rng_a)
    assert policy.probabilities().tolist() == list(first.probabilities)  # same seeded Monte Carlo estimate
    rng_b.beta(policy.alpha_, policy.beta_)  # choose() takes exactly one posterior draw from the caller's generator
    assert rng_a.random() == rng_b.random()


def test_invalid_exploration_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="min_explore"):
        UCB1(ARMS, min_explore=1.5)
    with pytest.raises(ConfigError, match="max_explore"):
        EpsilonGreedy(ARMS, min_explore=0.3, max_explore=0.2)
    with pytest.raises(ConfigError, match="arms"):
        UCB1(["a", "a"])


# -- idempotent updates ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MAKERS))
def test_a_replayed_event_counts_once(kind: str) -> None:
    once, twice = MAKERS[kind](), MAKERS[kind]()
    x = context_for(once)
    assert once.update("b", 1.0, x, event_id="click-1") is True
    assert twice.update("b", 1.0, x, event_id="click-1") is True
    assert twice.update("b", 1.0, x, event_id="click-1") is False
    assert twice.to_state() == once.to_state()


def test_seen_ids_are_bounded_oldest_first_and_failed_updates_are_not_remembered() -> None:
    policy = UCB1(ARMS, max_seen_events=2)
    for i in (1, 2, 3):
        policy.update("a", 1.0, event_id=f"e{i}")
    assert policy.to_state()["seen_events"] == ["e2", "e3"]
    assert policy.update("a", 1.0, event_id="e1") is True  # evicted: beyond the documented bound
    ts = BernoulliThompson(ARMS)
    with pytest.raises(DataError) as err:
        ts.update("a", 2.0, event_id="bad")
    assert err.value.field == "reward"
    assert ts.update("a", 1.0, event_id="bad") is True


# -- state -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MAKERS))
def test_state_round_trips_through_json_and_decides_identically(kind: str) -> None:
    policy = train(MAKERS[kind](min_explore=0.05))
    state = policy.to_state()
    assert state["kind"] == kind and state["version"] == 1
    restored = policy_from_state(json.loads(json.dumps(state)))
    assert type(restored) is type(policy) and restored.to_state() == state
    assert isinstance(restored, BanditPolicy)
    rng1, rng2 = np.random.default_rng(11), np.random.default_rng(11)
    for i in range(25):
        x = context_for(policy, float(i % 2))
        d1, d2 = policy.choose(x, rng1), restored.choose(x, rng2)
        assert d1 == d2
        assert policy.update(d1.arm, 1.0, x, event_id=f"new{i}") is True
        assert restored.update(d2.arm, 1.0, x, event_id=f"new{i}") is True
        assert restored.update(d2.arm, 1.0, x, event_id=f"e{i}") is False  # seen before the restart
    assert restored.to_state() == policy.to_state()


def test_bad_states_name_the_field() -> None:
    state = UCB1(ARMS).to_state()
    for field, bad in (("version", {**state, "version": 99}), ("kind", {**state, "kind": "nope"})):
        with pytest.raises(DataError) as err:
            policy_from_state(bad)
        assert err.value.field == field
    with pytest.raises(DataError) as err:
        policy_from_state({k: v for k, v in state.items() if k != "stats"})
    assert err.value.field == "stats"
    with pytest.raises(DataError, match=r"counts has shape \(2,\)"):
        policy_from_state({**state, "stats": {"counts": [0, 0], "sums": [0.0, 0.0]}})
    lin = LinUCB(ARMS, 2).to_state()
    with pytest.raises(DataError, match="shapes"):
        policy_from_state({**lin, "params": {**lin["params"], "n_features": 3}})


# -- contexts and arms -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [LinUCB, LinearThompson])
def test_context_errors_name_the_field(cls: type[BasePolicy]) -> None:
    policy = cls(ARMS, 2)
    rng = np.random.default_rng(0)
    for bad, message in ((None, "required"), (np.zeros(3), r"2 features, got shape \(3,\)"), ([1.0, np.nan], "NaN")):
        with pytest.raises(DataError, match=message) as err:
            policy.choose(bad, rng)
        assert err.value.field == "context"
    with pytest.raises(DataError) as err:
        policy.update("a", 1.0, np.zeros((2, 1)))
    assert err.value.field == "context"
    with pytest.raises(ConfigError, match="n_features"):
        cls(ARMS, 0)


def test_unknown_arms_and_non_finite_rewards_are_data_errors() -> None:
    policy = EpsilonGreedy(ARMS)
    for arm, reward, field in (("zzz", 1.0, "arm"), (3, 1.0, "arm"), ("a", float("inf"), "reward")):
        with pytest.raises(DataError) as err:
            policy.update(arm, reward)
        assert err.value.field == field


# -- learning ----------------------------------------------------------------------------------------------------
CTR = np.array([0.02, 0.05, 0.10])
ROUNDS = 3000
UNIFORM_REGRET = ROUNDS * (CTR.max() - CTR.mean())  # 130.0: the expected regret of choosing uniformly at random


@pytest.mark.parametrize(
    ("make", "context", "share"),
    [
        # share = the stated bound on regret as a fraction of uniform's. Measured at seed 0 (and seeds 1-5, max in
        # brackets): epsilon-greedy 0.36 (0.36), UCB1 0.64 (0.70: its log bonus is wide for CTRs this low),
        # Thompson 0.11 (0.13), LinUCB 0.21 (0.21), linear TS 0.08 (0.20).
        (lambda: EpsilonGreedy(ARMS), None, 0.5),
        (lambda: UCB1(ARMS), None, 0.75),
        (lambda: BernoulliThompson(ARMS, propensity_draws=200), None, 0.25),
        (lambda: LinUCB(ARMS, 1), ONE, 0.3),
        (lambda: LinearThompson(ARMS, 1, v=0.3, propensity_draws=200), ONE, 0.3),
    ],
    ids=["epsilon_greedy", "ucb1", "bernoulli_thompson", "linucb", "linear_thompson"],
)
def test_each_policy_beats_uniform_on_a_bernoulli_environment(
    make: Callable[[], BasePolicy], context: np.ndarray | None, share: float
) -> None:
    policy = make()
    rng, env = np.random.default_rng(0), np.random.default_rng(1000)
    regret = 0.0  # pseudo-regret: the expected reward lost by each choice
    for _ in range(ROUNDS):
        arm = policy.choose(context, rng).arm
        policy.update(arm, float(env.random() < CTR[arm]), context)
        regret += CTR.max() - CTR[arm]
    assert regret < share * UNIFORM_REGRET


def contextual_regret(policy: BasePolicy, contextual: bool, rounds: int = 2000, seed: int = 0) -> float:
    """Regret over the second half on a world where a pays 0.8 when s=1, b pays 0.8 when s=0 and c always 0.5."""
    rng, env = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    regret = 0.0
    for t in range(rounds):
        s = int(env.integers(2))
        ctr = np.array([0.2 + 0.6 * s, 0.8 - 0.6 * s, 0.5])
        x = np.array([1.0, float(s)]) if contextual else None
        arm = policy.choose(x, rng).arm
        policy.update(arm, float(env.random() < ctr[arm]), x)
        if t >= rounds // 2:
            regret += ctr.max() - ctr[arm]
    return regret


def test_linear_policies_learn_a_context_dependent_best_arm() -> None:
    # Ignoring s, the best any policy can do is c (0.5 vs 0.8): regret 0.3 a round, 300 over the last 1000 rounds.
    assert contextual_regret(BernoulliThompson(ARMS, propensity_draws=200), contextual=False) > 290
    assert contextual_regret(UCB1(ARMS), contextual=False) > 290
    for policy in (LinUCB(ARMS, 2), LinearThompson(ARMS, 2, v=0.3)):
        assert contextual_regret(policy, contextual=True) < 5
        assert policy.probabilities(np.array([1.0, 0.0]))[1] > 0.99  # b when s = 0
        assert policy.probabilities(np.array([1.0, 1.0]))[0] > 0.99  # a when s = 1
