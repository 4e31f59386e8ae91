"""Helpers for the service tests: settings rooted at a temporary home and a running app on a copy of it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from authkit import ADMIN_KEY, AUTH
from shopguide.config import Settings
from shopguide.service.app import create_app
from shopguide.service.state import ServiceState

KNOWN_SHOPPER = "shopper-001"


def service_settings(home: Path, **overrides: Any) -> Settings:
    """Settings rooted at ``home``, deaf to SHOPGUIDE_* variables and .env files of the developer's shell.

    Answers are not prepared ahead (warmup.py) unless a test asks for it: preparing would add to every
    app's start-up and every swap, and turn a test's first request into a cache hit."""
    defaults = {"warm_shoppers": 0, "warm_answers": 0, "admin_key": ADMIN_KEY, "purge_interval_seconds": 0}
    return Settings(_env_file=None, home=home, store_url="", **{**defaults, **overrides})


@dataclass
class Service:
    """One running app: its test client, the app, its settings and (once started) its state."""

    client: TestClient
    app: FastAPI
    settings: Settings

    @property
    def state(self) -> ServiceState:
        return self.app.state.shopguide


@contextmanager
def running_service(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory, **overrides: Any) -> Iterator[Service]:
    """Copy the seeded home and run an app on it (the lifespan runs inside the TestClient context)."""
    home = tmp_path_factory.mktemp("home") / "home"
    shutil.copytree(seeded_home, home)
    settings = service_settings(home, **overrides)
    app = create_app(settings)
    with TestClient(app, headers=AUTH) as client:
        yield Service(client=client, app=app, settings=settings)


def recommend(svc: Service, user: str, **params: Any) -> dict:
    """GET the user's recommendations (query ``params``), asserting a 200; the JSON body."""
    response = svc.client.get(f"/v1/users/{user}/recommendations", params=params)
    assert response.status_code == 200, response.text
    return response.json()
