"""The NLU pipeline: one message in, an :class:`~shopguide.guide.types.Understanding` out.

normalise -> detect the language -> extract slots (lexicon on word boundaries, prices, sizes, references,
negation and rejections, refinements, order numbers) -> classify the intent (rules, then the model) -> name
products the lexicon does not know (the learned tagger, or the catalog type closest in meaning) -> settle REFINE
against the conversation's context -> keep the slots that make sense for the intent -> read the mood.

Words the NLU does not know at all (in neither its training language nor the catalog) are reported in
``unknown_words`` so that the dialogue can say so instead of guessing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shopguide.guide.nlu import cues
from shopguide.guide.nlu.intent import IntentClassifier, load_default
from shopguide.guide.nlu.lang import detect_language
from shopguide.guide.nlu.lexicon import PRODUCT_SLOTS, Lexicon, default_lexicon
from shopguide.guide.nlu.normalize import normalize_text
from shopguide.guide.nlu.rules import RULE_CONFIDENCE
from shopguide.guide.nlu.sentiment import read_sentiment
from shopguide.guide.nlu.slots import SlotExtractor
from shopguide.guide.nlu.spelling import Speller
from shopguide.guide.nlu.type_matcher import TypeMatcher
from shopguide.guide.types import Intent, Understanding

#: Intents that carry no slots at all.
SILENT = frozenset({Intent.GREETING, Intent.THANKS, Intent.CHITCHAT, Intent.OUT_OF_SCOPE})
_ABOUT = frozenset({"product_type", "category", "brand", "order_id"})
#: Service questions keep only what identifies the product, the order (and, for prices, which card).
SERVICE = {
    Intent.SHIPPING: _ABOUT, Intent.AFTER_SALES: _ABOUT, Intent.ORDER_STATUS: _ABOUT, Intent.ORDER_CHANGE: _ABOUT,
    Intent.INVOICE: _ABOUT, Intent.PAYMENT: _ABOUT, Intent.ACCOUNT: frozenset(), Intent.HUMAN: frozenset({"order_id"}),
    Intent.USAGE: _ABOUT | {"reference"}, Intent.PRICE_DISCOUNT: _ABOUT | {"reference"},
}  # fmt: skip
_SHOP = frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE, Intent.GIFT, Intent.OUTFIT})
#: Slots that only make sense for some intents.
ONLY_FOR = {
    "sort": _SHOP | {Intent.COMPARE, Intent.ASK_ATTRIBUTE},
    "attribute_change": frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE}),
    "attribute_asked": frozenset({Intent.ASK_ATTRIBUTE, Intent.COMPARE}),
    "unknown_product": _SHOP,
    "unknown_brand": _SHOP | {Intent.ASK_ATTRIBUTE, Intent.COMPARE},
}
#: Slots that narrow a result list already shown (with context, a message made only of these refines it).
FILTER_SLOTS = frozenset({"color", "material", "brand", "style", "size", "price_min", "price_max", "gender",
                          "season", "occasion", "sort", "attribute_change"})  # fmt: skip
SEARCH_INTENTS = frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.REFINE})
#: Intents a message naming a product is unlikely to have; a tagged product overrides them below this confidence.
NOT_SHOPPING = frozenset({Intent.ORDER_STATUS, Intent.CHITCHAT, Intent.GREETING, Intent.THANKS, Intent.HUMAN,
                          Intent.OUT_OF_SCOPE})  # fmt: skip
TAGGED_OVERRIDE = 0.7
#: Below this confidence, a service intent for a message that names products or rules something out yields to
#: the likeliest shopping intent ("他已经有帐篷了" is not an after-sales problem).
UNSURE_SERVICE = 0.6
_SUPERLATIVE = re.compile(r"最(?:便宜|贵|实惠)|\b(?:cheapest|priciest|most expensive|least expensive|dearest)\b")
#: Words of a discount question ("第二个有优惠吗" asks for a discount on a card, not its price).
_DISCOUNT_WORDS = re.compile(r"优惠|券|折|活动|促销|满减|降价|便宜点|coupon|discount|promo|code|sale|deal")
_ORDER_ID = re.compile(
    r"(?:订单号?|单号|order(?:\s*(?:number|no\.?|id|#))?|#)\s*(?:是|为|:|：|is)?\s*#?"
    r"((?=[a-z-]*\d)[a-z0-9][a-z0-9-]{4,30}(?:[ -]\d{3,8}){0,3})\b|"
    r"(?<![\d.])(?!1[3-9]\d{9}(?!\d))(\d{8,24}|\d{3,6}(?:[ -]\d{3,6}){2,4})(?![\d.])"
)
_QUESTION = re.compile(
    r"[?？]|吗|呢|么|多少|什么|啥|怎么|如何|几|哪|介绍|\btell me\b|\bwhat\b|\bhow\b|\bwhich\b|"
    r"\bis (?:it|this|that)\b|\bdoes\b|\bare (?:they|these|those)\b|\bany good\b"
)
_ASKING = re.compile(
    r"[?？]|[吗么嘛]$|[吗么嘛][\s,，。!！]|[^不]不$|不[\s,，。!！]|有没有|是不是|能不能|会不会|什么|啥|多少|几|怎么样|还是|([\u4e00-\u9fff])不\1|"
    r"^(?:is|are|does|do|can|will|would|how|what|which)\b|\b(?:is|are|does) (?:it|this|that|they)\b"
)
_EITHER = re.compile(r"还是|\bor\b|\bvs\.?\b|\bversus\b|\d+\D{0,12}\b(?:one|ones)\b")
_COMPARING = re.compile(
    r"比较|对比|区别|不同|差别|差多少|差在哪|哪个好|哪个更|\bcompare|\bdifference\b|\bvs\.?\b|\bversus\b|\bbetter\b"
)
#: A Chinese A-not-A question ("起不起球", "扎不扎人", "会不会缩水").
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1|会不会|是不是|有没有")
#: Asking for a suggestion ("推荐个面霜", "what hoodies do you recommend"): a recommendation even with a product named.
_RECOMMENDING = re.compile(
    r"推荐|建议|挑|选个|适合|什么好|啥好|哪款好|有啥好|好吃|好用|\brecommend|\bsuggest|\bpick\b|\bsuits?\b|"
    r"\bwhat (?:would|do|should) you\b|\bany good\b|\bideas?\b"
)
_BUYING = re.compile(
    r"买|卖|有没有|\bbuy\b|\bsell\b|\bcarry\b|\bdo you have\b|\bin stock\b|\bget (?:one|a|an|some)\b|"
    r"\b(?:do|does) (?:you|u|ur shop|your shop|you guys|u guys|the shop|this shop) (?:have|sell|carry|stock)\b"
)
#: Asking whether the shop has something ("do u sell kayaks", "got any snorkels?", "any kayaks?"): the object.
_ASKS_FOR = re.compile(
    r"(?:\b(?:sell|carry|stock|have|got|buy|get)\s+(?:any|some|a|an)?\s*|"
    r"^(?:and |so |ok |hi |hey )?(?:any|got any|what about|how about)\s+(?:a |an |some )?)"
    r"((?:[a-z][a-z-]*\s+){0,2}[a-z][a-z-]*)\s*"
    r"(?:[?!.]|$|\b(?:tho|though|at all|here|too|as well|in stock|by any|lol|lmao|pls|please|plz|then|rn)\b)"
)


def _asked_for(normalized: str, unknown: list[str]) -> str | None:
    """The thing asked for when a word of it is unknown ("any kayaks?" -> "kayaks"), else None."""
    for m in _ASKS_FOR.finditer(normalized):
        words = [w for w in m.group(1).split() if w not in _STOP]
        if words and any(w in unknown for w in words):
            return " ".join(words)
    return None


#: Leaving the choice to the guide ("都可以，你推荐吧", "you pick"): not a choice of one shown.
_YOU_PICK = re.compile(r"推荐|你(?:来|帮我)?(?:挑|选|定)|\brecommend|\bsuggest|\byou (?:pick|choose|decide)\b")
_SIMILAR = re.compile(r"类似|相似|差不多的|同款|\bsimilar\b|\balike\b|\blike (?:it|that|this)\b")
_WORD = re.compile(r"[a-z][a-z'-]{2,}|[\u4e00-\u9fff]{2,}")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "with",
        "that",
        "this",
        "have",
        "has",
        "want",
        "need",
        "looking",
        "some",
        "any",
        "are",
        "was",
        "were",
        "can",
        "could",
        "would",
        "will",
        "please",
        "just",
        "like",
        "really",
        "very",
        "much",
        "more",
        "less",
        "what",
        "which",
        "when",
        "where",
        "how",
        "who",
        "why",
        "not",
        "one",
        "ones",
        "them",
        "they",
        "there",
        "here",
        "then",
        "than",
        "from",
        "about",
        "into",
    ]
)


def _possible(intent: Intent, slots: Mapping[str, Any], context: Mapping[str, Any], text: str) -> bool:
    """Whether ``intent`` can apply to a message with these slots in this conversation (logic, not wording):
    choosing needs something shown; a question about an attribute names no new product without asking one."""
    if intent is Intent.ACCEPT:
        return (
            bool(context)
            and not slots.get("attribute_asked")
            and not _QUESTION.search(text)
            and not _SIMILAR.search(text)
            and not _YOU_PICK.search(text)
        )
    if intent is Intent.COMPARE and not context and PRODUCT_SLOTS & slots.keys() and not slots.get("reference"):
        alternatives = any(
            isinstance(slots.get(k), list) for k in (*PRODUCT_SLOTS, "material", "color", "style", "size")
        )
        if not alternatives and not _COMPARING.search(text) and not _EITHER.search(text):
            return False  # "I want a pillow for my neck, which one is good?": nothing shown to compare yet
    if intent is Intent.ASK_ATTRIBUTE:
        new_product = any(slots.get(k) and slots.get(k) != context.get(k) for k in PRODUCT_SLOTS)
        return not new_product or bool(slots.get("attribute_asked")) or bool(_QUESTION.search(text))
    return True


def _asks_attribute(slots: Mapping[str, Any], text: str) -> bool:
    """A yes/no or wh- question about an attribute or property ("含糖不", "is it waterproof?", "什么材质")."""
    return bool(slots.get("attribute_asked")) and bool(_ASKING.search(text))


def _same_product(slots: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """True when the message names no product, or the product the conversation is already about."""
    return all(slots[slot] == context.get(slot) for slot in PRODUCT_SLOTS if slot in slots)


class NLU:
    """Understands shopper messages in Chinese and English."""

    def __init__(
        self,
        lexicon: Lexicon | None = None,
        classifier: IntentClassifier | None = None,
        tagger: Any = None,
        *,
        catalog_words: Iterable[str] = (),
        semantic_types: bool = True,
    ) -> None:
        """``tagger``: an optional :class:`~shopguide.guide.ner.ProductTagger` for Chinese product words the
        lexicon does not know; ``catalog_words``: words of the catalog's titles (known, never "unknown");
        ``semantic_types``: name a product type by meaning when no lexicon word does."""
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        self.classifier = classifier if classifier is not None else load_default()
        self.extractor = SlotExtractor(self.lexicon)
        self.tagger = tagger
        self.type_matcher = TypeMatcher(self.lexicon.type_names()) if semantic_types else None
        self._catalog_words = {w.lower() for w in catalog_words}
        self._known: set[str] | None = None
        self._speller: Speller | None = None

    @property
    def speller(self) -> Speller:
        """Corrects typos of the lexicon's English words in words the NLU does not know ("yelow")."""
        if self._speller is None:
            catalog = [w for w in self.lexicon.surfaces()
                       if any(slot not in ("unknown_brand", "unknown_product") for slot, _ in self.lexicon.lookup(w))]  # fmt: skip
            self._speller = Speller(catalog, self.known_words())
        return self._speller

    def warm(self) -> NLU:
        """Load everything the first message would otherwise load (segmenter, encoder, type names, vocabulary),
        so that no chat turn pays for it under its deadline. Returns ``self``."""
        self.understand("你好，有没有三百以内的黑色衬衫")
        self.understand("hi, any black shirts under 300?")
        if self.type_matcher is not None:
            self.type_matcher.nearest("衬衫")
        return self

    # ------------------------------------------------------------------ products the lexicon does not know
    def _tagged_product(self, text: str) -> dict[str, str]:
        """Product slots from the learned tagger: a catalog value when the lexicon knows the words, else
        ``unknown_product`` (so the guide can say the shop does not carry it instead of guessing)."""
        for entity in self.tagger.tag(text):
            if entity.type != "HCCX":
                continue
            known = [(slot, value) for slot, value in self.lexicon.lookup(entity.text) if slot in PRODUCT_SLOTS]
            if known:
                return {known[0][0]: known[0][1]}
            same = self.type_matcher.same_type(entity.text) if self.type_matcher else None
            return {"product_type": same} if same else {"unknown_product": entity.text}
        return {}

    def known_words(self) -> set[str]:
        """Words the NLU has seen: its training messages' words, its lexicon and the catalog's words."""
        if self._known is None:
            vocab = getattr(self.classifier, "vectorizers_", None)
            words = set(vocab[0].vocabulary_) if vocab else set()
            self._known = words | self.lexicon.surfaces() | self._catalog_words
        return self._known

    def unknown_words(self, normalized: str, covered: Iterable[tuple[int, int]]) -> list[str]:
        """Content words of a message outside the NLU's language and catalog (slot words excluded)."""
        spans = list(covered)
        known = self.known_words()
        out = []
        tokens: list[tuple[int, int]] = self.lexicon.segmenter.spans(normalized)
        tokens += [m.span() for m in re.finditer(r"[a-z][a-z'-]+", normalized)]
        for start, end in tokens:
            word = normalized[start:end]
            if len(word) < 2 or word in _STOP or word in known or any(s <= start < e for s, e in spans):
                continue
            if word.isascii() and (len(word) < 4 or word.rstrip("s") in known):
                continue
            out.append(word)
        return list(dict.fromkeys(out))

    # ------------------------------------------------------------------ the pipeline
    def understand(
        self, text: str, *, lang: str | None = None, context_slots: Mapping[str, Any] | None = None
    ) -> Understanding:
        """Read one message. ``context_slots``: the slots of the conversation so far (enables REFINE)."""
        normalized = normalize_text(text)
        lang = lang or detect_language(text)
        if re.search(r"[a-z]{4}", normalized):
            normalized = self.speller.correct(normalized)
        reading = self.extractor.extract(normalized, normalized=True)
        intent, confidence, scores = self.classifier.predict(text, lang, normalized=normalized, reading=reading)
        slots, negated = dict(reading.slots), dict(reading.negated)
        if m := _ORDER_ID.search(normalized):
            slots["order_id"] = re.sub(r"\s", "", m.group(1) or m.group(2)).upper()
        covered = [(m.start, m.end) for m in reading.matches]
        asks_for = lang == "en" and _ASKS_FOR.search(normalized)  # "what about a cat scratching post lol"
        unknown = self.unknown_words(normalized, covered) if intent not in SILENT or asks_for else []
        if not PRODUCT_SLOTS & slots.keys() and not slots.get("unknown_product"):
            if self.tagger is not None and lang == "zh":
                slots.update(self._tagged_product(text))
            elif unknown and self.type_matcher is not None and intent in _SHOP:
                same = self.type_matcher.same_type(" ".join(unknown))
                if same:
                    slots["product_type"] = same
                    unknown = []
            if unknown and lang == "en" and not PRODUCT_SLOTS & slots.keys() and not slots.get("unknown_product"):
                asked = _asked_for(normalized, unknown)
                if asked:  # "do u sell kayaks?" / "any kayaks?": a product the shop does not know of
                    slots["unknown_product"], unknown = asked, []
        if "unknown_product" in slots and intent in NOT_SHOPPING and confidence < TAGGED_OVERRIDE:
            intent = Intent.FIND_PRODUCT  # "我想买一个空气炸锅" / "what about a scratching post lol": a named product

        context = dict(context_slots or {})
        if (
            intent in (Intent.REFINE, Intent.FIND_PRODUCT)
            and _asks_attribute(slots, normalized)
            and (context or slots.get("reference"))
        ):
            intent, confidence = Intent.ASK_ATTRIBUTE, max(confidence, scores.get(Intent.ASK_ATTRIBUTE.value, 0.0))
        values_asked = [k for k, pattern in cues.WHICH_VALUES.items() if pattern.search(normalized)]
        if intent not in SERVICE and values_asked and context and _same_product(slots, context):
            # "what colours DO you have" about the products in focus: a question about their colours
            intent, confidence = Intent.ASK_ATTRIBUTE, max(confidence, scores.get(Intent.ASK_ATTRIBUTE.value, 0.0))
            slots["attribute_asked"] = values_asked[0]
        if intent is Intent.AFTER_SALES and context and slots.get("attribute_asked") and _A_NOT_A.search(normalized):
            # "第一件起不起球" about a shown item is a question about it, not a complaint that it pilled
            intent, confidence = (
                Intent.ASK_ATTRIBUTE,
                max(scores.get(Intent.ASK_ATTRIBUTE.value, 0.0), 1.0 - confidence),
            )
        refs = slots.get("reference") or []
        narrows = (FILTER_SLOTS - {"sort"}) & slots.keys() or any(negated.values()) or PRODUCT_SLOTS & slots.keys()
        if intent in (Intent.REFINE, Intent.FIND_PRODUCT) and refs and context and not narrows:
            intent = Intent.COMPARE if len(refs) > 1 else Intent.ASK_ATTRIBUTE  # "the pricier one?" is about it
        either = [k for k in ("material", "color", "style", "size") if isinstance(slots.get(k), list)]
        if intent is Intent.COMPARE and len(refs) <= 1 and either and not _COMPARING.search(normalized):
            intent = Intent.ASK_ATTRIBUTE  # "is that one steel or leather?": one item, two values
            slots.setdefault("attribute_asked", either[0])
        shopping_words = any(slots.get(k) for k in FILTER_SLOTS | PRODUCT_SLOTS | {"unknown_product"}) or any(
            negated.values()
        )
        rejects = any(negated.values()) and bool(context.get("product_type") or context.get("category"))
        if intent is Intent.AFTER_SALES and rejects and not slots.get("order_id"):
            # "Aurevia的不要 去年买过一件洗两次就起球了": a past bad experience as the reason for ruling a brand out
            intent, confidence = Intent.REFINE, max(scores.get(Intent.REFINE.value, 0.0), 1.0 - confidence)
        if intent in SERVICE and PRODUCT_SLOTS & slots.keys() and cues.ADD_ITEM.search(normalized):
            # "再加个香薰蜡烛 凑个包邮" / "can i add a tie too": one more product, not an order change
            intent, confidence = Intent.FIND_PRODUCT, max(confidence, scores.get(Intent.FIND_PRODUCT.value, 0.0))
        buying = (slots.get("unknown_product") or slots.get("unknown_brand")) and _BUYING.search(normalized)
        unsure_question = intent is Intent.ASK_ATTRIBUTE and not context and confidence < 0.5
        if (
            (intent in SERVICE and intent not in (Intent.AFTER_SALES, Intent.ORDER_STATUS)) or unsure_question
        ) and buying:
            # "can I buy a gift card here?": whether the shop sells something, which it does not
            intent, confidence = Intent.FIND_PRODUCT, max(confidence, scores.get(Intent.FIND_PRODUCT.value, 0.0))
        if intent in SERVICE and shopping_words and confidence < UNSURE_SERVICE and not slots.get("order_id"):
            shop = max(_SHOP | {Intent.ASK_ATTRIBUTE}, key=lambda i: scores.get(i.value, 0.0))
            intent, confidence = shop, scores.get(shop.value, 0.0)  # names products, unsure it is a service question
        asks_price = cues.ASK_PATTERNS["price"].search(normalized) and not _DISCOUNT_WORDS.search(normalized)
        superlative = slots.get("sort") in ("cheaper", "more_expensive") and _SUPERLATIVE.search(normalized)
        named = PRODUCT_SLOTS & slots.keys()
        pricing = intent is Intent.PRICE_DISCOUNT or (intent in SEARCH_INTENTS and superlative)
        if pricing and asks_price and (refs or (superlative and (named or context))):
            # "最便宜的那个多少钱" / "你们最便宜的羽绒服多少钱" / "最贵的多少钱" (a list shown): the price of a card
            # or of a type's cheapest, not a discount nor a search
            intent, confidence = Intent.ASK_ATTRIBUTE, max(confidence, scores.get(Intent.ASK_ATTRIBUTE.value, 0.0))
            slots["attribute_asked"] = "price"
            if not refs and not named:
                slots["reference"] = [cues.CHEAPEST if slots["sort"] == "cheaper" else cues.PRICIEST]
        if not _possible(intent, slots, context, normalized) and confidence < RULE_CONFIDENCE:
            ranked = sorted(scores, key=lambda k: -scores[k])
            if shopping_words:  # it names a product or a colour...: the likeliest way of asking for one
                ranked = [k for k in ranked if Intent(k) in SEARCH_INTENTS] + [
                    k for k in ranked if Intent(k) not in SEARCH_INTENTS
                ]
            best = next((Intent(k) for k in ranked if _possible(Intent(k), slots, context, normalized)), intent)
            intent, confidence = best, scores.get(best.value, confidence)
        plain = not slots.get("sort") and not _SIMILAR.search(normalized) and not _RECOMMENDING.search(normalized)
        if intent is Intent.RECOMMEND and named and plain:
            intent = Intent.FIND_PRODUCT  # "平板电脑都有哪些": it names the product (recommending is for vague asks)
        groups = sum(
            len(slots[k]) if isinstance(slots.get(k), list) else 1 for k in ("product_type", "category") if slots.get(k)
        )
        if intent in (Intent.FIND_PRODUCT, Intent.RECOMMEND) and groups >= 2 and cues.TOTAL.search(normalized):
            intent = Intent.OUTFIT  # "a down jacket + scarf + ankle boots, 2500 total": a set within one budget
        search_mass = min(1.0, sum(scores.get(i.value, 0.0) for i in SEARCH_INTENTS))
        refines = bool(negated) or bool(FILTER_SLOTS & slots.keys())
        if intent is Intent.REFINE and not context:
            intent, confidence = Intent.FIND_PRODUCT, max(search_mass, confidence)  # nothing to refine yet
        elif context and intent in SEARCH_INTENTS and refines and _same_product(slots, context):
            intent, confidence = Intent.REFINE, max(confidence, search_mass)
        elif intent is Intent.REFINE and not _same_product(slots, context):
            intent = Intent.FIND_PRODUCT  # a different product is a new search

        if intent is Intent.ASK_ATTRIBUTE and "attribute_asked" not in slots:
            asked = self.extractor.infer_asked(reading)
            if asked:
                slots["attribute_asked"] = asked[0] if len(asked) == 1 else asked
        if intent in SILENT:  # an order number stays: "#77812093 there" answers "what is your order number?"
            slots, negated = ({"order_id": slots["order_id"]} if "order_id" in slots else {}), {}
        elif intent in SERVICE:
            slots = {k: v for k, v in slots.items() if k in SERVICE[intent]}
        if "order_id" in slots and intent in _SHOP | {Intent.ASK_ATTRIBUTE, Intent.COMPARE, Intent.ACCEPT}:
            del slots["order_id"]  # a long number in a shopping message is a model or a quantity, not an order
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
            sentiment=read_sentiment(normalized, text).label,
            spans=[
                {"slot": slot, "value": value, "start": m.start, "end": m.end}
                for m in reading.matches
                for slot, value in m.pairs
            ],
            unknown_words=unknown,
        )


@functools.cache
def default_nlu() -> NLU:
    """The NLU on the demo catalog's lexicon and the packaged intent model (built once per process)."""
    return NLU(default_lexicon(), load_default())
