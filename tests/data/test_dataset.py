"""Dataset: weights per event type, matrix, sequences, metadata views."""

from __future__ import annotations

import numpy as np
import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Event, Item


def ev(user: str, item: str, kind: str, ts: float, value: float = 1.0) -> Event:
    return Event(user=user, item=item, type=kind, ts=ts, value=value)


@pytest.fixture
def data() -> Dataset:
    items = [Item(id="x", title="X", category=["服装", "衬衫"], stock=0), Item(id="new", title="New")]
    events = [
        ev("u1", "a", "view", 3),
        ev("u1", "b", "purchase", 1),
        ev("u1", "a", "cart", 2),
        ev("u2", "a", "impression", 5),
        ev("u2", "x", "rating", 4, value=4.0),
    ]
    return Dataset.from_events(events, items, name="tiny")


def test_catalog_items_without_events_get_indices(data):
    assert data.items.ids() == ["x", "new", "a", "b"]
    assert data.users.ids() == ["u1", "u2"]
    assert data.n_items == 4 and len(data) == 5


def test_matrix_sums_event_weights_and_drops_zero_weight_events(data):
    m = data.matrix.toarray()
    a, b, x = data.items.index("a"), data.items.index("b"), data.items.index("x")
    assert m[0, a] == 1.0 + 3.0  # view + cart
    assert m[0, b] == 4.0  # purchase
    assert m[1, a] == 0.0  # impression has weight 0
    assert m[1, x] == 4.0  # rating weight 1 x value 4
    assert data.binary_matrix.toarray()[0].tolist() == [0, 0, 1, 1]


def test_sequences_are_time_ordered_positive_events(data):
    names = data.items.ids(data.sequence(0))
    assert names == ["b", "a", "a"]  # ts 1, 2, 3
    assert data.items.ids(data.sequence(1)) == ["x"]


def test_custom_event_weights():
    d = Dataset.from_events([ev("u", "a", "view", 1)], event_weights={"view": 0.5})
    assert d.matrix.toarray().tolist() == [[0.5]]


def test_metadata_views(data):
    assert data.item_category.tolist() == ["衬衫", "", "", ""]
    assert data.unavailable_items.tolist() == [True, False, False, False]
    assert data.item_label(data.items.index("x")) == "X"
    assert data.item_label(data.items.index("a")) == "a"
    assert data.item_popularity.tolist() == [1, 0, 1, 1]


def test_subset_shares_vocabularies_and_concatenates(data):
    first = data.subset(np.array([0, 1]))
    rest = data.subset(np.array([2, 3, 4]))
    assert first.items is data.items and len(first) == 2
    joined = first.with_rows(rest)
    assert np.array_equal(joined.matrix.toarray(), data.matrix.toarray())
    other = Dataset.from_events([ev("u", "a", "view", 1)])
    with pytest.raises(ValueError, match="share vocabularies"):
        first.with_rows(other)
