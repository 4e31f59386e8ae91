"""Fixtures for the guide tests: the real service on the demo catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from authkit import ADMIN_KEY, AUTH
from shopguide.config import Settings
from shopguide.service.app import create_app
from shopguide.service.state import ServiceState


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """``shopguide serve``'s app on a fresh home with the demo catalog, one per test module."""
    home: Path = tmp_path_factory.mktemp("guide-home")
    settings = Settings(_env_file=None, home=home, store_url="", admin_key=ADMIN_KEY)
    ServiceState.start(settings).close()
    with TestClient(create_app(settings), headers=AUTH) as c:
        yield c
