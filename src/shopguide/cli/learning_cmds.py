"""``shopguide bandit ...`` (decision points: status, on / off, learn now, promote), ``shopguide ope`` (value a
candidate policy on the logs) and ``shopguide experiments ...`` (A/B experiments).

They work on the store directly, like ``shopguide keys``; a running service follows every change within
seconds (the store is what its workers share).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shopguide.bandit.decisions import POLICY_KINDS
from shopguide.bandit.experiment_store import save_experiment, set_running
from shopguide.bandit.experiments import Experiment, Variant
from shopguide.bandit.own_logs import ESTIMATORS, Candidate, evaluate_candidate, promote
from shopguide.bandit.report import experiment_report, points_status
from shopguide.cli.common import HomeOpt, StoreOpt, console, handle_errors, parse_params, settings_from
from shopguide.errors import ConfigError
from shopguide.service.learning import build_learning
from shopguide.store import open_store

bandit_app = typer.Typer(help="The learning loop's decision points: status, on/off, learn, promote.",
                         no_args_is_help=True)  # fmt: skip
experiments_app = typer.Typer(help="A/B experiments on decision points.", no_args_is_help=True)

PointArg = Annotated[str, typer.Argument(help="A decision point, e.g. feed:home or guide:vague.")]
KindOpt = Annotated[str, typer.Option("--kind", help=f"Candidate policy: {', '.join(POLICY_KINDS)}.")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", "-p", help="Policy parameter key=value, repeatable.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _rate(r: dict[str, Any] | None) -> str:
    if not r or r.get("rate") is None:
        return "-"
    return f"{r['rate']:.3f} [{r['low']:.3f}, {r['high']:.3f}] n={r['decisions']}"


@bandit_app.command("status")
def status(home: HomeOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Every decision point: switch, policy, version, decisions, reward rate per arm, current probabilities."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            build_learning(settings, st)  # stores the configured points the store lacks
            points = points_status(st)
        if as_json:
            typer.echo(json.dumps(points, indent=2, ensure_ascii=False))
            return
        for p in points:
            table = Table("arm", "reward rate [95 %]", "probability now", title=(
                f"{p['point']}: {'ON' if p['enabled'] else 'off'} · {p['policy']} v{p['version']} · "
                f"{p['decisions']['closed']} closed, {p['decisions']['open']} open decisions"), title_justify="left")  # fmt: skip
            for arm in p["arms"]:
                table.add_row(arm, _rate(p["arm_rates"].get(arm)), f"{p['probabilities'][arm]:.3f}")
            console.print(table)


def _switch(point: str, enabled: bool, home: Path | None, store: str | None) -> None:
    settings = settings_from(home, store)
    with open_store(settings.resolved_store_url) as st:
        loop = build_learning(settings, st)
        version = loop.switch(point, enabled)
    console.print(f"{point} is {'ON' if enabled else 'off'} (version {version}); running workers follow within seconds")


@bandit_app.command("on")
def switch_on(point: PointArg, home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Let the point's policy choose (no restart needed)."""
    with handle_errors():
        _switch(point, True, home, store)


@bandit_app.command("off")
def switch_off(point: PointArg, home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Serve the point's default again (its learned state is kept)."""
    with handle_errors():
        _switch(point, False, home, store)


@bandit_app.command("learn")
def learn(home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Close the decisions whose reward window has passed and update the policies now."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            report = build_learning(settings, st).learn()
        console.print(report.to_json())


def _candidate(kind: str, params: list[str] | None) -> Candidate:
    return Candidate(kind, parse_params(params))  # checked with the point's arms (PointConfig)


def _print_report(report: dict[str, Any]) -> None:
    r = report["rounds"]
    console.print(f"{report['point']}: {report['candidate']['kind']} {report['candidate']['params']} against the "
                  f"current {report['current']['kind']} v{report['current']['version']}; learnt from {r['train']} "
                  f"rounds, valued on the next {r['test']} ({r['left_out']} decisions without a usable reward left out)")  # fmt: skip
    logged = report["logged_reward"]
    console.print(f"reward the logging policy got there: {logged['value']:.4f} "
                  f"[{logged['ci'][0]:.4f}, {logged['ci'][1]:.4f}]")  # fmt: skip
    table = Table("estimator", "candidate [95 %]", "current [95 %]", "difference [95 %]", "verdict", "eff. rounds")
    for name, e in report["estimates"].items():
        cur = e["current_ci"] or [e["current"], e["current"]]
        table.add_row(
            name, f"{e['candidate']:.4f} [{e['candidate_ci'][0]:.4f}, {e['candidate_ci'][1]:.4f}]",
            f"{e['current']:.4f} [{cur[0]:.4f}, {cur[1]:.4f}]",
            f"{e['difference']:+.4f} [{e['difference_ci'][0]:+.4f}, {e['difference_ci'][1]:+.4f}]",
            e["verdict"], f"{e['effective_rounds']:.0f}",
        )  # fmt: skip
    console.print(table)
    console.print(f"guardrail: {report['guardrail']['reason']}")


def ope(
    point: PointArg,
    kind: KindOpt,
    param: ParamOpt = None,
    since_days: Annotated[float | None, typer.Option(help="Only decisions of the last N days.")] = None,
    train_fraction: Annotated[float, typer.Option(help="The earlier share the candidate learns from.")] = 0.7,
    estimator: Annotated[str, typer.Option(help=f"The guardrail's estimator: {', '.join(ESTIMATORS)}.")] = "snips",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    home: HomeOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Value a candidate policy on a decision point's own logs (IPS, SNIPS, DM, DR, switch-DR with bootstrap intervals)
    against the current policy, before it goes live; say whether the guardrail would promote it."""
    with handle_errors():
        settings = settings_from(home, store)
        since = time.time() - since_days * 86400 if since_days else None
        with open_store(settings.resolved_store_url) as st:
            build_learning(settings, st)
            report = evaluate_candidate(st, point, _candidate(kind, param), since_ts=since,
                                        train_fraction=train_fraction, estimator=estimator,
                                        n_bootstrap=bootstrap, seed=settings.seed)  # fmt: skip
        typer.echo(json.dumps(report, indent=2)) if as_json else _print_report(report)


@bandit_app.command("promote")
def promote_cmd(
    point: PointArg,
    kind: KindOpt,
    param: ParamOpt = None,
    estimator: Annotated[str, typer.Option(help=f"The guardrail's estimator: {', '.join(ESTIMATORS)}.")] = "snips",
    force: Annotated[bool, typer.Option(help="Promote even if the guardrail refuses.")] = False,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Evaluate a candidate and make it the point's policy if the guardrail allows it (or --force)."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            build_learning(settings, st)
            candidate = _candidate(kind, param)
            report = evaluate_candidate(st, point, candidate, estimator=estimator, seed=settings.seed)
            _print_report(report)
            result = promote(st, point, candidate, report, force=force, seed=settings.seed)
        if result["promoted"]:
            console.print(f"[green]promoted[/]: {point} now runs {kind} (version {result['version']})")
        else:
            console.print(f"[yellow]not promoted[/]: {result['reason']}")
            raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------- experiments
def _show_experiment(report: dict[str, Any]) -> None:
    exp, srm = report["experiment"], report["srm"]
    table = Table("variant", "weight", "arm", "shoppers", "decisions", "reward rate [95 %]", "vs control [95 %]",
                  title=f"{exp['name']} on {exp['point']}: {'running' if exp['enabled'] else 'stopped'}",
                  title_justify="left")  # fmt: skip
    for v in report["variants"]:
        rate = "-" if v.get("rate") is None else f"{v['rate']:.3f} [{v['rate_low']:.3f}, {v['rate_high']:.3f}]"
        diff = "-" if v.get("diff") is None else f"{v['diff']:+.3f} [{v['diff_low']:+.3f}, {v['diff_high']:+.3f}]"
        table.add_row(v["variant"], f"{v['weight']:.2f}", v["arm"] or "(policy)", str(v["shoppers"]),
                      str(v["decisions"]), rate, diff)  # fmt: skip
    console.print(table)
    p = "-" if srm["p_value"] is None else f"{srm['p_value']:.3g}"
    console.print(f"sample ratio: {srm['verdict']} (chi-square p = {p}, threshold {srm['threshold']})")


@experiments_app.command("list")
def list_experiments(home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Every experiment with its result so far and the sample-ratio-mismatch check."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            reports = [experiment_report(st, Experiment.from_dict(spec)) for spec in st.experiment_specs()]
        for report in reports:
            _show_experiment(report)
        if not reports:
            console.print("no experiments")


@experiments_app.command("set")
def set_experiment(
    name: Annotated[str, typer.Argument(help="The experiment's name (its hashing salt by default).")],
    point: Annotated[str, typer.Option(help="The decision point, e.g. feed:home.")],
    variant: Annotated[
        list[str],
        typer.Option(
            "--variant",
            "-V",
            help="name=weight[:arm], repeatable; no arm: "
            "the point's policy chooses. E.g. -V control=1:model -V bandit=1",
        ),
    ],
    stopped: Annotated[bool, typer.Option(help="Store it without starting it.")] = False,
    home: HomeOpt = None,
    store: StoreOpt = None,
) -> None:
    """Create or replace an experiment (running at once unless --stopped)."""
    with handle_errors():
        variants = []
        for text in variant:
            vname, _, rest = text.partition("=")
            weight, _, arm = rest.partition(":")
            try:
                variants.append(Variant(vname.strip(), float(weight or 1), arm.strip() or None))
            except ValueError as exc:
                raise ConfigError(f"--variant {text!r}: expected name=weight[:arm]") from exc
        experiment = Experiment(name, point, tuple(variants), enabled=not stopped, started_at=time.time())
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            build_learning(settings, st)
            save_experiment(st, experiment)
            _show_experiment(experiment_report(st, experiment))


def _set_enabled(name: str, enabled: bool, home: Path | None, store: str | None) -> None:
    settings = settings_from(home, store)
    with open_store(settings.resolved_store_url) as st:
        set_running(st, name, enabled)
    console.print(f"{name} {'started' if enabled else 'stopped'}; running workers follow within seconds")


@experiments_app.command("start")
def start(name: str, home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Start a stored experiment."""
    with handle_errors():
        _set_enabled(name, True, home, store)


@experiments_app.command("stop")
def stop(name: str, home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Stop an experiment (its decisions stay logged)."""
    with handle_errors():
        _set_enabled(name, False, home, store)


@experiments_app.command("delete")
def delete(name: str, home: HomeOpt = None, store: StoreOpt = None) -> None:
    """Remove an experiment (its decisions stay logged)."""
    with handle_errors():
        settings = settings_from(home, store)
        with open_store(settings.resolved_store_url) as st:
            st.delete_experiment(name)
        console.print(f"{name} deleted")
