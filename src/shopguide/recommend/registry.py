"""Recommenders by name, for the CLI, configuration files and the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopguide.errors import ConfigError
from shopguide.recommend.base import Recommender
from shopguide.recommend.composite import FallbackChain, Hybrid
from shopguide.recommend.content import ContentTfidf
from shopguide.recommend.factorization import ALS, BPR
from shopguide.recommend.linear import EASE
from shopguide.recommend.neighbors import ItemKNN, UserKNN
from shopguide.recommend.popularity import CategoryPopularity, Popularity

MODELS: dict[str, Callable[..., Recommender]] = {
    "popular": Popularity,
    "category_popular": CategoryPopularity,
    "item_knn": ItemKNN,
    "item_knn_pearson": lambda **kw: ItemKNN(**{"similarity": "pearson", **kw}),
    "recent_item_knn": lambda **kw: ItemKNN(**{"recent": 5, **kw}),
    "user_knn": UserKNN,
    "user_knn_pearson": lambda **kw: UserKNN(**{"similarity": "pearson", **kw}),
    "content": ContentTfidf,
    "als": ALS,
    "bpr": BPR,
    "ease": EASE,
    "hybrid": Hybrid,
    "fallback": FallbackChain,
}

#: The classic models the benchmarks and the contract suite cover.
CLASSIC = ("popular", "item_knn", "item_knn_pearson", "user_knn", "user_knn_pearson", "content", "als", "bpr", "ease")


def make_model(name: str, **params: Any) -> Recommender:
    """Build a recommender by registry name; unknown names get a ConfigError listing the known ones."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
    try:
        return factory(**params)
    except TypeError as exc:
        raise ConfigError(f"bad parameters for model {name!r}: {exc}") from None
