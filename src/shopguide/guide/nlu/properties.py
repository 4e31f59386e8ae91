"""Open product properties a shopper asks about that a catalog rarely has as a field: waterproof, weight, sugar...

Each property has the question wording that asks for it (both languages) and the wording that would answer it
in an item's title, description or tags. The NLU fills ``attribute_asked`` with the property's name; the guide
quotes the listing's sentence that mentions it, or says plainly that the listing does not say (never a guess).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Property:
    """One askable property: how it is asked, how a listing would state it, and its name in each language."""

    name: str
    asked: re.Pattern[str]
    evidence: re.Pattern[str]
    zh: str
    en: str


def _p(name: str, asked: str, evidence: str, zh: str, en: str) -> Property:
    return Property(name, re.compile(asked), re.compile(evidence, re.IGNORECASE), zh, en)


PROPERTIES: tuple[Property, ...] = (
    _p(
        "waterproof",
        r"防水|防泼水|防雨|怕水|进水|沾水|\bwaterproof\b|\bwater[- ]?(?:resistant|proof)\b|\bin the rain\b",
        r"防水|防泼水|防雨|waterproof|water[- ]resistant",
        "防水性能",
        "waterproofing",
    ),
    _p(
        "weight",
        r"多重|重量|重不重|几斤|多少克|多少斤|轻不轻|有多沉|沉不沉|\bhow heavy\b|\bweigh|\bweight\b|\blightweight\b",
        r"\d+(?:\.\d+)?\s*(?:kg|千克|公斤|斤|克)|\b\d{2,4}\s?g\b|重量|轻量|轻便|lightweight",
        "重量",
        "weight",
    ),
    _p(
        "sugar",
        r"含糖|有糖|无糖|糖分|甜不甜|\bsugar\b|\bsweetened\b",
        r"无糖|含糖|低糖|代糖|sugar",
        "含糖情况",
        "sugar",
    ),
    _p(
        "battery",
        r"续航|电池|待机|充一次|用多久电|\bbattery\b|\bcharge last\b|\bhow long does (?:it|the) (?:last|run)\b",
        r"续航|电池|mah|待机|battery",
        "续航",
        "battery life",
    ),
    _p(
        "capacity",
        r"容量|多少毫升|能装多少|装得下|多大容量|\bcapacity\b|\bhow many (?:ml|litres?|liters?)\b|\bhow much (?:does|can) it hold\b",
        r"\d+\s*(?:ml|l|升|毫升)\b|容量|capacity",
        "容量",
        "capacity",
    ),
    _p(
        "ingredients",
        r"成分|配料|含什么|添加剂|\bingredients?\b|\bwhat'?s in it\b|\bcontains?\b",
        r"成分|配料|含有|ingredient",
        "成分",
        "ingredients",
    ),
    _p(
        "shelf_life",
        r"保质期|过期|能放多久|\bshelf life\b|\bexpir|\bbest before\b",
        r"保质期|shelf life",
        "保质期",
        "shelf life",
    ),
    _p(
        "origin",
        r"产地|哪里产|哪产的|哪里生产|\bmade in\b|\bwhere (?:is|was) it made\b|\borigin\b",
        r"产地|产自|原产|made in",
        "产地",
        "origin",
    ),
    _p(
        "washable",
        r"机洗|能洗吗|可以洗|水洗|干洗|手洗|\bmachine[- ]wash|\bwashable\b|\bdry[- ]clean\b|\bcan (?:i|you) wash\b",
        r"机洗|水洗|手洗|干洗|machine[- ]wash|washable",
        "洗涤方式",
        "washing",
    ),
    _p(
        "durability",
        r"掉毛|起球|掉色|褪色|缩水|变形|\bshed(?:s|ding)?\b|\bpill(?:s|ing)?\b|\bfade(?:s)?\b|\bshrink(?:s)?\b|"
        r"\blose (?:its )?shape\b",
        r"不掉毛|不起球|抗起球|不掉色|不褪色|防缩|不缩水|不变形|pilling|shed|fade|shrink",
        "掉毛起球、缩水褪色情况",
        "shedding, pilling, shrinking or fading",
    ),
    _p(
        "itchy",
        r"扎不扎|扎人|刺挠|痒不痒|会痒|\bitchy\b|\bitch\b|\bscratchy\b",
        r"不扎|亲肤|柔软|顺滑|soft|non-itch|itch-free",
        "是否扎人（亲肤程度）",
        "whether it itches",
    ),
    _p(
        "breathable", r"透气|闷不闷|闷脚|\bbreathable\b|\bbreathe\b", r"透气|不闷|breathable", "透气性", "breathability"
    ),
    _p("warmth", r"保暖|暖和|暖不暖|冷不冷|抗寒|\bwarm\b|\bwarmth\b", r"保暖|暖和|抗寒|warm", "保暖性", "warmth"),
    _p(
        "scent",
        r"什么味|香味|味道|气味|好闻|\bsmell\b|\bscent\b|\bfragrance notes?\b",
        r"香调|香气|清香|味道|scent|fragrance",
        "气味",
        "scent",
    ),
    _p("alcohol", r"含酒精|有酒精|酒精|\balcohol\b", r"酒精|alcohol", "酒精成分", "alcohol"),
    _p(
        "sensitive_skin",
        r"敏感肌|孕妇能用|孕妇可以|刺激|过敏|\bsensitive skin\b|\bpregnan|\ballerg",
        r"敏感肌|温和|无刺激|孕妇|sensitive",
        "适用肤质",
        "suitability for sensitive skin",
    ),
    _p("spf", r"防晒(?:指数|倍数)|spf|pa\+", r"spf|pa\+", "防晒指数", "SPF"),
    _p(
        "dimensions",
        r"长宽高|尺寸多大|多长|多宽|多高|\bdimensions?\b|\bhow (?:big|long|wide|tall)\b",
        r"\d+\s*(?:cm|mm|厘米|毫米|寸)|尺寸",
        "尺寸",
        "dimensions",
    ),
    _p("warranty_item", r"保修多久|质保多久|\bwarranty\b", r"保修|质保|warranty", "保修", "warranty"),
)
BY_NAME = {p.name: p for p in PROPERTIES}


def find_properties(text: str) -> list[str]:
    """The open properties a normalised message asks about, in table order."""
    return [p.name for p in PROPERTIES if p.asked.search(text)]


def evidence(text: str, name: str) -> str | None:
    """The sentence of ``text`` (an item's title / description / tags) that states the property, or None."""
    prop = BY_NAME.get(name)
    if prop is None or not text:
        return None
    for sentence in re.split(r"(?<=[。！？!?；;\n])|(?<=\. )", text):
        if prop.evidence.search(sentence):
            return sentence.strip(" ，,。.；;")
    return None
