"""Loaders for public dataset formats and for users' own files; all return :class:`LoadedData`.

>>> data = load("movielens", "../shared/data/movielens-100k")   # doctest: +SKIP
>>> dataset = data.to_dataset()                                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopguide.data.loaders.amazon import load_amazon
from shopguide.data.loaders.base import LoadedData, PathLike
from shopguide.data.loaders.generic import load_events, load_generic, load_items, load_users
from shopguide.data.loaders.movielens import load_movielens
from shopguide.data.loaders.taobao import load_taobao
from shopguide.errors import ConfigError

#: Public formats by name: each loader takes a path and keyword options and returns LoadedData.
LOADERS: dict[str, Callable[..., LoadedData]] = {
    "amazon": load_amazon,
    "movielens": load_movielens,
    "taobao": load_taobao,
}


def load(format: str, path: PathLike, **opts: Any) -> LoadedData:
    """Load ``path`` with the loader registered for ``format`` (see ``LOADERS``)."""
    try:
        loader = LOADERS[format.lower()]
    except KeyError:
        raise ConfigError(f"unknown data format {format!r}; expected one of {', '.join(LOADERS)}") from None
    return loader(path, **opts)


__all__ = [
    "LOADERS",
    "LoadedData",
    "load",
    "load_amazon",
    "load_events",
    "load_generic",
    "load_items",
    "load_movielens",
    "load_taobao",
    "load_users",
]
