"""Entity-level exact-span precision, recall and F1 (the CoNLL way: type, start and end must all match)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shopguide.guide.ner.data import spans

Span = tuple[str, int, int]


@dataclass(frozen=True)
class PRF:
    """Counts of one entity type (or a micro-average) and the scores derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        """Number of gold entities."""
        return self.tp + self.fn

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass(frozen=True)
class Scores:
    """Per-type counts over a corpus; :meth:`micro` pools any subset of types."""

    per_type: dict[str, PRF] = field(default_factory=dict)

    def __getitem__(self, kind: str) -> PRF:
        return self.per_type.get(kind, PRF())

    def micro(self, types: Iterable[str] | None = None) -> PRF:
        """Micro-average over ``types`` (default: every type seen in gold or predictions)."""
        kinds = self.per_type if types is None else types
        total = PRF()
        for kind in kinds:
            total = total + self[kind]
        return total

    def as_dict(self, focus: Sequence[str] = ("HCCX", "HPPX")) -> dict[str, dict[str, float | int]]:
        out = {kind: self.per_type[kind].as_dict() for kind in sorted(self.per_type)}
        out["micro_" + "_".join(focus)] = self.micro(focus).as_dict()
        out["micro_all"] = self.micro().as_dict()
        return out


def score_spans(gold: Iterable[Iterable[Span]], pred: Iterable[Iterable[Span]]) -> Scores:
    """Score predicted against gold spans, one collection of ``(type, start, end)`` per sentence."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_spans, pred_spans in zip(gold, pred, strict=True):
        g, p = set(gold_spans), set(pred_spans)
        for kind, _, _ in g & p:
            tp[kind] += 1
        for kind, _, _ in p - g:
            fp[kind] += 1
        for kind, _, _ in g - p:
            fn[kind] += 1
    kinds = sorted(set(tp) | set(fp) | set(fn))
    return Scores({kind: PRF(tp[kind], fp[kind], fn[kind]) for kind in kinds})


def score_tags(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> Scores:
    """Score predicted against gold BIO tag sequences (sentence by sentence, same lengths)."""
    gold_spans, pred_spans = [], []
    for g, p in zip(gold, pred, strict=True):
        if len(g) != len(p):
            raise ValueError(f"tag sequences differ in length: {len(g)} gold vs {len(p)} predicted")
        gold_spans.append(spans(g))
        pred_spans.append(spans(p))
    return score_spans(gold_spans, pred_spans)
