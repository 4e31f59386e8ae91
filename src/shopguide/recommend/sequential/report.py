"""What a training run reports (kept free of torch so that a saved model loads without it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class EpochLog:
    """One epoch: mean training loss, seconds, validation NDCG@10 / HR@10, and whether it was the best."""

    epoch: int
    loss: float
    seconds: float
    ndcg10: float | None = None
    hr10: float | None = None
    best: bool = False
    member: int = 0  # ensemble member (0 for a single network)


@dataclass
class TrainReport:
    """What happened: per-epoch logs, the epoch whose weights were kept, why training stopped."""

    epochs: list[EpochLog] = field(default_factory=list)
    best_epoch: int = 0
    best_ndcg10: float | None = None
    stopped: str = ""
    seconds: float = 0.0
    resumed_from: int | None = None
    members: int = 1

    def to_dict(self) -> dict:
        return asdict(self)
