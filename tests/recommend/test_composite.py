"""Hybrid and fallback chain: the real source of every item survives nesting; a broken step is skipped."""

from __future__ import annotations

import numpy as np

from shopguide.recommend.composite import FallbackChain, Hybrid, minmax_rows
from shopguide.recommend.content import ContentTfidf
from shopguide.recommend.neighbors import ItemKNN
from shopguide.recommend.popularity import Popularity


class Broken(Popularity):
    source = "broken"

    def score(self, users, history):
        raise RuntimeError("model file corrupted")


def test_minmax_rows_keeps_minus_infinity():
    out = minmax_rows(np.array([[1.0, 3.0, -np.inf], [2.0, 2.0, 2.0]], dtype=np.float32))
    assert out[0].tolist() == [0.0, 1.0, -np.inf]
    assert out[1].tolist() == [0.0, 0.0, 0.0]


def test_nested_sources_are_reported(checkerboard):
    chain = FallbackChain().fit(checkerboard)
    recs = {r.item: r for r in chain.recommend("ua0", 6)}
    assert recs["a3"].source == "item_knn"  # co-bought: collaborative evidence wins the blend
    assert recs["new-shirt"].source == "content"  # no events: only content can score it
    assert recs["new-shirt"].reason.kind == "similar_to"
    fillers = [r for r in recs.values() if r.item.startswith("b")]
    assert fillers and all(r.source in {"content", "category_popular", "popular"} for r in fillers)


def test_a_failing_step_is_skipped_and_the_list_is_still_full(checkerboard):
    chain = FallbackChain(steps=[Broken(), ItemKNN(), Popularity()]).fit(checkerboard)
    recs = chain.recommend("ua0", 5)
    assert len(recs) == 5
    assert recs[0].item == "a3" and recs[0].source == "item_knn"
    assert {r.source for r in recs[1:]} <= {"item_knn", "popular"}


def test_hybrid_weights_change_the_blend(checkerboard):
    knn_heavy = Hybrid(models=[ItemKNN(), ContentTfidf()], weights=[1.0, 0.0]).fit(checkerboard)
    content_only = Hybrid(models=[ItemKNN(), ContentTfidf()], weights=[0.0, 1.0]).fit(checkerboard)
    assert {r.source for r in knn_heavy.recommend("ua0", 1)} == {"item_knn"}
    assert {r.source for r in content_only.recommend("ua0", 2)} == {"content"}


def test_chain_steps_can_be_registry_names(checkerboard):
    chain = FallbackChain(steps=["item_knn", "popular"]).fit(checkerboard)
    assert [s.source for s in chain.steps_] == ["item_knn", "popular"]
    assert chain.recommend("ua0", 3)[0].item == "a3"


def test_unknown_step_name_is_a_config_error(checkerboard):
    import pytest

    from shopguide.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        FallbackChain(steps=["nope"]).fit(checkerboard)


def test_settings_choose_the_fallback_ladder(tmp_path):
    from shopguide.config import Settings
    from shopguide.recommend.checks import checkerboard_events, checkerboard_items
    from shopguide.recommend.training import train_and_save
    from shopguide.store import open_store

    settings = Settings(_env_file=None, home=tmp_path, fallback_chain=["content", "popular"])
    with open_store(settings.resolved_store_url) as store:
        store.import_batch(items=checkerboard_items(), events=checkerboard_events())
    _, model = train_and_save(settings, "fallback")
    assert [s.source for s in model.steps_] == ["content", "popular"]
