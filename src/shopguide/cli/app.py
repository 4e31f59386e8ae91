"""The ``shopguide`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from shopguide import __version__
from shopguide.cli.analyze_cmd import analyze
from shopguide.cli.common import configure_logging
from shopguide.cli.data_cmds import import_data
from shopguide.cli.demo_cmd import demo
from shopguide.cli.eval_cmd import evaluate
from shopguide.cli.keys_cmd import audit, keys_app
from shopguide.cli.learning_cmds import bandit_app, experiments_app, ope
from shopguide.cli.model_cmds import models_app, recommend, similar, train
from shopguide.cli.privacy_cmds import purge, users_app
from shopguide.cli.sequential_cmd import train_seq
from shopguide.cli.serve_cmd import serve

app = typer.Typer(
    name="shopguide",
    help="shopguide: an open-source AI shopping-guide (AI 导购) engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress (structured, to stderr).")] = False,
) -> None:
    configure_logging(verbose)


@app.command()
def version() -> None:
    """Print the shopguide version."""
    typer.echo(__version__)


app.command("import")(import_data)
app.command()(train)
app.command("train-seq")(train_seq)
app.command()(recommend)
app.command()(similar)
app.command()(evaluate)
app.command()(demo)
app.command()(serve)
app.command()(analyze)
app.add_typer(models_app, name="models")
app.add_typer(users_app, name="users")
app.command()(purge)
app.add_typer(keys_app, name="keys")
app.command()(audit)
app.add_typer(bandit_app, name="bandit")
app.command()(ope)
app.add_typer(experiments_app, name="experiments")


def main() -> None:
    app()
