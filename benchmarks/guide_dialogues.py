"""Held-out multi-turn conversations, graded turn by turn: does the guide understand people it was not written for?

    .venv/bin/python benchmarks/guide_dialogues.py [--corpora ../shared/data | --no-corpora] [--show-failures]

Data: ``benchmarks/heldout/dialogues_{zh,en}.yaml`` (``--set dev``: 80 conversations, 343 turns),
``final/`` (``--set final``: 74 conversations, 327 turns), ``final2/`` (60 conversations, 254 turns) or
``final3/`` (50 conversations, 203 turns), ``final4/`` (64, 288), ``final5/`` (64, 285), ``final6/`` (60, 263) or ``final7/`` (64, 284), each
written by writers who never saw the code, the training data or
each other's files, from a brief of the situations to cover, the demo catalog's summary and the shop's
policies (``heldout/README.md``). The dev set's failures were read during development; the final set's after
its first score; final2 to final6 were each scored unread, then read (final6 at the start of the fifth session);
final7 was written at the start of the fifth session and is scored unread. ``--without-source v5-register`` trains the intent model without one writer's lines
(what those lines add, on the same conversations).

Protocol: a fresh home with the demo catalog and the start-up model; every conversation in its own session
through ``POST /v1/chat`` in-process (FastAPI TestClient), its language given as the shopper's. Each turn is
graded by ``dialogue_grader.grade_turn`` on every expectation written for it (intent, action, hand-off,
constraints on every card shown, which card the reply names, reply wording alternatives, asking for the order
number, honesty when nothing fits). Reported: the share of turns that pass per language, the share of
conversations that pass entirely, and the failed checks by kind. Target: 85 % of turns. The app is configured
with the benchmark admin key (``admin_key``, ``_common.BENCH_ADMIN_KEY``) and the client sends it with every
turn: the service requires API keys.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from rich.console import Console

from _common import BENCH_ADMIN_KEY, ROOT, SHARED_DATA, bench_auth_headers, machine, write_json
from dialogue_grader import grade_turn, new_list
from shopguide.config import Settings
from shopguide.guide.nlu.intent import IntentClassifier, override_default, training_examples
from shopguide.service.app import create_app
from shopguide.service.state import ServiceState

HELDOUT = ROOT / "benchmarks" / "heldout"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", type=Path, default=SHARED_DATA, help="SHOPGUIDE_NLU_CORPORA for the run")
    parser.add_argument("--no-corpora", action="store_true", help="the packaged intent data only")
    parser.add_argument("--show-failures", action="store_true", help="print every failed turn")
    parser.add_argument("--home", type=Path, default=None, help="reuse a prepared home (default: a fresh one)")
    parser.add_argument(
        "--set",
        choices=("dev", *sorted(p.name for p in HELDOUT.glob("final*") if (p / "dialogues_zh.yaml").exists())),
        default="dev",
        help="which held-out set (heldout/README.md)",
    )
    parser.add_argument("--without-source", default=None, help="train the intent model without this writer's lines")
    args = parser.parse_args()
    console = Console()
    corpora = None if args.no_corpora else args.corpora
    if args.without_source:
        if args.home is not None:
            parser.error("--without-source needs a fresh home (its model must not be cached in a reused one)")
        examples = [e for e in training_examples(corpora) if e.source != args.without_source]
        console.print(f"intent model without {args.without_source!r}: {len(examples)} training examples")
        override_default(IntentClassifier().train(examples), corpora)
    folder = HELDOUT if args.set == "dev" else HELDOUT / args.set
    conversations = [
        conv for lang in ("zh", "en") for conv in yaml.safe_load((folder / f"dialogues_{lang}.yaml").read_text("utf-8"))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        settings = Settings(_env_file=None, home=home, store_url="", nlu_corpora=corpora, admin_key=BENCH_ADMIN_KEY)
        ServiceState.start(settings).close()
        run = uuid.uuid4().hex[:8]  # fresh sessions on every run, also in a reused --home
        turns: Counter[str] = Counter()
        passed: Counter[str] = Counter()
        convs_passed: Counter[str] = Counter()
        failures: Counter[str] = Counter()
        by_lang_fail: dict[str, Counter[str]] = {"zh": Counter(), "en": Counter()}
        degraded = 0
        with TestClient(create_app(settings), headers=bench_auth_headers()) as client:
            catalog = client.app.state.shopguide.models.served.model.dataset_

            def item(item_id: str):
                return catalog.item(catalog.items.index(item_id))

            for conv in conversations:
                lang, previous, ok_all = conv["lang"], [], True
                for n, turn in enumerate(conv["turns"], 1):
                    payload = {"session_id": f"heldout-{run}-{conv['id']}", "message": str(turn["say"]), "lang": lang}
                    body = client.post("/v1/chat", json=payload).json()
                    degraded += bool(body.get("degraded"))
                    fails = grade_turn(body, turn.get("expect") or {}, previous, item)
                    turns[lang] += 1
                    passed[lang] += not fails
                    ok_all &= not fails
                    failures.update(fails)
                    by_lang_fail[lang].update(fails)
                    if fails and args.show_failures:
                        u = body["understood"]
                        console.print(f"[red]{conv['id']} turn {n}[/red] {turn['say']!r} -> {fails}\n"
                                      f"   intent {u['intent']} ({u['confidence']}) action {body['action']} "
                                      f"cards {[c['title'] for c in body['cards']]}\n   {body['reply'][:300]!r}")  # fmt: skip
                    previous = new_list(body, previous)
                convs_passed[lang] += ok_all
    n_convs = Counter(c["lang"] for c in conversations)
    results = {
        lang: {"turns": turns[lang], "turn_pass_rate": round(passed[lang] / turns[lang], 4),
               "conversations": n_convs[lang], "conversation_pass_rate": round(convs_passed[lang] / n_convs[lang], 4),
               "failed_checks": dict(by_lang_fail[lang].most_common())}
        for lang in ("zh", "en")
    }  # fmt: skip
    total = sum(passed.values()) / sum(turns.values())
    for lang, r in results.items():
        console.print(f"{lang}: {r['turn_pass_rate']:.3f} of {r['turns']} turns pass; "
                      f"{r['conversation_pass_rate']:.3f} of {r['conversations']} conversations pass entirely")  # fmt: skip
        console.print(f"    failed checks: {r['failed_checks']}")
    console.print(f"all: {total:.3f} of turns; degraded replies {degraded}; corpora {corpora}; {machine()}")
    variant = (
        f"{'corpora' if corpora else 'packaged'}{'_without_' + args.without_source if args.without_source else ''}"
    )
    path = write_json(f"guide_dialogues_{args.set}_{variant}", {"heldout_set": args.set, "corpora": str(corpora),
                                          "without_source": args.without_source, "turn_pass_rate": round(total, 4),
                                          "degraded": degraded, "by_lang": results,
                                          "failed_checks": dict(failures.most_common())})  # fmt: skip
    console.print(f"wrote {path}")


if __name__ == "__main__":
    os.environ.setdefault("SHOPGUIDE_LOG_LEVEL", "WARNING")
    main()
