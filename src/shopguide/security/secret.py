"""The server secret: the key of every HMAC shopguide computes (API key hashes, pseudonymous shopper ids,
signed storefront cookies).

It comes from ``SHOPGUIDE_SECRET`` when set (several replicas must share it); otherwise it is generated once
(32 random bytes) into ``<home>/secret.key``, readable by its owner only, and read back by every later process
and worker. Rotating it invalidates every API key and changes every pseudonymous id (see SECURITY.md).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from shopguide.errors import ConfigError

SECRET_FILE = "secret.key"
MIN_SECRET_CHARS = 16


def server_secret(settings: Any) -> bytes:
    """The secret of ``settings`` (its ``secret`` field, else ``<home>/secret.key``, created on first use)."""
    configured = getattr(settings, "secret", None)
    if configured is not None:
        value = configured.get_secret_value() if hasattr(configured, "get_secret_value") else str(configured)
        if len(value) < MIN_SECRET_CHARS:
            raise ConfigError(f"SHOPGUIDE_SECRET must have at least {MIN_SECRET_CHARS} characters")
        return value.encode()
    return _secret_file(Path(settings.home) / SECRET_FILE)


def _secret_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: of several workers starting at once exactly one writes it, the others read it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
        out.flush()
        os.fsync(out.fileno())
    return _read(path)


def _read(path: Path) -> bytes:
    for _ in range(200):  # another worker may be between create and write (at most ~2 s)
        value = path.read_text().strip()
        if value:
            if len(value) < MIN_SECRET_CHARS:
                raise ConfigError(f"{path}: the secret must have at least {MIN_SECRET_CHARS} characters")
            return value.encode()
        time.sleep(0.01)
    raise ConfigError(f"{path} is empty; delete it and start again, or set SHOPGUIDE_SECRET")
