"""Grounded reply templates in Chinese and English.

Every fact a reply states is passed in from the catalog, the knowledge graph or the FAQ file: titles are
quoted (「…」 in Chinese, “…” in English), catalog prices are written ``¥189``, attribute values are the
catalog's own words (or their English names from the catalog's name map). Budgets the shopper gave are
written as ``300元`` / ``CNY 300``, never with ``¥``, so a reader (and the grounding test) can tell a
shopper's constraint from a catalog fact. Nothing here invents a product, a price or a property.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shopguide.guide.kg import FACT_FIELDS, KnowledgeGraph
from shopguide.guide.phrases import pick, say, suggestions

__all__ = ["pick", "say", "suggestions"]  # re-exported: callers read every reply piece from this module

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "price": ("价格", "price"),
    "brand": ("品牌", "brand"),
    "product_type": ("品类", "type"),
    "category": ("品类", "category"),
    "color": ("颜色", "colour"),
    "material": ("材质", "material"),
    "style": ("风格", "style"),
    "season": ("季节", "season"),
    "gender": ("适用人群", "for"),
    "occasion": ("适用场合", "occasion"),
    "size": ("尺码", "sizes"),
    "stock": ("库存", "stock"),
    "reviews": ("评价", "reviews"),
}
#: Gift recipients (the NLU's canonical Chinese values) in English.
RECIPIENT_EN = {"女朋友": "girlfriend", "男朋友": "boyfriend", "老婆": "wife", "老公": "husband", "妈妈": "mom",
                "爸爸": "dad", "父母": "parents", "儿子": "son", "女儿": "daughter", "朋友": "friend",
                "闺蜜": "best friend", "兄弟": "brother", "姐妹": "sister", "同事": "colleague", "领导": "boss",
                "老师": "teacher", "客户": "client", "对象": "partner", "爷爷": "grandpa", "奶奶": "grandma",
                "长辈": "elders"}  # fmt: skip


def recipient(value: Any, lang: str) -> str:
    """Gift recipients in ``lang`` (several joined: 同事、女儿 / colleague and daughter)."""
    names = [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
    names = [RECIPIENT_EN.get(n, n) for n in names] if lang == "en" else names
    return pick(lang, "、".join(names), " and ".join(names))


def money(price: float | None) -> str:
    """A catalog price: ``¥189`` or ``¥189.5``."""
    return "" if price is None else f"¥{price:g}"


def budget(value: float, lang: str) -> str:
    """A shopper's budget figure (not a catalog price)."""
    return f"CNY {value:g}" if lang == "en" else f"{value:g}元"


def quote(title: str, lang: str) -> str:
    return f"“{title}”" if lang == "en" else f"「{title}」"


def field_label(name: str, lang: str) -> str:
    zh, en = FIELD_LABELS.get(name, (name, name))
    return pick(lang, zh, en)


def fact(kg: KnowledgeGraph, name: str, value: Any, lang: str) -> str:
    """One catalog fact as text."""
    if value is None or value == "":
        return "—"
    if name == "price":
        return money(float(value))
    if name == "stock":
        n = int(value)
        if n <= 0:
            return pick(lang, "暂时缺货", "out of stock")
        return pick(lang, f"有货（库存 {n} 件）", f"in stock ({n} left)")
    return kg.label(value, lang)


def describe(kg: KnowledgeGraph, slots: Mapping[str, Any], negated: Mapping[str, Sequence[str]], lang: str) -> str:
    """What the shopper asked for, in their words mapped to catalog names: 黑色纯棉衬衫，300元以内."""
    words = [kg.label(slots[k], lang) for k in ("color", "material", "style", "brand") if slots.get(k)]
    noun = slots.get("product_type") or slots.get("category")
    nouns = (
        pick(lang, "、", " or ").join(kg.label(n, lang) for n in (noun if isinstance(noun, list) else [noun]))
        if noun
        else ""
    )
    if lang == "en":
        head = " ".join([*(w.lower() for w in words), nouns.lower() if noun else "products"])
    else:
        head = "".join(words) + (nouns if noun else "商品")
    parts = [head]
    if slots.get("gender"):
        parts.append(pick(lang, f"{slots['gender']}款", f"for {kg.label(slots['gender'], lang).lower()}"))
    if within := budget_text(slots, lang):
        parts.append(within)
    nots = [kg.label(v, lang) for vals in negated.values() for v in vals]
    if nots:
        parts.append(pick(lang, "不要" + "、".join(nots), "not " + " or ".join(n.lower() for n in nots)))
    return pick(lang, "，".join(parts), ", ".join(parts))


def budget_text(slots: Mapping[str, Any], lang: str) -> str:
    """The shopper's budget: 300元以内 / under CNY 300 ('' when none)."""
    lo, hi = slots.get("price_min"), slots.get("price_max")
    if lo is not None and hi is not None:
        return pick(
            lang, f"{budget(lo, lang)}到{budget(hi, lang)}", f"between {budget(lo, lang)} and {budget(hi, lang)}"
        )
    if hi is not None:
        return pick(lang, f"{budget(hi, lang)}以内", f"under {budget(hi, lang)}")
    if lo is not None:
        return pick(lang, f"{budget(lo, lang)}以上", f"over {budget(lo, lang)}")
    return ""


def listing(
    kg: KnowledgeGraph, item_ids: Iterable[str], lang: str, reasons: Mapping[str, str] | None = None, start: int = 1
) -> str:
    """Numbered lines: 1. 「title」 ¥189 (— reason); ``start``: the first number (a list continued)."""
    lines = []
    for k, item_id in enumerate(item_ids, start):
        meta = kg.item(item_id)
        if meta is None:
            continue
        line = f"{k}. {quote(kg.title(item_id, lang), lang)} {money(meta.price)}".rstrip()
        if reasons and reasons.get(item_id):
            line += f" — {reasons[item_id]}"
        lines.append(line)
    return "\n".join(lines)


def results(
    kg: KnowledgeGraph, item_ids: Sequence[str], what: str, lang: str, *, relaxed: Sequence[str] = (),
    note: str = "",
) -> str:  # fmt: skip
    """The answer to a search: what was found, what had to be relaxed, and the numbered list."""
    n = len(item_ids)
    if relaxed:
        dropped = pick(lang, "、", ", ").join(field_label(r, lang) for r in relaxed)
        head = pick(lang, f"没有完全符合（{what}）的商品，放宽了{dropped}后，为你找到这 {n} 款：",
                    f"Nothing matched ({what}) exactly, so I relaxed the {dropped}. Here are {n}:")  # fmt: skip
    else:
        head = pick(lang, f"为你找到 {n} 款{what}：", f"Here are {n} {what}:")
    return "\n".join(x for x in (note, head, listing(kg, item_ids, lang)) if x)


def closest(kg: KnowledgeGraph, item_ids: Sequence[str], relaxed: Sequence[str], lang: str) -> str:
    """The closest items when nothing fits exactly, and which of the wishes they do not meet."""
    dropped = pick(lang, "、", ", ").join(field_label(r, lang) for r in relaxed)
    head = pick(lang, f"这几款最接近（{dropped}不同）：", f"These come closest (in a different {dropped}):")
    return head + "\n" + listing(kg, item_ids, lang)


def kept_over_budget(kg: KnowledgeGraph, kept: Sequence[str], lang: str) -> str:
    """What was asked for, outside the budget, labelled as such."""
    text = pick(lang, "这几款符合要求，但不在预算内：", "These match, but are outside your budget:")
    return text + "\n" + listing(kg, kept, lang)


def nearest(kg: KnowledgeGraph, item_ids: Sequence[str], lang: str) -> str:
    head = pick(lang, "这几款最接近你的预算：", "These come closest to your budget:")
    return head + "\n" + listing(kg, item_ids, lang)


def personal(kg: KnowledgeGraph, item_ids: Sequence[str], lang: str) -> str:
    head = pick(
        lang, f"根据你的喜好，推荐这 {len(item_ids)} 款：", f"Based on your taste, here are {len(item_ids)} picks:"
    )
    return head + "\n" + listing(kg, item_ids, lang)


def gift(kg: KnowledgeGraph, item_ids: Sequence[str], who: str, slots: Mapping[str, Any], lang: str) -> str:
    """Gift ideas for a recipient within the budget."""
    within = budget_text(slots, lang)
    if lang == "en":
        head = f"Gift ideas for your {who}" if who else "Gift ideas"
        return f"{head}{f' ({within})' if within else ''}:\n" + listing(kg, item_ids, lang)
    head = f"送给{who}" if who else "送礼"
    return f"{head}{f'（{within}）' if within else ''}，这 {len(item_ids)} 款比较合适：\n" + listing(kg, item_ids, lang)


def details(kg: KnowledgeGraph, item_id: str, lang: str, fields: Sequence[str] = FACT_FIELDS) -> str:
    """Every known fact of an item: 「title」：价格 ¥189；品牌 栖木；…"""
    facts = kg.attributes(item_id)
    parts = [f"{field_label(k, lang)} {fact(kg, k, facts[k], lang)}" for k in fields if k in facts]
    sep = pick(lang, "；", "; ")
    return pick(
        lang, f"{quote(kg.title(item_id, lang), lang)}：", f"{quote(kg.title(item_id, lang), lang)}: "
    ) + sep.join(parts)


def attribute(kg: KnowledgeGraph, item_id: str, name: str, lang: str, *, buyers: int | None = None) -> str:
    """The answer to 'what is its <attribute>': the catalog value, or an honest 'not in the catalog'."""
    title = quote(kg.title(item_id, lang), lang)
    if name == "reviews":
        if buyers:
            return pick(lang, f"{title}暂无文字评价，已有 {buyers} 位顾客浏览、加购或购买过。",
                        f"{title} has no written reviews yet; {buyers} shoppers have viewed, carted or bought it.")  # fmt: skip
        return pick(lang, f"{title}暂时还没有评价。", f"{title} has no reviews yet.")
    value = kg.attributes(item_id).get(name)
    label = field_label(name, lang)
    if value is None:
        return pick(lang, f"商品资料里没有{title}的{label}信息，可以转人工客服帮您确认。",
                    f"The catalog doesn't list the {label} of {title}; a colleague from customer service can check.")  # fmt: skip
    return pick(
        lang,
        f"{title}的{label}：{fact(kg, name, value, lang)}。",
        f"The {label} of {title}: {fact(kg, name, value, lang)}.",
    )


def values(kg: KnowledgeGraph, noun: str, name: str, options: Sequence[str], lang: str) -> str:
    """'Which colours do shirts come in': the values found in the catalog."""
    label, shown = field_label(name, lang), pick(lang, "、", ", ").join(kg.label(v, lang) for v in options[:12])
    return pick(
        lang,
        f"{kg.label(noun, lang)}目前有这些{label}：{shown}。",
        f"{kg.label(noun, lang)} come in these {label}s: {shown}.",
    )


def comparison(kg: KnowledgeGraph, item_ids: Sequence[str], lang: str) -> str:
    """A table-like comparison: the items, then shared facts, then one line per differing fact."""
    facts = [kg.attributes(i) for i in item_ids]
    head = pick(lang, " vs ", " vs ").join(f"{k}. {quote(kg.title(i, lang), lang)}" for k, i in enumerate(item_ids, 1))
    shared, different = [], []
    for name in FACT_FIELDS:
        vals = [f.get(name) for f in facts]
        if all(v is None for v in vals) or name == "stock":
            continue
        if len(set(map(str, vals))) == 1:
            shared.append(f"{field_label(name, lang)} {fact(kg, name, vals[0], lang)}")
        else:
            different.append(f"· {field_label(name, lang)}：" + " | ".join(fact(kg, name, v, lang) for v in vals))
    lines = [head]
    if shared:
        lines.append(pick(lang, "相同：", "Same: ") + pick(lang, "；", "; ").join(shared))
    if different:
        lines.append(pick(lang, "不同：", "Different:"))
        lines += [d if lang != "en" else d.replace("：", ": ") for d in different]
    return "\n".join(lines)


def bundle(kg: KnowledgeGraph, anchor: str, item_ids: Sequence[str], reasons: Mapping[str, str], lang: str) -> str:
    title = quote(kg.title(anchor, lang), lang)
    if not item_ids:
        return pick(
            lang,
            f"暂时没有找到适合和{title}搭配的商品。",
            f"I couldn't find anything that pairs with {title} right now.",
        )
    head = pick(lang, f"{title}可以这样搭配：", f"Here's what goes with {title}:")
    return head + "\n" + listing(kg, item_ids, lang, reasons)


def similar(kg: KnowledgeGraph, anchor: str, item_ids: Sequence[str], lang: str) -> str:
    title = quote(kg.title(anchor, lang), lang)
    if not item_ids:
        return pick(lang, f"暂时没有和{title}类似的其他商品。", f"There's nothing else quite like {title} right now.")
    return pick(lang, f"和{title}类似的还有：", f"Similar to {title}:") + "\n" + listing(kg, item_ids, lang)


def out_of_range(count: int, lang: str) -> str:
    return pick(
        lang,
        f"我刚才只推荐了 {count} 款，您指的是哪一款？",
        f"I only showed {count} products just now. Which one do you mean?",
    )


def price_note(kg: KnowledgeGraph, item_id: str, lang: str) -> str:
    """The item's catalog price, and whether it is tagged as on sale."""
    meta = kg.item(item_id)
    if meta is None or meta.price is None:
        return ""
    title, on_sale = quote(kg.title(item_id, lang), lang), "促销" in meta.tags
    if lang == "en":
        return f"{title} costs {money(meta.price)}" + (", and it is on sale right now." if on_sale else ".")
    return f"{title}现价 {money(meta.price)}" + ("，正在促销。" if on_sale else "。")


def outfit_plan(kg: KnowledgeGraph, anchor: str | None, plan: Any, lang: str) -> str:
    """A 搭配 plan: what goes with the anchor (or a set), the total against the budget, what could not be found."""
    head = (
        pick(
            lang,
            f"{quote(kg.title(anchor, lang), lang)}可以这样搭配：",
            f"Here's what goes with {quote(kg.title(anchor, lang), lang)}:",
        )
        if anchor
        else pick(lang, "给你搭了一套：", "Here's a set that goes together:")
    )
    lines = [head, listing(kg, plan.items, lang, plan.reasons)]
    total = budget(plan.total, lang)
    if plan.budget is not None and plan.over_budget:
        over = budget(round(plan.total - plan.budget, 2), lang)
        lines.append(pick(lang, f"按{budget(plan.budget, lang)}的预算凑不齐这一套：最便宜的搭配合计{total}，超出{over}。",
                          f"No set fits {budget(plan.budget, lang)}: the cheapest one comes to {total}, {over} over."))  # fmt: skip
    elif plan.budget is not None:
        lines.append(pick(lang, f"合计{total}，在{budget(plan.budget, lang)}的预算内。",
                          f"Total {total}, within your budget of {budget(plan.budget, lang)}."))  # fmt: skip
    if plan.missing:
        names = pick(lang, "、", ", ").join(kg.label(m, lang) for m in plan.missing)
        lines.append(pick(lang, f"店里暂时没有合适的{names}。", f"We have nothing suitable in {names} right now."))
    return "\n".join(lines)
