"""The served model's derived indexes are rebuilt only when its training data changed."""

from __future__ import annotations

import shutil

from servicekit import KNOWN_SHOPPER, service_settings

from shopguide.data.schema import Event
from shopguide.recommend.bundle import BundleStore
from shopguide.recommend.training import train_and_save
from shopguide.service.models import ModelHolder
from shopguide.store import open_store


def test_a_version_trained_on_the_same_data_reuses_the_derived_indexes(seeded_home, tmp_path) -> None:
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    settings = service_settings(home)
    holder = ModelHolder(BundleStore(settings.model_dir))
    first = holder.load()
    with open_store(settings.resolved_store_url) as store:
        same, _ = train_and_save(settings, "item_knn", store=store)
        second = holder.load(same)
        assert second.version == same != first.version and second.model is not first.model
        assert second.data_fingerprint == first.data_fingerprint
        assert (second.pairing, second.search, second.context) == (first.pairing, first.search, first.context)
        assert second.pairing is first.pairing and second.static_items is first.static_items

        item = first.static_items[0]
        store.add_events([Event(user=KNOWN_SHOPPER, item=item, type="purchase", ts=2_000_000_000.0)])
        changed, _ = train_and_save(settings, "item_knn", store=store)
        third = holder.load(changed)
    assert third.data_fingerprint != second.data_fingerprint
    assert third.pairing is not second.pairing and third.context is not second.context, "new data: rebuilt"
