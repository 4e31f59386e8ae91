"""Select the stc3-helpdesk test messages that are hand-labelled for personal data (benchmarks/data/pii_stc3_labels.jsonl).

    .venv/bin/python benchmarks/pii_sample.py [--out PATH]

Reads test_data_cn.json and test_data_en.json from ../shared/data/stc3-helpdesk (never copied here) and writes
one JSON line per selected message: {"file", "dialogue", "turn", "utterance", "lang", "selected_by"}.
A message is one non-empty utterance. Selected are, in file order:

* every utterance with a signal of possible personal data (SIGNAL_ZH / SIGNAL_EN below: a run of >= 7 digits
  possibly split by spaces or dashes, an @ before a domain-like word, or a keyword such as 电话/地址/号 or
  phone/address/name), selected_by "signal";
* RANDOM_PER_FILE other utterances of each file drawn with random.Random(SEED), selected_by "random", so the
  test also measures false alarms on ordinary text.

The selection is deterministic: the same data always gives the same lines in the same order.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir

SEED = 14
RANDOM_PER_FILE = 50
FILES = {"test_data_cn.json": "zh", "test_data_en.json": "en"}
_DIGITS = r"\d(?:[ \-]?\d){6,}"
_EMAIL = r"@\s?[A-Za-z0-9_-]+\.[A-Za-z]{2,}"
SIGNAL_ZH = re.compile(
    rf"{_DIGITS}|{_EMAIL}|电话|手机|号码|地址|住|路|街|号|室|身份证|卡号|银行卡|姓名|我叫|收件人|联系人|邮箱"
)
SIGNAL_EN = re.compile(rf"{_DIGITS}|{_EMAIL}|\b(?:phone|number|address|street|name|card|e-?mail)s?\b|\bID\b", re.I)


def select(root: Path) -> list[dict]:
    rows: list[dict] = []
    for file, lang in FILES.items():
        signal = SIGNAL_ZH if lang == "zh" else SIGNAL_EN
        hits: list[dict] = []
        others: list[dict] = []
        for dialogue in json.loads((root / file).read_text(encoding="utf-8")):
            for t, turn in enumerate(dialogue["turns"]):
                for u, text in enumerate(turn["utterances"]):
                    if not text.strip():
                        continue
                    row = {"file": file, "dialogue": dialogue["id"], "turn": t, "utterance": u, "lang": lang}
                    (hits if signal.search(text) else others).append(row)
        drawn = set(random.Random(SEED).sample(range(len(others)), min(RANDOM_PER_FILE, len(others))))
        picked = [dict(r, selected_by="signal") for r in hits]
        picked += [dict(others[i], selected_by="random") for i in sorted(drawn)]
        order = {(r["dialogue"], r["turn"], r["utterance"]): i for i, r in enumerate(hits + others)}
        rows += sorted(picked, key=lambda r: order[(r["dialogue"], r["turn"], r["utterance"])])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the JSONL here instead of stdout")
    args = parser.parse_args()
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in select(data_dir("stc3-helpdesk")))
    if args.out:
        args.out.write_text(lines, encoding="utf-8")
    else:
        sys.stdout.write(lines)


if __name__ == "__main__":
    main()
