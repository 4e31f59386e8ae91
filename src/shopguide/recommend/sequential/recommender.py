"""The sequence model behind the one recommender protocol.

Fitting trains ``config.members`` networks (:class:`~shopguide.recommend.sequential.network.SequenceNetwork`,
an ensemble; one with ``members: 1``) on each shopper's time-ordered items. For serving, the
item tables are exported once, side by side, as one float32 numpy matrix; a request encodes the
shopper's latest ``max_len`` items (training sequence + the request's recent events, in order) with
each network's numpy encoder and ranks the whole catalogue with one matrix-vector product, which sums
the networks' scores.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopguide.data.dataset import Dataset
from shopguide.errors import MissingDependencyError
from shopguide.recommend.base import Recommender, strongest_action
from shopguide.recommend.explain import Reason
from shopguide.recommend.recent import RECENT_ITEMS, merge_sequence
from shopguide.recommend.sequential.config import SequentialConfig
from shopguide.recommend.sequential.report import TrainReport

log = logging.getLogger(__name__)


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is a declared dependency of the "deep" extra
        raise MissingDependencyError("torch", "deep") from err
    return torch


class SequentialRecommender(Recommender):
    """Next-item transformer (SASRec-style, full-softmax training, side information, causal filter).

    ``config`` is a :class:`SequentialConfig`, a mapping of its fields, or a path to a YAML/JSON/TOML file.
    ``checkpoint_dir`` keeps ``last.pt`` after every epoch; ``resume`` continues from it.
    """

    source = "sequential"

    def __init__(
        self,
        *,
        config: SequentialConfig | dict[str, Any] | str | None = None,
        checkpoint_dir: str | None = None,
        resume: bool = False,
    ) -> None:
        self.config = config
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.on_epoch: Callable[..., None] | None = None

    def resolved_config(self) -> SequentialConfig:
        if isinstance(self.config, SequentialConfig):
            return self.config
        if isinstance(self.config, str | Path):
            return SequentialConfig.from_file(self.config)
        return SequentialConfig.from_mapping(self.config)

    # ------------------------------------------------------------------ fitting
    def _fit(self, dataset: Dataset) -> None:
        torch = _torch()
        from shopguide.recommend.sequential.features import item_features
        from shopguide.recommend.sequential.network import SequenceNetwork
        from shopguide.recommend.sequential.training import holdout_metrics, split_last, train_network

        cfg = self.config_ = self.resolved_config()
        threads = torch.get_num_threads()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        try:
            features = item_features(dataset, min_items=cfg.min_feature_items) if cfg.side_info else None
            sequences = self._training_sequences(dataset)
            nets, reports = [], []
            for index in range(cfg.members):
                member = cfg.member(index)
                torch.manual_seed(member.seed)
                net = SequenceNetwork(dataset.n_items, member, features)
                reports.append(
                    train_network(
                        net,
                        sequences,
                        member,
                        checkpoint_dir=self._member_checkpoints(index, cfg.members),
                        resume=self.resume,
                        on_epoch=self.on_epoch,
                        member=index,
                    )
                )
                nets.append(net)
            self.reports_ = reports
            self.report_ = reports[0] if len(reports) == 1 else self._ensemble_report(reports)
            if len(nets) > 1 and cfg.validation == "last":
                ndcg, _ = holdout_metrics(nets, split_last(sequences)[1])
                self.report_.best_ndcg10 = ndcg
        finally:
            torch.set_num_threads(threads)
        self._export([net.cpu().eval() for net in nets])  # torch is not needed again until the next fit

    def _member_checkpoints(self, index: int, members: int) -> Path | None:
        """A single network checkpoints into ``checkpoint_dir``, ensemble member ``i`` into ``member-i`` in it."""
        if not self.checkpoint_dir:
            return None
        return Path(self.checkpoint_dir) / f"member-{index}" if members > 1 else Path(self.checkpoint_dir)

    @staticmethod
    def _ensemble_report(reports: list[TrainReport]) -> TrainReport:
        """One report for an ensemble: every member's epochs (tagged by member), summed time, the last
        member's best epoch (``reports_`` holds each member's); the caller sets the pair's validation NDCG@10."""
        return TrainReport(
            epochs=[entry for report in reports for entry in report.epochs],
            best_epoch=reports[-1].best_epoch,
            stopped="; ".join(f"member {i}: {r.stopped}" for i, r in enumerate(reports)),
            seconds=sum(r.seconds for r in reports),
            resumed_from=reports[0].resumed_from,
            members=len(reports),
        )

    @staticmethod
    def _training_sequences(dataset: Dataset) -> list[np.ndarray]:
        seq = dataset.sequences
        return [seq.indices[seq.indptr[u] : seq.indptr[u + 1]] for u in range(dataset.n_users)]

    def _export(self, nets: list) -> None:
        """Keep what serving needs, as numpy: the members' item tables side by side (one dot product scores
        the sum of their scores) and each member's encoder weights (no torch after fit)."""
        from shopguide.recommend.sequential.export import NumpyEncoder

        torch = _torch()
        with torch.inference_mode():
            tables = [net.item_table().numpy().astype(np.float32, copy=True) for net in nets]
        self.table_ = np.ascontiguousarray(np.hstack(tables))
        self.encoders_ = [NumpyEncoder.from_network(net) for net in nets]

    @property
    def item_matrix_(self) -> np.ndarray:
        """``(n_items, members * dim)`` item vectors: the item table without its pad row."""
        return self.table_[1:]

    # ------------------------------------------------------------------ scoring
    def sequences_for(self, users: np.ndarray, history: sp.csr_matrix) -> list[np.ndarray]:
        """Each row's item sequence: the shopper's training sequence, then the request's recent events in
        order (or, without them, the history items it does not hold yet)."""
        recent = RECENT_ITEMS.get()
        recent_rows = recent.rows if recent is not None else None
        seq = self.dataset_.sequences
        out = []
        for r, u in enumerate(users):
            known = seq.indices[seq.indptr[u] : seq.indptr[u + 1]] if u >= 0 else seq.indices[:0]
            if recent_rows is not None and r < len(recent_rows):
                extra = recent_rows[r]
            else:
                row = history.indices[history.indptr[r] : history.indptr[r + 1]]
                extra = row[~np.isin(row, known)]
            out.append(merge_sequence(known, extra)[-self.encoders_[0].max_len :])
        return out

    def encode(self, sequences: list[np.ndarray]) -> np.ndarray:
        """``(len(sequences), members * dim)`` shopper vectors: each member's state after the last item."""
        parts, start = [], 0
        for encoder in self.encoders_:
            dim = encoder.positions.shape[1]
            parts.append(encoder(sequences, self.table_[:, start : start + dim]))
            start += dim
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    def score(self, users: np.ndarray, history: sp.csr_matrix) -> np.ndarray:
        self._check_fitted()
        seqs = self.sequences_for(np.asarray(users), history)
        scores = np.full((len(seqs), self.dataset_.n_items), -np.inf, dtype=np.float32)
        rows = [r for r, s in enumerate(seqs) if len(s)]
        if rows:
            scores[rows] = self.encode([seqs[r] for r in rows]) @ self.item_matrix_.T
        return scores

    def _reason(self, actions: sp.csr_matrix, history: sp.csr_matrix, item: int) -> Reason:
        """Name the history item whose learned vector is closest to the recommended one."""
        hist_items = history.indices
        if len(hist_items) == 0:
            return Reason("similar_taste")
        best = int(hist_items[np.argmax(self.item_matrix_[hist_items] @ self.item_matrix_[item])])
        return Reason("because_you", **self.dataset_.item_names(best), action=strongest_action(actions, best))

    # ------------------------------------------------------------------ persistence
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["on_epoch"] = None  # progress callbacks belong to the process that trained
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "encoder_" in state:  # saved before ensembles: one network
            state["encoders_"] = [state.pop("encoder_")]
            if "report_" in state:
                state["reports_"] = [state["report_"]]
        self.__dict__.update(state)
