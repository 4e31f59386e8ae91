"""Public intent corpora mapped onto the guide's intents: Bitext customer service and MG-ShopDial.

Both are read from where they lie (``../shared/data``; their licences forbid copying them into the project) and
split deterministically, so a model may train on one part and be scored on the other, never on the same text:

* **Bitext** (``bitext-cs-tagged``, 4,514 generated English requests, 27 intents): split by a hash of the
  request, 30 % test. Each Bitext intent maps to the guide intents that handle it (:data:`BITEXT_MAP`); the
  first is the training label, any of them counts as right.
* **MG-ShopDial** (``mg-shopdial``, 64 English shopping dialogues typed by people): the shopper's utterances,
  split by dialogue (a hash of its id, about a third test). Its labels are dialogue acts with low agreement
  (an intent is kept when 2 of 5 annotators chose it), so the guide is scored against two mappings:
  ``goal`` (the author-annotated goal of the utterance: search / recommendation -> shopping intents, qa ->
  question intents, meta -> small talk; :data:`MG_GOALS`) and ``acts`` (any act with at least 2 votes, through
  :data:`MG_ACTS`). Training labels for the train dialogues come from the goal and the acts together
  (:func:`mg_training_label`); utterances whose acts say nothing (``other``, no label) are left out.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shopguide.errors import DataError
from shopguide.guide.nlu.dataset import Example
from shopguide.guide.types import Intent

IN = Intent
SHOP = frozenset(
    {IN.FIND_PRODUCT, IN.RECOMMEND, IN.REFINE, IN.GIFT, IN.OUTFIT, IN.COMPARE, IN.ASK_ATTRIBUTE, IN.ACCEPT}
)
QUESTIONS = frozenset({IN.ASK_ATTRIBUTE, IN.COMPARE, IN.PRICE_DISCOUNT, IN.SHIPPING, IN.PAYMENT, IN.AFTER_SALES,
                       IN.ORDER_STATUS, IN.ORDER_CHANGE, IN.INVOICE, IN.USAGE, IN.ACCOUNT})  # fmt: skip
META = frozenset({IN.GREETING, IN.THANKS, IN.CHITCHAT, IN.HUMAN, IN.ACCEPT, IN.OUT_OF_SCOPE})

#: Bitext intent -> the guide intents that handle it (the first is the training label).
BITEXT_MAP: dict[str, tuple[Intent, ...]] = {
    "cancel_order": (IN.ORDER_CHANGE,), "change_order": (IN.ORDER_CHANGE,),
    "change_shipping_address": (IN.ORDER_CHANGE,), "check_cancellation_fee": (IN.ORDER_CHANGE,),
    "check_invoice": (IN.INVOICE,), "get_invoice": (IN.INVOICE,),
    "check_payment_methods": (IN.PAYMENT,), "payment_issue": (IN.PAYMENT,),
    "check_refund_policy": (IN.AFTER_SALES,), "get_refund": (IN.AFTER_SALES,), "track_refund": (IN.AFTER_SALES, IN.PAYMENT),
    "complaint": (IN.AFTER_SALES, IN.HUMAN), "review": (IN.AFTER_SALES, IN.HUMAN),
    "contact_customer_service": (IN.HUMAN,), "contact_human_agent": (IN.HUMAN,),
    "create_account": (IN.ACCOUNT,), "delete_account": (IN.ACCOUNT,), "edit_account": (IN.ACCOUNT,),
    "recover_password": (IN.ACCOUNT,), "registration_problems": (IN.ACCOUNT,), "switch_account": (IN.ACCOUNT,),
    "newsletter_subscription": (IN.ACCOUNT,),
    "delivery_options": (IN.SHIPPING,), "delivery_period": (IN.SHIPPING, IN.ORDER_STATUS),
    "set_up_shipping_address": (IN.ACCOUNT, IN.ORDER_CHANGE),
    "place_order": (IN.FIND_PRODUCT, IN.ACCEPT), "track_order": (IN.ORDER_STATUS,),
}  # fmt: skip
#: MG-ShopDial goal -> the guide intents that pursue it.
MG_GOALS: dict[str, frozenset[Intent]] = {"search": SHOP, "recommendation": SHOP, "qa": QUESTIONS, "meta": META}
#: MG-ShopDial dialogue act (of the shopper) -> the guide intents it can be.
MG_ACTS: dict[str, frozenset[Intent]] = {
    "greeting": frozenset({IN.GREETING, IN.THANKS}),
    "interaction": frozenset({IN.CHITCHAT, IN.THANKS, IN.GREETING, IN.ACCEPT}),
    "disclose": frozenset({IN.FIND_PRODUCT, IN.RECOMMEND, IN.GIFT, IN.REFINE, IN.OUTFIT}),
    "elicit": frozenset({IN.FIND_PRODUCT, IN.RECOMMEND, IN.REFINE, IN.ASK_ATTRIBUTE}),
    "recommend": frozenset({IN.FIND_PRODUCT, IN.RECOMMEND, IN.REFINE}),
    "explain": frozenset({IN.FIND_PRODUCT, IN.REFINE, IN.GIFT, IN.RECOMMEND}),
    "answer": frozenset({IN.FIND_PRODUCT, IN.REFINE, IN.RECOMMEND, IN.GIFT, IN.ACCEPT, IN.CHITCHAT}),
    "o_question": QUESTIONS | {IN.FIND_PRODUCT, IN.RECOMMEND},
    "clarify": QUESTIONS | {IN.FIND_PRODUCT, IN.RECOMMEND, IN.CHITCHAT},
    "pf": frozenset({IN.ACCEPT, IN.THANKS, IN.CHITCHAT}),
    "nf": frozenset({IN.REFINE}),
}
BITEXT_FILE = "bitext-cs-tagged/Bitext_Sample_Customer_Support_Training_Dataset.csv"
MG_FILE = "mg-shopdial/MGShopDial.json"
TEST_SHARE_BITEXT = 0.3
TEST_SHARE_MG = 1 / 3


@dataclass(frozen=True)
class Scored:
    """An utterance from a public corpus: its text, the guide intents that count as right, and its split."""

    text: str
    gold: frozenset[Intent]
    split: str
    label: str  # the corpus's own label(s), for the confusion table
    group: str = ""  # the dialogue it belongs to (MG-ShopDial)
    acts: frozenset[Intent] = frozenset()  # MG-ShopDial: the intents its acts allow


def _bucket(key: str) -> float:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF


def load_bitext(folder: str | Path) -> list[Scored]:
    """Bitext requests with their mapped intents, 30 % held out by a hash of the text."""
    path = Path(folder) / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    if not path.exists():
        raise DataError("the Bitext customer-service CSV is missing", file=str(path))
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), 2):
            intent = row.get("intent", "")
            if intent not in BITEXT_MAP:
                raise DataError(f"unknown Bitext intent {intent!r}", file=str(path), line=line, field="intent")
            text = row["instruction"].strip()
            split = "test" if _bucket(text) < TEST_SHARE_BITEXT else "train"
            out.append(Scored(text, frozenset(BITEXT_MAP[intent]), split, intent))
    return out


def _mg_dialogues(folder: str | Path) -> list[dict]:
    path = Path(folder) / "MGShopDial.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read MG-ShopDial: {exc}", file=str(path)) from None


def mg_training_label(text: str, goal: str, acts: list[str]) -> Intent | None:
    """One guide intent for a train-split shopper utterance (None when its labels say nothing usable)."""
    lowered = text.lower()
    if "nf" in acts:
        return IN.REFINE
    if "pf" in acts and goal != "qa":
        return IN.THANKS if re.search(r"\bthank", lowered) else IN.ACCEPT
    if "greeting" in acts or goal == "meta":
        if re.search(r"\bthank|\bthx\b", lowered):
            return IN.THANKS
        return IN.GREETING if "greeting" in acts else (IN.CHITCHAT if acts else None)
    if goal == "qa":
        return IN.ASK_ATTRIBUTE if {"o_question", "clarify"} & set(acts) else None
    if {"disclose", "elicit", "explain", "answer", "recommend"} & set(acts):
        return IN.FIND_PRODUCT
    if {"o_question", "clarify"} & set(acts):
        return IN.ASK_ATTRIBUTE
    return None


def load_mgshopdial(folder: str | Path) -> list[Scored]:
    """The shoppers' utterances with goal-mapped gold intents, a third of the dialogues held out."""
    out = []
    for dialogue in _mg_dialogues(folder):
        split = "test" if _bucket(str(dialogue["id"])) < TEST_SHARE_MG else "train"
        for u in dialogue["utterances"]:
            text = str(u.get("utterance") or "").strip()
            if u.get("participant") != "Client" or not text:
                continue
            goal = str(u.get("goal") or "")
            acts = [name for name, votes in u.get("intents") or [] if votes >= 2]
            allowed = frozenset().union(*(MG_ACTS[a] for a in acts if a in MG_ACTS)) if acts else frozenset()
            out.append(Scored(text, MG_GOALS.get(goal, frozenset()), split, goal, str(dialogue["id"]), allowed))
    return out


#: The project's own intent labels for the shopper utterances of the MG-ShopDial train dialogues (dialogue id,
#: utterance id, intent; the text stays in the corpus): annotated from the taxonomy, reading each dialogue.
MG_LABELS = Path(__file__).resolve().parent.parent / "data" / "mg_shopdial_labels.jsonl"


def mg_training_examples(folder: str | Path, labels: str | Path | None = MG_LABELS) -> Iterator[Example]:
    """Training examples from the MG-ShopDial train dialogues: the project's labels (``MG_LABELS``) when given,
    else labels derived from the corpus's goal and acts (:func:`mg_training_label`)."""
    own: dict[tuple[str, int], Intent] = {}
    if labels is not None and Path(labels).exists():
        for line in Path(labels).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                own[(str(row["dialogue"]), int(row["utterance_id"]))] = Intent(row["intent"])
    by_text: dict[str, Example] = {}
    for dialogue in _mg_dialogues(folder):
        if _bucket(str(dialogue["id"])) < TEST_SHARE_MG:
            continue
        for u in dialogue["utterances"]:
            text = str(u.get("utterance") or "").strip()
            if u.get("participant") != "Client" or not text:
                continue
            if own:
                label = own.get((str(dialogue["id"]), int(u["utterance_id"])))
            else:
                acts = [name for name, votes in u.get("intents") or [] if votes >= 2]
                label = mg_training_label(text, str(u.get("goal") or ""), acts)
            if label is not None:
                by_text.setdefault(text.lower(), Example(text=text, lang="en", intent=label))
    yield from by_text.values()


def bitext_training_examples(folder: str | Path) -> Iterator[Example]:
    """Training examples from the Bitext train split (the first mapped intent of each request)."""
    for row in load_bitext(folder):
        if row.split == "train":
            yield Example(text=row.text, lang="en", intent=sorted(row.gold, key=list(BITEXT_MAP[row.label]).index)[0])
