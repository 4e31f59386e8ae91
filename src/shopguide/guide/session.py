"""A conversation's state and how each message folds into it.

The state is the shared :class:`~shopguide.guide.types.DialogueState` plus the item the shopper is talking
about. Folding rules: the message's slots refine the running ones; naming another product type or category
starts a new topic (its attributes and budget reset; who the shopper is and shops for stays), and so does
naming a category after a product type ("再推荐点零食" after nuts); a product named in a service question
("10 mugs, can I get an invoice?") becomes the topic (:func:`note_topic`); a value
ruled out ("不要黑色") leaves the wishes and a value wished for leaves the negations; "another colour"
rules out the current colours; "cheaper" / "more expensive" become a budget bound relative to the cards
shown. Request-only slots (references, the attribute asked about, the sort) are never carried over. Earlier
topics are kept on a small stack: coming back to one ("那刚才的衬衫呢") brings back its wishes and rejections.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import Field

from shopguide.guide.kg import KnowledgeGraph, as_list
from shopguide.guide.types import DialogueState, Understanding
from shopguide.privacy import scrub

#: Slots that describe one request rather than the shopper's running wishes (never carried over).
TRANSIENT = ("reference", "attribute_asked", "sort", "attribute_change", "unknown_product", "unknown_brand", "order_id")
#: Attributes a shopper can ask to change ("换个颜色"): the current values are ruled out.
CHANGEABLE = ("color", "brand", "style", "material")
#: Slots dropped when the shopper moves to another product type or category.
TOPIC_SLOTS = ("product_type", "category", "brand", "color", "material", "style", "size", "price_min", "price_max")
#: Attributes a "cheaper" / "pricier" request may give up when nothing else is cheaper (said in the reply).
SOFT_ATTRIBUTES = ("color", "style", "material")
#: Slots that make a request specific enough to search (without one, the guide asks once).
SCOPE = ("product_type", "category", "brand", "price_min", "price_max")


#: Turns of the conversation kept for a hand-off ticket (scrubbed of personal data when the ticket is written).
HISTORY_TURNS = 12
#: Earlier search topics kept to come back to ("回到刚才的衬衫").
MAX_TOPICS = 4


class Session(DialogueState):
    """The persisted state: the shared DialogueState plus what the guide needs across turns."""

    focus: str | None = Field(default=None, description="The item the last question was about.")
    discussed: list[str] = Field(
        default_factory=list,
        description="The items the last turn talked about (a comparison's pair, an attribute answer's item): "
        "'the pricier one' and 'both' resolve against these before the list shown.",
    )
    earlier_shown: list[str] = Field(
        default_factory=list,
        description="The list shown before the current one: 'I'll go with the purple one' may mean a card of it.",
    )
    topics: list[dict[str, Any]] = Field(
        default_factory=list, description="Earlier search topics (slots, negations, cards), newest last."
    )
    failed: int = Field(default=0, description="Turns in a row the guide could not handle.")
    history: list[dict[str, str]] = Field(default_factory=list, description="The last turns, for a hand-off ticket.")
    case: dict[str, Any] = Field(
        default_factory=dict, description="An open after-sales case: reason, order id, whether the number was asked."
    )
    last_action: str | None = Field(
        default=None, description="What the guide did on the last turn (results, clarify...)."
    )
    last_ticket: int | None = Field(default=None, description="The last after-sales or hand-off ticket recorded.")
    last_case_reason: str | None = Field(default=None, description="Why the last after-sales case was opened.")
    handed_off: bool = Field(default=False, description="A person has been asked to take over this conversation.")
    client_id: str | None = Field(
        default=None,
        description="The id the client uses for this conversation when the service stores it under an owner-bound "
        "key (service/routes/chat.py): what a hand-off ticket shows.",
    )


def push_topic(s: Session) -> None:
    """Keep the current search topic (slots, negations, cards) on the stack before a new one starts."""
    if any(s.slots.get(k) for k in ("product_type", "category")):
        s.topics.append({"slots": dict(s.slots), "negated": dict(s.negated), "shown": list(s.shown)})
        del s.topics[:-MAX_TOPICS]


def resume_topic(s: Session, key: str, value: Any) -> bool:
    """Coming back to an earlier topic ("那衬衫呢" after phones): its wishes and rejections return with it."""
    for k in range(len(s.topics) - 1, -1, -1):
        earlier = s.topics[k]
        if earlier["slots"].get(key) == value:
            s.slots.update({k2: v for k2, v in earlier["slots"].items() if k2 in TOPIC_SLOTS})
            s.negated = {k2: list(v) for k2, v in earlier["negated"].items()}
            del s.topics[k]
            return True
    return False


def remember(s: Session, role: str, text: str) -> None:
    """Append one message to the conversation history kept for a ticket (personal data masked first: the
    session is stored)."""
    s.history.append({"role": role, "text": scrub(text[:500], s.lang)})
    del s.history[: -2 * HISTORY_TURNS]


def merge(s: Session, u: Understanding) -> bool:
    """Fold the message's slots and negations into the state; True when anything changed."""
    new = {k: v for k, v in u.slots.items() if k not in TRANSIENT and v not in (None, "", [])}
    before = (dict(s.slots), {k: list(v) for k, v in s.negated.items()})
    topic = next((k for k in ("product_type", "category") if new.get(k)), None)
    broader = topic == "category" and s.slots.get("product_type")  # "再推荐点零食" after nuts: the category anew
    if topic and (broader or (s.slots.get(topic) and new[topic] != s.slots[topic])):  # another product: a new topic
        push_topic(s)
        for key in TOPIC_SLOTS:
            s.slots.pop(key, None)
        s.negated = {}
        resume_topic(s, topic, new[topic])
    if new.get("product_type") and not new.get("category"):
        s.slots.pop("category", None)  # a product type is more specific than the category asked before it
    s.slots.update(new)
    for key, values in u.negated.items():
        kept = s.negated.setdefault(key, [])
        kept += [v for v in values if v not in kept]
        if key in s.slots:  # a value ruled out now leaves the wishes
            left = [v for v in as_list(s.slots[key]) if v not in values]
            if left:
                s.slots[key] = left if len(left) > 1 else left[0]
            else:
                s.slots.pop(key)
    for key, value in new.items():  # a value wished for now is no longer ruled out
        if key in s.negated:
            s.negated[key] = [v for v in s.negated[key] if v not in as_list(value)]
    s.negated = {k: v for k, v in s.negated.items() if v}
    return (s.slots, s.negated) != before


def note_topic(s: Session, u: Understanding) -> None:
    """A product named in a service question ("buying 10 mugs, can I get an invoice?", "the scarf I got as a
    present, can I return it?") becomes the topic that a later "show me white ones" narrows."""
    named = {k: v for k, v in u.slots.items() if k in TOPIC_SLOTS and v not in (None, "", [])}
    if named.get("product_type") or named.get("category"):
        merge(s, u.model_copy(update={"slots": named, "negated": {}}))


def change(s: Session, keys: Sequence[str], kg: KnowledgeGraph) -> bool:
    """'Another colour' / 'a different brand': rule out the current values (the slot's, else the cards')."""
    changed = False
    for key in (k for k in keys if k in CHANGEABLE):
        current = as_list(s.slots.pop(key, None))
        if not current:
            facts = (kg.attributes(i) for i in s.shown)
            current = list(dict.fromkeys(f[key] for f in facts if f.get(key)))
        kept = s.negated.setdefault(key, [])
        kept += [v for v in current if v not in kept]
        changed = changed or bool(current)
    s.negated = {k: v for k, v in s.negated.items() if v}
    return changed


def sort_bound(
    s: Session,
    sort: str | None,
    kg: KnowledgeGraph,
    any_match: Callable[[Mapping[str, Any], Mapping[str, Sequence[str]]], bool],
) -> str:
    """'Cheaper' / 'more expensive' become a budget bound: beyond every card shown when the catalog has such
    items, else beyond their average, in another colour, style or material when only that finds one. Returns ''
    or the key of a note ('cheapest' / 'dearest': nothing further; 'cheaper_relaxed' / 'dearer_relaxed')."""
    prices = [p for p in (kg.attributes(i).get("price") for i in s.shown) if p is not None]
    if sort not in ("cheaper", "more_expensive") or not prices:
        return ""
    cheaper = sort == "cheaper"
    key, other = ("price_max", "price_min") if cheaper else ("price_min", "price_max")
    mean = sum(prices) / len(prices)
    bounds = (  # never the dearest (cheapest) card shown itself: one card's mean is its own price
        (math.ceil(min(prices)) - 1, min(math.floor(mean), math.ceil(max(prices)) - 1))
        if cheaper
        else (math.floor(max(prices)) + 1, max(math.ceil(mean), math.floor(min(prices)) + 1))
    )
    current = s.slots.get(key)
    for soft in ((), SOFT_ATTRIBUTES):  # then "similar but cheaper": in another colour or style if need be
        base = {k: v for k, v in s.slots.items() if k not in soft}
        for bound in map(float, bounds):
            if current is not None and (bound > current if cheaper else bound < current):
                bound = float(current)  # "cheaper" never raises the shopper's own cap (nor "dearer" lowers a floor)
            if any_match({**base, key: bound, other: None}, s.negated):
                dropped = [k for k in soft if s.slots.get(k)]
                for k in dropped:
                    s.slots.pop(k)
                s.slots[key] = bound
                s.slots.pop(other, None)
                return ("cheaper_relaxed" if cheaper else "dearer_relaxed") if dropped else ""
    return "cheapest" if cheaper else "dearest"
