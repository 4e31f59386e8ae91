"""The guide's NLU on data it was not trained on: its own held-out split, an independently written held-out set,
Bitext (customer service, generated) and MG-ShopDial (shopping dialogues typed by people), in both languages.

    .venv/bin/python benchmarks/guide_nlu.py [--corpora ../shared/data] [--repeats 5]

Two models are trained and scored the same way:

* ``packaged``: the packaged train split only (what the guide serves when no corpora are configured);
* ``+corpora``: the packaged train split plus the Bitext and MG-ShopDial train splits (what ``make run`` serves
  when ../shared/data is present).

Test sets (none of them is ever trained on):

* ``own``: the packaged test split (``guide/data/intents.jsonl``, written by the same writers as the train split);
* ``heldout``: ``benchmarks/heldout/intents_{zh,en}.jsonl`` (``--set dev``), ``final/`` or ``final2/`` (see
  ``heldout/README.md``), written by other writers from a brief of situations, who never saw the code, the
  training data or the other writers' files;
* ``bitext``: the Bitext test split (30 % by a hash of the request), each Bitext intent mapped to the guide
  intents that handle it (``guide.nlu.corpora.BITEXT_MAP``);
* ``mg-acts`` / ``mg-goal``: the shopper utterances of the MG-ShopDial test dialogues (a third, by a hash of
  the dialogue id), right when the predicted intent is one that any of its dialogue acts (2+ votes) allows
  (``MG_ACTS``), or that its annotated goal allows (``MG_GOALS``).

Scores: accuracy and macro-F1 per language (for the mapped sets: accuracy and the mean per-label accuracy),
slot P / R / F1 where slots are annotated, the expected calibration error of the confidences (15 bins), the
most frequent confusions, and the latency of one ``understand()`` call.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.metrics import f1_score

from _common import ROOT, SHARED_DATA, machine, write_json
from shopguide.guide.nlu import NLU, IntentClassifier, default_lexicon, evaluate, load_examples
from shopguide.guide.nlu.corpora import load_bitext, load_mgshopdial
from shopguide.guide.nlu.dataset import Example
from shopguide.guide.nlu.intent import training_examples
from shopguide.guide.types import Intent

HELDOUT = ROOT / "benchmarks" / "heldout"


def context_slots(context: dict) -> dict:
    """The conversation so far as slots: the dev set gives slots, the final set a ``previous_list`` of items."""
    shown = context.get("previous_list")
    if shown is None:
        return context
    items = shown if isinstance(shown, list) else [shown]
    first = items[0] if items and isinstance(items[0], dict) else {}
    slots = {k: first[k] for k in ("product_type", "brand", "color") if first.get(k)}
    return slots or {"shown": len(items)}


def heldout_examples(lang: str, folder: Path = HELDOUT) -> list[Example]:
    out = []
    for line in (folder / f"intents_{lang}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.append(Example(text=r["text"], lang=r["lang"], intent=Intent(r["intent"]), slots=r.get("slots") or {},
                               negated=r.get("negated") or {}, context=context_slots(r.get("context") or {}),
                               split="test", has_slots="slots" in r))  # fmt: skip
    return out


def ece(confidences: list[float], correct: list[bool], bins: int = 15) -> float:
    """Expected calibration error: |accuracy - confidence| weighted over equal-width confidence bins."""
    c, k = np.asarray(confidences), np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (c > lo) & (c <= hi)
        if inside.any():
            total += inside.mean() * abs(k[inside].mean() - c[inside].mean())
    return round(float(total), 4)


#: The slots the held-out writers were asked to annotate (``heldout/brief/taxonomy.md``).
BRIEF_SLOTS = ("product_type", "brand", "color", "price_min", "price_max", "unknown_product")


def score_single(nlu: NLU, examples: list[Example], slots: tuple[str, ...] | None = None) -> dict:
    """Accuracy, macro-F1, slots, calibration and confusions on single-label examples, per language."""
    report = evaluate(nlu, examples, slots=slots)
    out = {}
    for lang in sorted({e.lang for e in examples}):
        subset = [e for e in examples if e.lang == lang]
        got = [nlu.understand(e.text, lang=lang, context_slots=e.context or None) for e in subset]
        gold = [e.intent.value for e in subset]
        pred = [g.intent.value for g in got]
        s = report.by_lang[lang]
        out[lang] = {
            "n": len(subset),
            "accuracy": round(float(np.mean([a == b for a, b in zip(gold, pred, strict=True)])), 4),
            "macro_f1": round(float(f1_score(gold, pred, average="macro", labels=sorted(set(gold)))), 4),
            "slot_f1": round(s.f1, 4) if s.tp + s.fp + s.fn else None,
            "slot_precision": round(s.precision, 4),
            "slot_recall": round(s.recall, 4),
            "ece": ece([g.confidence for g in got], [a == b for a, b in zip(gold, pred, strict=True)]),
            "confusions": [
                {"gold": g, "got": p, "n": n}
                for (g, p), n in Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p).most_common(12)
            ],
        }
    return out


def score_mapped(nlu: NLU, rows: list, attr: str = "gold") -> dict:
    """Accuracy against sets of acceptable intents, and the mean accuracy per corpus label."""
    per_label: dict[str, list[bool]] = defaultdict(list)
    errors: Counter[tuple[str, str]] = Counter()
    for r in rows:
        allowed = getattr(r, attr)
        if not allowed:
            continue
        got = nlu.understand(r.text, lang="en").intent
        per_label[r.label].append(got in allowed)
        if got not in allowed:
            errors[(r.label, got.value)] += 1
    flat = [ok for oks in per_label.values() for ok in oks]
    return {
        "n": len(flat),
        "accuracy": round(float(np.mean(flat)), 4),
        "mean_label_accuracy": round(float(np.mean([np.mean(v) for v in per_label.values()])), 4),
        "per_label": {k: round(float(np.mean(v)), 3) for k, v in sorted(per_label.items())},
        "confusions": [{"label": k, "got": g, "n": n} for (k, g), n in errors.most_common(10)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpora", type=Path, default=SHARED_DATA, help="folder with bitext-cs-tagged/ and mg-shopdial/"
    )
    parser.add_argument("--repeats", type=int, default=5, help="latency: passes over the own test messages")
    parser.add_argument(
        "--set", choices=("dev", "final", "final2"), default="dev", help="which held-out set (heldout/README.md)"
    )
    args = parser.parse_args()
    console = Console()
    console.print(f"guide NLU on {machine()}")
    own, lexicon = load_examples(split="test"), default_lexicon()
    folder = HELDOUT if args.set == "dev" else HELDOUT / args.set
    sets = {"heldout": heldout_examples("zh", folder) + heldout_examples("en", folder)}
    bitext = [r for r in load_bitext(args.corpora / "bitext-cs-tagged") if r.split == "test"]
    mg = [r for r in load_mgshopdial(args.corpora / "mg-shopdial") if r.split == "test"]
    results: dict = {}
    for name, corpora in (("packaged", None), ("+corpora", args.corpora)):
        train = training_examples(corpora)
        started = time.perf_counter()
        classifier = IntentClassifier().train(train)
        train_s = time.perf_counter() - started
        nlu = NLU(lexicon, classifier)
        r = {"train_examples": len(train), "train_seconds": round(train_s, 1),
             "temperature": round(classifier.temperature_, 3),
             "own": score_single(nlu, own), "heldout": score_single(nlu, sets["heldout"], BRIEF_SLOTS),
             "bitext": score_mapped(nlu, bitext), "mg_acts": score_mapped(nlu, mg, "acts"),
             "mg_goal": score_mapped(nlu, mg, "gold")}  # fmt: skip
        results[name] = r
        console.print(
            f"[bold]{name}[/bold]: {len(train)} training examples, {train_s:.0f} s, T={classifier.temperature_:.2f}"
        )
        for key in ("own", "heldout"):
            for lang, s in r[key].items():
                console.print(f"  {key:8s} {lang}: n={s['n']} acc {s['accuracy']:.3f} macro-F1 {s['macro_f1']:.3f} "
                              f"slot F1 {s['slot_f1']} ECE {s['ece']:.3f}")  # fmt: skip
        for key in ("bitext", "mg_acts", "mg_goal"):
            s = r[key]
            console.print(
                f"  {key:8s} en: n={s['n']} acc {s['accuracy']:.3f} mean per-label {s['mean_label_accuracy']:.3f}"
            )
        if name == "packaged":
            latency = []
            for _ in range(args.repeats):
                for e in own:
                    t0 = time.perf_counter()
                    nlu.understand(e.text, lang=e.lang, context_slots=e.context or None)
                    latency.append((time.perf_counter() - t0) * 1000)
            lat = np.asarray(latency)
            r["latency_ms"] = {
                q: round(float(np.percentile(lat, p)), 3) for q, p in (("p50", 50), ("p95", 95), ("p99", 99))
            }
            console.print(f"  latency per message: {r['latency_ms']} ({len(lat)} calls)")
    data = {"own_test": dict(Counter(e.lang for e in own)), "heldout": dict(Counter(e.lang for e in sets["heldout"])),
            "bitext_test": len(bitext), "mg_test_utterances": len(mg)}  # fmt: skip
    path = write_json(f"guide_nlu_{args.set}", {"heldout_set": args.set, "data": data, "results": results})
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
