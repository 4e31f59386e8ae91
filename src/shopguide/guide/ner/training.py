"""Training one :class:`~shopguide.guide.ner.network.TaggerNetwork`: fold-split inputs, Adam, early stopping.

Inputs: on new text only some entities are in the gazetteer mined from train, and a match is sometimes not
an entity there. Encoding every training sentence with the lexicon mined from the *other* folds reproduces
both, so the network learns how far a match can be trusted (the jackknife of
:class:`~shopguide.guide.ner.tagger.ProductTagger`).

Regularisation for text unlike the training set: dropout on the inputs and the BiLSTM output, and "unknown
dropout" (a character / bigram / word id is replaced by the unknown id with probability ``unk_dropout``), so
the network learns to lean on the other features when an id is new. Early stopping watches exact-span
micro F1 over the focus types on the ``valid`` sentences, decoded by the numpy serving path, and keeps the
best epoch's weights. Everything random draws from ``seed`` (torch and numpy), so a run repeats exactly on
the same machine and thread count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from shopguide.guide.ner.data import FOCUS_TYPES, Sentence, normalize_chars, spans
from shopguide.guide.ner.encoding import ID_COLUMNS, UNK, Encoded, FeatureEncoder
from shopguide.guide.ner.lexicon import Gazetteer, jackknife_lexicons, merge_lexicons
from shopguide.guide.ner.metrics import score_spans
from shopguide.guide.ner.network import TaggerNetwork
from shopguide.guide.ner.numpy_net import NumpyEnsemble, NumpyNetwork

log = logging.getLogger(__name__)

_UNK_COLUMNS = [ID_COLUMNS.index(c) for c in ("char", "bigram_left", "bigram_right", "word")]


@dataclass
class TrainConfig:
    """Optimisation settings of one network (the architecture's are :class:`TaggerNetwork`'s arguments)."""

    epochs: int = 15
    patience: int = 4
    batch_size: int = 32
    lr: float = 2e-3
    clip: float = 5.0
    unk_dropout: float = 0.1
    seed: int = 0


@dataclass
class TrainLog:
    """What happened: validation F1 per epoch, the epoch kept, seconds spent."""

    valid_f1: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


def training_rows(
    sentences: Sequence[Sentence],
    encoder: FeatureEncoder,
    *,
    folds: int,
    min_count: int,
    lexicon: Mapping[str, Sequence[str]],
    extra: Mapping[str, Sequence[str]],
    tag_index: Mapping[str, int],
    seed: int,
) -> tuple[list[Encoded], list[list[int]]]:
    """Encoded sentences and their tag ids. ``folds < 2`` gives every sentence ``lexicon`` (the one mined from
    all of them, no jackknife); else fold ``k`` sees what ``min_count`` mines from the other folds. ``extra``
    strings (e.g. a catalog's) are in every fold's gazetteer."""
    if folds < 2:
        fold_of = [0] * len(sentences)
        gazetteers = [Gazetteer(merge_lexicons(lexicon, extra))]
    else:
        fold_of, lexicons = jackknife_lexicons(sentences, folds=folds, seed=seed, min_count=min_count)
        gazetteers = [Gazetteer(merge_lexicons(lex, extra)) for lex in lexicons]
    encoded = [encoder.encode(normalize_chars(s.chars), gazetteers[f]) for s, f in zip(sentences, fold_of, strict=True)]
    return encoded, [[tag_index[t] for t in s.tags] for s in sentences]


def _pad(encoded: Sequence[Encoded], tags: Sequence[Sequence[int]]) -> tuple[np.ndarray, ...]:
    n, width = len(encoded), max(len(e.ids) for e in encoded)
    ids = np.zeros((n, width, len(ID_COLUMNS)), dtype=np.int64)
    dense = np.zeros((n, width, encoded[0].dense.shape[1]), dtype=np.float32)
    gold = np.zeros((n, width), dtype=np.int64)
    lengths = np.array([len(e.ids) for e in encoded], dtype=np.int64)
    for r, (e, t) in enumerate(zip(encoded, tags, strict=True)):
        ids[r, : len(e.ids)] = e.ids
        dense[r, : len(e.ids)] = e.dense
        gold[r, : len(t)] = t
    return ids, dense, gold, lengths


def focus_f1(
    model: NumpyEnsemble, encoded: Sequence[Encoded], gold: Sequence[Sequence[str]], tags: Sequence[str]
) -> float:
    """Exact-span micro F1 over the focus types of the decoded sentences."""
    pred = [[tags[k] for k in model.decode(e)] for e in encoded]
    scores = score_spans(
        ([s for s in spans(g) if s[0] in FOCUS_TYPES] for g in gold),
        ([s for s in spans(p) if s[0] in FOCUS_TYPES] for p in pred),
    )
    return scores.micro().f1


def train_network(
    net: TaggerNetwork,
    encoded: Sequence[Encoded],
    tag_ids: Sequence[Sequence[int]],
    config: TrainConfig,
    valid: tuple[Sequence[Encoded], Sequence[Sequence[str]]] | None = None,
) -> tuple[NumpyNetwork, TrainLog]:
    """Train ``net`` in place; the numpy export of the best epoch (the last one without ``valid``)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    ids, dense, gold, lengths = _pad(encoded, tag_ids)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    report = TrainLog()
    best: NumpyNetwork | None = None
    best_f1, stale, started = -1.0, 0, time.perf_counter()
    for epoch in range(config.epochs):
        net.train()
        total = 0.0
        for batch in _batches(lengths, config.batch_size, rng):
            width = int(lengths[batch].max())
            b_ids = ids[batch, :width].copy()
            if config.unk_dropout > 0:
                sub = b_ids[..., _UNK_COLUMNS]
                drop = (rng.random(sub.shape) < config.unk_dropout) & (sub > UNK)
                b_ids[..., _UNK_COLUMNS] = np.where(drop, UNK, sub)
            loss = net.loss(
                torch.from_numpy(b_ids),
                torch.from_numpy(dense[batch, :width]),
                torch.from_numpy(lengths[batch]),
                torch.from_numpy(gold[batch, :width]),
            )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), config.clip)
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        report.losses.append(total / len(encoded))
        net.eval()
        exported = NumpyNetwork.from_network(net)
        if valid is None:
            best, report.best_epoch = exported, epoch
            log.info("epoch %d: loss %.4f", epoch + 1, report.losses[-1])
            continue
        f1 = focus_f1(NumpyEnsemble([exported]), valid[0], valid[1], net.tags)
        report.valid_f1.append(f1)
        log.info("epoch %d: loss %.4f, valid micro F1 %.4f", epoch + 1, report.losses[-1], f1)
        if f1 > best_f1:
            best, best_f1, report.best_epoch, stale = exported, f1, epoch, 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    report.seconds = time.perf_counter() - started
    assert best is not None
    return best, report


def _batches(lengths: np.ndarray, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of similar lengths (sorted with random jitter) in random order."""
    order = np.argsort(lengths + rng.uniform(0, 4, len(lengths)), kind="stable")
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    return [batches[k] for k in rng.permutation(len(batches))]
