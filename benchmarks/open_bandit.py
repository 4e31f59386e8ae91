"""Off-policy evaluation on the Open Bandit Dataset sample, random -> BTS (the Open Bandit Pipeline paper's setup).

    .venv/bin/python benchmarks/open_bandit.py [--campaigns men women] [--tau 10] [--folds 3] [--n-bootstrap 1000]
        [--seed 0] [--train-fraction 0.7] [--epsilon 0.1]

Protocol. The random policy's logs (10,000 impressions per campaign, uniform propensity 1/n_items) are used to
estimate the click-through rate of the Bernoulli Thompson sampling (BTS) policy; the ground truth is BTS's
on-policy CTR, the mean click of the BTS logs (10,000 impressions, same week). Error is the relative error
``|estimate - truth| / truth``.

The evaluation policy's action distribution. The paper computes BTS's per-position action probabilities by Monte
Carlo from the BTS parameters. Those parameters are not in the sample; instead we take, for each (item, position),
the mean ``propensity_score`` of the BTS rows logged with that item at that position, and renormalise each
position's column to sum to one (raw column sums are about 1.7-2.3 for men, 1.8-3.4 for women, because an item
is logged more often when its probability is high, so averaging over logged rows over-weights high-probability
moments). (Item, position) pairs never logged by BTS get probability 0. The same distribution is used for every
round (BTS is not contextual).

Reward model (DM, DR, Switch-DR): the mean click per (item, position) on the random logs, no context,
cross-fitted over ``--folds`` seeded folds (in sample, DR's correction sums to exactly zero per cell and DR = DM).
Switch-DR keeps the IPS correction where the importance weight is at most ``--tau``. The largest weight here is
about 5.0 (men) and 6.5 (women), so with the default ``--tau 10`` Switch-DR equals DR; a smaller tau shows the switch.

Intervals: 95% percentile bootstrap (seeded) that resamples the random logs (estimate) and the BTS logs (truth)
independently; the truth itself rests on only ~50-70 clicks, so its sampling error is ~12-15% of its value and
relative errors below that are not distinguishable. The reward model is not refitted inside the bootstrap.

Anchors. ../shared/data/README.md: on-policy CTR about 0.0046 (random) and 0.0069 (bts) for men. Saito et al.
(2020), Table 2, report relative errors of roughly 0.1-0.3 for these estimators in the random -> BTS direction,
but on the full dataset (millions of impressions per campaign, Monte Carlo action probabilities, a cross-fitted
reward model): this is a 10,000-row sample, so expect far wider intervals, not the paper's numbers.

Part two: a contextual policy learnt offline from the random logs, valued against BTS. Time split: the first
``--train-fraction`` (70 %) of the random log's rounds (in time order) train, the last 30 % evaluate. Context:
the one-hot user features and the user-item affinities (obd.py). Two candidates, both softened by
``--epsilon`` (0.1: that share of the mass is uniform, so every importance weight is at most
``(1 - epsilon) * n_items + epsilon``):

* ``linucb``: LinUCB (disjoint per-item ridge, ``ridge=1``, ``alpha=0``: greedy on its estimate, no optimism
  bonus for a frozen policy), trained by ``offline.fit_policy`` (plain replay: the logger is uniform), with
  ``min_explore=epsilon``. It ignores the slot, so the same item distribution is used in all three positions.
* ``ridge-greedy``: epsilon-greedy per position over ``offline.RidgeRewardModel`` fitted on the training rounds
  (per (item, position) biases + a shared and a per-item context effect; ridge chosen from 1..1e4 by 3-fold
  cross-fitted squared error on the training rounds).

Positions: each logged row is one (impression, slot) pair with propensity 1/n_items; the target policy gives an
item distribution per slot ((n, n_items, 3) arrays, the OBP convention) and the value is the mean click per
(impression, slot). A real slate cannot repeat an item in two slots; this per-position evaluation ignores that.

Estimates on the held-out 30 %: IPS, SNIPS, DM and DR (reward model: the same ridge model with the ridge chosen
above, cross-fitted on 3 folds of the held-out rounds, so it has not seen the training rounds or its own fold).
BTS's estimate uses the action distribution of part one (from the whole BTS log) on the same held-out rounds;
``candidate - BTS`` is a paired bootstrap (both re-estimated on the same resampled rounds): "beats BTS" when its
95 % lower bound is above 0, "is worse" when its upper bound is below 0, else "cannot be told apart". BTS's
on-policy CTR is also shown for the same time window (the BTS rows logged after the split time); the candidate
minus it uses independent bootstraps of the two logs. DM gets no verdict: its interval holds the reward model
fixed (here it is nearly flat, so DM gives every policy about the mean click).

Rare clicks. ``n_eff`` is the Kish effective number of held-out rounds behind the candidate's importance weights
(about n / n_items for a greedy policy). When those rounds hold no click, the percentile bootstrap returns a
zero-width interval for the greedy part and calls the candidate "worse" on no evidence. So each candidate also
gets an exact check: the held-out rows whose logged item was its top choice for that slot are a uniform sample
of (context, top choice) pairs; their clicks give a Clopper-Pearson 95 % interval of the top choices' CTR, and
``epsilon * held-out CTR + (1 - epsilon) * that interval`` bounds the candidate's value. The candidate's verdict
is the SNIPS bootstrap's only when the exact check (BTS's SNIPS estimate outside that interval) agrees;
otherwise it is "cannot be told apart". ``offline.guardrail`` (SNIPS, the candidate's lower bound against BTS's
estimate) gives the promotion decision.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from scipy.stats import beta

from _common import data_dir, machine, write_json
from shopguide.bandit.linear import LinUCB
from shopguide.bandit.obd import load_open_bandit
from shopguide.bandit.offline import (
    RidgeRewardModel,
    action_distribution,
    compare,
    fit_policy,
    greedy_distribution,
    guardrail,
    ridge_reward_model,
    select_ridge,
    time_split,
)
from shopguide.bandit.ope import LoggedBandit, evaluate, mean_reward_model, on_policy

N_POSITIONS = 3


def mean_propensity(bts: LoggedBandit) -> np.ndarray:
    """(n_items, n_positions): mean logged BTS propensity per (item, position); 0 where never logged."""
    assert bts.position is not None
    cells = bts.action * N_POSITIONS + bts.position
    size = bts.n_actions * N_POSITIONS
    sums = np.bincount(cells, weights=bts.pscore, minlength=size)
    counts = np.bincount(cells, minlength=size)
    return np.divide(sums, counts, out=np.zeros(size), where=counts > 0).reshape(bts.n_actions, N_POSITIONS)


def bts_distribution(bts: LoggedBandit) -> np.ndarray:
    """(n_items, n_positions): BTS's item distribution per slot, the mean propensity renormalised per position."""
    raw = mean_propensity(bts)
    return raw / raw.sum(axis=0, keepdims=True)


def run_campaign(campaign: str, *, tau: float, folds: int, n_bootstrap: int, seed: int) -> dict:
    root = data_dir("open-bandit-sample")
    random_log = load_open_bandit(root, "random", campaign, context=False)
    bts_log = load_open_bandit(root, "bts", campaign, context=False)
    raw = mean_propensity(bts_log)
    per_item = bts_distribution(bts_log)
    action_dist = np.broadcast_to(per_item, (random_log.n_rounds, *per_item.shape))
    q = mean_reward_model(random_log, n_positions=N_POSITIONS, n_folds=folds, seed=seed)
    truth_est = on_policy(bts_log)
    truth = truth_est.value
    truth_boot = truth_est.bootstrap(n_bootstrap, seed=seed + 1)
    result = {
        "random_ctr": on_policy(random_log).value,
        "bts_ctr": truth,
        "bts_ctr_ci": truth_est.ci(n_bootstrap=n_bootstrap, seed=seed + 1),
        "raw_propensity_column_sums": [round(float(v), 4) for v in raw.sum(axis=0)],
        "estimators": {},
    }
    for name, est in evaluate(random_log, action_dist, q, tau=tau).items():
        boot = est.bootstrap(n_bootstrap, seed=seed)
        rel_boot = np.abs(boot - truth_boot) / truth_boot
        result["estimators"][name] = {
            "estimate": est.value,
            "estimate_ci": [float(v) for v in np.quantile(boot, [0.025, 0.975])],
            "relative_error": abs(est.value - truth) / truth,
            "relative_error_ci": [float(v) for v in np.quantile(rel_boot, [0.025, 0.975])],
        }
    return result


VERDICT = {"better": "beats BTS", "worse": "is worse", "indistinguishable": "cannot be told apart"}
ESTIMATORS = ("ips", "snips", "dm", "dr")


def timestamps(policy: str, campaign: str) -> pd.Series:
    file = data_dir("open-bandit-sample") / policy / campaign / f"{campaign}.csv"
    return pd.to_datetime(pd.read_csv(file, usecols=["timestamp"])["timestamp"])


def top_choice_check(dist: np.ndarray, data: LoggedBandit, *, epsilon: float, bts_value: float) -> dict:
    """An exact binomial check of an epsilon-greedy candidate under the uniform logger.

    Its value is ``epsilon * V_uniform + (1 - epsilon) * V_top``. The held-out rows whose logged item was the
    candidate's top choice for that slot are a uniform sample of (context, top choice) pairs, so their clicks
    ``k`` of ``n`` give V_top and a Clopper-Pearson 95 % interval; V_uniform is the held-out mean click. The
    candidate is told apart from BTS only if ``bts_value`` lies outside the resulting interval.
    """
    assert data.position is not None
    at_slot = dist[np.arange(data.n_rounds), :, data.position]
    top = at_slot[np.arange(data.n_rounds), data.action] == at_slot.max(axis=1)
    n, k = int(top.sum()), int(data.reward[top].sum())
    lo = float(beta.ppf(0.025, k, n - k + 1)) if k > 0 else 0.0
    hi = float(beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0
    uniform = on_policy(data).value
    value_ci = [epsilon * uniform + (1 - epsilon) * v for v in (lo, hi)]
    side = "better" if value_ci[0] > bts_value else "worse" if value_ci[1] < bts_value else "indistinguishable"
    return {"impressions": n, "clicks": k, "ctr": k / n if n else 0.0, "ctr_ci": [lo, hi],
            "value_ci": value_ci, "verdict": VERDICT[side]}  # fmt: skip


def learn_campaign(
    campaign: str, *, train_fraction: float, epsilon: float, folds: int, n_bootstrap: int, seed: int
) -> dict:
    root = data_dir("open-bandit-sample")
    log = load_open_bandit(root, "random", campaign)
    bts_log = load_open_bandit(root, "bts", campaign, context=False)
    train, test = time_split(log, train_fraction)
    assert test.context is not None
    split_time = timestamps("random", campaign).iloc[train.n_rounds]
    in_window = (timestamps("bts", campaign) >= split_time).to_numpy()
    bts_window = on_policy(LoggedBandit(action=bts_log.action[in_window], reward=bts_log.reward[in_window],
                                        pscore=bts_log.pscore[in_window]))  # fmt: skip
    bts_window_boot = bts_window.bootstrap(n_bootstrap, seed=seed + 1)
    per_item = bts_distribution(bts_log)
    bts_dist = np.broadcast_to(per_item, (test.n_rounds, *per_item.shape))

    ridge = select_ridge(train, n_folds=folds, seed=seed, n_positions=N_POSITIONS)
    q = ridge_reward_model(test, ridge=ridge, n_folds=folds, seed=seed, n_positions=N_POSITIONS)
    arms = [str(i) for i in range(log.n_actions)]
    n_features = test.context.shape[1]
    linucb = fit_policy(LinUCB(arms, n_features, alpha=0.0, ridge=1.0, min_explore=epsilon), train)
    scores = RidgeRewardModel(ridge=ridge, n_positions=N_POSITIONS).fit(train).predict(test.context)
    candidates = {
        "linucb": action_distribution(linucb, test.context, n_positions=N_POSITIONS),
        "ridge-greedy": greedy_distribution(scores, epsilon=epsilon),
    }
    result: dict = {
        "train_rounds": train.n_rounds,
        "test_rounds": test.n_rounds,
        "train_clicks": int(train.reward.sum()),
        "test_clicks": int(test.reward.sum()),
        "split_time": str(split_time),
        "ridge": ridge,
        "random_ctr_test": on_policy(test).value,
        "bts_on_policy_window": {
            "rounds": int(in_window.sum()),
            "ctr": bts_window.value,
            "ctr_ci": [float(v) for v in np.quantile(bts_window_boot, [0.025, 0.975])],
        },
        "candidates": {},
    }
    for name, dist in candidates.items():
        comparisons = compare(dist, bts_dist, test, q, estimators=ESTIMATORS, n_bootstrap=n_bootstrap, seed=seed)
        estimates = evaluate(test, dist, q)
        rows = {}
        for est, c in comparisons.items():
            vs_on_policy = estimates[est].bootstrap(n_bootstrap, seed=seed) - bts_window_boot
            rows[est] = {
                "estimate": c.value,
                "estimate_ci": list(c.ci),
                "bts_estimate": c.baseline,
                "bts_estimate_ci": list(c.baseline_ci or (np.nan, np.nan)),
                "difference": c.difference,
                "difference_ci": list(c.difference_ci),
                "verdict": "n/a (model fixed)" if est == "dm" else VERDICT[c.verdict],
                "minus_bts_on_policy": c.value - bts_window.value,
                "minus_bts_on_policy_ci": [float(v) for v in np.quantile(vs_on_policy, [0.025, 0.975])],
            }
        check = top_choice_check(dist, test, epsilon=epsilon, bts_value=comparisons["snips"].baseline)
        decision = guardrail(comparisons, estimator="snips")
        result["candidates"][name] = {
            "n_eff": comparisons["ips"].n_eff,
            "top_choice": check,
            "estimators": rows,
            # a claim needs the bootstrap and the exact check to agree
            "verdict": check["verdict"]
            if check["verdict"] == rows["snips"]["verdict"]
            else VERDICT["indistinguishable"],
            "guardrail": {"promote": decision.promote, "reason": decision.reason},
        }
    return result


def print_learned(console: Console, campaign: str, res: dict) -> None:
    win = res["bts_on_policy_window"]
    console.print(
        f"{campaign}: trained on {res['train_rounds']} random rounds ({res['train_clicks']} clicks), evaluated on "
        f"{res['test_rounds']} ({res['test_clicks']} clicks, CTR {res['random_ctr_test']:.4f}) after "
        f"{res['split_time'][:16]}; ridge {res['ridge']:g}; BTS on-policy CTR in that window "
        "{:.4f} [{:.4f}, {:.4f}] ({} rounds)".format(win["ctr"], *win["ctr_ci"], win["rounds"])
    )
    for name, cand in res["candidates"].items():
        top = cand["top_choice"]
        table = Table(
            title=f"{campaign} / {name}: n_eff {cand['n_eff']:.0f}; top-choice rows {top['impressions']}, clicks "
            "{}, CTR {:.4f} [{:.4f}, {:.4f}] -> value [{:.4f}, {:.4f}]".format(
                top["clicks"], top["ctr"], *top["ctr_ci"], *top["value_ci"]
            ),
            caption=f"verdict (SNIPS bootstrap and exact top-choice check agree, else none): {cand['verdict']}; "
            f"guardrail: {cand['guardrail']['reason']}",
        )
        columns = ("estimator", "candidate CTR [95%]", "BTS by OPE [95%]", "cand - BTS, paired [95%]", "verdict",
                   "cand - BTS on-policy [95%]")  # fmt: skip
        for col in columns:
            table.add_column(col, justify="left" if col in ("estimator", "verdict") else "right")
        for est, row in cand["estimators"].items():
            table.add_row(
                est,
                "{:.4f} [{:.4f}, {:.4f}]".format(row["estimate"], *row["estimate_ci"]),
                "{:.4f} [{:.4f}, {:.4f}]".format(row["bts_estimate"], *row["bts_estimate_ci"]),
                "{:+.4f} [{:+.4f}, {:+.4f}]".format(row["difference"], *row["difference_ci"]),
                row["verdict"],
                "{:+.4f} [{:+.4f}, {:+.4f}]".format(row["minus_bts_on_policy"], *row["minus_bts_on_policy_ci"]),
            )
        console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", nargs="+", default=["men", "women"], choices=["men", "women"])
    parser.add_argument("--tau", type=float, default=10.0)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-fraction", type=float, default=0.7)
    parser.add_argument("--epsilon", type=float, default=0.1)
    args = parser.parse_args()
    start = time.perf_counter()
    console = Console(width=150)
    console.print(f"Open Bandit sample, random -> BTS, on {machine()}")
    results = {}
    for campaign in args.campaigns:
        res = run_campaign(campaign, tau=args.tau, folds=args.folds, n_bootstrap=args.n_bootstrap, seed=args.seed)
        results[campaign] = res
        lo, hi = res["bts_ctr_ci"]
        table = Table(
            title=f"{campaign}: BTS on-policy CTR {res['bts_ctr']:.4f} [{lo:.4f}, {hi:.4f}], "
            f"random CTR {res['random_ctr']:.4f}"
        )
        for col in ("estimator", "estimate", "95% CI", "relative error", "95% CI (rel. error)"):
            table.add_column(col, justify="left" if col == "estimator" else "right")
        for name, row in res["estimators"].items():
            table.add_row(
                name,
                f"{row['estimate']:.5f}",
                "[{:.5f}, {:.5f}]".format(*row["estimate_ci"]),
                f"{row['relative_error']:.3f}",
                "[{:.3f}, {:.3f}]".format(*row["relative_error_ci"]),
            )
        console.print(table)
    console.print(f"Contextual policies learnt offline from the random logs vs BTS (epsilon {args.epsilon})")
    for campaign in args.campaigns:
        res = learn_campaign(
            campaign,
            train_fraction=args.train_fraction,
            epsilon=args.epsilon,
            folds=args.folds,
            n_bootstrap=args.n_bootstrap,
            seed=args.seed,
        )
        results[campaign]["learned"] = res
        print_learned(console, campaign, res)
    elapsed = time.perf_counter() - start
    path = write_json(
        "open_bandit",
        {
            "protocol": "random logs -> BTS value; BTS action dist = per-(item, position) mean logged propensity, "
            "renormalised per position; reward model = per-(item, position) mean click on random logs, "
            "cross-fitted; "
            "relative error vs BTS on-policy CTR; percentile bootstrap resampling both logs",
            "tau": args.tau,
            "folds": args.folds,
            "n_bootstrap": args.n_bootstrap,
            "seed": args.seed,
            "anchor": "README: on-policy CTR men random ~0.0046, bts ~0.0069; Saito et al. 2020 Table 2 "
            "(full data): relative errors roughly 0.1-0.3",
            "learned_protocol": "time split of the random log (first train_fraction trains, rest evaluates); "
            "candidates linucb (fit_policy replay, alpha=0, min_explore=epsilon, same distribution per slot) and "
            "ridge-greedy (epsilon-greedy per slot on RidgeRewardModel, ridge by CV on the training rounds); "
            "IPS/SNIPS/DM/DR on the held-out rounds, reward model = ridge model cross-fitted on them; paired "
            "bootstrap difference to BTS's OPE estimate; BTS on-policy CTR in the same time window",
            "train_fraction": args.train_fraction,
            "epsilon": args.epsilon,
            "results": results,
            "seconds": round(elapsed, 1),
        },
    )
    console.print(f"wrote {path} ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
