"""Offline policy learning and promotion by off-policy evaluation, on constructed logs with known values: a uniform
random logger over 4 actions whose mean reward is linear in a 3-feature context (bias + 2 uniform features), so
the best action changes with the context."""

from __future__ import annotations

import numpy as np
import pytest

from shopguide.bandit.linear import LinUCB
from shopguide.bandit.offline import (
    RidgeRewardModel,
    action_distribution,
    compare,
    fit_policy,
    greedy_distribution,
    guardrail,
    ridge_reward_model,
    select_ridge,
    softmax_distribution,
    time_split,
)
from shopguide.bandit.ope import LoggedBandit, dm, mean_reward_model
from shopguide.bandit.policies import EpsilonGreedy
from shopguide.errors import DataError

N_ACTIONS = 4
# Mean reward of action a for context x = (1, u, v): THETA[a] . x. Best: a0 when u > 0 (roughly), a1 when u < 0,
# a2 when v is large; a3 is never best (the worst action almost everywhere).
THETA = np.array([[0.5, 0.3, 0.0], [0.5, -0.3, 0.0], [0.4, 0.0, 0.3], [0.1, 0.0, 0.0]])
SLOT_EFFECT = np.array([0.0, -0.1, -0.2])
ARMS = [f"a{i}" for i in range(N_ACTIONS)]


def contexts(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([np.ones(n), rng.uniform(-1, 1, (n, 2))])


def uniform_log(n: int, seed: int, *, slots: bool = False, noise: float = 0.1) -> tuple[LoggedBandit, np.ndarray]:
    """A uniform random logger's rounds and the true mean reward ``(n, A)`` (``(n, A, 3)`` with slots)."""
    rng = np.random.default_rng(seed + 1)
    x = contexts(n, seed)
    truth = x @ THETA.T
    action = rng.integers(0, N_ACTIONS, n)
    position = rng.integers(0, 3, n) if slots else None
    if slots:
        truth = truth[:, :, None] + SLOT_EFFECT
        mean = truth[np.arange(n), action, position]
    else:
        mean = truth[np.arange(n), action]
    data = LoggedBandit(
        action=action,
        reward=mean + noise * rng.standard_normal(n),
        pscore=np.full(n, 1 / N_ACTIONS),
        position=position,
        context=x,
        n_actions=N_ACTIONS,
    )
    return data, truth


# ---------------------------------------------------------------------------------------------- reward model
def test_ridge_reward_model_recovers_the_rewards() -> None:
    data, truth = uniform_log(4000, seed=0)
    q = ridge_reward_model(data, ridge=1.0, n_folds=3, seed=0)
    assert q.shape == (4000, N_ACTIONS)
    assert np.sqrt(np.mean((q - truth) ** 2)) < 0.015  # noise sd 0.1; measured 0.008
    assert np.abs(q - truth).max() < 0.05


def test_ridge_reward_model_with_positions_recovers_the_slot_effect() -> None:
    data, truth = uniform_log(6000, seed=1, slots=True)
    q = ridge_reward_model(data, ridge=1.0, n_folds=3, seed=0, n_positions=3)
    assert q.shape == (6000, N_ACTIONS, 3)
    assert np.abs(q - truth).max() < 0.05
    slot_gap = (q[:, :, 0] - q[:, :, 2]).mean()
    assert slot_gap == pytest.approx(0.2, abs=0.01)


def test_block_elimination_equals_the_dense_ridge_solution() -> None:
    data, _ = uniform_log(300, seed=2, slots=True, noise=1.0)
    model = RidgeRewardModel(ridge=3.0, n_positions=3).fit(data)
    # the same ridge regression written out: [onehot(action, slot), x, x (x) onehot(action)] on centred data
    x = data.context - data.context.mean(axis=0)
    cells = np.eye(N_ACTIONS * 3)[data.action * 3 + data.position]
    per_action = (np.eye(N_ACTIONS)[data.action][:, :, None] * x[:, None, :]).reshape(len(x), -1)
    design = np.hstack([cells, x, per_action])
    y = data.reward - data.reward.mean()
    w = np.linalg.solve(design.T @ design + 3.0 * np.eye(design.shape[1]), design.T @ y)
    np.testing.assert_allclose(model.bias_.ravel(), w[:12], atol=1e-10)
    np.testing.assert_allclose(model.coef_shared_, w[12:15], atol=1e-10)
    np.testing.assert_allclose(model.coef_action_.ravel(), w[15:], atol=1e-10)


def test_contextual_dm_is_right_where_the_mean_model_is_biased() -> None:
    data, truth = uniform_log(4000, seed=3)
    target = greedy_distribution(truth, epsilon=0.1)  # best action per context
    value = float((target * truth).sum(axis=1).mean())
    ridge_q = ridge_reward_model(data, n_folds=3)
    mean_q = mean_reward_model(data, n_folds=3)
    assert dm(data, target, ridge_q).value == pytest.approx(value, abs=0.01)
    assert abs(dm(data, target, mean_q).value - value) > 0.1


def test_in_sample_and_cross_fitted_differ_and_select_ridge_picks_from_the_grid() -> None:
    data, _ = uniform_log(500, seed=4)
    assert not np.allclose(ridge_reward_model(data, n_folds=1), ridge_reward_model(data, n_folds=3))
    assert select_ridge(data, grid=(0.1, 1.0, 1e6)) in (0.1, 1.0)  # 1e6 flattens the model


def test_predictions_are_clipped_to_the_training_reward_range() -> None:
    data, _ = uniform_log(500, seed=5)
    model = RidgeRewardModel().fit(data)
    far = np.array([[1.0, 50.0, 50.0], [1.0, -50.0, -50.0]])
    q = model.predict(far)
    assert q.min() >= data.reward.min() and q.max() <= data.reward.max()


# ---------------------------------------------------------------------------------------------- policies
def test_fit_policy_learns_the_best_action_per_context() -> None:
    data, _ = uniform_log(3000, seed=6)
    policy = fit_policy(LinUCB(ARMS, 3, alpha=0.0), data)
    fresh = contexts(1000, seed=99)
    best = np.argmax(fresh @ THETA.T, axis=1)
    chosen = np.argmax(action_distribution(policy, fresh), axis=1)
    assert np.mean(chosen == best) >= 0.97
    # the same from a reward model and a greedy distribution
    greedy = greedy_distribution(RidgeRewardModel().fit(data).predict(fresh))
    assert np.mean(np.argmax(greedy, axis=1) == best) >= 0.97


def test_ips_replay_corrects_a_context_dependent_logger() -> None:
    # arm 0 pays 1 when x = 1 and 0 when x = 0 (value 0.5); arm 1 always pays 0.6, so arm 1 is best. The logger
    # plays arm 0 mostly when x = 1: a plain per-arm mean sees arm 0 at about 0.9 and picks it.
    rng = np.random.default_rng(7)
    n = 4000
    x = rng.integers(0, 2, n)
    p0 = np.where(x == 1, 0.9, 0.1)
    action = (rng.random(n) >= p0).astype(int)
    reward = np.where(action == 0, x, 0.6)
    data = LoggedBandit(action=action, reward=reward, pscore=np.where(action == 0, p0, 1 - p0), context=x)
    plain = fit_policy(EpsilonGreedy(["a0", "a1"], epsilon=0.0), data)
    weighted = fit_policy(EpsilonGreedy(["a0", "a1"], epsilon=0.0), data, weighting="ips", seed=0)
    assert np.argmax(plain.means()) == 0
    assert np.argmax(weighted.means()) == 1
    assert weighted.means()[0] == pytest.approx(0.5, abs=0.05)


def test_ips_replay_of_a_uniform_logger_is_plain_replay() -> None:
    data, _ = uniform_log(300, seed=8)
    plain = fit_policy(LinUCB(ARMS, 3), data)
    weighted = fit_policy(LinUCB(ARMS, 3), data, weighting="ips", seed=1)
    np.testing.assert_array_equal(plain.A_, weighted.A_)
    np.testing.assert_array_equal(plain.b_, weighted.b_)


def test_action_distribution_shape_rows_and_deduplication() -> None:
    data, _ = uniform_log(500, seed=9)
    policy = fit_policy(LinUCB(ARMS, 3, alpha=0.5, min_explore=0.2), data)
    x = np.repeat(contexts(20, seed=10), 3, axis=0)  # duplicate rows are computed once
    dist = action_distribution(policy, x)
    assert dist.shape == (60, N_ACTIONS)
    np.testing.assert_allclose(dist.sum(axis=1), 1.0)
    np.testing.assert_allclose(dist, np.stack([policy.probabilities(row) for row in x]))
    assert dist.min() >= 0.2 / N_ACTIONS - 1e-12
    slots = action_distribution(policy, x, n_positions=3)
    assert slots.shape == (60, N_ACTIONS, 3)
    for k in range(3):
        np.testing.assert_array_equal(slots[:, :, k], dist)


def test_greedy_and_softmax_distributions() -> None:
    scores = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 1.0, 0.0, 0.0]])
    np.testing.assert_allclose(greedy_distribution(scores), [[0, 0.5, 0.5, 0], [1, 0, 0, 0]])
    np.testing.assert_allclose(
        greedy_distribution(scores, epsilon=0.4)[1], [0.1 + 0.6, 0.1, 0.1, 0.1]
    )  # epsilon / 4 on every action
    slots = np.stack([scores, scores[:, ::-1]], axis=2)  # (2, 4, 2): argmax per slot
    g = greedy_distribution(slots)
    np.testing.assert_allclose(g[1, :, 0], [1, 0, 0, 0])
    np.testing.assert_allclose(g[1, :, 1], [0, 0, 0, 1])
    soft = softmax_distribution(scores, temperature=1.0)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    assert soft[1, 0] == pytest.approx(np.e**2 / (np.e**2 + np.e + 2))
    np.testing.assert_allclose(softmax_distribution(scores, temperature=1e-3)[1], [1, 0, 0, 0], atol=1e-12)


def test_time_split_keeps_the_logged_order() -> None:
    data, _ = uniform_log(10, seed=11, slots=True)
    train, test = time_split(data, 0.7)
    assert (train.n_rounds, test.n_rounds) == (7, 3)
    np.testing.assert_array_equal(np.concatenate([train.action, test.action]), data.action)
    np.testing.assert_array_equal(test.context, data.context[7:])
    assert test.n_actions == N_ACTIONS and test.position is not None


# ---------------------------------------------------------------------------------------------- decisions
@pytest.fixture(scope="module")
def held_out() -> tuple[LoggedBandit, np.ndarray, np.ndarray]:
    data, truth = uniform_log(3000, seed=12)
    return data, truth, ridge_reward_model(data, n_folds=3, seed=0)


def test_guardrail_promotes_a_better_policy_and_refuses_a_worse_one(held_out) -> None:
    data, truth, q = held_out
    current = np.full((data.n_rounds, N_ACTIONS), 1 / N_ACTIONS)  # uniform: value 0.35
    better = greedy_distribution(truth, epsilon=0.2)  # about 0.60
    worse = greedy_distribution(-truth, epsilon=0.2)  # mostly the worst action, about 0.15
    good = compare(better, current, data, q, n_bootstrap=300, seed=0)
    bad = compare(worse, current, data, q, n_bootstrap=300, seed=0)
    for name in ("ips", "snips", "dm", "dr"):
        assert good[name].verdict == "better" and bad[name].verdict == "worse"
        for criterion in ("value", "difference"):
            assert guardrail(good, estimator=name, criterion=criterion).promote is True
            assert guardrail(bad, estimator=name, criterion=criterion).promote is False
    assert good["dr"].value == pytest.approx(float((better * truth).sum(axis=1).mean()), abs=0.01)
    decision = guardrail(bad, estimator="dr")
    assert (
        decision.reason.startswith("dr: candidate value lower bound") and "keep the current policy" in decision.reason
    )
    refused = guardrail(good, estimator="snips", min_n_eff=good["snips"].n_eff + 1)
    assert refused.promote is False and "too little evidence" in refused.reason


def test_paired_difference_of_a_policy_with_itself_is_exactly_zero(held_out) -> None:
    data, truth, q = held_out
    dist = greedy_distribution(truth, epsilon=0.5)
    same = compare(dist, dist, data, q, n_bootstrap=200, seed=3)
    for c in same.values():
        assert c.difference == 0.0 and c.difference_ci == (0.0, 0.0)
        assert c.verdict == "indistinguishable"
    # a near copy: the paired interval is far narrower than either policy's own interval
    near = 0.9 * dist + 0.1 * greedy_distribution(-truth, epsilon=0.5)
    c = compare(near, dist, data, q, estimators=("snips",), n_bootstrap=200, seed=3)["snips"]
    assert c.difference_ci[1] - c.difference_ci[0] < 0.5 * (c.ci[1] - c.ci[0])


def test_compare_against_a_known_value(held_out) -> None:
    data, truth, _ = held_out
    dist = greedy_distribution(truth, epsilon=0.2)
    res = compare(dist, 0.35, data, estimators=("ips", "snips"), n_bootstrap=200, seed=0)
    assert set(res) == {"ips", "snips"}
    c = res["ips"]
    assert c.baseline == 0.35 and c.baseline_ci is None
    assert c.difference == pytest.approx(c.value - 0.35)
    assert c.difference_ci == pytest.approx((c.ci[0] - 0.35, c.ci[1] - 0.35))
    # a deterministic policy under a uniform logger rests on the rounds where the logger chose its action
    matched = int(np.sum(data.action == np.argmax(truth, axis=1)))
    greedy = compare(greedy_distribution(truth), 0.35, data, estimators=("ips",), n_bootstrap=10)["ips"]
    assert greedy.n_eff == pytest.approx(matched)
    assert matched == pytest.approx(data.n_rounds / N_ACTIONS, rel=0.1)


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_input_names_the_field(held_out) -> None:
    data, truth, q = held_out
    no_context = LoggedBandit(action=[0, 1], reward=[0, 1], pscore=[0.5, 0.5])
    dist = greedy_distribution(truth)
    cases = [
        (lambda: ridge_reward_model(no_context, n_folds=1), "context"),
        (lambda: ridge_reward_model(data, ridge=0.0), "ridge"),
        (lambda: ridge_reward_model(data, n_folds=0), "n_folds"),
        (lambda: ridge_reward_model(data, n_positions=3), "position"),
        (lambda: RidgeRewardModel().fit(data).predict(np.ones((2, 5))), "contexts"),
        (lambda: RidgeRewardModel().predict(np.ones((2, 3))), "model"),
        (lambda: fit_policy(LinUCB(ARMS[:3], 3), data), "n_actions"),
        (lambda: fit_policy(LinUCB(ARMS, 3), data, weighting="magic"), "weighting"),  # type: ignore[arg-type]
        (lambda: fit_policy(LinUCB(ARMS, 2), data), "context"),
        (lambda: action_distribution(LinUCB(ARMS, 3), np.full((2, 3), np.nan)), "contexts"),
        (lambda: action_distribution(LinUCB(ARMS, 3), np.ones((2, 3)), n_positions=0), "n_positions"),
        (lambda: greedy_distribution(truth, epsilon=1.5), "epsilon"),
        (lambda: greedy_distribution(np.ones(4)), "scores"),
        (lambda: softmax_distribution(truth, temperature=0.0), "temperature"),
        (lambda: time_split(data, 1.0), "train_fraction"),
        (lambda: compare(dist[:10], 0.3, data), "candidate_dist"),
        (lambda: compare(dist, dist[:, :2], data), "baseline"),
        (lambda: compare(dist, 0.3, data, estimators=("dr",)), "estimated_rewards"),
        (lambda: compare(dist, 0.3, data, q, estimators=("magic",)), "estimators"),
        (lambda: compare(dist, 0.3, data, q, alpha=1.0), "alpha"),
        (lambda: select_ridge(data, grid=()), "grid"),
    ]
    for call, field in cases:
        with pytest.raises(DataError) as err:
            call()
        assert err.value.field == field, (field, err.value)
    comparisons = compare(dist, 0.3, data, estimators=("ips",), n_bootstrap=10)
    with pytest.raises(DataError) as err:
        guardrail(comparisons, estimator="dr")
    assert err.value.field == "estimator"
    with pytest.raises(DataError) as err:
        guardrail(comparisons, estimator="ips", criterion="vibes")  # type: ignore[arg-type]
    assert err.value.field == "criterion"
