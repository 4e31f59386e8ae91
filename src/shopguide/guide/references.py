"""Which items a message is about: "第二个", "the last one", "these two", "the pricier one", "the black one", "it".

Ordinals count in the list shown last. Relative references ("贵的那个", "the cheaper one") and bare pronouns
look first at the items the previous turn talked about (a comparison's pair, the item an answer was about), then
at the list shown: after "compare the first two", "the pricier one" is the pricier of those two, not of the
whole list. A reference by attribute ("the black one", "华为那款") picks the shown item that has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopguide.guide.kg import KnowledgeGraph, as_list
from shopguide.guide.nlu.cues import CHEAPEST, PRICIEST

#: Slots whose value can single out a shown item ("the black one", "the leather one", "Qimu's").
PICK_SLOTS = ("color", "material", "brand", "style")


@dataclass(frozen=True)
class Resolved:
    """The items a message points at, or why it could not be told (``problem``: 'none_shown' / 'out_of_range')."""

    ids: tuple[str, ...] = ()
    problem: str = ""
    count: int = 0


def _by_price(kg: KnowledgeGraph, ids: Sequence[str], which: str) -> str | None:
    """The dearest or cheapest of ``ids``; of equal prices, the one listed first."""
    priced = [(kg.attributes(i).get("price"), n, i) for n, i in enumerate(ids)]
    priced = [(p, n, i) for p, n, i in priced if p is not None]
    if not priced:
        return None
    return (max(priced, key=lambda t: (t[0], -t[1])) if which == PRICIEST else min(priced))[2]


def pick_by_attributes(kg: KnowledgeGraph, ids: Sequence[str], slots: dict[str, Any]) -> list[str]:
    """The items of ``ids`` that have every named attribute value (empty when none names one)."""
    wanted = {k: as_list(slots.get(k)) for k in PICK_SLOTS if slots.get(k)}
    types = as_list(slots.get("product_type"))
    if not wanted and not types:
        return []
    out = []
    for item_id in ids:
        facts = kg.attributes(item_id)
        if types and facts.get("product_type") not in types:
            continue
        if all(
            str(facts.get(k, "")) in map(str, vs) or kg.label(facts.get(k, ""), "en") in vs for k, vs in wanted.items()
        ):
            out.append(item_id)
    return out


def pick_named(kg: KnowledgeGraph, lists: Sequence[Sequence[str]], slots: dict[str, Any]) -> list[str]:
    """:func:`pick_by_attributes` on the first of ``lists`` (newest first) that has a match: "I'll go with the
    purple one" after a list without purple points back at the purple card of the list before."""
    for ids in lists:
        picked = pick_by_attributes(kg, ids, slots)
        if picked:
            return picked
    return []


def resolve(
    kg: KnowledgeGraph,
    refs: Any,
    shown: Sequence[str],
    discussed: Sequence[str] = (),
    focus: str | None = None,
    default: Sequence[int] = (1,),
) -> Resolved:
    """Item ids for the references of a message (see the module docstring); ``default`` when it has none."""
    refs = as_list(refs)
    if not refs:
        if focus and list(default) == [1]:
            return Resolved((focus,))
        if discussed and len(default) <= len(discussed) and list(default) == [1, 2]:
            return Resolved(tuple(discussed[:2]))
        refs = list(default)
    ids: list[str] = []
    for ref in refs:
        if ref in (PRICIEST, CHEAPEST):
            pool = discussed if len(discussed) >= 2 else shown
            if not pool:
                return Resolved(problem="none_shown")
            chosen = _by_price(kg, pool, ref)
            if chosen:
                ids.append(chosen)
            continue
        if not shown:
            return Resolved(problem="none_shown")
        k = int(ref) - 1 if int(ref) > 0 else len(shown) + int(ref)
        if not 0 <= k < len(shown):
            return Resolved(problem="out_of_range", count=len(shown))
        ids.append(shown[k])
    return Resolved(tuple(dict.fromkeys(ids)))
