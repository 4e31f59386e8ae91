"""Vocabulary: the one place where raw string ids and dense integer indices meet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

MISSING = -1


class Vocab:
    """An ordered, append-only mapping between raw ids (str) and dense indices 0..n-1."""

    __slots__ = ("_ids", "_index")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self.extend(ids)

    def add(self, raw: str) -> int:
        """Return the index of ``raw``, adding it at the end when new."""
        idx = self._index.get(raw)
        if idx is None:
            idx = len(self._ids)
            self._index[raw] = idx
            self._ids.append(raw)
        return idx

    def extend(self, raws: Iterable[str]) -> np.ndarray:
        """Add many ids; return their indices."""
        return np.fromiter((self.add(str(r)) for r in raws), dtype=np.int64)

    def index(self, raw: str) -> int | None:
        return self._index.get(raw)

    def indices(self, raws: Iterable[str], missing: int = MISSING) -> np.ndarray:
        """Indices of ``raws``; unknown ids map to ``missing``."""
        get = self._index.get
        return np.fromiter((get(str(r), missing) for r in raws), dtype=np.int64)

    def id(self, idx: int) -> str:
        return self._ids[idx]

    def ids(self, indices: Sequence[int] | np.ndarray | None = None) -> list[str]:
        if indices is None:
            return list(self._ids)
        return [self._ids[int(i)] for i in indices]

    def __contains__(self, raw: object) -> bool:
        return raw in self._index

    def __len__(self) -> int:
        return len(self._ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self._ids == other._ids

    def __repr__(self) -> str:
        return f"Vocab({len(self)} ids)"

    def to_list(self) -> list[str]:
        return list(self._ids)

    def copy(self) -> Vocab:
        return Vocab(self._ids)
