"""Recommenders by name, for the CLI, configuration files and the service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shopguide.errors import ConfigError
from shopguide.recommend.base import Recommender
from shopguide.recommend.composite import FallbackChain, Hybrid
from shopguide.recommend.content import ContentTfidf
from shopguide.recommend.factorization import ALS, BPR
from shopguide.recommend.linear import EASE
from shopguide.recommend.neighbors import ItemKNN, UserKNN
from shopguide.recommend.popularity import CategoryPopularity, Popularity
from shopguide.recommend.sequential.recommender import SequentialRecommender

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
    "sequential": SequentialRecommender,
    "hybrid": Hybrid,
    "fallback": FallbackChain,
}

#: The classic models the benchmarks and the contract suite cover.
CLASSIC = ("popular", "item_knn", "item_knn_pearson", "user_knn", "user_knn_pearson", "content", "als", "bpr", "ease")


def build_model(spec: Recommender | str | Mapping[str, Any]) -> Recommender:
    """A recommender from a spec: an instance, a registry name, or ``{"model": name, "params": {...}}``
    (how configuration files and the admin API name the components of a hybrid or a fallback chain)."""
    if isinstance(spec, Recommender):
        return spec
    if isinstance(spec, str):
        return make_model(spec)
    if isinstance(spec, Mapping) and isinstance(spec.get("model"), str) and set(spec) <= {"model", "params"}:
        return make_model(spec["model"], **dict(spec.get("params") or {}))
    raise ConfigError(f"a model spec is a registry name or {{'model': name, 'params': {{...}}}}, got {spec!r}")


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
