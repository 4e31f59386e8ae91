"""Dataset: interactions in index space, with the user-item matrix, time-ordered sequences and item metadata.

A Dataset is immutable in spirit: splits and filters return new Datasets that share the vocabularies,
so indices stay comparable between train, validation and test parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from shopguide.data.schema import RATING_RANGE, Event, EventType, Item, User
from shopguide.data.vocab import Vocab

EVENT_TYPES: tuple[EventType, ...] = tuple(EventType)
TYPE_CODE: dict[EventType, int] = {t: i for i, t in enumerate(EVENT_TYPES)}

DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "impression": 0.0,
    "view": 1.0,
    "click": 1.0,
    "fav": 2.0,
    "cart": 3.0,
    "purchase": 4.0,
    "rating": 1.0,
}


@dataclass(eq=False)
class Dataset:
    """Interactions (one row per event, in index space) over fixed user and item vocabularies.

    ``item_meta[i]`` is the catalog Item of item index ``i`` (None when the catalog does not know it).
    Rows are kept in the order given; ``sequences`` orders them by time (stable).
    """

    users: Vocab
    items: Vocab
    user_idx: np.ndarray  # int32, one per event
    item_idx: np.ndarray  # int32
    event_type: np.ndarray  # int8 code into EVENT_TYPES
    value: np.ndarray  # float32 (rating value, quantity, ...)
    ts: np.ndarray  # float64 Unix seconds
    item_meta: list[Item | None] = field(default_factory=list)
    user_meta: list[User | None] = field(default_factory=list)
    event_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    name: str = "dataset"

    def __post_init__(self) -> None:
        n = len(self.user_idx)
        for name in ("item_idx", "event_type", "value", "ts"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Dataset column {name!r} has {len(getattr(self, name))} rows, expected {n}")
        if len(self.item_meta) < len(self.items):
            self.item_meta = list(self.item_meta) + [None] * (len(self.items) - len(self.item_meta))
        if len(self.user_meta) < len(self.users):
            self.user_meta = list(self.user_meta) + [None] * (len(self.users) - len(self.user_meta))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_events(
        cls,
        events: Iterable[Event],
        items: Iterable[Item] = (),
        users: Iterable[User] = (),
        *,
        event_weights: Mapping[str, float] | None = None,
        name: str = "dataset",
    ) -> Dataset:
        """Build a dataset. Catalog items and users without events still get an index (cold start)."""
        items, users = list(items), list(users)
        user_vocab = Vocab(u.id for u in users)
        item_vocab = Vocab(it.id for it in items)
        cols: tuple[list, ...] = ([], [], [], [], [])
        for ev in events:
            cols[0].append(user_vocab.add(ev.user))
            cols[1].append(item_vocab.add(ev.item))
            cols[2].append(TYPE_CODE[ev.type])
            cols[3].append(ev.value)
            cols[4].append(ev.ts)
        return cls(
            users=user_vocab,
            items=item_vocab,
            user_idx=np.asarray(cols[0], dtype=np.int32),
            item_idx=np.asarray(cols[1], dtype=np.int32),
            event_type=np.asarray(cols[2], dtype=np.int8),
            value=np.asarray(cols[3], dtype=np.float32),
            ts=np.asarray(cols[4], dtype=np.float64),
            item_meta=list(items),
            user_meta=list(users),
            event_weights=dict(event_weights or DEFAULT_EVENT_WEIGHTS),
            name=name,
        )

    def subset(self, rows: np.ndarray, *, name: str | None = None) -> Dataset:
        """A dataset holding only the given rows (boolean mask or indices); vocabularies are shared."""
        return replace(
            self,
            user_idx=self.user_idx[rows],
            item_idx=self.item_idx[rows],
            event_type=self.event_type[rows],
            value=self.value[rows],
            ts=self.ts[rows],
            name=name or self.name,
        )

    def with_rows(self, other: Dataset, *, name: str | None = None) -> Dataset:
        """This dataset's rows followed by ``other``'s (which must share the vocabularies)."""
        if other.users is not self.users or other.items is not self.items:
            raise ValueError("datasets must share vocabularies to be concatenated")
        cat = np.concatenate
        return replace(
            self,
            user_idx=cat([self.user_idx, other.user_idx]),
            item_idx=cat([self.item_idx, other.item_idx]),
            event_type=cat([self.event_type, other.event_type]),
            value=cat([self.value, other.value]),
            ts=cat([self.ts, other.ts]),
            name=name or self.name,
        )

    # ------------------------------------------------------------------ views
    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return len(self.user_idx)

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}: {self.n_users} users, {self.n_items} items, {len(self)} events)"

    @cached_property
    def row_weights(self) -> np.ndarray:
        """Per-event weight: the event type's weight (ratings use their value times the rating weight).

        A rating value outside :data:`~shopguide.data.schema.RATING_RANGE` (rows an older version stored: NaN,
        infinities, absurd numbers) is clamped into it, NaN counting as 0, so no weight is ever non-finite."""
        type_w = np.array([self.event_weights.get(t.value, 0.0) for t in EVENT_TYPES], dtype=np.float32)
        w = type_w[self.event_type]
        is_rating = self.event_type == TYPE_CODE[EventType.RATING]
        if is_rating.any():
            low, high = RATING_RANGE
            rating = np.clip(np.nan_to_num(self.value, nan=low, posinf=high, neginf=low), low, high)
            w = np.where(is_rating, w * rating, w)
        return w.astype(np.float32)

    @cached_property
    def positive(self) -> np.ndarray:
        """Boolean mask of rows that count as positive feedback (weight > 0)."""
        return self.row_weights > 0

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """The n_users x n_items CSR matrix of summed event weights (zero-weight events dropped)."""
        keep = self.positive
        m = sp.csr_matrix(
            (self.row_weights[keep], (self.user_idx[keep], self.item_idx[keep])),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        m.sum_duplicates()
        m.sort_indices()
        return m

    @cached_property
    def binary_matrix(self) -> sp.csr_matrix:
        """The matrix with every stored entry set to 1."""
        m = self.matrix.copy()
        m.data[:] = 1.0
        return m

    @cached_property
    def order(self) -> np.ndarray:
        """Row order by (user, time), stable, positive rows only."""
        rows = np.flatnonzero(self.positive)
        return rows[np.lexsort((self.ts[rows], self.user_idx[rows]))]

    @cached_property
    def sequences(self) -> sp.csr_matrix:
        """Time-ordered positive item sequences as a CSR-style pair: ``indptr`` (per user) and ``indices``.

        Returned as a (n_users x n_items) structure where row u's ``indices`` are the items in time order
        (duplicates kept). Use :meth:`sequence` for one user.
        """
        rows = self.order
        counts = np.bincount(self.user_idx[rows], minlength=self.n_users)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        data = np.ones(len(rows), dtype=np.float32)
        return sp.csr_matrix((data, self.item_idx[rows], indptr), shape=(self.n_users, self.n_items))

    def sequence(self, user: int) -> np.ndarray:
        seq = self.sequences
        return seq.indices[seq.indptr[user] : seq.indptr[user + 1]]

    @cached_property
    def item_popularity(self) -> np.ndarray:
        """Number of distinct users with positive feedback per item."""
        return np.asarray(self.binary_matrix.sum(axis=0)).ravel()

    def item(self, idx: int) -> Item | None:
        return self.item_meta[idx] if 0 <= idx < len(self.item_meta) else None

    def item_label(self, idx: int) -> str:
        """A short human label for an item: its title when known, else its id."""
        meta = self.item(idx)
        return meta.title if meta is not None else self.items.id(idx)

    def item_names(self, idx: int) -> dict[str, str]:
        """``item`` (the title) and ``item_alt`` (the second-language title) for building a Reason."""
        meta = self.item(idx)
        return {"item": self.item_label(idx), "item_alt": (meta.title_alt or "") if meta is not None else ""}

    @cached_property
    def item_category(self) -> np.ndarray:
        """Leaf category label per item index ('' when unknown), as an object array."""
        return np.array([(m.leaf_category or "") if m else "" for m in self.item_meta], dtype=object)

    @cached_property
    def unavailable_items(self) -> np.ndarray:
        """Boolean mask of items that must not be recommended (out of stock)."""
        return np.array([(m is not None and not m.in_stock) for m in self.item_meta], dtype=bool)
