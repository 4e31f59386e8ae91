"""Versioned model bundles on disk: one directory per version, a manifest, and an ACTIVE pointer.

A bundle is written under a temporary name and renamed into place, and the pointer is replaced
atomically, so a reader never sees a half-written bundle. Workers check ``active_version()`` (one small
file read) to notice a swap.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopguide.errors import ModelError, NotFoundError
from shopguide.recommend.base import Recommender

ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class BundleInfo:
    version: str
    path: Path
    manifest: dict[str, Any]
    active: bool


class BundleStore:
    """Model versions under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def save(
        self,
        model: Recommender,
        *,
        metrics: dict[str, float] | None = None,
        data: dict[str, Any] | None = None,
        activate: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Write ``model`` as a new version (and make it active unless told otherwise); return the version.
        ``extra`` adds top-level manifest keys (e.g. ``"evaluation"``, see ``evaluate/challenger.py``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        version = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
        tmp = self.root / f".tmp-{version}"
        model.save(tmp)
        manifest_path = tmp / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest.update(extra or {})
        manifest.update({"version": version, "created_at": time.time(), "metrics": metrics or {}, "data": data or {}})
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        os.replace(tmp, self.root / version)
        if activate:
            self.activate(version)
        return version

    def versions(self) -> list[BundleInfo]:
        """All complete versions, oldest first."""
        if not self.root.exists():
            return []
        active = self.active_version()
        out = []
        for path in self.root.iterdir():
            manifest_file = path / "manifest.json"
            if path.is_dir() and not path.name.startswith(".") and manifest_file.exists():
                out.append(BundleInfo(path.name, path, json.loads(manifest_file.read_text()), path.name == active))
        return sorted(out, key=lambda info: (info.manifest.get("created_at", 0.0), info.version))

    def _path(self, version: str) -> Path:
        """The directory of a complete, visible version; NotFoundError for anything else."""
        if not version or version.startswith(".") or "/" in version or "\\" in version:
            raise NotFoundError(f"{version!r} is not a model version name")
        path = self.root / version
        if not (path / "manifest.json").is_file():
            raise NotFoundError(f"no model version {version!r} in {self.root}")
        return path

    def active_version(self) -> str | None:
        try:
            return (self.root / ACTIVE).read_text().strip() or None
        except FileNotFoundError:
            return None

    def activate(self, version: str) -> None:
        """Point ACTIVE at ``version`` (also how a rollback is done)."""
        self._path(version)
        tmp = self.root / f".{ACTIVE}.{secrets.token_hex(4)}"
        tmp.write_text(version + "\n")
        os.replace(tmp, self.root / ACTIVE)

    def load(self, version: str | None = None) -> Recommender:
        """Load ``version`` (default: the active one)."""
        version = version or self.active_version()
        if version is None:
            raise ModelError(f"no active model in {self.root}; train one first (shopguide train)")
        return Recommender.load(self._path(version))

    def remove(self, version: str) -> None:
        """Delete an inactive version."""
        path = self._path(version)
        if version == self.active_version():
            raise ModelError(f"{version} is active; activate another version before removing it")
        shutil.rmtree(path)
