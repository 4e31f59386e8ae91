"""Cumulative regret of the bandit policies on the demo shopper simulator, and how fast the guide learns ask-vs-show.

    .venv/bin/python benchmarks/bandit_regret.py [--rounds 20000] [--seeds 0 1 2] [--guide-sessions 10000]

Needs matplotlib for the plot (the ``bench`` extra: ``pip install -e ".[bench]"``); without it the
tables are still written and the plot is skipped with a message.

Protocol. For each seed, :func:`shopguide.bandit.simulation.build_world` simulates a market on the demo catalog
(the seed is the simulator's seed), :func:`feed_environment` draws 4,000 feed requests from it and
:func:`guide_environment` 2,000 vague chat requests (the states, with the true expected reward of every arm; see
that module's docstring for the reward model and where the structure comes from). Each policy then plays the
same ``--rounds`` rounds (states drawn uniformly, Bernoulli rewards from one shared stream of uniforms, so all
policies see the same shoppers and luck). Regret is pseudo-regret against the per-state oracle:
``sum_t max_a mu(s_t, a) - mu(s_t, a_t)``. The oracle knows the shopper's hidden taste, which no policy sees, so
part of it cannot be learned: the row "best linear policy in hindsight" (a least-squares fit of each arm's true
expected reward on the service's features over all states, then greedy) shows what the service's encoding
can reach at best. Contextual policies see ``encode(DecisionContext)``; context-free ones see nothing.

Ask-vs-show: LinUCB and linear Thompson sampling over (ask, show) on the guide environment, for ``--guide-sessions`` sessions per seed. Every
10 sessions, for each context group (device x new/returning), the probability that the policy picks the
group's better move (the move with the higher mean expected reward over the group's states), averaged over the
group's states. Reported: the number of sessions after which that probability is >= 0.9 and stays there to the
end of the horizon (a longer horizon can only move it later), and the share of the group's states for which a
least-squares fit of the true expected rewards on the features (hindsight) picks the better move, i.e. whether
the service's encoding can express the preference at all.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from _common import OUT, git_commit, machine
from shopguide.bandit.features import N_FEATURES
from shopguide.bandit.linear import LinearThompson, LinUCB
from shopguide.bandit.policies import UCB1, BasePolicy, BernoulliThompson, EpsilonGreedy
from shopguide.bandit.simulation import (
    FEED_ARMS,
    GUIDE_MOVES,
    LEAVE_AFTER_ASK,
    Environment,
    Run,
    build_world,
    feed_environment,
    fixed_arm_run,
    guide_environment,
    play,
)

DRAWS = 64  # Monte Carlo propensity draws of the sampling policies: propensities are not used here, choices
# do not depend on it (they use the caller's generator), and the default 2000 only costs time
POLICIES: dict[str, tuple[Callable[[int], BasePolicy], bool]] = {
    "LinUCB (alpha=1, default)": (lambda d: LinUCB(FEED_ARMS, d), True),
    "LinUCB (alpha=0.3)": (lambda d: LinUCB(FEED_ARMS, d, alpha=0.3), True),
    "Linear TS (v=1, default)": (lambda d: LinearThompson(FEED_ARMS, d, propensity_draws=DRAWS), True),
    "Linear TS (v=0.3, the service's)": (lambda d: LinearThompson(FEED_ARMS, d, v=0.3, propensity_draws=DRAWS), True),
    "epsilon-greedy (0.1)": (lambda d: EpsilonGreedy(FEED_ARMS, epsilon=0.1), False),
    "Bernoulli TS (context-free)": (lambda d: BernoulliThompson(FEED_ARMS, propensity_draws=DRAWS), False),
    "UCB1": (lambda d: UCB1(FEED_ARMS), False),
    "random": (lambda d: EpsilonGreedy(FEED_ARMS, epsilon=1.0), False),
}
FIXED = "best fixed arm in hindsight"
LINEAR_FLOOR = "best linear policy in hindsight (reference)"
GUIDE_POLICIES: dict[str, Callable[[], BasePolicy]] = {
    "LinUCB (alpha=1, default)": lambda: LinUCB(GUIDE_MOVES, N_FEATURES),
    "LinUCB (alpha=0.3)": lambda: LinUCB(GUIDE_MOVES, N_FEATURES, alpha=0.3),
    "Linear TS (v=1, default)": lambda: LinearThompson(GUIDE_MOVES, N_FEATURES),
    "Linear TS (v=0.3, the service's)": lambda: LinearThompson(GUIDE_MOVES, N_FEATURES, v=0.3),
}
GUIDE_PLOTTED = "Linear TS (v=0.3, the service's)"
CHECK_EVERY = 10


def hindsight_choice(env: Environment) -> np.ndarray:
    """Per state, the arm of a least-squares fit of each arm's true expected reward on the features (greedy)."""
    theta = np.linalg.lstsq(env.features, env.expected, rcond=None)[0]
    return (env.features @ theta).argmax(axis=1)


def linear_floor(env: Environment, n_rounds: int, seed: int) -> Run:
    """The hindsight linear policy (:func:`hindsight_choice`) on the rounds of ``seed``."""
    choice = hindsight_choice(env)
    states, uniforms = env.rounds(n_rounds, seed)
    arms = choice[states]
    return Run(states, arms, (uniforms < env.expected[states, arms]).astype(float))


def feed_study(env: Environment, n_rounds: int, seed: int) -> dict[str, Run]:
    runs = {name: play(make(N_FEATURES), env, n_rounds, seed, contextual=ctx) for name, (make, ctx) in POLICIES.items()}
    states, _ = env.rounds(n_rounds, seed)
    runs[FIXED] = fixed_arm_run(env, int(env.expected[states].mean(axis=0).argmax()), n_rounds, seed)
    runs[LINEAR_FLOOR] = linear_floor(env, n_rounds, seed)
    return runs


def guide_study(env: Environment, make: Callable[[], BasePolicy], n_sessions: int, seed: int) -> np.ndarray:
    """``(n_checks, n_groups)``: P(the group's better move) every CHECK_EVERY sessions."""
    groups = np.array(env.groups)
    names = sorted(set(env.groups))
    better = [int(env.expected[groups == g].mean(axis=0).argmax()) for g in names]
    keys, key_of_state = np.unique(env.features, axis=0, return_inverse=True)
    policy = make()
    states, uniforms = env.rounds(n_sessions, seed)
    rng = np.random.default_rng([seed, 3])
    out = []
    for t, s in enumerate(states):
        x = env.features[s]
        arm = policy.choose(x, rng).arm
        policy.update(arm, float(uniforms[t] < env.expected[s, arm]), x)
        if (t + 1) % CHECK_EVERY == 0:
            p = np.array([policy.probabilities(k) for k in keys])[key_of_state]
            out.append([p[groups == g, b].mean() for g, b in zip(names, better, strict=True)])
    return np.array(out)


def sessions_to_learn(curve: np.ndarray, level: float = 0.9) -> int | None:
    """Sessions after which ``curve`` (one value every CHECK_EVERY sessions) is >= level for good; None if never."""
    below = np.flatnonzero(curve < level)
    if len(below) == 0:
        return CHECK_EVERY
    if below[-1] == len(curve) - 1:
        return None
    return int(below[-1] + 2) * CHECK_EVERY


def fmt_sessions(values: list[int | None], horizon: int) -> str:
    reached = [v for v in values if v is not None]
    per_seed = ", ".join(str(v) if v is not None else f">{horizon}" for v in values)
    if len(reached) == len(values):
        return f"{np.mean(reached):,.0f} ({per_seed})"
    return f">{horizon:,} in {len(values) - len(reached)}/{len(values)} seeds ({per_seed})"


def plot(path: Path, curves: dict[str, np.ndarray], guide: dict[str, np.ndarray], group_names: list[str]) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib): plot skipped"
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [3, 2]})
    colours = plt.get_cmap("tab20").colors[::2] + plt.get_cmap("tab20").colors[1::2]
    for (name, c), colour in zip(curves.items(), colours, strict=False):
        x = np.arange(1, c.shape[1] + 1)
        style = "--" if name in (FIXED, LINEAR_FLOOR) else "-"
        left.plot(x, c.mean(axis=0), style, color=colour, label=name, linewidth=1.4)
        left.fill_between(x, c.min(axis=0), c.max(axis=0), color=colour, alpha=0.15)
    left.set(
        xlabel="round",
        ylabel="cumulative pseudo-regret (mean over seeds, band: min-max)",
        title="Feed strategies on the demo shopper simulator",
    )
    left.legend(fontsize=8, loc="upper left")
    left.grid(alpha=0.3)
    for j, name in enumerate(group_names):
        c = guide[:, :, j]
        x = np.arange(1, c.shape[1] + 1) * CHECK_EVERY
        (line,) = right.plot(x, c.mean(axis=0), label=name, linewidth=1.2)
        right.fill_between(x, c.min(axis=0), c.max(axis=0), color=line.get_color(), alpha=0.12)
    right.axhline(0.9, color="grey", linestyle="--", linewidth=0.8)
    right.set(
        xlabel="session",
        ylabel="P(better move) (mean over seeds, band: min-max)",
        title=f"Guide: ask or show, {GUIDE_PLOTTED}",
        ylim=(0, 1.02),
    )
    right.legend(fontsize=8, loc="lower right")
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot: {path.relative_to(OUT.parents[1])}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--guide-sessions", type=int, default=20_000)
    args = parser.parse_args()
    started = time.perf_counter()
    timing: dict[str, float] = {"world + environments": 0.0, "feed policies": 0.0, "guide study": 0.0}
    curves: dict[str, list[np.ndarray]] = {}
    stats: dict[str, list[tuple[float, float, float]]] = {}
    group_rows: dict[str, list[np.ndarray]] = {}
    guide_curves: dict[str, list[np.ndarray]] = {name: [] for name in GUIDE_POLICIES}
    guide_means: dict[str, list[np.ndarray]] = {}
    fixed_names = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        world = build_world(seed=seed)
        env = feed_environment(world, seed=seed)
        genv = guide_environment(world, seed=seed)
        t1 = time.perf_counter()
        runs = feed_study(env, args.rounds, seed)
        t2 = time.perf_counter()
        for name, make in GUIDE_POLICIES.items():
            guide_curves[name].append(guide_study(genv, make, args.guide_sessions, seed))
        t3 = time.perf_counter()
        timing["world + environments"] += t1 - t0
        timing["feed policies"] += t2 - t1
        timing["guide study"] += t3 - t2
        optimal = env.optimal()
        for name, run in runs.items():
            curves.setdefault(name, []).append(run.regret(env))
            tail = slice(-1000, None)
            stats.setdefault(name, []).append(
                (
                    float(run.regret(env)[-1]),
                    float(env.expected[run.states[tail], run.arms[tail]].mean()),
                    float(optimal[run.states, run.arms].mean()),
                )
            )
        states, _ = env.rounds(args.rounds, seed)
        fixed_names.append(FEED_ARMS[int(env.expected[states].mean(axis=0).argmax())])
        stats.setdefault("per-state oracle", []).append((0.0, float(env.best[states[-1000:]].mean()), 1.0))
        groups = np.array(env.groups)
        for g in sorted(set(env.groups)):
            m = groups == g
            group_rows.setdefault(g, []).append(np.r_[m.mean(), env.expected[m].mean(axis=0), optimal[m].mean(axis=0)])
        ggroups = np.array(genv.groups)
        linear_pick = hindsight_choice(genv)
        for g in sorted(set(genv.groups)):
            m = ggroups == g
            better = genv.expected[m].mean(axis=0).argmax()
            guide_means.setdefault(g, []).append(
                np.r_[m.mean(), genv.expected[m].mean(axis=0), (linear_pick[m] == better).mean()]
            )
        print(f"seed {seed}: {time.perf_counter() - t0:.1f} s", flush=True)
    elapsed = time.perf_counter() - started

    lines = [
        "## Bandit regret on the demo shopper simulator",
        "",
        f"Command: `.venv/bin/python benchmarks/bandit_regret.py --rounds {args.rounds} "
        f"--seeds {' '.join(map(str, args.seeds))} --guide-sessions {args.guide_sessions}`  ",
        f"Machine: {machine()}; commit {git_commit()}; total {elapsed:.0f} s "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in timing.items())}).  ",
        f"Data: demo catalog (seed 7) + shopper simulator (800 shoppers, 60 days, simulator seed = run seed; "
        f"25% held out as new shoppers); {args.rounds:,} rounds per seed, seeds {args.seeds}.",
        "",
        "### Feed: cumulative pseudo-regret against the per-state oracle",
        "",
        "| policy | final regret (mean ± sd over seeds) | mean expected reward, last 1,000 rounds | share of rounds on an oracle arm |",
        "|---|---:|---:|---:|",
    ]
    for name, rows in stats.items():
        r = np.array(rows)
        label = f"{FIXED} ({', '.join(dict.fromkeys(fixed_names))})" if name == FIXED else name
        regret = "0" if name == "per-state oracle" else f"{r[:, 0].mean():,.0f} ± {r[:, 0].std(ddof=1):,.0f}"
        lines.append(f"| {label} | {regret} | {r[:, 1].mean():.4f} | {r[:, 2].mean():.3f} |")
    lines += [
        "",
        "sd: sample standard deviation over the seeds. Expected reward = P(click on >= 1 shown item).",
        "",
        "### Feed: true mean expected reward per arm, by context group (mean over seeds)",
        "",
        "| context group | share of states | "
        + " | ".join(FEED_ARMS)
        + " | best arm (share of states where it is optimal) |",
        "|---|---:|" + "---:|" * len(FEED_ARMS) + "---|",
    ]
    k = len(FEED_ARMS)
    for g, rows in sorted(group_rows.items(), key=lambda kv: -np.mean([r[0] for r in kv[1]])):
        r = np.mean(rows, axis=0)
        best = int(r[1 : 1 + k].argmax())
        shares = ", ".join(f"{a} {s:.0%}" for a, s in zip(FEED_ARMS, r[1 + k :], strict=True))
        cells = " | ".join(f"**{v:.3f}**" if j == best else f"{v:.3f}" for j, v in enumerate(r[1 : 1 + k]))
        lines.append(f"| {g} | {r[0]:.1%} | {cells} | {FEED_ARMS[best]} ({shares}) |")
    group_names = sorted(guide_means)
    lines += [
        "",
        "### Guide: ask or show on a vague request",
        "",
        f"Hidden leave probability after a clarifying question: {LEAVE_AFTER_ASK}. "
        f"{args.guide_sessions:,} sessions per seed; P(better move) checked every {CHECK_EVERY} sessions. "
        "Policy columns: sessions until P(better move) >= 0.9 for good, mean over seeds (per seed).",
        "",
        "| context group | share | ask | show | better move (gap) | hindsight linear fit picks it | "
        + " | ".join(GUIDE_POLICIES)
        + " |",
        "|---|---:|---:|---:|---|---:|" + "---:|" * len(GUIDE_POLICIES),
    ]
    learned: dict[str, list[list[int | None]]] = {n: [] for n in GUIDE_POLICIES}
    for j, g in enumerate(group_names):
        r = np.mean(guide_means[g], axis=0)
        cells = []
        for n in GUIDE_POLICIES:
            per_seed = [sessions_to_learn(c[:, j]) for c in guide_curves[n]]
            learned[n].append(per_seed)
            cells.append(fmt_sessions(per_seed, args.guide_sessions))
        move = f"{GUIDE_MOVES[int(r[1:3].argmax())]} ({abs(r[1] - r[2]):.3f})"
        lines.append(f"| {g} | {r[0]:.1%} | {r[1]:.3f} | {r[2]:.3f} | {move} | {r[3]:.0%} | {' | '.join(cells)} |")
    for n in GUIDE_POLICIES:
        worst = [
            None if any(v[s] is None for v in learned[n]) else max(v[s] for v in learned[n])
            for s in range(len(args.seeds))
        ]
        lines.append("")
        lines.append(f"All groups at once, {n}: {fmt_sessions(worst, args.guide_sessions)} sessions.")
    out_png = OUT / "bandit_regret.png"
    OUT.mkdir(parents=True, exist_ok=True)
    note = plot(
        out_png,
        {n: np.array(c) for n, c in curves.items()},
        np.array(guide_curves[GUIDE_PLOTTED]),
        group_names,
    )
    lines += ["", note.replace("plot: ", "Plot: `") + "`" if note.startswith("plot:") else note, ""]
    text = "\n".join(lines)
    print(text)
    (OUT / "bandit_regret.md").write_text(text)


if __name__ == "__main__":
    main()
