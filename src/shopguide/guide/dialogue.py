"""The dialogue manager: one chat turn = understand -> decide what to do -> act -> reply -> remember.

State (see :mod:`.session`) is read from and written back to the store on every turn, so a conversation
survives a restart and any worker can serve the next turn. The actions live in three modules:
:mod:`.shopping` (search, refinements, products and brands the shop does not carry, gifts),
:mod:`.items` (questions about shown items, comparisons, 搭配 plans, similar items, choosing one) and
:mod:`.service` (FAQ answers, after-sales cases, hand-offs with a ticket, small talk).

Deciding what to do: a confident intent is acted on. An unsure one (below ``min_confidence``) falls back on
what the message names (products or attributes: search), then on an FAQ entry that matches by meaning well
(``faq_fallback_threshold``), and otherwise asks the shopper what they need. A turn the guide could not handle
counts as failed; the ``handoff_after`` -th failure in a row hands the conversation to a person, and so does
an angry shopper with an order problem. Every hand-off records a ticket (reason, mood, order number, the
transcript scrubbed of personal data) that the admin API lists.
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
from shopguide.guide.items import SET_BUDGET
from shopguide.guide.kg import KnowledgeGraph, as_list
from shopguide.guide.llm import LLMPhraser
from shopguide.guide.message_cues import BETWEEN_SIZES, IS_IT
from shopguide.guide.nlu.cues import ADD_ITEM
from shopguide.guide.references import PICK_SLOTS, pick_named
from shopguide.guide.retrieval import Retriever
from shopguide.guide.service_cues import LATE_HOUR, MEASURES
from shopguide.guide.session import Session, note_topic, remember
from shopguide.guide.types import SERVICE_INTENTS, SHOPPING_INTENTS, Card, Intent, Understanding
from shopguide.privacy import scrub
from shopguide.store.base import Store, Ticket

log = logging.getLogger(__name__)

#: Actions whose reply an LLM may re-word (never FAQ answers, hand-offs or questions).
PHRASED = frozenset({"results", "similar", "bundle", "compare", "attribute", "no_results", "not_carried"})
#: Intents that, while an after-sales case waits for its order number, are an answer to that question.
CASE_REPLIES = SERVICE_INTENTS | {Intent.CHITCHAT, Intent.OUT_OF_SCOPE}

#: How an elliptical follow-up question starts ("what about ...", "and if ...", "那...呢", "要是...").
FOLLOW_UP = re.compile(r"^(?:and |but |what about |how about |what if |and if |if |那|那如果|如果|要是|还有|另外)")
#: Where a message starts a second request ("..., also do you have power banks?", "……另外有充电宝吗").
ALSO = re.compile(
    r"(?:^|(?<=[,，。.;；!！?？\s]))(?:and also|also|btw|by the way|plus|oh and|另外|还有就是|还有|顺便问一下|顺便问下|顺便|对了)"
    r"(?=[\s,，:：]|$|[\u4e00-\u9fff])"
)
#: Sentence ends, and the spaces Chinese shoppers use as punctuation ("就这个了 能走顺丰不").
_SENTENCES = re.compile(r"[.?!;。？！；]+\s*|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def _sentences(text: str) -> list[str]:
    """The sentences of a message (at least two characters each)."""
    return [c.strip() for c in _SENTENCES.split(text) if len(c.strip()) >= 2]


#: Sentences of one message read on their own for a second question (the rest is left to the next turn).
MAX_CLAUSES = 4
#: Policy questions answered next to the first request of a message (:meth:`DialogueManager._policy_too`).
POLICY_TOO = (Intent.PAYMENT, Intent.SHIPPING, Intent.INVOICE, Intent.PRICE_DISCOUNT)
#: What the guide did when it showed a list a follow-up can narrow.
LISTS = ("results", "no_results", "bundle", "similar", "not_carried")
#: Slots that narrow a list without naming another product.
NARROWING = ("color", "material", "style", "size", "sort", "brand", "price_min", "price_max", "attribute_change")
#: Small talk after a hand-off that asks after the person ("人呢", "anyone there?"), as opposed to "好的 我等着".
WHERE_IS_PERSON = re.compile(r"人呢|人在|有人|客服|人工|还要等|等多久|怎么还没|\bany(?:one|body)\b|\bhuman\b|\bagent\b|"
                             r"\bperson\b|\bstill waiting\b|\bhow long\b|\bhello\?")  # fmt: skip
#: Slots that narrow gift ideas already shown.
GIFT_NARROWING = ("product_type", "category", "price_min", "price_max", "color", "material", "style", "brand",
                  "attribute_change", "sort")  # fmt: skip
#: What the gift's recipient likes ("she's into self care", "他平时爱钓鱼", "喜欢喝茶").
INTEREST = re.compile(
    r"\b(?:into|loves?|likes?|enjoys?|obsessed with|a fan of|big on|hobby|hobbies)\b|爱|喜欢|热衷|迷上|"
    r"平时|爱好|兴趣"
)
#: Asking what to give ("what should i get", "送什么好", "买点啥").
GIFT_ASK = re.compile(
    r"\bwhat (?:should|could|can|do) (?:i|we) (?:get|buy|give)\b|\bwhat to (?:get|buy|give)\b|"
    r"\bgift\b|\bpresent\b|送什么|送啥|买什么好|买点啥|买啥好|送点"
)
#: Asking to be passed to a person (as opposed to asking whether the guide is one).
TRANSFER = re.compile(
    r"转人工|找人工|要人工|接人工|人工客服|\b(?:talk|speak|chat) (?:to|with)\b|\btransfer\b|"
    r"\bconnect me\b|\bget me a\b"
)
#: Intents an elliptical follow-up without a product is mistaken for when read on its own.
SEARCH_LIKE = (Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE)
#: Slots that, named in an unsure message, are enough to search with.
SEARCHABLE = ("product_type", "category", "brand", "price_min", "price_max", "color", "material", "style",
              "recipient", "reference", "unknown_product", "unknown_brand")  # fmt: skip


class NLULike(Protocol):
    def understand(
        self, text: str, *, lang: str | None = None, context_slots: Mapping[str, Any] | None = None
    ) -> Understanding: ...


class MoveChooser(Protocol):
    """Chooses the guide's next move on a vague request: ``"ask"`` a clarifying question or ``"show"`` results
    (None: the guide's own rule, ask once then show). The service's learning loop implements it."""

    def ask_or_show(self, user_id: str | None, session_id: str | None, turns: int) -> str | None: ...


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
    ticket: int | None = Field(default=None, description="The hand-off ticket recorded on this turn.")
    slots: dict[str, Any] = Field(default_factory=dict, description="The session's slots after this turn.")
    negated: dict[str, list[str]] = Field(default_factory=dict)


@dataclass
class Outcome:
    """What an action decided: the reply, its cards, and what the turn means for the conversation."""

    action: str
    text: str
    cards: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    handoff: bool = False
    new_list: bool = True  # the cards replace the list that ordinals refer to
    discussed: list[str] | None = None  # the items this turn talked about (None: the cards, when a new list)
    ticket_reason: str | None = None  # hand over with a ticket for this reason
    ticket: int | None = None
    failed: bool = False  # the guide could not tell what the shopper wants (counts towards a hand-off)
    suggest: str | None = None  # which follow-up suggestions to offer (default: the action's)


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
        min_confidence: float = 0.3,
        faq_threshold: float = 0.3,
        faq_fallback_threshold: float = 0.7,
        faq_unsure_threshold: float = 0.55,
        handoff_after: int = 3,
        phraser: LLMPhraser | None = None,
        chooser: MoveChooser | None = None,
    ) -> None:
        self.kg, self.retriever, self.store, self.nlu, self.faq = kg, retriever, store, nlu, faq
        self.phraser = phraser
        self.chooser = chooser
        self.n_cards, self.min_confidence = n_cards, min_confidence
        self.faq_threshold, self.faq_fallback_threshold = faq_threshold, faq_fallback_threshold
        self.faq_unsure_threshold = faq_unsure_threshold
        self.handoff_after = handoff_after

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

    def turn(
        self, session_id: str, user_id: str | None, message: str, lang: str | None = None, client_id: str | None = None
    ) -> ChatReply:
        """Answer one message of a conversation and persist the new state. ``client_id``: the id the client
        knows the conversation by, when ``session_id`` is the key it is stored under."""
        s = self.load(session_id, user_id)
        s.client_id = client_id or s.client_id
        u = self.nlu.understand(message, lang=lang, context_slots=dict(s.slots))
        u = self._choice_first(s, u, lang)
        lang = lang or u.lang or s.lang
        s.lang = lang
        remember(s, "shopper", message)
        intent, out = self._act(s, u, lang)
        if intent in SERVICE_INTENTS and not out.cards:
            note_topic(s, u)  # "do u do VAT invoices for 10 mugs" then "ok show me white ones": white mugs
        also = self._second_request(s, u, intent, out, lang)
        if also is not None:  # a product asked for next to a service question: its cards come with the answer
            out.cards, out.reasons, out.new_list, out.discussed = also.cards, also.reasons, True, None
        elif (policy := self._policy_too(s, u, out, lang)) is not None:
            out.text = f"{out.text}\n{policy}"  # "I'll take it, can I pay in instalments?": both answered
        reported = intent
        narrows = any(u.negated.values()) or any(u.slots.get(k) for k in GIFT_NARROWING)
        if (
            intent == Intent.GIFT
            and s.last_intent == Intent.GIFT
            and not u.slots.get("recipient")
            and narrows
            and (s.last_action in ("results", "no_results") or any(u.negated.values()) or u.slots.get("sort"))
        ):
            reported = Intent.REFINE  # narrowing the gift ideas shown ("under 100 tho", "she already has candles")
        if reported == Intent.REFINE and s.last_intent in SERVICE_INTENTS and u.slots.get("product_type"):
            reported = Intent.FIND_PRODUCT  # "ok now the bedding, light blue" after an order problem: a new request
        if reported != u.intent:  # what the message means in this conversation ("订单号 123" after a complaint)
            u = u.model_copy(update={"intent": reported})
        s.failed = s.failed + 1 if out.failed else 0
        if s.failed >= self.handoff_after and not out.handoff:
            out = Outcome("handoff", "", handoff=True, ticket_reason="repeated_failure", new_list=False)
        if self.phraser is not None and out.action in PHRASED:
            out.text = self.phraser.phrase(out.text, lang)
        if out.cards and out.new_list:
            if list(out.cards) != s.shown:
                s.earlier_shown = s.shown
            s.shown = list(out.cards)
            s.focus = s.focus if out.action in ("bundle", "similar") else None
        s.discussed = list(out.discussed if out.discussed is not None else (out.cards if out.new_list else s.discussed))
        if out.ticket_reason:
            self._hand_over(s, u, out, lang)
        elif intent in SHOPPING_INTENTS and not out.failed:
            s.handed_off = False  # back to shopping with the guide
        if also is not None:
            out.text = f"{out.text}\n{also.text}" if out.text else also.text
        remember(s, "guide", out.text)
        s.last_intent, s.last_action, s.turns = intent, out.action, s.turns + 1
        self.store.put_session(session_id, s.model_dump(mode="json"))
        cards = [self._card(i, out.reasons.get(i, ""), lang) for i in out.cards]
        return ChatReply(
            session_id=session_id, lang=lang, reply=out.text, cards=[c for c in cards if c], understood=u,
            action=out.action, handoff=out.handoff, ticket=out.ticket,
            suggestions=A.suggestions(out.suggest or out.action, lang), slots=dict(s.slots), negated=dict(s.negated),
        )  # fmt: skip

    def _card(self, item_id: str, reason: str, lang: str) -> Card | None:
        meta = self.kg.item(item_id)
        return Card(id=item_id, title=self.kg.title(item_id, lang), price=meta.price, reason=reason) if meta else None

    # ------------------------------------------------------------------ hand-off tickets
    def _hand_over(self, s: Session, u: Understanding, out: Outcome, lang: str) -> None:
        """Record a ticket for a person (once per hand-off) and say so in the reply."""
        from shopguide.guide.service import handoff_text

        if s.handed_off and out.ticket_reason not in ("angry", "repeated_failure") and not s.case.get("order_id"):
            out.text = out.text or A.say("already_handed_off", lang)
            out.handoff = True
            return
        reason = s.case.get("reason") or out.ticket_reason or "human"
        transcript = tuple(dict(t) for t in s.history)  # masked when remembered
        ticket = self.store.add_ticket(
            Ticket(session_id=s.client_id or s.session_id, reason=str(reason), sentiment=s.case.get("sentiment") or u.sentiment,
                   user_id=s.user_id, order_id=s.case.get("order_id"), summary=scrub(u.text, lang)[:300],
                   transcript=transcript)
        )  # fmt: skip
        out.ticket = ticket.id
        out.text = handoff_text(out, ticket.id, s, lang)  # also decides whether a person takes over now
        s.handed_off, s.case = out.handoff, {}
        s.last_ticket, s.last_case_reason = ticket.id, str(reason)

    def _choice_first(self, s: Session, u: Understanding, lang: str | None) -> Understanding:
        """A choice followed by a policy question ("就要第二个了 可以开发票吗", "ok that one, do u ship to hk"):
        the choice is acted on (its first sentence read alone) and the question answered after it
        (:meth:`_policy_too`), rather than the question alone."""
        if u.intent not in POLICY_TOO or not s.shown:
            return u
        clauses = _sentences(u.text)
        if len(clauses) < 2:
            return u
        first = self.nlu.understand(clauses[0], lang=lang, context_slots=dict(s.slots))
        if first.intent != Intent.ACCEPT or first.confidence < 0.8:
            return u
        return first.model_copy(update={"text": u.text})

    def _policy_too(self, s: Session, u: Understanding, out: Outcome, lang: str) -> str | None:
        """The answer to a policy question asked after the message's first request ("ill take the purple one.
        can i pay in installments?", "就这个了 能走顺丰不", "how fast can it get there? ... can i pay extra for SF?"):
        each later sentence is read on its own, and the first confident payment, shipping, invoice or discount
        question whose FAQ entry is not already in the reply has that entry's answer added."""
        if self.faq is None or out.handoff or out.action not in ("accept", "faq", "results", "no_results", "attribute"):
            return None
        clauses = _sentences(u.text)
        if len(clauses) < 2:
            return None
        for clause in clauses[:MAX_CLAUSES]:  # each clause costs one more understand() under the turn's deadline
            v = self.nlu.understand(clause, lang=lang, context_slots=dict(s.slots))
            asked = v.intent
            if asked == Intent.ORDER_STATUS and u.intent == Intent.SHIPPING and not u.slots.get("order_id"):
                asked = Intent.SHIPPING  # "when would it arrive?" next to a courier question: before ordering
            if asked not in POLICY_TOO or v.confidence < 0.6:
                continue
            hit = self.faq.best(clause, intent=asked.value)
            if hit is None or hit.score < self.faq_unsure_threshold or hit.entry.handoff:
                continue
            answer = hit.entry.text(lang)
            if answer not in out.text:
                return answer
        return None

    def _second_request(self, s: Session, u: Understanding, intent: Intent, out: Outcome, lang: str) -> Outcome | None:
        """A search for the product a service message also asks about ("the charger broke, also do you have
        power banks?"): each clause around "also / 另外 / 顺便" is read on its own, and the first that asks
        for a product gets its results (only next to a policy answer or an after-sales question, never an
        angry shopper's or a hand-off)."""
        from shopguide.guide import shopping

        chat = out.action == "chitchat" and intent == Intent.CHITCHAT  # "are you a bot? also do you sell phone cases"
        if (
            (intent not in SERVICE_INTENTS and not chat)
            or out.handoff
            or out.cards
            or out.action not in ("after_sales", "faq", "chitchat")
        ):
            return None
        if out.ticket_reason == "angry" or u.sentiment == "angry":
            return None
        marks = list(ALSO.finditer(u.text.lower()))
        if not marks:
            return None
        bounds = [0, *(b for m in marks for b in (m.start(), m.end())), len(u.text)]
        for start, end in zip(bounds[::2], bounds[1::2], strict=True):
            clause = u.text[start:end].strip(" ,，。.;；:：")
            if len(clause) < 2:
                continue
            v = self.nlu.understand(clause, lang=lang, context_slots=dict(s.slots))
            named = v.slots.get("product_type") or v.slots.get("category")
            if v.intent in (Intent.FIND_PRODUCT, Intent.RECOMMEND) and named:
                found = shopping.find(self, s, v, lang, v.intent)
                return found if found.action in ("results", "not_carried") else None
        return None

    # ------------------------------------------------------------------ dispatch
    def _intent(self, s: Session, u: Understanding) -> Intent | Outcome:
        """The intent to act on: an unsure one falls back on the slots, a confident FAQ entry, or a question."""
        from shopguide.guide import service

        intent, lang = u.intent, s.lang
        cued = self._cued(s, u)
        if cued is not None:
            return cued
        if u.confidence < self.min_confidence and intent not in (Intent.GREETING, Intent.THANKS):
            if any(u.slots.get(k) for k in SEARCHABLE) or any(u.negated.values()):
                if intent not in SHOPPING_INTENTS:  # unsure, but the message names products: search with them
                    return Intent.GIFT if s.last_intent == Intent.GIFT else Intent.FIND_PRODUCT
            elif intent not in SHOPPING_INTENTS:
                for within, threshold in (
                    (intent.value, self.faq_unsure_threshold),
                    (None, self.faq_fallback_threshold),
                ):
                    hit = self.faq.best(u.text, intent=within) if self.faq else None
                    if hit is not None and hit.score >= threshold and (within is None or within in hit.entry.intents):
                        return service.faq_outcome(self, s, u, lang, hit)
                return Outcome("clarify", A.say("clarify_intent", lang), new_list=False, failed=True)
        if u.slots.get("order_id") and s.last_intent == Intent.AFTER_SALES and intent in CASE_REPLIES:
            return Intent.AFTER_SALES  # an order number right after an after-sales question: that case
        quiet = not any(u.slots.get(k) for k in SEARCHABLE) and not any(u.negated.values())
        hours = service.PEOPLE_HOURS.search(text := u.normalized or u.text.lower()) or LATE_HOUR.search(text)
        asks_person = intent == Intent.HUMAN or (intent == Intent.CHITCHAT and WHERE_IS_PERSON.search(u.text.lower()))
        if s.handed_off and quiet and asks_person and not hours:
            return Outcome("handoff", A.say("already_handed_off", lang), handoff=True, new_list=False)  # "人呢"
        if s.case.get("asked") and intent not in (Intent.HUMAN, Intent.THANKS, Intent.GREETING) and quiet:
            return Intent.AFTER_SALES  # the reply to "what is your order number?" ("I don't have it")
        if s.case and intent != Intent.HUMAN and (u.slots.get("order_id") or intent in CASE_REPLIES):
            return Intent.AFTER_SALES  # the answer to "what is your order number?" (or "I don't know it")
        if s.case and intent in SHOPPING_INTENTS:
            s.case = {}  # back to shopping: the open case is dropped
        if intent in (Intent.CHITCHAT, Intent.OUT_OF_SCOPE, Intent.GREETING) and hours:
            return Intent.HUMAN  # "你们几点有人": the people's hours (answered by :func:`service.human`)
        if intent == Intent.ACCEPT and not u.slots.get("reference") and len(s.shown) > 1 and not s.focus:
            picked = pick_named(self.kg, (s.shown, s.earlier_shown), u.slots)
            if len(picked) != 1 and any(u.slots.get(k) for k in PICK_SLOTS):
                return Intent.REFINE  # "那就黑色吧" with no black card shown (or several): a list of black ones
        if intent in (Intent.REFINE, Intent.FIND_PRODUCT) and service.BARGAIN.search(text) and not self._names_more(u):
            return Intent.PRICE_DISCOUNT  # "能便宜点不": haggling, not a search for cheaper items
        if self._follows_service_topic(s, u, intent):
            return s.last_intent  # "能开纸质的吗" right after an invoice answer is about invoices too
        if (
            s.last_intent == Intent.GIFT
            and (
                intent in SEARCH_LIKE
                or (intent == Intent.OUTFIT and u.confidence < 0.5 and not u.slots.get("reference"))
            )
            and (not (u.slots.get("product_type") or u.slots.get("category")) or INTEREST.search(text))
        ):
            return Intent.GIFT  # the answer to the gift question ("500以内", "for my dad", "she's into candles")
        if intent == Intent.RECOMMEND and u.slots.get("recipient") and GIFT_ASK.search(text):
            return Intent.GIFT  # "my coworker just had a baby, what should i get"
        if intent == Intent.FIND_PRODUCT and s.shown and s.last_action in LISTS and self._narrows_shown(s, u):
            return Intent.REFINE  # "not black pls" / "皮鞋有棕的吗" right after a list with shoes: that list, narrowed
        return intent

    def _narrows_shown(self, s: Session, u: Understanding) -> bool:
        """Whether a message only narrows what is shown (a colour, a rejection, a price), naming no product or
        only a type among the cards shown."""
        if u.slots.get("unknown_product") or u.slots.get("unknown_brand") or u.slots.get("category"):
            return False
        named = as_list(u.slots.get("product_type"))
        if (
            named
        ):  # "皮鞋有棕的吗 黑的我有了" rules something out of the shoes shown; "show me yellow wellies" asks anew
            return set(named) <= self.kg.types_of(s.shown) and any(u.negated.values())
        return any(u.negated.values()) or any(u.slots.get(k) for k in NARROWING)

    def _cued(self, s: Session, u: Understanding) -> Intent | None:
        """An intent the message's wording decides whatever the model guessed (:mod:`.service_cues`)."""
        from shopguide.guide import service
        from shopguide.guide import service_cues as cues

        text, intent = u.normalized or u.text.lower(), u.intent
        if cues.BOT_QUESTION.search(text) and not TRANSFER.search(text):
            return Intent.CHITCHAT  # "你是真人还是机器人": about the guide, not a request for a person
        if cues.medical_question(text) and intent not in (Intent.AFTER_SALES, Intent.ORDER_STATUS, Intent.HUMAN):
            return Intent.OUT_OF_SCOPE  # "is it safe for diabetics to eat every day?": for a doctor, not the shop
        if intent == Intent.OUT_OF_SCOPE and s.shown and MEASURES.search(text):
            return Intent.ASK_ATTRIBUTE  # "能测血压不" about the watches shown: what the product can do
        if BETWEEN_SIZES.search(text) and intent not in SERVICE_INTENTS:
            return Intent.ASK_ATTRIBUTE  # "im between an M and an L, which should i go for": the size guide
        named = set(as_list(u.slots.get("product_type")))
        if (
            s.shown
            and IS_IT.search(text)
            and intent in (*SEARCH_LIKE, Intent.ACCEPT)
            and named <= self.kg.types_of(s.shown)
        ):
            return Intent.ASK_ATTRIBUTE  # "第一个是真皮的不" / "这几个都是几岁玩的": about the cards shown
        if intent == Intent.ACCEPT and not u.slots.get("reference"):
            earlier = self.kg.types_of([*s.shown, *s.earlier_shown])
            if u.slots.get("unknown_product") or (named and not named <= earlier):
                return Intent.FIND_PRODUCT  # "那就杯子吧" / "睡袋也要 来两个": a product not shown is a new request
        if (
            intent == Intent.COMPARE
            and named
            and not u.slots.get("reference")
            and not named & self.kg.types_of(s.shown)
        ):
            return Intent.FIND_PRODUCT  # "瑜伽垫哪个好 别超100" before any mat was shown: the good ones, shown
        priced_set = len(named) >= 2 and u.slots.get("price_max") is not None and not u.slots.get("reference")
        if intent in (*SEARCH_LIKE, Intent.GIFT) and priced_set and SET_BUDGET.search(text):
            return Intent.OUTFIT  # "tea and honey for her, around 300 for both": one of each within the total
        if TRANSFER.search(text) and intent == Intent.AFTER_SALES:
            return Intent.HUMAN  # "充电宝坏了 找客服没人理 给我转人工!!!": a person asked for beats the problem
        no_order = not u.slots.get("order_id")
        if cues.COURIER_WHICH.search(text) and no_order and intent != Intent.HUMAN:
            return Intent.SHIPPING  # "你们发的中通还是韵达啊 我查不到": which courier, not where a parcel is
        if cues.ARRIVE_BY.search(text) and no_order and intent not in SERVICE_INTENTS and not cues.REPORT.search(text):
            return Intent.SHIPPING  # "今天下单 520前能到不": delivery time, not a property of the item shown
        if cues.ORDER_ITEM_CHANGE.search(text) and intent not in (Intent.HUMAN, Intent.AFTER_SALES) and not s.case:
            return Intent.ORDER_CHANGE  # "单里那件T恤能从M换成L不": the order changes, not a size question
        closing = cues.GOODBYE_END.search(text) and len(text) <= 24 and not self._names_more(u)
        if closing and intent not in (Intent.HUMAN, Intent.THANKS, Intent.AFTER_SALES, Intent.GREETING):
            return Intent.GREETING  # "好吧 那等等看 886": closing the conversation
        first = ALSO.split(text, maxsplit=1)[0]
        reported = service.PROBLEM.search(first) and cues.REPORT.search(first)
        rejecting = any(u.negated.values()) and bool(s.slots.get("product_type") or s.slots.get("category"))
        wrong_sent = cues.WRONG_SENT.search(first) and intent in (Intent.ORDER_STATUS, Intent.SHIPPING)
        if wrong_sent and not u.slots.get("order_id"):
            return Intent.AFTER_SALES  # "ordered 42s and recieved 40s": a wrong item, not where the parcel is
        if s.last_intent == Intent.ORDER_CHANGE and ADD_ITEM.search(text) and cues.TO_ORDER.search(text):
            return Intent.ORDER_CHANGE  # "can i add socks to that one instead of cancelling": the order changes
        if intent not in SERVICE_INTENTS and not rejecting and (reported or cues.WRONG_SENT.search(first)):
            return Intent.AFTER_SALES  # "my blanket came with a stain. also ..." / "拍的37码 寄来个39的"
        pinned = cues.pinned_faq(text)
        if pinned is not None and intent != pinned.intent:
            sure_elsewhere = intent in SERVICE_INTENTS and intent != Intent.SHIPPING and u.confidence >= 0.9
            if not sure_elsewhere and not (pinned.intent == Intent.PRICE_DISCOUNT and intent == Intent.AFTER_SALES):
                return pinned.intent  # "寄回去的运费谁出" (not the shipping fee), "别家便宜一百" (not a search)
        after_case = s.last_case_reason in service.CASE_REASONS  # not an order look-up or a payment hand-off
        if (
            u.slots.get("order_id")
            and s.handed_off
            and after_case
            and not s.case
            and intent in CASE_REPLIES | {Intent.GREETING}
        ):
            return Intent.AFTER_SALES  # the order number for the colleague the shopper was passed to
        if s.last_ticket and not s.case and cues.CASE_WAIT.search(text) and intent in CASE_REPLIES | {Intent.HUMAN}:
            return Intent.AFTER_SALES  # "how long till someone gets back to me" about the case just recorded
        if s.last_intent == Intent.SHIPPING and cues.REGION_ONLY.match(text.strip()):
            return Intent.SHIPPING  # "taiwan?" after a delivery question
        if s.last_intent == Intent.ORDER_CHANGE and cues.SHIP_STATE.search(text) and not u.slots.get("order_id"):
            return Intent.ORDER_CHANGE  # "还没发货呢" after "can I change the address?": the answer depends on it
        if (
            s.last_intent == Intent.OUTFIT
            and cues.SWAP.search(text)
            and (u.slots.get("product_type") or u.slots.get("category"))
        ):
            return Intent.REFINE  # "can u swap the shoes for brown ones": that piece, in brown
        return None

    @staticmethod
    def _names_more(u: Understanding) -> bool:
        """Whether a message names something to search for beyond a price direction (a product, colour, brand...)."""
        return any(u.slots.get(k) for k in SEARCHABLE if k != "reference") or any(u.negated.values())

    def _follows_service_topic(self, s: Session, u: Understanding, intent: Intent) -> bool:
        """Whether a question continues the previous turn's service topic: an elliptical follow-up ("what about
        Singapore?", "那纸质的呢") that names no product, or an unsure service question that the previous topic's
        FAQ entries answer at least as well as the new intent's."""
        from shopguide.guide.service import ACK, LATER

        last = s.last_intent
        if self.faq is None or last not in SERVICE_INTENTS or intent == last:
            return False
        text = (u.normalized or u.text.lower()).strip()
        if intent == Intent.CHITCHAT and (ACK.match(text) or LATER.search(text)):
            return False  # "ok 我先看看" after a policy answer closes the topic
        if FOLLOW_UP.match(text) and not u.slots.get("product_type"):
            vague = intent in (Intent.OUT_OF_SCOPE, Intent.CHITCHAT, *SEARCH_LIKE) and not self._names_more(u)
            if vague or u.confidence < 0.6:  # "那纸质的呢" / "and what about Canada" alone look like a search
                return True
        if u.confidence >= 0.9 or intent not in SERVICE_INTENTS | {Intent.CHITCHAT}:
            return False
        before, now = self.faq.best(u.text, intent=last.value), self.faq.best(u.text, intent=intent.value)
        if before is None or last.value not in before.entry.intents:
            return False
        return now is None or intent.value not in now.entry.intents or before.score >= now.score

    def _act(self, s: Session, u: Understanding, lang: str) -> tuple[Intent, Outcome]:
        from shopguide.guide import items, service, shopping

        intent = self._intent(s, u)
        if isinstance(intent, Outcome):
            return u.intent, intent
        handlers = {
            Intent.GREETING: service.small_talk, Intent.THANKS: service.small_talk, Intent.CHITCHAT: service.small_talk,
            Intent.OUT_OF_SCOPE: service.out_of_scope, Intent.HUMAN: service.human,
            Intent.ORDER_STATUS: service.order_status, Intent.AFTER_SALES: service.after_sales,
            Intent.COMPARE: items.compare, Intent.ASK_ATTRIBUTE: items.attribute, Intent.OUTFIT: items.outfit,
            Intent.ACCEPT: items.accept, Intent.GIFT: shopping.gift,
        }  # fmt: skip
        handler = handlers.get(intent)
        if handler is not None:
            return intent, handler(self, s, u, lang)
        if intent in (Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE):
            return intent, shopping.find(self, s, u, lang, intent)
        return intent, service.faq(self, s, u, lang, intent)  # price, shipping, order changes, invoices ...
