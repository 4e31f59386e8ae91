"""Actions about particular items: attribute questions, comparisons, 搭配 plans, similar items, choosing one.

Which items a message means comes from :mod:`.references`. An attribute answer states exactly the attribute
asked: a catalog field ("什么材质"), a property the listing's text states ("防水吗": its sentence is quoted), or
a plain "the listing does not say" — never the whole spec sheet for a yes/no question. 搭配 requests that name
categories and a budget are planned by :mod:`.outfits` (one item per requested category, the total within
budget, or the shortfall said plainly).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from shopguide.guide import answers as A
from shopguide.guide.kg import FACT_FIELDS, KnowledgeGraph, as_list
from shopguide.guide.message_cues import BETWEEN_SIZES, FIT, OPEN_QUESTION, THESE_TWO, quantity, question_topic
from shopguide.guide.nlu import cues
from shopguide.guide.nlu.cues import CHEAPEST, PRICIEST, WHICH_VALUES
from shopguide.guide.nlu.properties import BY_NAME as PROPERTIES
from shopguide.guide.nlu.properties import evidence
from shopguide.guide.outfits import plan, template_for
from shopguide.guide.references import Resolved, pick_by_attributes, pick_named, resolve
from shopguide.guide.types import Intent, Understanding

if TYPE_CHECKING:
    from shopguide.guide.dialogue import DialogueManager, Outcome
    from shopguide.guide.session import Session

ATTRIBUTE_ALIASES = {"colour": "color", "sizes": "size", "review": "reviews", "rating": "reviews",
                     "type": "product_type"}  # fmt: skip
#: "一共 / in total": the budget covers the item the outfit is built around too.
#: A total budget for a set: the NLU's cue plus words that only mean "in total" next to a set (全部, overall).
TOTAL = re.compile(cues.TOTAL.pattern + r"|全部|\boverall\b")
#: Several named products on one budget ("a mug n a pillow, both together under 150", "茶叶和蜂蜜 一共300"): a set.
SET_BUDGET = re.compile(TOTAL.pattern + r"|\bboth\b|\btogether\b|\bfor (?:the )?(?:two|2|three|3)\b|\bset\b|一起|两样")
_SIMILAR = re.compile(r"类似|相似|差不多|同款|\bsimilar\b|\balike\b|\blike (?:it|that|this)\b")


def _problem(dm: DialogueManager, s: Session, r: Resolved, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    if r.problem == "out_of_range":
        return Outcome("clarify", A.out_of_range(r.count, lang), new_list=False)
    return Outcome("clarify", A.say("ask_which", lang), new_list=False)


#: "Which of these ..." / 哪个 / 哪款: a question over the whole list shown.
WHICH = re.compile(
    r"哪(?:个|款|件|双|条|一|种)|这几|这些|\bwhich\b|\bany of (?:these|them)\b|\ball of (?:these|them)\b"
)


def discussed_pair(s: Session, u: Understanding) -> Resolved | None:
    """The pair discussed last when the message says "these two" / 这俩 (its references are then [1, 2])."""
    if as_list(u.slots.get("reference")) == [1, 2] and len(s.discussed) == 2 and THESE_TWO.search(u.text.lower()):
        return Resolved(tuple(s.discussed))
    return None


def targets_of(dm: DialogueManager, s: Session, u: Understanding) -> Resolved:
    """The items a question is about: references, an item picked by attribute, the whole list for "which of
    these", the focus, or the only item discussed."""
    if (pair := discussed_pair(s, u)) is not None:
        return pair
    refs = u.slots.get("reference")
    if not refs and s.shown and WHICH.search(u.text.lower()) and len(s.shown) > 1:
        return Resolved(tuple(s.shown))
    if not refs:
        picked = pick_by_attributes(dm.kg, s.shown, u.slots)
        if len(picked) == 1:
            return Resolved((picked[0],))
        if s.focus:
            return Resolved((s.focus,))
        if len(s.discussed) == 1:
            return Resolved(tuple(s.discussed))
    return resolve(dm.kg, refs, _list_for(s, refs), s.discussed, s.focus)


def _list_for(s: Session, refs: object) -> list[str]:
    """The list positions point into: the one shown, or the one before it when the positions only fit that one
    ("diff between the 1st and 2nd" after a refinement left a single card)."""
    positions = [r for r in as_list(refs) if isinstance(r, int) and r > 0]
    if positions and max(positions) > len(s.shown) and max(positions) <= len(s.earlier_shown):
        return s.earlier_shown
    return s.shown


def superlative(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome | None:
    """ "Which of these is the cheapest?" / 哪个最贵: the item at the end of the list by price, named with its price."""
    from shopguide.guide.dialogue import Outcome

    sort = u.slots.get("sort")
    pool = s.discussed if len(s.discussed) >= 2 else s.shown
    if sort not in ("cheaper", "more_expensive") or len(pool) < 2 or not WHICH.search(u.text.lower()):
        return None
    r = resolve(dm.kg, [CHEAPEST if sort == "cheaper" else PRICIEST], pool, pool)
    if not r.ids:
        return None
    item = r.ids[0]
    s.focus = item
    head = A.pick(
        lang,
        "最便宜的是" if sort == "cheaper" else "最贵的是",
        "The cheapest is " if sort == "cheaper" else "The most expensive is ",
    )
    meta = dm.kg.item(item)
    text = f"{head}{A.quote(dm.kg.title(item, lang), lang)}{A.pick(lang, '，', ', ')}{A.money(meta.price if meta else None)}"
    return Outcome("attribute", text, [item], new_list=False, discussed=[item])


def attribute(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    kg = dm.kg
    if (best := superlative(dm, s, u, lang)) is not None:
        return best
    guide = dm.faq.get("size_guide") if dm.faq is not None else None
    if guide is not None and BETWEEN_SIZES.search(u.normalized or u.text.lower()):
        return Outcome("attribute", guide.text(lang), new_list=False)  # "im between an M and an L": size up
    names = [ATTRIBUTE_ALIASES.get(str(n), str(n)) for n in as_list(u.slots.get("attribute_asked"))]
    if not names and _SIMILAR.search(u.text.lower()):
        return similar(dm, s, u, lang)  # "anything similar to the first one?"
    noun = (as_list(u.slots.get("product_type")) or as_list(u.slots.get("category")) or [None])[0]
    text = u.normalized or u.text.lower()
    if noun is None and not u.slots.get("reference") and any(p.search(text) for p in WHICH_VALUES.values()):
        topic = as_list(s.slots.get("product_type")) or as_list(s.slots.get("category"))
        noun = topic[0] if topic else None  # "what colours DO you have": the colours of the type in focus
    asks_end = noun and names == ["price"] and not u.slots.get("reference")
    if asks_end and (end := _price_end(dm, noun, u.slots.get("sort"), lang)) is not None:
        return end  # "你们最便宜的羽绒服多少钱": the cheapest one the shop has, with its price
    if noun and not u.slots.get("reference") and names and kg.has_category(noun):
        name = names[0]
        if name in kg.columns or name == "brand":
            options = kg.values_of(name, kg.select(product_type=noun))
            return Outcome("attribute", A.values(kg, noun, name, options, lang), new_list=False)
    new_list = False
    seen = {c for i in [*s.shown, *([s.focus] if s.focus else [])] for c in (kg.item(i).category if kg.item(i) else [])}
    topic = question_topic(u) if not names else ""
    if noun and kg.has_category(noun) and not u.slots.get("reference") and noun not in seen and not names and not topic:
        from shopguide.guide.shopping import find

        return find(dm, s, u, lang, Intent.FIND_PRODUCT)  # "有积木玩具吗": whether we sell it, i.e. a search
    if noun and kg.has_category(noun) and not u.slots.get("reference") and noun not in seen:
        found = dm.retriever.search({"product_type": noun}, {}, s.user_id, n=min(3, dm.n_cards), lang=lang)
        r, new_list = Resolved(tuple(found.ids)), True  # "牛肉干含糖吗" with no jerky shown: ours, one by one
    else:
        r = targets_of(dm, s, u)
    if (r.problem or not r.ids) and not s.shown and not u.slots.get("reference") and s.slots.get("product_type"):
        from shopguide.guide.shopping import find

        return find(dm, s, u, lang, Intent.FIND_PRODUCT)  # "黑色那款多少钱" before any card was shown: show them
    if r.problem or not r.ids:
        return _problem(dm, s, r, lang)
    ids = list(r.ids)
    s.focus = ids[-1] if len(ids) == 1 else s.focus
    if not names:
        if topic:  # "能带上飞机不" / "is it halal?": a property no listing field names
            text = "\n".join(A.say("listing_silent_on", lang, title=A.quote(kg.title(i, lang), lang), prop=topic)
                              for i in ids[:4])  # fmt: skip
            return Outcome("attribute", text, ids, new_list=False, discussed=ids)
        unknown = [w for w in u.unknown_words if w]
        if unknown and OPEN_QUESTION.search(u.text.lower()):  # "how many grams is it?": a property no field names
            text = "\n".join(A.say("listing_silent", lang, title=A.quote(kg.title(i, lang), lang), prop=unknown[0])
                              for i in ids[:4])  # fmt: skip
            return Outcome("attribute", text, ids, new_list=False, discussed=ids)
        text = "\n".join(A.details(kg, i, lang) for i in ids)
        return Outcome("attribute", text, ids, new_list=False, discussed=ids)
    lines = []
    for item_id in ids[:4]:
        for name in names[:3]:
            lines.append(_answer(dm, item_id, name, lang))
    guide = dm.faq.get("size_guide") if dm.faq is not None and "size" in names and FIT.search(u.text.lower()) else None
    if guide is not None:
        lines.append(guide.text(lang))  # "会不会偏小": the sizes, and how they run
    return Outcome("attribute", "\n".join(lines), ids, new_list=new_list, discussed=ids)


def _price_end(dm: DialogueManager, noun: str, sort: object, lang: str) -> Outcome | None:
    """The cheapest (``sort`` "cheaper") or dearest ("more_expensive") available item of a type, named with
    its price and shown as a card; None for another ``sort`` or when the shop has none."""
    from shopguide.guide.dialogue import Outcome

    kg = dm.kg
    if sort not in ("cheaper", "more_expensive") or not kg.has_category(noun):
        return None
    mask = kg.select(product_type=noun, exclude_items=dm.retriever.deleted)
    if not mask.any():
        mask = kg.select(category=noun, exclude_items=dm.retriever.deleted)
    idx = np.flatnonzero(mask & ~np.isnan(kg.price))
    if not len(idx):
        return None
    pick = idx[np.argmin(kg.price[idx])] if sort == "cheaper" else idx[np.argmax(kg.price[idx])]
    item = kg.dataset.items.id(int(pick))
    head = A.pick(lang, f"店里最便宜的{noun}是" if sort == "cheaper" else f"店里最贵的{noun}是",
                  "The cheapest we have is " if sort == "cheaper" else "The most expensive we have is ")  # fmt: skip
    text = f"{head}{A.quote(kg.title(item, lang), lang)}{A.pick(lang, '，', ', ')}{A.money(float(kg.price[pick]))}"
    return Outcome("attribute", text, [item], new_list=True, discussed=[item])


def _answer(dm: DialogueManager, item_id: str, name: str, lang: str) -> str:
    """One item's answer for one asked attribute (catalog field, stated property, or 'the listing does not say')."""
    kg = dm.kg
    if name in FACT_FIELDS or name == "reviews":
        buyers = int(kg.popularity[kg.index(item_id)]) if kg.index(item_id) is not None else 0
        return A.attribute(kg, item_id, name, lang, buyers=buyers)
    prop = PROPERTIES.get(name)
    title = A.quote(kg.title(item_id, lang), lang)
    label = (prop.zh if lang == "zh" else prop.en) if prop else name
    meta = kg.item(item_id)
    parts = (meta.description, meta.title, meta.title_alt or "") if meta else ()
    sentence = next((found for part in parts if part and (found := evidence(part, name))), None)
    if sentence:
        return A.say("listing_says", lang, title=title, prop=label, sentence=sentence)
    tag = next((t for t in (meta.tags if meta else ()) if evidence(t, name)), None)
    if tag:
        return A.say("listing_tagged", lang, title=title, prop=label, tag=tag)
    return A.say("listing_silent", lang, title=title, prop=label)


def compare(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    if (best := superlative(dm, s, u, lang)) is not None:
        return best  # "which of these is the cheapest?"
    if u.slots.get("attribute_asked") and WHICH.search(u.text.lower()) and len(s.shown) > 1:
        out = attribute(dm, s, u, lang)  # "which of these has the longest battery life?": each one's answer
        out.action = "compare" if out.action == "attribute" and len(out.cards) > 1 else out.action
        return out

    refs = u.slots.get("reference")
    r = discussed_pair(s, u) or resolve(dm.kg, refs, _list_for(s, refs), s.discussed, s.focus, default=[1, 2])
    if r.problem:
        return _problem(dm, s, r, lang)
    ids = list(r.ids)
    if len(ids) == 1 and s.focus and s.focus != ids[0]:
        ids = [s.focus, ids[0]]
    if len(ids) == 1 and u.slots.get("reference"):  # "贵的那个好在哪" with one item to talk about: its facts
        text = "\n".join(A.details(dm.kg, i, lang) for i in ids)
        return Outcome("attribute", text, ids, new_list=False, discussed=ids)
    if len(ids) < 2:
        return Outcome("clarify", A.say("need_two", lang), new_list=False)
    return Outcome("compare", A.comparison(dm.kg, ids, lang), ids, new_list=False, discussed=ids)


#: Taking a whole 搭配 set ("那就这套了 都要", "I'll take the whole outfit", "all of them").
WHOLE_SET = re.compile(
    r"这套|整套|一整套|都要|全要|全都要|全部|都买|都拍|一起拍|一起买|\ball of (?:them|it|these)\b|"
    r"\bthe (?:whole|full|entire) (?:set|outfit|look|thing)\b|\bthe lot\b|\beverything\b|\ball \d\b|"
    r"\ball (?:three|four|five)\b"
)


def accept(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    """The shopper chooses an item (or "these two" / "both"): confirm each with its price, the quantity when
    the message gives one, and say how to buy."""
    from shopguide.guide.dialogue import Outcome

    pair = discussed_pair(s, u)
    if s.last_action == "bundle" and WHOLE_SET.search(u.normalized or u.text.lower()) and s.shown:
        whole = [*([s.focus] if s.focus and s.focus not in s.shown else []), *s.shown]  # the anchor and its set
        pair = Resolved(tuple(whole[:5]))
    if pair is None and not u.slots.get("reference") and not s.focus and len(s.discussed) != 1 and len(s.shown) > 1:
        picked = pick_named(dm.kg, (s.shown, s.earlier_shown), u.slots)
        if len(picked) != 1:
            return Outcome("clarify", A.pick(lang, "您要的是哪一款呢？告诉我第几个就行。",
                                             "Which one would you like? Just tell me its number."), new_list=False)  # fmt: skip
        r = Resolved((picked[0],))
    else:
        r = pair or (targets_of(dm, s, u) if s.shown or s.focus else Resolved(problem="none_shown"))
    if r.problem:
        return _problem(dm, s, r, lang)
    ids = list(r.ids)[:5]
    kg = dm.kg

    def price(item: str) -> str:
        meta = kg.item(item)
        return A.money(meta.price if meta else None)

    if len(ids) > 1:
        listed = A.pick(lang, "、", ", ").join(f"{A.quote(kg.title(i, lang), lang)}（{price(i)}）" if lang == "zh"
                                               else f"{A.quote(kg.title(i, lang), lang)} ({price(i)})" for i in ids)  # fmt: skip
        return Outcome("accept", A.say("accept_many", lang, items=listed), ids, new_list=False, discussed=ids)
    item = ids[0]
    s.focus = item
    text = A.say("accept", lang, title=A.quote(kg.title(item, lang), lang), price=price(item))
    n, unit = quantity(u.text)
    if n > 1:
        text += A.pick(
            lang,
            f"（您要 {n} {unit}，下单时把数量改成 {n} 就行。）",
            f" (You want {n}: set the quantity to {n} at checkout.)",
        )
    return Outcome("accept", text, [item], new_list=False, discussed=[item])


def anchor_of(dm: DialogueManager, s: Session, u: Understanding) -> str | None:
    """The item a 搭配 / similar request is built around (a reference, the focus, the first card, or a search)."""
    if u.slots.get("reference") or s.focus or s.shown:
        r = targets_of(dm, s, u) if (u.slots.get("reference") or s.focus) else resolve(dm.kg, None, s.shown)
        return r.ids[0] if r.ids else None
    noun = u.slots.get("product_type") or u.slots.get("category")
    if noun:
        found = dm.retriever.search({"product_type": as_list(noun)[0]}, {}, s.user_id, n=1, text=u.text)
        return found.ids[0] if found.ids else None
    return None


_OR = re.compile(r"或者|或|还是|/|\bor\b|\beither\b")


def requested_groups(dm: DialogueManager, u: Understanding) -> list[list[str]]:
    """The product types a 搭配 request names, one group per item wanted: "T恤或者卫衣" is one group of two
    alternatives; a category is dropped when a type inside it is named too ("鞋 ... 帆布鞋就行")."""
    kg = dm.kg
    found = sorted(
        (sp["start"], sp["end"], sp["value"])
        for sp in u.spans
        if sp["slot"] in ("product_type", "category") and kg.has_category(sp["value"])
    )
    names = {v for _, _, v in found}
    found = [f for f in found if not any(_inside(kg, t, f[2]) for t in names)]
    text = u.normalized or u.text.lower()
    groups: list[list[str]] = []
    for k, (start, _end, value) in enumerate(found):
        between = text[found[k - 1][1] : start] if k else ""
        if k and len(between) <= 6 and _OR.search(between):
            groups[-1].append(value)
        elif not any(value in g for g in groups):
            groups.append([value])
    return groups


def _inside(kg: KnowledgeGraph, child: str, parent: str) -> bool:
    """Whether product type ``child`` lies inside the category ``parent`` (鞋靴 holds 帆布鞋)."""
    if child == parent:
        return False
    idx = kg.by_value.get(f"category:{child}")
    meta = kg.dataset.item_meta[int(idx[0])] if idx is not None and len(idx) else None
    return meta is not None and parent in meta.category[:-1] and meta.leaf_category == child


def outfit(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    kg = dm.kg
    groups = requested_groups(dm, u)
    budget = u.slots.get("price_max")
    named_set = len(groups) >= 2 and not u.slots.get("reference") and SET_BUDGET.search(u.normalized or u.text.lower())
    anchor = (
        anchor_of(dm, s, u)
        if not named_set and (s.shown or s.focus or u.slots.get("reference") or len(groups) <= 1)
        else None
    )  # "need a mug n a pillow too, both under 150" names the whole set: no card shown anchors it
    own = kg.item(anchor).category if anchor else []
    targets = [g for g in ([t for t in group if t not in own] for group in groups) if g]
    whole = anchor is None and not targets and (u.slots.get("occasion") or u.slots.get("gender") or budget)
    if whole:  # "a whole outfit for a guy for a wedding, under 2000": the usual pieces for that occasion
        occasion, gender = as_list(u.slots.get("occasion") or s.slots.get("occasion") or [None])[0], (
            u.slots.get("gender") or s.slots.get("gender"))  # fmt: skip
        targets = [g for g in ([t for t in group if kg.has_category(t)]
                               for group in template_for(occasion, gender if isinstance(gender, str) else None)) if g]  # fmt: skip
    if anchor is None and not targets:
        return Outcome("clarify", A.say("ask_which", lang), new_list=False)
    if anchor is not None:
        s.focus = anchor
    if not targets and budget is None:
        recs = kg.complements(anchor, dm.n_cards, exclude=dm.retriever.deleted)
        reasons = {r.item: r.reason.text(lang) for r in recs}
        return Outcome("bundle", A.bundle(kg, anchor, list(reasons), reasons, lang), list(reasons), reasons)
    gender = {"gender": kg.attributes(anchor).get("gender")} if anchor and kg.attributes(anchor).get("gender") else {}
    if anchor is None and isinstance(u.slots.get("gender") or s.slots.get("gender"), str):
        gender = {"gender": u.slots.get("gender") or s.slots.get("gender")}

    def candidates(target: str) -> list[tuple[str, float, str]]:
        if anchor is not None:
            recs = kg.complements(anchor, 12, exclude=dm.retriever.deleted, product_type=target)
            if recs:
                top = max(r.score for r in recs) or 1.0
                return [(r.item, r.score / top, r.reason.text(lang)) for r in recs]
        found = dm.retriever.search({"product_type": target, **gender, **{k: s.slots[k] for k in ("style",) if s.slots.get(k)}},
                                    _neg(s), s.user_id, n=6, lang=lang)  # fmt: skip
        return [(i, 1.0 - k / 6, found.reasons.get(i, "")) for k, i in enumerate(found.ids)]

    if not targets:  # a budget but no categories: the usual complements, kept within it
        types = dict.fromkeys(
            kg.attributes(r.item).get("product_type") for r in kg.complements(anchor, 8, exclude=dm.retriever.deleted)
        )
        targets = [[t] for t in types if t][:3]
    spent = (
        float(kg.attributes(anchor).get("price") or 0.0)
        if anchor and budget is not None and TOTAL.search(u.text.lower())
        else 0.0
    )
    p = plan(kg, targets, candidates, budget=budget, spent=spent)
    if not p.items:
        return Outcome(
            "no_results", A.say("no_results", lang, what=A.pick(lang, "搭配", "a matching set")), new_list=False
        )
    return Outcome("bundle", A.outfit_plan(kg, anchor, p, lang), p.items, p.reasons)


def _neg(s: Session) -> dict[str, list[str]]:
    from shopguide.guide.shopping import _catalog_negations

    return _catalog_negations(s.negated)


def similar(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    anchor = anchor_of(dm, s, u)
    if anchor is None:
        return Outcome("clarify", A.say("ask_which", lang), new_list=False)
    s.focus = anchor
    recs = dm.kg.substitutes(anchor, dm.n_cards, exclude=dm.retriever.deleted)
    reasons = {r.item: r.reason.text(lang) for r in recs}
    return Outcome("similar", A.similar(dm.kg, anchor, list(reasons), lang), list(reasons), reasons)
