"""The one recommender protocol, scikit-learn style.

``__init__`` stores keyword parameters unchanged; ``fit(dataset)`` validates and returns ``self``; learned
state ends in ``_``. A subclass implements ``_fit`` and ``score`` (and optionally ``_reason`` and
``similar_scores``); everything else — masking, exclusions, category filters, top-n, filling short lists
from popularity, reasons, save/load — is shared here, so that a 4-line subclass can add a variant.

Scores live in index space: ``score(users, history)`` returns a dense ``(len(users), n_items)`` float32
array for the given user indices (``-1`` for users the model has never seen) and their history rows
(a CSR matrix of event weights). ``-inf`` marks items the model cannot score.
"""

from __future__ import annotations

import inspect
import json
import logging
import pickle
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from shopguide import __version__
from shopguide.data.dataset import Dataset
from shopguide.errors import DataError, ModelError, NotFittedError
from shopguide.recommend.explain import ACTION_RANK, Reason
from shopguide.recommend.facts import row_value, shared_traits, strongest_action, strongest_actions
from shopguide.recommend.recent import RECENT_ITEMS, RecentItems

__all__ = ["Recommendation", "Recommender", "row_value", "shared_traits", "strongest_action", "top_n"]

log = logging.getLogger(__name__)

ExcludeSeen = str  # "interacted" | "purchased" | "none"


@dataclass(frozen=True)
class Recommendation:
    """One recommended item: raw id, score, which source produced it, and why."""

    item: str
    score: float
    source: str
    reason: Reason

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"item": self.item, "score": self.score, "source": self.source, "reason": self.reason.text(lang)}


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest finite scores, best first (ties broken by lower index)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) == 0 or n <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(finite) > n:
        part = np.argpartition(-scores[finite], n - 1)[:n]
        finite = finite[part]
    return finite[np.lexsort((finite, -scores[finite]))]


class Recommender:
    """Base class of every recommender. Subclasses set ``source`` and implement ``_fit`` and ``score``."""

    source: ClassVar[str] = "base"

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # ------------------------------------------------------------------ fitting
    def fit(self, dataset: Dataset) -> Self:
        """Learn from ``dataset``; returns ``self``."""
        if not isinstance(dataset, Dataset):
            raise DataError(f"fit expects a Dataset, got {type(dataset).__name__}")
        if dataset.n_items == 0:
            raise DataError("cannot fit a recommender on a dataset without items")
        started = time.perf_counter()
        self.dataset_ = dataset
        self.history_ = dataset.matrix
        self.actions_ = strongest_actions(dataset)
        self.popularity_ = dataset.item_popularity.astype(np.float32)
        self._fit(dataset)
        self.fit_seconds_ = time.perf_counter() - started
        log.info("fitted", extra={"model": self.source, "seconds": round(self.fit_seconds_, 3)})
        return self

    def _fit(self, dataset: Dataset) -> None:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "dataset_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(dataset) first")

    # ------------------------------------------------------------------ scoring (index space)
    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        """Scores of every item for each user row; ``-inf`` where the model has nothing to say."""
        raise NotImplementedError

    def similar_scores(self, item: int) -> np.ndarray:
        """Scores of every item as a neighbour of ``item``; default: score a history holding only it."""
        history = sp.csr_matrix(
            (np.ones(1, dtype=np.float32), (np.zeros(1, dtype=np.int64), np.array([item]))),
            shape=(1, self.dataset_.n_items),
        )
        return self.score(np.array([-1]), history)[0]

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        """Why ``item`` was scored high, given the shopper's strongest action per item and history rows."""
        return Reason("similar_taste")

    def _score_and_owner(self, users: np.ndarray, history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores plus, for composite models, which component produced each item's score."""
        return self.score(users, history), None

    def _attribute(
        self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int, owner: int | None
    ) -> tuple[str, Reason]:
        """The source label and reason of one recommended item (composites delegate to ``owner``)."""
        return self.source, self._reason(actions, history, item)

    # ------------------------------------------------------------------ raw-id API
    def recommend(
        self,
        user: str,
        n: int = 10,
        *,
        exclude: Iterable[str] = (),
        categories: Sequence[str] | None = None,
        history: Sequence[str | tuple[str, str]] | None = None,
        exclude_seen: ExcludeSeen = "interacted",
        context: Mapping[str, Any] | None = None,
        fill: bool = True,
    ) -> list[Recommendation]:
        """Top-``n`` items for ``user`` (a raw id; unknown users are fine).

        ``history`` adds recent events not yet in the model (raw item ids, or ``(item, event_type)``);
        ``exclude`` removes items; ``categories`` keeps items whose category path contains one of them;
        ``exclude_seen`` drops items the user interacted with ("interacted"), bought ("purchased") or none.
        ``context`` is accepted for the context re-ranking layer and ignored by the base models.
        Short lists are filled from category and global popularity when ``fill`` is true.
        """
        return self.recommend_batch(
            [user],
            n,
            exclude=exclude,
            categories=categories,
            histories=[history] if history is not None else None,
            exclude_seen=exclude_seen,
            context=context,
            fill=fill,
        )[0]

    def recommend_batch(
        self,
        users: Sequence[str],
        n: int = 10,
        *,
        exclude: Iterable[str] = (),
        categories: Sequence[str] | None = None,
        histories: Sequence[Sequence[str | tuple[str, str]] | None] | None = None,
        exclude_seen: ExcludeSeen = "interacted",
        context: Mapping[str, Any] | None = None,
        fill: bool = True,
    ) -> list[list[Recommendation]]:
        """``recommend`` for many users in one vectorised pass (same answers as one by one)."""
        self._check_fitted()
        if n < 0:
            raise DataError("n must be >= 0", field="n")
        data = self.dataset_
        uidx = data.users.indices(users)
        hist, actions = self._history_rows(uidx, histories)
        if n:
            token = RECENT_ITEMS.set(RecentItems(data, histories, len(users)))
            try:
                scores, owner = self._score_and_owner(uidx, hist)
            finally:
                RECENT_ITEMS.reset(token)
        else:
            scores, owner = np.zeros((len(users), data.n_items), dtype=np.float32), None
        base_mask = self._item_mask(exclude, categories)
        results = []
        for row in range(len(users)):
            mask = base_mask.copy()
            seen = self._seen(hist, actions, row, exclude_seen)
            mask[seen] = True
            row_scores = np.where(mask, -np.inf, scores[row])
            chosen = top_n(row_scores, n)
            hist_row, actions_row = hist[row], actions[row]
            recs = [
                Recommendation(
                    data.items.id(i),
                    float(row_scores[i]),
                    *self._attribute(actions_row, hist_row, int(i), None if owner is None else owner[row, i]),
                )
                for i in chosen
            ]
            if fill and len(recs) < n:
                recs += self._fill(n - len(recs), mask, chosen, hist_row.indices)
            results.append(recs)
        return results

    def similar_items(
        self, item: str, n: int = 10, *, exclude: Iterable[str] = (), fill: bool = True
    ) -> list[Recommendation]:
        """Items similar to ``item`` (a raw id; unknown items get popular items), best first."""
        self._check_fitted()
        data = self.dataset_
        idx = data.items.index(item)
        mask = self._item_mask(exclude, None)
        if idx is None:
            return self._fill(n, mask, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)) if fill else []
        mask[idx] = True
        raw, owner = self._similar_and_owner(idx)
        scores = np.where(mask, -np.inf, raw)
        chosen = top_n(scores, n)
        recs = [
            Recommendation(
                data.items.id(i),
                float(scores[i]),
                *self._similar_attribute(idx, int(i), None if owner is None else int(owner[i])),
            )
            for i in chosen
        ]
        if fill and len(recs) < n:
            recs += self._fill(n - len(recs), mask, chosen, np.array([idx]))
        return recs

    def _similar_and_owner(self, item: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Neighbour scores plus, for composite models, which component produced each one."""
        return self.similar_scores(item), None

    def _similar_attribute(self, anchor: int, item: int, owner: int | None) -> tuple[str, Reason]:
        return self.source, self._similar_reason(anchor, item)

    def _similar_reason(self, anchor: int, item: int) -> Reason:
        return Reason(
            "similar_to", **self.dataset_.item_names(anchor), traits=shared_traits(self.dataset_, anchor, item)
        )

    # ------------------------------------------------------------------ helpers
    def _history_rows(
        self, uidx: np.ndarray, extra: Sequence[Sequence[str | tuple[str, str]] | None] | None
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Training rows of the users (empty for unknown ones) plus any extra recent events.

        Built from the CSR arrays with numpy and two matrix constructions (this is on every request's path).
        """
        data = self.dataset_
        rows, cols, weights, act_rows, act_cols, ranks = [], [], [], [], [], []
        for r, u in enumerate(uidx):
            if u >= 0:
                for matrix, (rr, cc, vv) in (
                    (self.history_, (rows, cols, weights)),
                    (self.actions_, (act_rows, act_cols, ranks)),
                ):
                    start, stop = matrix.indptr[u], matrix.indptr[u + 1]
                    rr.append(np.full(stop - start, r, dtype=np.int64))
                    cc.append(matrix.indices[start:stop])
                    vv.append(matrix.data[start:stop])
            for ev in (extra[r] if extra is not None else None) or ():
                item, kind = (ev, "view") if isinstance(ev, str) else ev
                i = data.items.index(str(item))
                if i is None:
                    continue
                rows.append(np.array([r]))
                cols.append(np.array([i]))
                weights.append(np.array([data.event_weights.get(str(kind), 1.0)], dtype=np.float32))
                act_rows.append(np.array([r]))
                act_cols.append(np.array([i]))
                ranks.append(np.array([ACTION_RANK.get(str(kind), 1)], dtype=np.float32))
        shape = (len(uidx), data.n_items)
        hist = _csr(rows, cols, weights, shape)  # duplicates are summed
        hist.eliminate_zeros()
        hist.sort_indices()
        return hist, _csr_max(act_rows, act_cols, ranks, shape)

    def _seen(self, hist: sp.csr_matrix, actions: sp.csr_matrix, row: int, mode: ExcludeSeen) -> np.ndarray:
        if mode == "none":
            return np.zeros(0, dtype=np.int64)
        if mode == "interacted":
            return hist[row].indices
        if mode == "purchased":
            a = actions[row]
            return a.indices[a.data >= ACTION_RANK["purchase"]]
        raise DataError(f"exclude_seen must be 'interacted', 'purchased' or 'none', got {mode!r}", field="exclude_seen")

    def _item_mask(self, exclude: Iterable[str], categories: Sequence[str] | None) -> np.ndarray:
        """True for items that must not be returned: excluded ids, out of stock, outside the categories."""
        data = self.dataset_
        mask = data.unavailable_items.copy()
        ex = data.items.indices(exclude)
        mask[ex[ex >= 0]] = True
        if categories:
            allowed = np.zeros(data.n_items, dtype=bool)
            index = self._category_items()
            for name in categories:
                allowed[index.get(name, ())] = True
            mask |= ~allowed
        return mask

    def _category_items(self) -> dict[str, np.ndarray]:
        """Category name (any level of the path) -> item indices; built once, then a dict lookup per request."""
        index = getattr(self, "category_items_", None)
        if index is None:
            lists: dict[str, list[int]] = {}
            for i, meta in enumerate(self.dataset_.item_meta):
                for name in set(meta.category) if meta else ():
                    lists.setdefault(name, []).append(i)
            index = self.category_items_ = {k: np.array(v, dtype=np.int64) for k, v in lists.items()}
        return index

    def _fill(self, k: int, mask: np.ndarray, taken: np.ndarray, anchor: np.ndarray) -> list[Recommendation]:
        """Up to ``k`` popular items: first in the anchor items' categories, then overall."""
        data = self.dataset_
        blocked = mask.copy()
        blocked[taken] = True
        out: list[Recommendation] = []
        cats = {data.item_category[i] for i in anchor} - {""}
        pop = self.popularity_
        if cats:
            in_cat = np.isin(data.item_category, list(cats))
            for i in top_n(np.where(blocked | ~in_cat, -np.inf, pop), k):
                blocked[i] = True
                out.append(
                    Recommendation(
                        data.items.id(i),
                        float(pop[i]),
                        "category_popular",
                        Reason("popular_in", category=data.item_category[i], period="now"),
                    )
                )
        if len(out) < k:
            for i in top_n(np.where(blocked, -np.inf, pop), k - len(out)):
                out.append(Recommendation(data.items.id(i), float(pop[i]), "popular", Reason("popular", period="now")))
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the fitted model to the directory ``path`` (model.pkl + manifest.json)."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / "model.pkl.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path / "model.pkl")
        manifest = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "source": self.source,
            "params": {k: _jsonable(v) for k, v in self.get_params().items()},
            "dataset": self.dataset_.name,
            "n_users": self.dataset_.n_users,
            "n_items": self.dataset_.n_items,
            "shopguide_version": __version__,
            "fit_seconds": round(getattr(self, "fit_seconds_", 0.0), 3),
        }
        (path / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Load a model saved by ``save``; raises ModelError when it is missing or of another class."""
        path = Path(path)
        try:
            with (path / "model.pkl").open("rb") as fh:
                model = pickle.load(fh)
        except FileNotFoundError as exc:
            raise ModelError(f"no saved model in {path}") from exc
        if not isinstance(model, cls):
            raise ModelError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def _csr(rows: list, cols: list, vals: list, shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR matrix from lists of row / column / value chunks; duplicate entries are summed."""
    return sp.csr_matrix(
        (_cat(vals, np.float32), (_cat(rows, np.int64), _cat(cols, np.int64))), shape=shape, dtype=np.float32
    )


def _csr_max(rows: list, cols: list, vals: list, shape: tuple[int, int]) -> sp.csr_matrix:
    """Like ``_csr`` but duplicate entries keep their maximum (strongest action per item)."""
    r, c, v = _cat(rows, np.int64), _cat(cols, np.int64), _cat(vals, np.float32)
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    last = np.ones(len(r), dtype=bool)
    if len(r) > 1:
        last[:-1] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    out = sp.csr_matrix((v[last], (r[last], c[last])), shape=shape, dtype=np.float32)
    out.sort_indices()
    return out
