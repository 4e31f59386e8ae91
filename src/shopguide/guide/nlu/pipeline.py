"""The NLU pipeline: one message in, an :class:`~shopguide.guide.types.Understanding` out.

normalise -> detect the language -> extract slots (lexicon, prices, sizes, references, negation,
refinements) -> classify the intent (rules, then the model) -> settle REFINE against the conversation's
context -> keep the slots that make sense for the intent.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from shopguide.guide.nlu.intent import IntentClassifier, load_default
from shopguide.guide.nlu.lang import detect_language
from shopguide.guide.nlu.lexicon import PRODUCT_SLOTS, Lexicon, default_lexicon
from shopguide.guide.nlu.normalize import normalize_text
from shopguide.guide.nlu.slots import SlotExtractor
from shopguide.guide.types import Intent, Understanding

#: Intents that carry no slots at all.
SILENT = frozenset({Intent.GREETING, Intent.THANKS, Intent.CHITCHAT, Intent.HUMAN})
#: Service questions keep only what identifies the product (and, for prices, which card).
SERVICE = {
    Intent.SHIPPING_RETURNS: frozenset({"product_type", "category", "brand"}),
    Intent.ORDER_STATUS: frozenset({"product_type", "category", "brand"}),
    Intent.PRICE_DISCOUNT: frozenset({"product_type", "category", "brand", "reference"}),
}
#: Slots that only make sense for some intents.
ONLY_FOR = {
    "sort": frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE, Intent.GIFT, Intent.OUTFIT}),
    "attribute_change": frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE}),
    "attribute_asked": frozenset({Intent.ASK_ATTRIBUTE}),
    "unknown_product": frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.GIFT}),
}
#: Slots that narrow a result list already shown (with context, a message made only of these refines it).
FILTER_SLOTS = frozenset({"color", "material", "brand", "style", "size", "price_min", "price_max", "gender",
                          "season", "occasion", "sort", "attribute_change"})  # fmt: skip
SEARCH_INTENTS = frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE})
#: Intents a message naming a product is unlikely to have; a tagged product overrides them below this confidence.
NOT_SHOPPING = frozenset({Intent.ORDER_STATUS, Intent.CHITCHAT, Intent.GREETING, Intent.THANKS, Intent.HUMAN})
TAGGED_OVERRIDE = 0.7


def _same_product(slots: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """True when the message names no product, or the product the conversation is already about."""
    return all(slots[slot] == context.get(slot) for slot in PRODUCT_SLOTS if slot in slots)


class NLU:
    """Understands shopper messages in Chinese and English."""

    def __init__(
        self, lexicon: Lexicon | None = None, classifier: IntentClassifier | None = None, tagger: Any = None
    ) -> None:
        """``tagger``: an optional :class:`~shopguide.guide.ner.ProductTagger` for Chinese product words
        the catalog lexicon does not know."""
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        self.classifier = classifier if classifier is not None else load_default()
        self.extractor = SlotExtractor(self.lexicon)
        self.tagger = tagger

    def _tagged_product(self, text: str) -> dict[str, str]:
        """Product slots from the learned tagger: a catalog value when the lexicon knows the words, else
        ``unknown_product`` (so the guide can say the shop does not carry it instead of guessing)."""
        for entity in self.tagger.tag(text):
            if entity.type != "HCCX":
                continue
            known = [(slot, value) for slot, value in self.lexicon.lookup(entity.text) if slot in PRODUCT_SLOTS]
            return {known[0][0]: known[0][1]} if known else {"unknown_product": entity.text}
        return {}

    def understand(
        self, text: str, *, lang: str | None = None, context_slots: Mapping[str, Any] | None = None
    ) -> Understanding:
        """Read one message. ``context_slots``: the slots of the conversation so far (enables REFINE)."""
        normalized = normalize_text(text)
        lang = lang or detect_language(text)
        reading = self.extractor.extract(normalized, normalized=True)
        intent, confidence, scores = self.classifier.predict(text, lang, normalized=normalized, reading=reading)
        slots, negated = dict(reading.slots), dict(reading.negated)
        if self.tagger is not None and lang == "zh" and not PRODUCT_SLOTS & slots.keys():
            slots.update(self._tagged_product(text))
            if "unknown_product" in slots and intent in NOT_SHOPPING and confidence < TAGGED_OVERRIDE:
                intent = Intent.FIND_PRODUCT  # "我想买一个空气炸锅": a named product outweighs a weak guess

        context = dict(context_slots or {})
        search_mass = min(1.0, sum(scores.get(i.value, 0.0) for i in SEARCH_INTENTS))
        refines = bool(negated) or bool(FILTER_SLOTS & slots.keys())
        if intent is Intent.REFINE and not context:
            intent, confidence = Intent.FIND_PRODUCT, search_mass  # nothing to refine yet: a new search
        elif (
            context
            and intent in (Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE)
            and refines
            and _same_product(slots, context)
        ):
            intent, confidence = Intent.REFINE, max(confidence, search_mass)
        elif intent is Intent.REFINE and not _same_product(slots, context):
            intent = Intent.FIND_PRODUCT  # a different product is a new search

        if intent is Intent.ASK_ATTRIBUTE and "attribute_asked" not in slots:
            asked = self.extractor.infer_asked(reading)
            if asked:
                slots["attribute_asked"] = asked[0] if len(asked) == 1 else asked
        if intent in SILENT:
            slots, negated = {}, {}
        elif intent in SERVICE:
            slots = {k: v for k, v in slots.items() if k in SERVICE[intent]}
            negated = {}
        for slot, intents in ONLY_FOR.items():
            if slot in slots and intent not in intents:
                del slots[slot]
        return Understanding(
            text=text,
            normalized=normalized,
            lang=lang,
            intent=intent,
            confidence=round(float(confidence), 4),
            slots=slots,
            negated=negated,
            intent_scores={k: round(v, 4) for k, v in scores.items()},
        )


@functools.cache
def default_nlu() -> NLU:
    """The NLU on the demo catalog's lexicon and the packaged intent model (built once per process)."""
    return NLU(default_lexicon(), load_default())
