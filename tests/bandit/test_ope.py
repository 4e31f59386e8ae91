"""Off-policy estimators: exact hand-computed cases, a synthetic environment with a known value, input validation,
and the Open Bandit loader (the real sample is read from ../shared/data and skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopguide.bandit.obd import load_open_bandit
from shopguide.bandit.ope import (
    Estimate,
    LoggedBandit,
    dm,
    dr,
    evaluate,
    ips,
    mean_reward_model,
    on_policy,
    snips,
    switch_dr,
)
from shopguide.errors import DataError

OBD = Path(__file__).parents[2].parent / "shared" / "data" / "open-bandit-sample"


# ---------------------------------------------------------------- exact small cases
# 4 rounds, 2 actions. Weights w = pi(a_i) / p_i = 1.6, 2, 2, 1; w * r = 1.6, 0, 0, 1.
HAND = LoggedBandit(action=[0, 1, 0, 1], reward=[1, 0, 0, 1], pscore=[0.5, 0.25, 0.5, 0.8])
HAND_PI = np.array([[0.8, 0.2], [0.5, 0.5], [1.0, 0.0], [0.2, 0.8]])
HAND_Q = np.tile([0.5, 0.25], (4, 1))  # DM terms 0.45, 0.375, 0.5, 0.3; residual terms 0.8, -0.5, -1, 0.75


def test_hand_computed_values() -> None:
    assert ips(HAND, HAND_PI).value == pytest.approx(2.6 / 4)
    assert snips(HAND, HAND_PI).value == pytest.approx(2.6 / 6.6)
    assert dm(HAND, HAND_PI, HAND_Q).value == pytest.approx(1.625 / 4)
    assert dr(HAND, HAND_PI, HAND_Q).value == pytest.approx((1.625 + 0.05) / 4)
    assert switch_dr(HAND, HAND_PI, HAND_Q, tau=1.5).value == pytest.approx((1.625 + 0.75) / 4)
    assert switch_dr(HAND, HAND_PI, HAND_Q, tau=1.6).value == pytest.approx((1.625 + 0.75 + 0.8) / 4)


def test_switch_dr_limits_are_dr_and_dm() -> None:
    assert switch_dr(HAND, HAND_PI, HAND_Q, tau=np.inf).value == dr(HAND, HAND_PI, HAND_Q).value
    assert switch_dr(HAND, HAND_PI, HAND_Q, tau=0.0).value == pytest.approx(dm(HAND, HAND_PI, HAND_Q).value)


def test_positions_select_the_logged_slot() -> None:
    data = LoggedBandit(action=[0, 1], reward=[1, 1], pscore=[0.5, 0.5], position=[0, 1])
    per_slot = np.array([[0.9, 0.3], [0.1, 0.7]])  # (action, position)
    dist = np.broadcast_to(per_slot, (2, 2, 2))
    assert ips(data, dist).value == pytest.approx((0.9 / 0.5 + 0.7 / 0.5) / 2)
    q = np.broadcast_to(np.array([[1.0, 0.0], [0.0, 1.0]]), (2, 2, 2))
    # round 0 at slot 0: 0.9 * 1 + 0.1 * 0; round 1 at slot 1: 0.3 * 0 + 0.7 * 1
    assert dm(data, dist, q).value == pytest.approx((0.9 + 0.7) / 2)
    # a 2-d reward model is shared by every slot
    assert dm(data, dist, np.array([[1.0, 0.0], [1.0, 0.0]])).value == pytest.approx((0.9 + 0.3) / 2)


def test_target_equal_to_logging_policy_gives_the_on_policy_mean() -> None:
    rng = np.random.default_rng(3)
    n, k = 500, 5
    logging = rng.dirichlet(np.ones(k), size=n)
    action = np.array([rng.choice(k, p=row) for row in logging])
    data = LoggedBandit(action=action, reward=rng.random(n), pscore=logging[np.arange(n), action], n_actions=k)
    assert ips(data, logging).value == pytest.approx(on_policy(data).value)
    assert snips(data, logging).value == pytest.approx(on_policy(data).value)


def test_dr_equals_dm_when_the_reward_model_is_exact() -> None:
    rng = np.random.default_rng(5)
    n, k = 1000, 3
    table = rng.random((4, k))  # deterministic reward of each (context, action)
    ctx = rng.integers(0, 4, n)
    action = rng.integers(0, k, n)
    data = LoggedBandit(action=action, reward=table[ctx, action], pscore=np.full(n, 1 / k), n_actions=k)
    target = rng.dirichlet(np.ones(k), size=n)
    exact = table[ctx]
    assert dr(data, target, exact).value == pytest.approx(dm(data, target, exact).value, abs=1e-12)
    assert dm(data, target, exact).value == pytest.approx(float((target * exact).sum(axis=1).mean()))


def test_mean_reward_model_hand_case_and_cross_fitting() -> None:
    data = LoggedBandit(
        action=[0, 0, 1, 2], reward=[1, 0, 1, 1], pscore=[1, 1, 1, 1], position=[0, 1, 1, 0], n_actions=4
    )
    q = mean_reward_model(data)
    assert q.shape == (4, 4)
    np.testing.assert_allclose(q[0], [0.5, 1.0, 1.0, 0.75])  # unseen action 3 gets the overall mean
    qp = mean_reward_model(data, n_positions=2, prior=0.0)
    np.testing.assert_allclose(qp[0], [[1, 0], [0, 1], [1, 0], [0, 0]])
    # leave-one-out: each round's own cell is predicted from the other rounds only
    one_cell = LoggedBandit(action=[0, 0, 0, 0], reward=[1, 0, 0, 0], pscore=[1, 1, 1, 1])
    loo = mean_reward_model(one_cell, n_folds=4, seed=9)
    np.testing.assert_allclose(loo[:, 0], [0, 1 / 3, 1 / 3, 1 / 3])


# ---------------------------------------------------------------- synthetic environment with a known value
P_CONTEXT = np.array([0.5, 0.3, 0.2])
Q_TRUE = np.array([[0.1, 0.3, 0.5, 0.2], [0.6, 0.2, 0.1, 0.4], [0.3, 0.3, 0.7, 0.1]])
LOGGING = np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])
TARGET = np.array([[0.0, 0.1, 0.8, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1]])
TRUE_VALUE = float(P_CONTEXT @ (TARGET * Q_TRUE).sum(axis=1))  # 0.5 * 0.45 + 0.3 * 0.49 + 0.2 * 0.56
TOL = 0.01  # about 3-4 standard errors of IPS at 50k rounds


@pytest.fixture(scope="module")
def synthetic() -> tuple[LoggedBandit, np.ndarray]:
    rng = np.random.default_rng(2024)
    n = 50_000
    ctx = rng.choice(3, size=n, p=P_CONTEXT)
    cum = LOGGING.cumsum(axis=1)[ctx]
    action = (rng.random(n)[:, None] > cum).sum(axis=1)
    reward = (rng.random(n) < Q_TRUE[ctx, action]).astype(float)
    data = LoggedBandit(action=action, reward=reward, pscore=LOGGING[ctx, action], context=ctx[:, None], n_actions=4)
    return data, ctx


def test_estimators_recover_the_true_value(synthetic: tuple[LoggedBandit, np.ndarray]) -> None:
    data, ctx = synthetic
    assert pytest.approx(0.484) == TRUE_VALUE
    target = TARGET[ctx]
    biased = mean_reward_model(data)  # ignores the context: DM is off, DR is corrected by the weights
    assert abs(ips(data, target).value - TRUE_VALUE) < TOL
    assert abs(snips(data, target).value - TRUE_VALUE) < TOL
    assert abs(dr(data, target, biased).value - TRUE_VALUE) < TOL
    assert abs(dr(data, target, Q_TRUE[ctx]).value - TRUE_VALUE) < TOL
    assert abs(dm(data, target, Q_TRUE[ctx]).value - TRUE_VALUE) < TOL
    assert abs(dm(data, target, biased).value - TRUE_VALUE) > 5 * TOL


def test_confidence_intervals_cover_the_truth(synthetic: tuple[LoggedBandit, np.ndarray]) -> None:
    data, ctx = synthetic
    q = mean_reward_model(data, n_folds=2, seed=1)  # context-blind, so DM and the DM part of Switch-DR are biased
    found = evaluate(data, TARGET[ctx], q, tau=5.0)
    intervals = {name: est.ci(alpha=0.05, n_bootstrap=300, seed=11) for name, est in found.items()}
    for name in ("ips", "snips", "dr"):
        lo, hi = intervals[name]
        assert lo < TRUE_VALUE < hi, name
        assert lo < found[name].value < hi
        assert hi - lo < 4 * TOL
    # tau=5 drops the correction on context 1 / action 0 (weight 7): lower variance, but the wrong model's bias shows
    width = {name: hi - lo for name, (lo, hi) in intervals.items()}
    assert width["switch_dr"] < width["dr"]
    assert not intervals["switch_dr"][0] < TRUE_VALUE < intervals["switch_dr"][1]
    assert not intervals["dm"][0] < TRUE_VALUE < intervals["dm"][1]


def test_bootstrap_is_seeded() -> None:
    est = ips(HAND, HAND_PI)
    np.testing.assert_array_equal(est.bootstrap(50, seed=1), est.bootstrap(50, seed=1))
    assert not np.array_equal(est.bootstrap(50, seed=1), est.bootstrap(50, seed=2))
    assert est.ci(seed=4) == est.ci(seed=4)
    ratio = Estimate("r", np.array([1.0, 0.0]), np.array([2.0, 0.0]))
    assert ratio.value == 0.5
    assert set(np.unique(ratio.bootstrap(200, seed=0))) <= {0.0, 0.5}  # a resample with no weight gives 0, not NaN
    with pytest.raises(ValueError):
        est.ci(alpha=1.5)


# ---------------------------------------------------------------- validation
GOOD = {"action": [0, 1], "reward": [1.0, 0.0], "pscore": [0.5, 0.5], "position": [0, 1]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pscore": [0.0, 0.5]}, "pscore"),
        ({"pscore": [1.5, 0.5]}, "pscore"),
        ({"pscore": [np.nan, 0.5]}, "pscore"),
        ({"reward": [np.nan, 0.0]}, "reward"),
        ({"reward": [1.0, 0.0, 1.0]}, "reward"),
        ({"reward": ["a", "b"]}, "reward"),
        ({"action": [-1, 1]}, "action"),
        ({"action": [0.5, 1]}, "action"),
        ({"action": []}, "action"),
        ({"action": [0, 2], "n_actions": 2}, "action"),
        ({"position": [0]}, "position"),
        ({"position": [0, -1]}, "position"),
        ({"context": [[0.0], [np.inf]]}, "context"),
    ],
)
def test_bad_logs_raise_data_error_naming_the_field(change: dict, field: str) -> None:
    with pytest.raises(DataError) as err:
        LoggedBandit(**{**GOOD, **change})
    assert err.value.field == field
    assert repr(field) in str(err.value)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda d: ips(d, np.full((3, 2), 0.5)), "action_dist"),
        (lambda d: ips(d, np.full((2, 3), 1 / 3)), "action_dist"),
        (lambda d: ips(d, [[np.nan, 1.0], [0.5, 0.5]]), "action_dist"),
        (lambda d: ips(d, [[0.7, 0.7], [0.5, 0.5]]), "action_dist"),
        (lambda d: ips(d, [[1.5, -0.5], [0.5, 0.5]]), "action_dist"),
        (lambda d: ips(LoggedBandit(action=[0, 1], reward=[1, 0], pscore=[1, 1]), np.full((2, 2, 2), 0.5)), "position"),
        (lambda d: ips(d, np.full((2, 2, 1), 0.5)), "position"),
        (lambda d: dm(d, np.full((2, 2), 0.5), np.zeros((2, 3))), "estimated_rewards"),
        (lambda d: dr(d, np.full((2, 2), 0.5), [[np.nan, 0], [0, 0]]), "estimated_rewards"),
        (lambda d: switch_dr(d, np.full((2, 2), 0.5), np.zeros((2, 2)), tau=-1.0), "tau"),
        (lambda d: mean_reward_model(d, n_folds=0), "n_folds"),
        (lambda d: mean_reward_model(d, n_positions=1), "position"),
    ],
)
def test_bad_estimator_inputs_raise_data_error_naming_the_field(call, field: str) -> None:
    with pytest.raises(DataError) as err:
        call(LoggedBandit(**GOOD))
    assert err.value.field == field


# ---------------------------------------------------------------- Open Bandit loader
def _write_obd(root: Path, rows: str, header: str = ",timestamp,item_id,position,click,propensity_score") -> Path:
    folder = root / "random" / "men"
    folder.mkdir(parents=True)
    (folder / "men.csv").write_text(header + "\n" + rows)
    (folder / "item_context.csv").write_text(",item_id,item_feature_0\n0,0,0.1\n1,1,0.2\n2,2,0.3\n")
    return root


def test_loader_on_a_written_file(tmp_path: Path) -> None:
    root = _write_obd(tmp_path, "0,t,1,1,0,0.5\n1,t,0,3,1,0.25\n")
    data = load_open_bandit(root, "random", "men", context=False)
    assert data.n_actions == 3
    np.testing.assert_array_equal(data.action, [1, 0])
    np.testing.assert_array_equal(data.position, [0, 2])
    np.testing.assert_array_equal(data.reward, [0, 1])
    np.testing.assert_array_equal(data.pscore, [0.5, 0.25])


def test_loader_errors_name_file_line_and_field(tmp_path: Path) -> None:
    root = _write_obd(tmp_path / "a", "0,t,1,1,0,0.5\n1,t,0,3,,0.25\n")
    with pytest.raises(DataError) as err:
        load_open_bandit(root, "random", "men")
    assert (err.value.field, err.value.line) == ("click", 3)
    assert err.value.file is not None and err.value.file.endswith("men.csv")
    root = _write_obd(tmp_path / "b", "0,t,1,1,0\n", header=",timestamp,item_id,position,click")
    with pytest.raises(DataError) as err:
        load_open_bandit(root, "random", "men")
    assert err.value.field == "propensity_score"
    root = _write_obd(tmp_path / "c", "0,t,1,1,0,0\n")
    with pytest.raises(DataError) as err:
        load_open_bandit(root, "random", "men")
    assert err.value.field == "pscore" and err.value.file is not None
    with pytest.raises(DataError):
        load_open_bandit(tmp_path / "missing", "random", "men")


@pytest.fixture(scope="module")
def obd() -> Path:
    if not OBD.is_dir():
        pytest.skip(f"Open Bandit sample not found at {OBD}")
    return OBD


@pytest.mark.slow
def test_real_random_log_reproduces_its_own_ctr(obd: Path) -> None:
    data = load_open_bandit(obd, "random", "men")
    assert (data.n_rounds, data.n_actions) == (10_000, 34)
    assert set(np.unique(data.position)) == {0, 1, 2}
    np.testing.assert_allclose(data.pscore, 1 / 34)
    assert data.context is not None and data.context.shape[0] == 10_000
    assert on_policy(data).value == pytest.approx(0.0046)
    uniform = np.full((data.n_rounds, data.n_actions), 1 / 34)
    assert ips(data, uniform).value == pytest.approx(0.0046)


@pytest.mark.slow
def test_real_bts_log(obd: Path) -> None:
    data = load_open_bandit(obd, "bts", "women", context=False)
    assert (data.n_rounds, data.n_actions) == (10_000, 46)
    assert data.pscore.min() < data.pscore.max()
    assert on_policy(load_open_bandit(obd, "bts", "men", context=False)).value == pytest.approx(0.0069)
