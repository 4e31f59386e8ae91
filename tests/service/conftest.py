"""Fixtures for the HTTP service tests.

Start-up imports the demo catalog and trains the start-up model (~3.5 s). That happens once per test
session, in ``seeded_home``; every test module then copies that home into its own temporary directory
and starts ONE app on the copy (``servicekit.running_service``; a start on a seeded home only opens the
store and loads the model), so modules cannot see each other's events, deletions or model versions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from servicekit import service_settings

from shopguide.service.state import ServiceState


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the demo catalog imported and the start-up model trained (built once per session)."""
    home = tmp_path_factory.mktemp("seeded-home")
    state = ServiceState.start(service_settings(home))
    state.close()
    return home
