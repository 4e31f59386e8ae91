"""Grading one chat turn against the expectations of ``benchmarks/heldout/dialogues_*.yaml``.

The expectation keys are those of the brief the held-out writers worked from (see ``heldout/README.md``): intent,
action, handoff, cards (constraints every card must meet), mentions, reply_has_any / _all, reply_lacks,
asks_order_number, honest. A turn passes when every expectation written for it holds; each failed check is
named so the benchmark can count failures by kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from shopguide.data.demo import BRAND_NAMES

ORDER_NUMBER = re.compile(r"订单号|单号|order (?:number|no\.?|#|id)", re.IGNORECASE)
SAYS_NO = re.compile(
    r"没有|暂无|暂时没|不卖|没找到|找不到|没写|没有写|不能|无法|抱歉|"
    r"\bdon'?t\b|\bdo not\b|\bdoesn'?t\b|\bnot\b|\bno\b|\bcouldn'?t\b|\bcan'?t\b|\bisn'?t\b|\baren'?t\b|\bsorry\b|"
    r"\bunfortunately\b",
    re.IGNORECASE,
)
LABELLED = re.compile(r"供参考|替代|相近|类似|最接近|也可以看看|alternative|instead|closest|related|similar|just in case",
                      re.IGNORECASE)  # fmt: skip


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _brand_matches(item: Any, wanted: str) -> bool:
    names = {item.brand or "", BRAND_NAMES.get(item.brand or "", "")}
    return str(wanted).lower() in {n.lower() for n in names if n}


def check_cards(cards: list[dict], expect: dict, previous: list[dict], item: Callable[[str], Any]) -> list[str]:
    """The card constraints that fail (empty when all hold)."""
    fails = []
    if expect.get("none") and cards:
        fails.append("cards.none")
    if len(cards) < int(expect.get("min", 0)):
        fails.append("cards.min")
    for card in cards:
        it = item(card["id"])
        color = it.attributes.get("color")
        checks = {
            "product_type": lambda v, it=it: it.leaf_category in _as_list(v),
            "category": lambda v, it=it: bool(set(_as_list(v)) & set(it.category)),
            "price_max": lambda v, it=it: it.price is not None and it.price <= float(v),
            "price_min": lambda v, it=it: it.price is not None and it.price >= float(v),
            "brand": lambda v, it=it: _brand_matches(it, v),
            "not_brand": lambda v, it=it: not any(_brand_matches(it, b) for b in _as_list(v)),
            "color": lambda v, c=color: c in _as_list(v),
            "not_color": lambda v, c=color: c not in _as_list(v),
        }
        for key, ok in checks.items():
            if key in expect and not ok(expect[key]) and f"cards.{key}" not in fails:
                fails.append(f"cards.{key}")
    prices = [c["price"] for c in cards if c.get("price") is not None]
    if expect.get("cheaper_than_previous"):
        dearest = max((c["price"] for c in previous if c.get("price") is not None), default=None)
        if dearest is None or not cards or any(p >= dearest for p in prices):
            fails.append("cards.cheaper_than_previous")
    if expect.get("disjoint_from_previous") and {c["id"] for c in cards} & {c["id"] for c in previous}:
        fails.append("cards.disjoint_from_previous")
    if "total_price_max" in expect and (not cards or sum(prices) > float(expect["total_price_max"])):
        fails.append("cards.total_price_max")
    return fails


def _mentioned(which: str, previous: list[dict]) -> dict | None:
    priced = [c for c in previous if c.get("price") is not None]
    picks: dict[str, Callable[[], dict | None]] = {
        "first": lambda: previous[0] if previous else None,
        "second": lambda: previous[1] if len(previous) > 1 else None,
        "third": lambda: previous[2] if len(previous) > 2 else None,
        "last": lambda: previous[-1] if previous else None,
        "cheapest": lambda: min(priced, key=lambda c: c["price"]) if priced else None,
        "most_expensive": lambda: max(priced, key=lambda c: c["price"]) if priced else None,
    }
    return picks.get(which, lambda: None)()


def grade_turn(body: dict, expect: dict, previous: list[dict], item: Callable[[str], Any]) -> list[str]:
    """Every expectation of ``expect`` that the reply ``body`` misses (empty: the turn passes)."""
    fails = []
    reply = body["reply"]
    low = reply.lower()
    if "intent" in expect and body["understood"]["intent"] not in _as_list(expect["intent"]):
        fails.append("intent")
    action = body["action"]
    if "action" in expect and action not in _as_list(expect["action"]):
        fails.append("action")
    if "handoff" in expect and bool(body["handoff"]) != bool(expect["handoff"]):
        fails.append("handoff")
    if isinstance(expect.get("cards"), dict):
        fails += check_cards(body["cards"], expect["cards"], previous, item)
    for key, negate in (("mentions", False), ("not_mentions", True)):
        for which in _as_list(expect.get(key) or []):
            card = _mentioned(which, previous)
            named = card is not None and card["title"].lower() in low
            if named == negate or (card is None and not negate):
                fails.append(key)
    if expect.get("reply_has_any") and not any(str(t).lower() in low for t in expect["reply_has_any"]):
        fails.append("reply_has_any")
    if expect.get("reply_has_all") and not all(str(t).lower() in low for t in expect["reply_has_all"]):
        fails.append("reply_has_all")
    if any(str(t).lower() in low for t in expect.get("reply_lacks") or []):
        fails.append("reply_lacks")
    if expect.get("asks_order_number") and not ORDER_NUMBER.search(reply):
        fails.append("asks_order_number")
    if expect.get("honest"):
        plain = bool(SAYS_NO.search(reply))
        labelled = not body["cards"] or action in ("no_results", "not_carried") or bool(LABELLED.search(reply))
        if not (plain and labelled):
            fails.append("honest")
    return fails


def new_list(body: dict, previous: Sequence[dict]) -> list[dict]:
    """The list a later turn's "previous list" refers to after ``body`` (see the brief)."""
    if body["cards"] and body["action"] in ("results", "bundle", "similar", "no_results", "not_carried"):
        return list(body["cards"])
    return list(previous)
