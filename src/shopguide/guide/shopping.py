"""Shopping actions: search and refinements, products and brands the shop does not carry, gift ideas.

Honesty rules: a product or brand the catalog does not sell is named as missing ("we don't carry X"), and any
cards shown then are labelled as alternatives, never passed off as X. A rejection ("粉的算了", "skip Bose",
"he already owns a tent") is acknowledged and applied to the list in focus. A word the guide does not know in
the middle of a search keeps the search where it was and says so, instead of jumping to unrelated products.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shopguide.guide import answers as A
from shopguide.guide.kg import as_list
from shopguide.guide.nlu.cues import BUDGET_OPEN
from shopguide.guide.session import SCOPE, TOPIC_SLOTS, change, merge, sort_bound
from shopguide.guide.types import Intent, Understanding

if TYPE_CHECKING:
    from shopguide.guide.dialogue import DialogueManager, Outcome
    from shopguide.guide.session import Session

SIMILAR = re.compile(r"类似|相似|差不多|同款|\bsimilar\b|\balike\b|\blike (?:it|that|this)\b")
#: Moving to another product after a search found nothing ("what about a tablet then", "那平板呢").
PIVOT = re.compile(r"^(?:and |but |ok |so )?(?:what about|how about|then)\b|\bthen\??$|^那.{1,12}(?:呢|吧|看看)")
CHEAPER = re.compile(r"便宜|实惠|\bcheaper\b|\bless expensive\b|\bmore affordable\b")
#: Slots a catalog search can filter on (the rest are about the request, or name things not sold).
CATALOG_SLOTS = ("product_type", "category", "brand", "color", "material", "style", "season", "gender", "occasion",
                 "size", "price_min", "price_max")  # fmt: skip


#: Attributes a shopper names as a requirement (checked, never silently relaxed when named in the message);
#: occasion, season and style words are preferences and may be relaxed.
HARD_SLOTS = ("color", "brand", "material", "size", "gender")


def _catalog_negations(negated: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in negated.items() if k in CATALOG_SLOTS and v}


def not_carried(dm: DialogueManager, s: Session, u: Understanding, lang: str, what: str) -> Outcome:
    """ "We don't carry X", then the closest product types we do have, labelled as alternatives."""
    from shopguide.guide.dialogue import Outcome

    kg, lexicon = dm.kg, getattr(dm.nlu, "lexicon", None)
    foreign = lexicon.gazetteer.products.get(what) if lexicon is not None else None
    types = [t for t in (foreign.alternatives if foreign else ()) if kg.has_category(t)]
    matcher = getattr(dm.nlu, "type_matcher", None)
    if not types and matcher is not None:
        types = [t for t in matcher.alternatives(what) if kg.has_category(t)]
    budget = {k: v for k, v in u.slots.items() if k in ("price_min", "price_max", "gender")}
    described = _described_by_titles(dm, s, types, what, budget)
    if described:  # "玻璃杯": our glass mugs are titled so; they are what was asked for, not alternatives
        s.slots = {**{k: v for k, v in s.slots.items() if k not in TOPIC_SLOTS}, **budget,
                   "product_type": dm.kg.attributes(described[0]).get("product_type")}  # fmt: skip
        return Outcome("results", A.results(kg, described, what, lang), described)
    text = A.say("not_carried", lang, what=what if lang == "zh" else _english(dm, what))
    ids: list[str] = []
    reasons: dict[str, str] = {}
    for t in types[: dm.n_cards]:
        found = dm.retriever.search({"product_type": t, **budget}, {}, s.user_id, n=1, lang=lang,
                                    exclude=ids)  # fmt: skip
        ids += found.ids
        reasons.update({i: A.pick(lang, "替代选择", "alternative") for i in found.ids})
    if not ids:
        return Outcome("not_carried", text + A.pick(lang, "", " ") + A.say("not_carried_suggest", lang), new_list=False)
    label = A.say("alternatives", lang, what=what if lang == "zh" else _english(dm, what))
    return Outcome("not_carried", "\n".join([text, label, A.listing(kg, ids, lang)]), ids, reasons)


def _described_by_titles(
    dm: DialogueManager, s: Session, types: Sequence[str], what: str, budget: dict[str, Any]
) -> list[str]:
    """Items of a neighbouring type whose titles name a Chinese product word the lexicon lacks: "玻璃杯" is
    "玻璃" (in the title) + "杯" (the end of the type 马克杯). A head of at least two characters is required, so
    "皮包" does not become every leather wallet."""
    if not re.fullmatch(r"[\u4e00-\u9fff]{3,8}", what):
        return []
    for t in types:
        heads = [what[:-k] for k in (1, 2) if len(what) - k >= 2 and t.endswith(what[-k:])]
        if not heads:
            continue
        found = dm.retriever.search({"product_type": t, **budget}, {}, s.user_id, n=3 * dm.n_cards, lang="zh")
        titled = [i for i in found.ids if any(h in dm.kg.title(i, "zh") for h in heads)]
        if titled:
            return titled[: dm.n_cards]
    return []


def _english(dm: DialogueManager, zh_name: str, *, brand: bool = False) -> str:
    """A foreign product's or brand's English name (its first Latin surface), for English replies."""
    lexicon = getattr(dm.nlu, "lexicon", None)
    table = (lexicon.gazetteer.brands if brand else lexicon.gazetteer.products) if lexicon is not None else {}
    foreign = table.get(zh_name)
    english = [x for x in (foreign.surfaces if foreign else ()) if x.isascii()]
    if not english:
        return zh_name
    return english[0].title() if brand and english[0].islower() else english[0]  # apple -> Apple


def not_carried_brand(dm: DialogueManager, s: Session, u: Understanding, lang: str, brand: str) -> Outcome:
    """ "We don't sell <brand>": with a product type, the brands we have for it and their best items."""
    from shopguide.guide.dialogue import Outcome

    kg = dm.kg
    brand = brand if lang == "zh" else _english(dm, brand, brand=True)  # 苹果 -> Apple
    noun = u.slots.get("product_type") or u.slots.get("category") or s.slots.get("product_type")
    noun = as_list(noun)[0] if noun and kg.has_category(as_list(noun)[0]) else None
    if noun is None:
        return Outcome("not_carried", A.say("not_carried_brand", lang, brand=brand) + A.pick(lang, "", " ") + A.say("not_carried_suggest", lang),
                       new_list=False)  # fmt: skip
    brands = kg.values_of("brand", kg.select(product_type=noun))
    what = kg.label(noun, lang) if lang == "zh" else kg.label(noun, lang).lower()
    text = A.say("not_carried_brand_type", lang, brand=brand, what=what,
                 brands=A.pick(lang, "、", ", ").join(kg.label(b, lang) for b in brands[:6]))  # fmt: skip
    slots = {"product_type": noun, **{k: v for k, v in u.slots.items() if k in ("price_min", "price_max", "color")}}
    found = dm.retriever.search(slots, _catalog_negations(s.negated), s.user_id, n=dm.n_cards, lang=lang)
    s.slots.update(slots)
    if not found.ids:
        return Outcome("not_carried", text, new_list=False)
    reasons = {i: A.pick(lang, "替代选择", "alternative") for i in found.ids}
    return Outcome("not_carried", "\n".join([text, A.say("alternatives_brand", lang),
                                             A.listing(dm.kg, found.ids, lang)]), found.ids, reasons)  # fmt: skip


def _common_type(dm: DialogueManager, ids: Sequence[str]) -> str | None:
    """The product type every item of ``ids`` shares (None when they differ)."""
    types = dm.kg.types_of(ids)
    return types.pop() if len(types) == 1 else None


def _rejected(dm: DialogueManager, u: Understanding, lang: str) -> str:
    """The things the message rules out, in the reply's words ("粉色", "Bose", "帐篷")."""
    lower = lang == "en"
    words = [dm.kg.label(v, lang).lower() if lower and k not in ("brand", "unknown_brand") else dm.kg.label(v, lang)
             for k, vals in u.negated.items() for v in vals]  # fmt: skip
    return A.pick(lang, "、", ", ").join(dict.fromkeys(words))


def find(dm: DialogueManager, s: Session, u: Understanding, lang: str, intent: Intent) -> Outcome:
    from shopguide.guide.dialogue import Outcome
    from shopguide.guide.items import attribute, similar

    slots = u.slots
    if slots.get("reference") and not any(slots.get(k) for k in (*SCOPE, "color", "material", "style")):
        if SIMILAR.search(u.text.lower()) or intent == Intent.RECOMMEND:
            return similar(dm, s, u, lang)
        return attribute(dm, s, u, lang)
    named = any(slots.get(k) for k in ("product_type", "category"))
    if slots.get("unknown_product") and not named:
        return not_carried(dm, s, u, lang, as_list(slots["unknown_product"])[0])
    if slots.get("unknown_brand"):
        return not_carried_brand(dm, s, u, lang, as_list(slots["unknown_brand"])[0])
    rejected = _rejected(dm, u, lang)
    budget = {k: s.slots[k] for k in ("price_min", "price_max") if s.slots.get(k) is not None}
    pivot = s.last_action == "no_results" and budget and not any(k in slots for k in ("price_min", "price_max"))
    changed = merge(s, u) | change(s, as_list(slots.get("attribute_change")), dm.kg)
    if pivot and PIVOT.search(u.normalized or u.text.lower()) and not any(k in s.slots for k in budget):
        s.slots.update(budget)  # "a laptop under 3000" found none; "what about a tablet then": the same budget
    if BUDGET_OPEN.search(u.normalized or u.text.lower()) and not slots.get("price_max"):
        changed = s.slots.pop("price_max", None) is not None or changed  # "银色的有吗 贵点也行": the cap goes
    s.negated = _catalog_negations(s.negated)
    note = sort_bound(s, slots.get("sort"), dm.kg, dm.retriever.any_match)
    note = A.say(note, lang) if note else ""
    if rejected:
        note = " ".join(x for x in (A.say("noted_rejection", lang, what=rejected), note) if x)
    narrowing = rejected or any(slots.get(k) for k in ("sort", "color", "material", "style", "size"))
    if not any(s.slots.get(k) for k in SCOPE) and narrowing and s.shown:
        shown_type = _common_type(dm, s.shown)
        if shown_type and not (
            u.negated.get("product_type") or u.negated.get("category")
        ):  # "not black pls" about the ties just shown: the list in focus gives the scope
            s.slots["product_type"] = shown_type
    if not any(s.slots.get(k) for k in SCOPE):
        if rejected and intent != Intent.RECOMMEND:
            return Outcome("clarify", A.say("noted_rejection_ask", lang, what=rejected), new_list=False)
        move = None  # a learning loop may choose between asking and showing (service/learning.py)
        if intent != Intent.RECOMMEND and "vague" not in s.asked and dm.chooser is not None:
            move = dm.chooser.ask_or_show(s.user_id, s.client_id or s.session_id, s.turns)
        if intent == Intent.RECOMMEND or "vague" in s.asked or move == "show":
            ids, reasons = dm.retriever.personal(s.user_id, s.slots, s.negated, dm.n_cards, lang)
            return Outcome("results", A.personal(dm.kg, ids, lang), ids, reasons)
        s.asked.append("vague")
        return Outcome("clarify", A.say("ask_vague", lang), new_list=False)
    unknown = [w for w in getattr(u, "unknown_words", []) if w]
    if unknown and not changed and not slots.get("sort") and not named and s.shown:
        topic = A.describe(dm.kg, {k: s.slots[k] for k in ("product_type", "category") if s.slots.get(k)}, {}, lang)
        return Outcome("clarify", A.say("not_understood_topic", lang, word=unknown[0], topic=topic),
                       new_list=False, failed=True)  # fmt: skip
    more = "items" in as_list(slots.get("attribute_change")) or (not changed and intent == Intent.REFINE)
    exclude = s.shown if more and not slots.get("sort") else []
    asked_now = [k for k in HARD_SLOTS if slots.get(k)]  # never relaxed: said plainly when nothing fits
    found = dm.retriever.search(s.slots, s.negated, s.user_id, n=dm.n_cards, text=u.text, sort=slots.get("sort"),
                                exclude=exclude, lang=lang, keep=asked_now, restart=False)  # fmt: skip
    what = A.describe(dm.kg, s.slots, s.negated, lang)
    if not found.ids and exclude:
        return no_more(dm, s, what, exclude, lang)
    if not found.ids:
        return no_results(dm, s, what, lang, keep=asked_now)
    text = A.results(dm.kg, found.ids, what, lang, relaxed=found.relaxed, note=note)
    return Outcome("results", text, found.ids, found.reasons)


def no_more(dm: DialogueManager, s: Session, what: str, shown: Sequence[str], lang: str) -> Outcome:
    """ "Any others?" when every match has been shown: say so, then the closest outside the budget (if one was
    set), none of them shown before; else the same list is not repeated as if it were new."""
    from shopguide.guide.dialogue import Outcome

    text = A.say("no_more", lang, what=what)
    open_budget = {k: v for k, v in s.slots.items() if k not in ("price_min", "price_max")}
    if open_budget != s.slots:
        sort = "cheaper" if s.slots.get("price_max") is not None else "more_expensive"
        near = dm.retriever.search(open_budget, s.negated, s.user_id, n=dm.n_cards, sort=sort, lang=lang,
                                   exclude=shown, restart=False)  # fmt: skip
        if near.ids:
            return Outcome("no_results", text + "\n" + A.nearest(dm.kg, near.ids, lang), near.ids, near.reasons)
    return Outcome("no_results", text, new_list=False)


def no_results(dm: DialogueManager, s: Session, what: str, lang: str, keep: Sequence[str] = ()) -> Outcome:
    """Nothing fits: say so, then the closest items there are, labelled as such: the softer attributes relaxed
    first ("none in black; these are the closest, in other colours"), the budget only when that is not enough.
    An attribute the shopper has just asked for (``keep``, e.g. "有黑色的吗" under an earlier budget) is kept and
    the budget relaxed instead: "none in black within 1000; these black ones match but are outside it" (only
    those: the shopper asked for black, so other colours within the budget would not answer the question)."""
    from shopguide.guide.dialogue import Outcome

    text = A.say("no_results", lang, what=what)
    if dm.retriever.any_match(s.slots, s.negated, in_stock=False):
        text = A.say("sold_out", lang, what=what)  # the catalog has it; none is in stock
    lo, hi = s.slots.get("price_min"), s.slots.get("price_max")
    asked = [k for k in keep if k not in ("price_min", "price_max")]
    if asked and len(asked) == len(keep) and (lo is not None or hi is not None):
        open_budget = {k: v for k, v in s.slots.items() if k not in ("price_min", "price_max")}
        sort = "cheaper" if hi is not None else "more_expensive"
        kept = dm.retriever.search(open_budget, s.negated, s.user_id, n=dm.n_cards, sort=sort, lang=lang, keep=asked)
        if kept.ids and not kept.relaxed:  # the asked-for colour outside the budget, labelled, closest first
            text += "\n" + A.kept_over_budget(dm.kg, kept.ids, lang)
            return Outcome("no_results", text, kept.ids, kept.reasons)
    near = dm.retriever.search(s.slots, s.negated, s.user_id, n=dm.n_cards, lang=lang)
    if near.ids and near.relaxed:
        text += "\n" + A.closest(dm.kg, near.ids, near.relaxed, lang)
        return Outcome("no_results", text, near.ids, near.reasons)
    if lo is None and hi is None:
        return Outcome("no_results", text, new_list=False)
    open_budget = {k: v for k, v in s.slots.items() if k not in ("price_min", "price_max")}
    sort = "cheaper" if hi is not None else "more_expensive"
    near = dm.retriever.search(open_budget, s.negated, s.user_id, n=dm.n_cards, sort=sort, lang=lang)
    if not near.ids:
        return Outcome("no_results", text, new_list=False)
    text += "\n" + A.nearest(dm.kg, near.ids, lang)
    return Outcome("no_results", text, near.ids, near.reasons)


def gift(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    if s.last_intent != Intent.GIFT:  # a new gift request starts a new topic
        for key in (*TOPIC_SLOTS, "recipient", "gender"):
            s.slots.pop(key, None)
        s.negated = {}
        s.asked = [a for a in s.asked if a != "gift"]
    describes = s.last_intent == Intent.GIFT and any(
        u.slots.get(k) for k in ("price_min", "price_max", "occasion", "style", "age_group")
    )  # "他上班族 天天穿西装那种 预算1k": the recipient's clothes, not a product asked for
    if (
        u.slots.get("unknown_product")
        and not any(u.slots.get(k) for k in ("product_type", "category"))
        and not describes
    ):
        return not_carried(dm, s, u, lang, as_list(u.slots["unknown_product"])[0])
    if u.slots.get("unknown_brand") and not describes:  # "侄子过生日 有乐高吗": the brand is named as missing first
        return not_carried_brand(dm, s, u, lang, as_list(u.slots["unknown_brand"])[0])
    rejected = _rejected(dm, u, lang)
    merge(s, u)
    change(s, as_list(u.slots.get("attribute_change")), dm.kg)
    s.negated = _catalog_negations(s.negated)
    dm.retriever.gift_hints(s.slots)
    missing = [k for k, ok in (("recipient", s.slots.get("recipient")),
                               ("budget", s.slots.get("price_max") or s.slots.get("price_min"))) if not ok]  # fmt: skip
    named = any(s.slots.get(k) for k in ("product_type", "category"))
    ask_after = ""
    if missing and "gift" not in s.asked and not named:  # "chocolate for my gf": show chocolates, don't quiz
        s.asked.append("gift")
        if "budget" in missing:  # ask the budget (and who it is for) before showing anything
            key = "ask_gift" if len(missing) == 2 else "ask_gift_budget"
            return Outcome("clarify", A.say(key, lang), new_list=False, suggest="gift")
        ask_after = A.say("ask_gift_recipient", lang)  # a budget is enough to start: ideas, and who is it for?
    found = dm.retriever.search(s.slots, s.negated, s.user_id, n=dm.n_cards, gift=True, lang=lang)
    what = A.describe(dm.kg, s.slots, s.negated, lang)
    if not found.ids:
        return no_results(dm, s, what, lang)
    who = A.recipient(s.slots["recipient"], lang) if s.slots.get("recipient") else ""
    text = A.gift(dm.kg, found.ids, who, s.slots, lang)
    if rejected:
        text = A.say("noted_rejection", lang, what=rejected) + "\n" + text
    if ask_after:
        text += "\n" + ask_after
    return Outcome("results", text, found.ids, found.reasons)


def topic_slots(s: Session) -> dict[str, Any]:
    """The search topic of the conversation: what is being looked for, without the request-only slots."""
    return {k: v for k, v in s.slots.items() if k in CATALOG_SLOTS}
