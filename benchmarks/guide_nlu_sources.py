"""What one source of the intent training data adds: the packaged classifier trained with and without it.

    .venv/bin/python benchmarks/guide_nlu_sources.py [--source v3-boundaries]

Protocol: the packaged train split of ``guide/data/intents.jsonl`` with and without the lines of ``--source``
(the test split is never trained on); both models scored like ``guide_nlu.py`` on the own test lines of the
other sources (so both see the same test set) and on the older held-out sets ``dev`` and ``final`` (their
slots as in the brief). Prints and writes accuracy and macro-F1 per language.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console

from _common import write_json
from guide_nlu import BRIEF_SLOTS, HELDOUT, heldout_examples, score_single
from shopguide.guide.nlu import NLU, IntentClassifier, default_lexicon, load_examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="v3-boundaries", help="the `source` value of the lines to leave out")
    args = parser.parse_args()
    console = Console()
    added = lambda e: e.source == args.source  # noqa: E731
    train, test = load_examples(split="train"), load_examples(split="test")
    sets = {"own test, other sources": ([e for e in test if not added(e)], None),
            "dev": (heldout_examples("zh", HELDOUT) + heldout_examples("en", HELDOUT), BRIEF_SLOTS),
            "final": (heldout_examples("zh", HELDOUT / "final") + heldout_examples("en", HELDOUT / "final"),
                      BRIEF_SLOTS)}  # fmt: skip
    results = {}
    for name, rows in ((f"without {args.source}", [e for e in train if not added(e)]), (f"with {args.source}", train)):
        started = time.perf_counter()
        nlu = NLU(default_lexicon(), IntentClassifier().train(rows))
        r = {"train_examples": len(rows), "train_seconds": round(time.perf_counter() - started, 1)}
        for key, (examples, slots) in sets.items():
            scores = score_single(nlu, examples, slots)
            r[key] = {lang: {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]} for lang, s in scores.items()}
        results[name] = r
        console.print(name, r)
    write_json("guide_nlu_sources", {"source": args.source, "results": results})


if __name__ == "__main__":
    main()
