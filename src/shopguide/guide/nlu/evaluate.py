"""Scoring the NLU on labelled examples: intent accuracy, confusions, slot precision / recall / F1.

Slot scores are micro-averaged over ``slot=value`` pairs (list values count once per element; negations
count as ``neg:slot=value``) on the examples annotated with slots, so a message annotated with no slots still
costs precision when something is extracted. The examples' ``context`` is passed to the NLU, as the dialogue would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from shopguide.guide.nlu.dataset import Example, slot_pairs
from shopguide.guide.nlu.pipeline import NLU
from shopguide.guide.nlu.rules import rule_intent


@dataclass
class LangScores:
    """Scores for one language."""

    n: int = 0
    correct: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    rule_fired: int = 0
    rule_correct: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "intent_accuracy": round(self.accuracy, 4),
            "slot_precision": round(self.precision, 4),
            "slot_recall": round(self.recall, 4),
            "slot_f1": round(self.f1, 4),
            "rules_fired": self.rule_fired,
            "rules_correct": self.rule_correct,
            "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in self.confusions.most_common()],
        }


@dataclass
class NLUReport:
    """Per-language scores (``by_lang["zh"]``) and the examples the NLU got wrong."""

    by_lang: dict[str, LangScores] = field(default_factory=dict)
    intent_errors: list[dict] = field(default_factory=list)
    slot_errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {lang: scores.as_dict() for lang, scores in sorted(self.by_lang.items())}


def evaluate(nlu: NLU, examples: Iterable[Example], *, slots: Collection[str] | None = None) -> NLUReport:
    """Run ``nlu`` over ``examples`` and score intents and slots per language; ``slots``: score only these slot
    names (for test sets whose writers were asked to annotate only some)."""
    report = NLUReport()
    for example in examples:
        scores = report.by_lang.setdefault(example.lang, LangScores())
        got = nlu.understand(example.text, lang=example.lang, context_slots=example.context or None)
        scores.n += 1
        if got.intent == example.intent:
            scores.correct += 1
        else:
            scores.confusions[(example.intent.value, got.intent.value)] += 1
            report.intent_errors.append({"text": example.text, "gold": example.intent.value, "got": got.intent.value})
        ruled = rule_intent(got.normalized, example.lang)
        if ruled is not None:
            scores.rule_fired += 1
            scores.rule_correct += ruled == example.intent
        if not example.has_slots:
            continue  # intent-only annotation
        predicted = slot_pairs(got.slots, got.negated)
        gold = slot_pairs(example.slots, example.negated)
        if slots is not None:
            keep = {p for p in predicted | gold if p.removeprefix("neg:").split("=", 1)[0] in slots}
            predicted, gold = predicted & keep, gold & keep
        scores.tp += len(predicted & gold)
        scores.fp += len(predicted - gold)
        scores.fn += len(gold - predicted)
        if predicted != gold:
            report.slot_errors.append(
                {"text": example.text, "extra": sorted(predicted - gold), "missing": sorted(gold - predicted)}
            )
    return report
