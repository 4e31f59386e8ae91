"""The dialogue manager: one chat turn = understand -> fold into the session's state -> act -> reply.

State (slots, negations, the cards shown, the clarifying questions already asked; see :mod:`.session` for
how a message folds into it) is read from and written back to the store (``get_session`` /
``put_session``) on every turn, so a conversation survives a restart and any worker can serve the next
turn. Slots carry over and get refined; a new product type starts a new search topic. Ordinal references
("the second one", 第二个) resolve to the cards shown last. A request too vague to search gets one
clarifying question; after that the guide searches with what it has. Actions: search (retrieval by slots,
re-ranked by the shopper's recommender scores), personal recommendations, gift ideas, compare, attribute
answers, 搭配 bundles, similar items (knowledge graph), FAQ, hand-off to a human, small talk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from shopguide.guide import answers as A
from shopguide.guide.faq import FAQ
from shopguide.guide.kg import KnowledgeGraph, as_list
from shopguide.guide.llm import LLMPhraser
from shopguide.guide.retrieval import Retriever
from shopguide.guide.session import SCOPE, TOPIC_SLOTS, Session, change, merge, sort_bound
from shopguide.guide.types import Card, Intent, Understanding
from shopguide.store.base import Store

log = logging.getLogger(__name__)

SEARCH_INTENTS = frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE})
SMALL_TALK = {Intent.GREETING: "greeting", Intent.THANKS: "thanks", Intent.CHITCHAT: "chitchat"}
ATTRIBUTE_ALIASES = {"colour": "color", "sizes": "size", "review": "reviews", "rating": "reviews",
                     "type": "product_type"}  # fmt: skip
#: Actions whose reply an LLM may re-word (never FAQ answers, hand-offs or questions).
PHRASED = frozenset({"results", "similar", "bundle", "compare", "attribute", "no_results"})
SIMILAR = re.compile(r"类似|相似|差不多|同款|\bsimilar\b|\balike\b|\blike (?:it|that|this)\b")
CHEAPER = re.compile(r"便宜|实惠|\bcheaper\b|\bless expensive\b|\bmore affordable\b")
SHOPPING = frozenset({*SEARCH_INTENTS, Intent.ASK_ATTRIBUTE, Intent.COMPARE, Intent.OUTFIT, Intent.GIFT})


class NLULike(Protocol):
    def understand(
        self, text: str, *, lang: str | None = None, context_slots: Mapping[str, Any] | None = None
    ) -> Understanding: ...


class ChatReply(BaseModel):
    """What one turn answers."""

    session_id: str
    lang: str
    reply: str
    cards: list[Card] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)
    understood: Understanding
    action: str
    handoff: bool = False
    slots: dict[str, Any] = Field(default_factory=dict, description="The session's slots after this turn.")
    negated: dict[str, list[str]] = Field(default_factory=dict)


@dataclass
class Outcome:
    action: str
    text: str
    cards: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    handoff: bool = False
    new_list: bool = True  # the cards replace the list that ordinals refer to


class DialogueManager:
    """Runs chat turns against one served model's knowledge graph, FAQ, search and recommender."""

    def __init__(
        self,
        kg: KnowledgeGraph,
        retriever: Retriever,
        store: Store,
        nlu: NLULike,
        faq: FAQ | None = None,
        *,
        n_cards: int = 4,
        min_confidence: float = 0.35,
        faq_threshold: float = 0.3,
        faq_fallback_threshold: float = 0.5,
        phraser: LLMPhraser | None = None,
    ) -> None:
        self.kg, self.retriever, self.store, self.nlu, self.faq = kg, retriever, store, nlu, faq
        self.phraser = phraser
        self.n_cards, self.min_confidence = n_cards, min_confidence
        self.faq_threshold, self.faq_fallback_threshold = faq_threshold, faq_fallback_threshold

    # ------------------------------------------------------------------ state
    def load(self, session_id: str, user_id: str | None = None) -> Session:
        """The session's state (a fresh one when unknown or unreadable)."""
        raw = self.store.get_session(session_id)
        try:
            session = Session.model_validate(raw) if raw else Session(session_id=session_id)
        except ValidationError:
            log.warning("unreadable chat session state; starting afresh", extra={"session": session_id})
            session = Session(session_id=session_id)
        session.user_id = user_id or session.user_id
        return session

    def turn(self, session_id: str, user_id: str | None, message: str, lang: str | None = None) -> ChatReply:
        """Answer one message of a conversation and persist the new state."""
        s = self.load(session_id, user_id)
        u = self.nlu.understand(message, lang=lang, context_slots=dict(s.slots))
        lang = lang or u.lang or s.lang
        s.lang = lang
        intent, out = self._act(s, u, lang)
        if self.phraser is not None and out.action in PHRASED:
            out.text = self.phraser.phrase(out.text, lang)
        if out.cards and out.new_list:
            s.shown = list(out.cards)
            s.focus = s.focus if out.action in ("bundle", "similar") else None
        s.last_intent, s.turns = intent, s.turns + 1
        self.store.put_session(session_id, s.model_dump(mode="json"))
        cards = [self._card(i, out.reasons.get(i, ""), lang) for i in out.cards]
        return ChatReply(
            session_id=session_id, lang=lang, reply=out.text, cards=[c for c in cards if c], understood=u,
            action=out.action, handoff=out.handoff, suggestions=A.suggestions(out.action, lang),
            slots=dict(s.slots), negated=dict(s.negated),
        )  # fmt: skip

    def _card(self, item_id: str, reason: str, lang: str) -> Card | None:
        meta = self.kg.item(item_id)
        return Card(id=item_id, title=self.kg.title(item_id, lang), price=meta.price, reason=reason) if meta else None

    # ------------------------------------------------------------------ dispatch
    def _intent(self, s: Session, u: Understanding) -> Intent | Outcome:
        """The intent to act on: low confidence falls back to the slots, a confident FAQ entry, or a human."""
        intent, lang = u.intent, s.lang
        if u.confidence < self.min_confidence and intent not in (Intent.GREETING, Intent.THANKS):
            if any(u.slots.get(k) for k in (*SCOPE, "color", "material", "style", "recipient", "reference")):
                if intent not in SHOPPING:  # unsure, but the message names products: search with them
                    return Intent.GIFT if s.last_intent == Intent.GIFT else Intent.FIND_PRODUCT
            elif intent not in SHOPPING:
                hit = self.faq.best(u.text) if self.faq else None
                if hit is None or hit.score < self.faq_fallback_threshold:
                    return Outcome("handoff", A.say("handoff", lang), handoff=True)
                return Outcome("faq", hit.entry.text(lang), handoff=hit.entry.handoff)
        if s.last_intent == Intent.GIFT and intent in SEARCH_INTENTS and not u.slots.get("product_type"):
            return Intent.GIFT  # the answer to the gift question ("500以内" / "for my dad")
        if (
            intent == Intent.PRICE_DISCOUNT
            and s.shown
            and any(s.slots.get(k) for k in SCOPE)
            and CHEAPER.search(u.text)
        ):
            u.slots["sort"] = "cheaper"  # "有便宜点的吗" while browsing: a refinement, not a coupon question
            return Intent.REFINE
        return intent

    def _act(self, s: Session, u: Understanding, lang: str) -> tuple[Intent, Outcome]:
        intent = self._intent(s, u)
        if isinstance(intent, Outcome):
            return u.intent, intent
        if intent in SMALL_TALK:
            return intent, Outcome(SMALL_TALK[intent], A.say(SMALL_TALK[intent], lang))
        if intent in (Intent.HUMAN, Intent.ORDER_STATUS):
            entry = self.faq.get("order_status") if self.faq and intent == Intent.ORDER_STATUS else None
            return intent, Outcome("handoff", entry.text(lang) if entry else A.say("handoff", lang), handoff=True)
        handlers = {Intent.COMPARE: self._compare, Intent.ASK_ATTRIBUTE: self._attribute, Intent.OUTFIT: self._outfit,
                    Intent.GIFT: self._gift, Intent.SHIPPING_RETURNS: self._faq, Intent.PRICE_DISCOUNT: self._faq}  # fmt: skip
        handler = handlers.get(intent)
        return intent, handler(s, u, lang) if handler else self._find(s, u, lang, intent)

    def _refs(self, s: Session, u: Understanding, default: list[int]) -> list[str] | Outcome:
        """Item ids of the ordinal references (1-based; negative counts from the end), or a question."""
        refs = u.slots.get("reference") or []
        refs = [refs] if isinstance(refs, int) else list(refs)
        if not refs:
            if s.focus and default == [1]:
                return [s.focus]
            refs = default
        if not s.shown:
            return Outcome("clarify", A.say("ask_which", s.lang))
        ids = []
        for r in refs:
            k = int(r) - 1 if int(r) > 0 else len(s.shown) + int(r)
            if not 0 <= k < len(s.shown):
                return Outcome("clarify", A.out_of_range(len(s.shown), s.lang))
            ids.append(s.shown[k])
        return list(dict.fromkeys(ids))

    # ------------------------------------------------------------------ actions
    def _find(self, s: Session, u: Understanding, lang: str, intent: Intent) -> Outcome:
        if u.slots.get("reference") and not any(u.slots.get(k) for k in (*SCOPE, "color", "material", "style")):
            similar = bool(SIMILAR.search(u.text.lower())) or intent == Intent.RECOMMEND
            return self._similar(s, u, lang) if similar else self._attribute(s, u, lang)
        unknown = u.slots.get("unknown_product")
        if unknown and not any(u.slots.get(k) for k in SCOPE):
            return Outcome("not_carried", A.say("not_carried", lang, what=unknown))
        changed = merge(s, u) | change(s, as_list(u.slots.get("attribute_change")), self.kg)
        note = sort_bound(s, u.slots.get("sort"), self.kg, self.retriever.any_match)
        note = A.say(note, lang) if note else ""
        if not any(s.slots.get(k) for k in SCOPE):
            if intent == Intent.RECOMMEND or "vague" in s.asked:
                ids, reasons = self.retriever.personal(s.user_id, s.slots, s.negated, self.n_cards, lang)
                return Outcome("results", A.personal(self.kg, ids, lang), ids, reasons)
            s.asked.append("vague")
            return Outcome("clarify", A.say("ask_vague", lang))
        more = "items" in as_list(u.slots.get("attribute_change")) or (not changed and intent == Intent.REFINE)
        exclude = s.shown if more and not u.slots.get("sort") else []
        sort = u.slots.get("sort")
        found = self.retriever.search(s.slots, s.negated, s.user_id, n=self.n_cards, text=u.text, sort=sort,
                                      exclude=exclude, lang=lang)  # fmt: skip
        what = A.describe(self.kg, s.slots, s.negated, lang)
        if not found.ids:
            return self._no_results(s, what, lang)
        text = A.results(self.kg, found.ids, what, lang, relaxed=found.relaxed, note=note)
        return Outcome("results", text, found.ids, found.reasons)

    def _no_results(self, s: Session, what: str, lang: str) -> Outcome:
        """Nothing fits: say so, and when the budget was the obstacle show the closest prices there are."""
        text = A.say("no_results", lang, what=what)
        lo, hi = s.slots.get("price_min"), s.slots.get("price_max")
        if lo is None and hi is None:
            return Outcome("no_results", text)
        open_budget = {k: v for k, v in s.slots.items() if k not in ("price_min", "price_max")}
        sort = "cheaper" if hi is not None else "more_expensive"
        near = self.retriever.search(open_budget, s.negated, s.user_id, n=self.n_cards, sort=sort, lang=lang)
        if not near.ids:
            return Outcome("no_results", text)
        text += "\n" + A.nearest(self.kg, near.ids, lang)
        return Outcome("no_results", text, near.ids, near.reasons)

    def _gift(self, s: Session, u: Understanding, lang: str) -> Outcome:
        if s.last_intent != Intent.GIFT:  # a new gift request starts a new topic
            for key in (*TOPIC_SLOTS, "recipient", "gender"):
                s.slots.pop(key, None)
            s.negated = {}
            s.asked = [a for a in s.asked if a != "gift"]
        merge(s, u)
        self.retriever.gift_hints(s.slots)
        missing = [k for k, ok in (("recipient", s.slots.get("recipient")),
                                   ("budget", s.slots.get("price_max") or s.slots.get("price_min"))) if not ok]  # fmt: skip
        if missing and "gift" not in s.asked:
            s.asked.append("gift")
            key = "ask_gift" if len(missing) == 2 else f"ask_gift_{missing[0]}"
            return Outcome("gift", A.say(key, lang))
        found = self.retriever.search(s.slots, s.negated, s.user_id, n=self.n_cards, gift=True, lang=lang)
        what = A.describe(self.kg, s.slots, s.negated, lang)
        if not found.ids:
            return Outcome("no_results", A.say("no_results", lang, what=what))
        who = A.recipient(s.slots["recipient"], lang) if s.slots.get("recipient") else ""
        return Outcome("results", A.gift(self.kg, found.ids, who, s.slots, lang), found.ids, found.reasons)

    def _compare(self, s: Session, u: Understanding, lang: str) -> Outcome:
        ids = self._refs(s, u, [1, 2])
        if isinstance(ids, Outcome):
            return ids
        if len(ids) == 1 and s.focus and s.focus != ids[0]:
            ids = [s.focus, ids[0]]
        if len(ids) < 2:
            return Outcome("clarify", A.say("need_two", lang))
        return Outcome("compare", A.comparison(self.kg, ids, lang), ids, new_list=False)

    def _attribute(self, s: Session, u: Understanding, lang: str) -> Outcome:
        if not u.slots.get("attribute_asked") and SIMILAR.search(u.text.lower()):
            return self._similar(s, u, lang)  # "anything similar to the first one?"
        name = u.slots.get("attribute_asked")
        name = name[0] if isinstance(name, list) and name else name
        name = ATTRIBUTE_ALIASES.get(str(name), name) if name else None
        noun = (as_list(u.slots.get("product_type")) or as_list(u.slots.get("category")) or [None])[0]
        if noun and not u.slots.get("reference") and name in self.kg.columns and self.kg.has_category(noun):
            options = self.kg.values_of(name, self.kg.select(product_type=noun))
            return Outcome("attribute", A.values(self.kg, noun, name, options, lang))
        ids = self._refs(s, u, [1])
        if isinstance(ids, Outcome):
            return ids
        s.focus = ids[-1]
        if not name:
            return Outcome("attribute", "\n".join(A.details(self.kg, i, lang) for i in ids), ids, new_list=False)
        buyers = {i: int(self.kg.popularity[self.kg.index(i)]) for i in ids}
        text = "\n".join(A.attribute(self.kg, i, name, lang, buyers=buyers[i]) for i in ids)
        return Outcome("attribute", text, ids, new_list=False)

    def _anchor(self, s: Session, u: Understanding) -> str | Outcome:
        if u.slots.get("reference") or s.focus or s.shown:
            ids = self._refs(s, u, [1])
            return ids if isinstance(ids, Outcome) else ids[0]
        noun = u.slots.get("product_type") or u.slots.get("category")
        if noun:
            found = self.retriever.search({"product_type": noun}, {}, s.user_id, n=1, text=u.text)
            if found.ids:
                return found.ids[0]
        return Outcome("clarify", A.say("ask_which", s.lang))

    def _outfit(self, s: Session, u: Understanding, lang: str) -> Outcome:
        anchor = self._anchor(s, u)
        if isinstance(anchor, Outcome):
            return anchor
        s.focus = anchor
        own = self.kg.attributes(anchor).get("product_type")
        target = (as_list(u.slots.get("product_type")) or as_list(u.slots.get("category")) or [None])[0]
        target = target if target and target != own and self.kg.has_category(target) else None
        recs = self.kg.complements(anchor, self.n_cards, exclude=self.retriever.deleted, product_type=target)
        if not recs and target:
            recs = self.kg.complements(anchor, self.n_cards, exclude=self.retriever.deleted)
        reasons = {r.item: r.reason.text(lang) for r in recs}
        ids = list(reasons)
        return Outcome("bundle", A.bundle(self.kg, anchor, ids, reasons, lang), ids, reasons)

    def _similar(self, s: Session, u: Understanding, lang: str) -> Outcome:
        anchor = self._anchor(s, u)
        if isinstance(anchor, Outcome):
            return anchor
        s.focus = anchor
        recs = self.kg.substitutes(anchor, self.n_cards, exclude=self.retriever.deleted)
        reasons = {r.item: r.reason.text(lang) for r in recs}
        return Outcome("similar", A.similar(self.kg, anchor, list(reasons), lang), list(reasons), reasons)

    def _faq(self, s: Session, u: Understanding, lang: str) -> Outcome:
        hit = self.faq.best(u.text) if self.faq else None
        if hit is None or hit.score < self.faq_threshold:
            return Outcome("handoff", A.say("handoff", lang), handoff=True)
        text = hit.entry.text(lang)
        refs = self._refs(s, u, [1]) if u.slots.get("reference") else [s.focus] if s.focus else []
        if u.intent == Intent.PRICE_DISCOUNT and isinstance(refs, list) and refs and self.kg.item(refs[0]):
            text = A.price_note(self.kg, refs[0], lang) + "\n" + text  # "第二个有优惠吗": its price, then the policy
        return Outcome("faq", text, handoff=hit.entry.handoff)
