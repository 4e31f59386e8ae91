"""The ``shopguide`` command line (typer): import, train, recommend, similar, models, evaluate, demo."""
