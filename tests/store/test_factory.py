"""open_store picks the backend from the URL scheme and fails clearly otherwise."""

from __future__ import annotations

import sys

import pytest

from shopguide.errors import ConfigError, MissingDependencyError
from shopguide.store import SUPPORTED_SCHEMES, SqlStore, Store, open_store


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite+pysqlite:///:memory:"])
def test_memory_urls(url: str) -> None:
    with open_store(url) as store:
        assert isinstance(store, SqlStore) and isinstance(store, Store)
        store.upsert_items([])
        assert store.stats()["items"] == 0


@pytest.mark.parametrize("url", ["mysql://db/shop", "redis://localhost:6379/0", "http://example.com/x"])
def test_unsupported_scheme_names_it_and_the_supported_ones(url: str) -> None:
    scheme = url.split(":", 1)[0]
    with pytest.raises(ConfigError, match=f"unsupported store URL scheme '{scheme}'") as err:
        open_store(url)
    assert all(s in str(err.value) for s in SUPPORTED_SCHEMES)


def test_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a store URL"):
        open_store("just a path.db")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:secret@localhost/shop",
        "postgres://localhost/shop",
        "postgresql+psycopg://localhost/shop",
    ],
)
def test_postgres_without_psycopg(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail
    with pytest.raises(MissingDependencyError, match=r"shopguide\[postgres\]") as err:
        open_store(url)
    assert err.value.package == "psycopg" and "secret" not in str(err.value)
