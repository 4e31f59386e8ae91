"""Training loop of the sequence network: full-softmax cross-entropy at the newest item of every prefix
(``training_samples="prefixes"``, the default) or at every position of one window per shopper, early
stopping on the held-out last item, checkpoints after every epoch, resumable, seeded, within a
wall-clock budget.

Batches group samples of similar length so that little time goes into padding, and only the non-pad
positions reach the (items x positions) logits, which is where almost all the time goes.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from shopguide.errors import ConfigError
from shopguide.recommend.sequential.config import SequentialConfig
from shopguide.recommend.sequential.export import left_pad_ids
from shopguide.recommend.sequential.network import SequenceNetwork
from shopguide.recommend.sequential.report import EpochLog, TrainReport

log = logging.getLogger(__name__)

CHECKPOINT = "last.pt"
#: Config fields a checkpoint must share with the run that resumes it (the rest may change, e.g. max_epochs).
ARCHITECTURE = (
    *("max_len", "dim", "layers", "heads", "side_info", "min_feature_items", "post_norm"),
    *("filter_mix", "filter_window", "filter_frequencies"),
)


@dataclass(frozen=True)
class Holdout:
    """Early-stopping targets: for each held-out shopper, the input sequence and the item to find."""

    inputs: list[np.ndarray]
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)


def split_last(sequences: Sequence[np.ndarray], min_length: int = 3) -> tuple[list[np.ndarray], Holdout]:
    """Hold out the last item of every sequence with at least ``min_length`` items."""
    train, inputs, targets = [], [], []
    for seq in sequences:
        if len(seq) >= min_length:
            train.append(seq[:-1])
            inputs.append(seq[:-1])
            targets.append(seq[-1])
        else:
            train.append(seq)
    return train, Holdout(inputs, np.asarray(targets, dtype=np.int64))


def windows(sequences: Sequence[np.ndarray], max_len: int) -> list[np.ndarray]:
    """Training windows of at most ``max_len + 1`` items; long sequences give several, newest first."""
    out = []
    for seq in sequences:
        end = len(seq)
        while end >= 2:
            out.append(seq[max(0, end - max_len - 1) : end])
            end -= max_len
    return out


def prefixes(sequences: Sequence[np.ndarray], max_len: int) -> list[np.ndarray]:
    """One sample per item after the first: the item and at most ``max_len`` items before it."""
    return [seq[max(0, end - max_len - 1) : end] for seq in sequences for end in range(2, len(seq) + 1)]


def left_pad(seqs: Sequence[np.ndarray], width: int | None = None) -> torch.Tensor:
    """:func:`~shopguide.recommend.sequential.export.left_pad_ids` as a LongTensor."""
    return torch.from_numpy(left_pad_ids(seqs, width))


def batches(wins: list[np.ndarray], batch_size: int, rng: np.random.Generator) -> list[list[np.ndarray]]:
    """Shuffled batches of windows of similar length (sorted by length with random tie-breaks)."""
    order = np.lexsort((rng.random(len(wins)), [len(w) for w in wins]))
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(chunks)
    return [[wins[k] for k in chunk] for chunk in chunks]


def resolve_device(cfg: SequentialConfig) -> torch.device:
    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("device 'cuda' was asked for but torch sees no CUDA device")
        return torch.device("cuda")
    return torch.device("cpu")


@torch.inference_mode()
def holdout_metrics(
    net: SequenceNetwork | Sequence[SequenceNetwork], holdout: Holdout, batch_size: int = 1024
) -> tuple[float, float]:
    """NDCG@10 and HR@10 of the held-out items, full ranking, input items masked.

    Several networks (an ensemble) are scored by the sum of their scores, as they are served.
    """
    nets = [net] if isinstance(net, SequenceNetwork) else list(net)
    for member in nets:
        member.eval()
    device = next(nets[0].parameters()).device
    tables = [member.item_table() for member in nets]
    ranks = []
    for start in range(0, len(holdout), batch_size):
        inputs = holdout.inputs[start : start + batch_size]
        seq = left_pad(inputs, nets[0].max_len).to(device)
        scores = sum(member(seq, table)[:, -1] @ table[1:].T for member, table in zip(nets, tables, strict=True))
        rows = torch.repeat_interleave(torch.arange(len(inputs)), torch.tensor([len(s) for s in inputs]))
        cols = torch.from_numpy(np.concatenate(inputs)) if len(rows) else torch.zeros(0, dtype=torch.long)
        target = torch.from_numpy(holdout.targets[start : start + batch_size]).to(device)
        mine = scores.gather(1, target[:, None]).clone()
        scores[rows.to(device), cols.to(device)] = -torch.inf
        ranks.append((scores > mine).sum(dim=1).cpu().numpy())
    rank = np.concatenate(ranks) if ranks else np.zeros(0)
    hit = rank < 10
    ndcg = np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0)
    return float(ndcg.mean()) if len(rank) else 0.0, float(hit.mean()) if len(rank) else 0.0


def train_network(
    net: SequenceNetwork,
    sequences: Sequence[np.ndarray],
    cfg: SequentialConfig,
    *,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    on_epoch: Callable[[EpochLog, int], None] | None = None,
    member: int = 0,
) -> TrainReport:
    """Train ``net`` in place on item-index ``sequences``; keep the weights of the best validation epoch.

    With ``cfg.validation == "last"`` each sequence of 3+ items gives its last item to early stopping and
    never trains on it. ``checkpoint_dir`` receives ``last.pt`` after every epoch; ``resume`` continues
    from it (same config and catalogue size required). ``on_epoch(log, max_epochs)`` reports progress;
    ``member`` tags the epoch logs of one network of an ensemble.
    """
    started = time.perf_counter()
    device = resolve_device(cfg)
    net.to(device)
    if cfg.validation == "last":
        train_seqs, holdout = split_last(sequences)
    else:
        train_seqs, holdout = list(sequences), Holdout([], np.zeros(0, dtype=np.int64))
    wins = (prefixes if cfg.training_samples == "prefixes" else windows)(train_seqs, cfg.max_len)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    report = TrainReport()
    best_state = copy.deepcopy(net.state_dict())
    best, bad_epochs, first_epoch = -1.0, 0, 1
    path = checkpoint_dir / CHECKPOINT if checkpoint_dir else None
    if resume and path is not None and path.is_file():
        state = _load_checkpoint(path, cfg, net)
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        best_state, best, bad_epochs = state["best_state"], state["best"], state["bad_epochs"]
        report = TrainReport(**{**state["report"], "epochs": [EpochLog(**e) for e in state["report"]["epochs"]]})
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        first_epoch = report.resumed_from = state["epoch"] + 1
    if not wins:
        report.stopped = "no sequence with two or more items to learn from"
    for epoch in range(first_epoch, cfg.max_epochs + 1) if wins else ():
        tick = time.perf_counter()
        loss = _one_epoch(net, optimizer, batches(wins, cfg.batch_size, rng), cfg, device)
        entry = EpochLog(epoch, loss, 0.0, member=member)
        if len(holdout):
            entry.ndcg10, entry.hr10 = holdout_metrics(net, holdout)
            entry.best = entry.ndcg10 > best
        else:
            entry.best = True  # nothing to validate on: the last epoch is the best
        if entry.best:
            best, bad_epochs, report.best_epoch = entry.ndcg10 or 0.0, 0, epoch
            report.best_ndcg10 = entry.ndcg10
            best_state = copy.deepcopy(net.state_dict())
        else:
            bad_epochs += 1
        entry.seconds = time.perf_counter() - tick
        report.epochs.append(entry)
        log.info("epoch", extra={k: v for k, v in asdict(entry).items() if v is not None})
        if on_epoch is not None:
            on_epoch(entry, cfg.max_epochs)
        elapsed = time.perf_counter() - started
        if bad_epochs >= cfg.patience:
            report.stopped = f"no better validation NDCG@10 for {cfg.patience} epochs"
        elif elapsed + entry.seconds > 60 * cfg.max_minutes:  # stop before an epoch would overrun the budget
            report.stopped = f"time budget of {cfg.max_minutes:g} minutes: another epoch would overrun it"
        if path is not None:
            _save_checkpoint(path, net, optimizer, cfg, epoch, best_state, best, bad_epochs, report, rng)
        if report.stopped:
            break
    else:
        report.stopped = report.stopped or f"reached max_epochs={cfg.max_epochs}"
    net.load_state_dict(best_state)
    net.eval()
    report.seconds = time.perf_counter() - started
    return report


def _one_epoch(net, optimizer, batch_list, cfg: SequentialConfig, device) -> float:
    net.train()
    total, count = 0.0, 0
    for batch in batch_list:
        seq = left_pad(batch).to(device)
        inputs, targets = seq[:, :-1], seq[:, 1:]
        keep = (inputs > 0) & (targets > 0)
        if cfg.training_samples == "prefixes":
            keep[:, :-1] = False  # each prefix is scored at its newest item only
        table = net.item_table()
        states = net(inputs, table)
        hidden = states[keep]
        if cfg.loss == "sampled_bce":
            loss = sampled_bce(hidden, table, targets[keep])
        else:
            logits = hidden @ table[1:].T
            loss = F.cross_entropy(logits, targets[keep] - 1, label_smoothing=cfg.label_smoothing)
        if cfg.contrastive_weight > 0 and len(batch) > 1:
            loss = loss + cfg.contrastive_weight * contrastive_loss(
                states[:, -1], net(inputs, table)[:, -1], targets[:, -1], cfg.contrastive_temperature
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(hidden)
        count += len(hidden)
    return total / max(count, 1)


def sampled_bce(hidden: torch.Tensor, table: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SASRec's loss: the next item's logit against one uniformly drawn other item's, binary cross-entropy.

    ``target`` holds table rows (item index + 1); a draw that hits the target is moved to the next item.
    """
    n_items = table.shape[0] - 1
    negative = torch.randint(1, n_items + 1, target.shape, device=target.device)
    negative = torch.where(negative == target, negative % n_items + 1, negative)
    positive_logit = (hidden * table[target]).sum(-1)
    negative_logit = (hidden * table[negative]).sum(-1)
    return F.binary_cross_entropy_with_logits(
        positive_logit, torch.ones_like(positive_logit)
    ) + F.binary_cross_entropy_with_logits(negative_logit, torch.zeros_like(negative_logit))


def contrastive_loss(first: torch.Tensor, second: torch.Tensor, target: torch.Tensor, temperature: float):
    """InfoNCE between two dropout views of the same windows (DuoRec's unsupervised part, symmetric).

    Other windows of the batch are the negatives, except those with the same next item (not negatives).
    """
    a, b = F.normalize(first, dim=-1), F.normalize(second, dim=-1)
    sim = a @ b.T / temperature
    same = (target[:, None] == target[None, :]) & ~torch.eye(len(target), dtype=torch.bool, device=sim.device)
    sim = sim.masked_fill(same, -torch.inf)
    labels = torch.arange(len(target), device=sim.device)
    return (F.cross_entropy(sim, labels) + F.cross_entropy(sim.T, labels)) / 2


def _save_checkpoint(path: Path, net, optimizer, cfg, epoch, best_state, best, bad_epochs, report, rng) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "config": cfg.model_dump(),
            "n_items": net.n_items,
            "epoch": epoch,
            "model": net.state_dict(),
            "optimizer": optimizer.state_dict(),
            "best_state": best_state,
            "best": best,
            "bad_epochs": bad_epochs,
            "report": report.to_dict(),
            "numpy_rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        },
        tmp,
    )
    tmp.replace(path)


def _load_checkpoint(path: Path, cfg: SequentialConfig, net: SequenceNetwork) -> dict:
    state = torch.load(path, map_location=next(net.parameters()).device, weights_only=False)
    saved = state.get("config", {})
    changed = [k for k in ARCHITECTURE if saved.get(k) != getattr(cfg, k)]
    if changed:
        raise ConfigError(f"{path} was trained with other {', '.join(changed)}; resume needs the same architecture")
    if state.get("n_items") != net.n_items:
        raise ConfigError(f"{path} is for {state.get('n_items')} items, the data has {net.n_items}")
    return state
