"""A saved tagger's manifest (``manifest.json`` in its directory): written and read, format and kind checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shopguide.errors import ModelError

MANIFEST = "manifest.json"


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest`` (JSON-ready, with ``format`` and ``kind``) into the tagger directory ``path``."""
    (path / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True), encoding="utf-8")


def read_manifest(path: Path, kind: str, version: int) -> dict[str, Any]:
    """The manifest of the tagger directory ``path``; :class:`ModelError` when it cannot be read or holds
    another kind of tagger or another format version."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read a tagger from {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != version or manifest.get("kind") != kind:
        got = manifest if isinstance(manifest, dict) else {}
        raise ModelError(
            f"{path} holds a {got.get('kind')!r} tagger (format {got.get('format')}), expected {kind!r} format {version}"
        )
    return manifest
