"""How well :func:`shopguide.privacy.find_pii` finds personal data, per type, on labelled text it was not tuned on.

    .venv/bin/python benchmarks/privacy_scrub.py [--data ../shared/data] [--labels benchmarks/data] [--json OUT]

Label files (one JSON object a line; offsets are Python ``str`` indices; ``"spans": []`` is a message with no
personal data; types: phone, email, id_number, card, address, name):

* ``pii_stc3_labels.jsonl``: ``{"file": "test_data_cn.json", "dialogue": id, "turn": i, "utterance": j, "lang",
  "spans"}``, the text read at run time from ``<data>/stc3-helpdesk/<file>`` (real Weibo customer-helpdesk
  messages, never copied into the repository); skipped, with a message, when that folder is absent;
* ``pii_own.jsonl``: ``{"text", "lang", "spans"}``, text written for this benchmark.

The rules were written from text of our own and from the STC-3 *train* files; these labels come from the test
files and were written by someone else, so they are held out.

Scores, per type and for each file and both together:

* ``exact``: a predicted span is right when a labelled span has the same start, end and type;
* ``overlap``: a predicted span is right when it overlaps a labelled span of its type, and a labelled span is
  found when a predicted span of its type overlaps it (a looser boundary, e.g. with or without "No." or a city);
* row ``masked``: type ignored, overlap matching - is the personal data masked at all, and is what is masked
  personal data.

Precision = right predictions / predictions, recall = found labels / labels (support), F1 their harmonic mean.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _common import ROOT, SHARED_DATA, git_commit, machine, write_json
from shopguide.privacy import find_pii
from shopguide.privacy.scrub import PII_TYPES

LABELS = ROOT / "benchmarks" / "data"
STC3_LABELS, OWN_LABELS = "pii_stc3_labels.jsonl", "pii_own.jsonl"
console = Console(width=max(Console().width, 100))  # the table stays readable when piped

Span = tuple[int, int, str]


@dataclass
class Example:
    text: str
    lang: str
    gold: list[Span]
    where: str  # file:line, for error messages


@dataclass
class Counts:
    """True positives of predictions and of labels (they differ under overlap matching), and the totals."""

    pred_right: Counter = field(default_factory=Counter)
    gold_found: Counter = field(default_factory=Counter)
    pred: Counter = field(default_factory=Counter)
    gold: Counter = field(default_factory=Counter)

    def add(self, other: Counts) -> None:
        for mine, theirs in zip(vars(self).values(), vars(other).values(), strict=True):
            mine.update(theirs)


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON ({exc})") from exc
    return rows


def checked_spans(row: dict, text: str, where: str) -> list[Span]:
    spans = []
    for span in row.get("spans", []):
        start, end, kind = span["start"], span["end"], span["type"]
        if kind not in PII_TYPES or not 0 <= start < end <= len(text):
            raise SystemExit(f"{where}: bad span {span} for a text of {len(text)} characters")
        spans.append((start, end, kind))
    return spans


def load_stc3(path: Path, data: Path) -> list[Example]:
    folder = data / "stc3-helpdesk"
    dialogues: dict[str, dict[str, dict]] = {}
    examples = []
    for number, row in read_jsonl(path):
        where = f"{path.name}:{number}"
        if row["file"] not in dialogues:
            dialogues[row["file"]] = {str(d["id"]): d for d in json.loads((folder / row["file"]).read_text("utf-8"))}
        try:
            turn = dialogues[row["file"]][str(row["dialogue"])]["turns"][row["turn"]]
            text = turn["utterances"][row["utterance"]]
        except (KeyError, IndexError) as exc:
            raise SystemExit(f"{where}: no such utterance in {row['file']} ({exc!r})") from exc
        examples.append(Example(text, row.get("lang", ""), checked_spans(row, text, where), where))
    return examples


def load_own(path: Path) -> list[Example]:
    examples = []
    for number, row in read_jsonl(path):
        where = f"{path.name}:{number}"
        examples.append(Example(row["text"], row.get("lang", ""), checked_spans(row, row["text"], where), where))
    return examples


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(examples: list[Example]) -> tuple[dict[str, Counts], float]:
    """Counts per matching mode ("exact", "overlap", "masked") and the seconds find_pii took."""
    counts = {mode: Counts() for mode in ("exact", "overlap", "masked")}
    seconds = 0.0
    for ex in examples:
        started = time.perf_counter()
        pred = [(s.start, s.end, s.type) for s in find_pii(ex.text, ex.lang or None)]
        seconds += time.perf_counter() - started
        for mode, c in counts.items():
            c.pred.update(key(p, mode) for p in pred)
            c.gold.update(key(g, mode) for g in ex.gold)
            c.pred_right.update(key(p, mode) for p in pred if any(matches(p, g, mode) for g in ex.gold))
            c.gold_found.update(key(g, mode) for g in ex.gold if any(matches(p, g, mode) for p in pred))
    return counts, seconds


def key(span: Span, mode: str) -> str:
    return "masked" if mode == "masked" else span[2]


def matches(pred: Span, gold: Span, mode: str) -> bool:
    if mode == "exact":
        return pred == gold
    return overlaps(pred, gold) and (mode == "masked" or pred[2] == gold[2])


def prf(c: Counts, kind: str) -> dict[str, float | int]:
    p = c.pred_right[kind] / c.pred[kind] if c.pred[kind] else 0.0
    r = c.gold_found[kind] / c.gold[kind] if c.gold[kind] else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"support": c.gold[kind], "predicted": c.pred[kind], "precision": p, "recall": r, "f1": f1}


def report(name: str, counts: dict[str, Counts], n: int, seconds: float) -> dict:
    table = Table(title=f"{name}: {n} messages, find_pii {n / seconds if seconds else 0:,.0f} messages/s")
    for column in ("type", "support", "pred", "exact P", "exact R", "exact F1", "overlap P", "overlap R", "overlap F1"):
        table.add_column(column, justify="left" if column == "type" else "right")
    rows: dict[str, dict] = {}
    for kind in (*PII_TYPES, "masked"):
        exact = prf(counts["exact"], kind) if kind != "masked" else None
        loose = prf(counts["masked" if kind == "masked" else "overlap"], kind)
        if not loose["support"] and not loose["predicted"]:
            continue
        rows[kind] = {"support": loose["support"], "predicted": loose["predicted"], "overlap": loose}
        cells = ["", "", ""] if exact is None else [f"{exact[m]:.3f}" for m in ("precision", "recall", "f1")]
        if exact is not None:
            rows[kind]["exact"] = exact
        table.add_row(kind, str(loose["support"]), str(loose["predicted"]), *cells,
                      *(f"{loose[m]:.3f}" for m in ("precision", "recall", "f1")))  # fmt: skip
    console.print(table)
    return {"messages": n, "messages_per_second": n / seconds if seconds else None, "types": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared data folder (stc3-helpdesk/)")
    parser.add_argument("--labels", type=Path, default=LABELS, help="folder of the label files")
    parser.add_argument("--json", type=Path, default=None, help="write the scores here (default benchmarks/out/)")
    args = parser.parse_args()

    sets: dict[str, list[Example]] = {}
    stc3, own = args.labels / STC3_LABELS, args.labels / OWN_LABELS
    if not stc3.exists():
        console.print(f"[yellow]skipping STC-3: no label file {stc3}[/]")
    elif not (args.data / "stc3-helpdesk").is_dir():
        console.print(f"[yellow]skipping STC-3: no data folder {args.data / 'stc3-helpdesk'} (pass --data)[/]")
    else:
        sets["stc3"] = load_stc3(stc3, args.data)
    if own.exists():
        sets["own"] = load_own(own)
    else:
        console.print(f"[yellow]skipping own: no label file {own}[/]")
    if not sets:
        raise SystemExit("no labelled data to score")

    results, total, total_seconds = {}, {m: Counts() for m in ("exact", "overlap", "masked")}, 0.0
    for name, examples in sets.items():
        counts, seconds = score(examples)
        results[name] = report(name, counts, len(examples), seconds)
        for mode, c in counts.items():
            total[mode].add(c)
        total_seconds += seconds
    if len(sets) > 1:
        results["both"] = report("both", total, sum(map(len, sets.values())), total_seconds)

    payload = {
        "protocol": "span-level precision/recall of find_pii per type; exact = same start, end and type; "
        "overlap = overlapping span of the same type; masked = overlap, any type",
        "label_files": {name: os.path.relpath(stc3 if name == "stc3" else own, ROOT) for name in sets},
        "results": results,
    }
    if args.json is None:
        path = write_json("privacy_scrub", payload)
    else:
        path = args.json
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"machine": machine(), "commit": git_commit(), **payload}, indent=2))
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
