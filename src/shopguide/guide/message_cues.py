"""Cues in a shopper's message that the item actions read: what a yes / no question asks about, how a size
runs, how many the shopper takes, and "these two".
"""

from __future__ import annotations

import re

from shopguide.guide.nlu.cues import find_references, zh_int
from shopguide.guide.types import Understanding

#: "These two" means the pair just talked about (a comparison's), not the first two cards shown.
THESE_TWO = re.compile(
    r"这俩|那俩|这两|那两|俩都|两个都|两款都|两者|二者|\bboth\b|\bthese two\b|\bthose two\b|\bthe two\b"
)


#: A yes / no question ("...吗", "能...不", "is it ...", "does it ...").
_YES_NO = re.compile(
    r"吗|么|嘛|[不没](?:[?？!！~。.\s]*$)|是不是|能不能|会不会|有没有|可不可以|算不算|[?？]|"
    r"^(?:is|are|does|do|can|will|would|could|has|have|should)\b|\b(?:is|does|can) (?:it|this|that|they)\b"
)
#: How a size runs ("会不会偏小", "does it run small", "true to size?"): the size guide answers it.
FIT = re.compile(
    r"偏小|偏大|偏瘦|偏肥|合身|尺码准|码数准|正码|标准码|选大|选小|拍大|拍小|大一码|小一码|该选|选哪个码|穿多大|"
    r"\bfit|\bruns? (?:small|large|big)\b|\btrue to size\b|\bsize (?:up|down)\b|\bwhich size\b|\bwhat size\b"
)
#: Torn between two sizes ("im between an M and an L", "我卡在两个码中间", "M和L选哪个"): the size guide answers it.
_SIZE = r"(?:xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl|\d{2}(?:\.5)?)"
BETWEEN_SIZES = re.compile(
    rf"\bbetween (?:an? |size )?{_SIZE} (?:and|&|or) (?:an? |size )?{_SIZE}\b|\bbetween (?:two|2) sizes\b|"
    rf"\b{_SIZE} (?:or|vs\.?) (?:an? )?{_SIZE}\b.{{0,20}}\b(?:which|should i|size)\b|"
    rf"两个码(?:之间|中间)|(?:卡|夹)在.{{0,8}}(?:码|号)|介于.{{0,8}}(?:码|号)|"
    rf"(?<![a-z\d]){_SIZE}(?:码|号)?(?:和|还是|跟|或者?)(?<![a-z\d]){_SIZE}(?:码|号)?.{{0,6}}(?:选哪|穿哪|拍哪|哪个|要哪)"
)
#: "是X的不" / "是不是X的": a yes / no question about what a shown item is (material, make), not a wish for X.
IS_IT = re.compile(
    r"是(?:不是)?[\u4e00-\u9fffa-z]{1,8}?的(?:不|吗|么|嘛|没)(?=$|[\s，,。？?!！~])|是不是[\u4e00-\u9fffa-z]{1,8}的|"
    r"几岁|多大的?(?:孩子|宝宝|小孩|娃)|适合多大"
)
#: An open question ("how many kg", "哪个最轻", "多重"): its words are not a property to quote back.
OPEN_QUESTION = re.compile(r"哪|什么|啥|多少|多重|多大|多长|多久|几|怎么|\b(?:what|which|how|who|where|when|why)\b")
#: Asking for the whole description rather than one property ("介绍一下", "tell me about it", "怎么样").
_DETAILS = re.compile(
    r"介绍|详情|详细|参数|规格|配置|怎么样|咋样|如何|好不好|值不值|说说|讲讲|\btell me (?:more )?about\b|"
    r"\bdetails?\b|\bspecs?\b|\bmore (?:about|info)\b|\bany good\b|\bworth it\b|\bhow is\b|\bwhat about\b"
)
#: Words of a question that are not its topic (particles, pronouns, auxiliaries, politeness).
_FILLER_ZH = re.compile(
    r"亲|请问|问一下|问下|想问|那个|这个|这款|那款|这件|那件|这双|那双|它|他|她|吗|么|嘛|呢|啊|呀|吧|哈|哦|"
    r"是不是|能不能|会不会|有没有|可不可以|算不算|[不没](?=[?？!！~。.\s]*$)|[?？!！~。.,，\s]+"
)
#: Words that begin or end an English question without being its topic.
_FILLER_EN = frozenset((
    "is", "are", "does", "do", "did", "can", "could", "will", "would", "should", "has", "have", "it", "its",
    "it's", "this", "that", "one", "they", "them", "the", "a", "an", "i", "you", "me", "my", "please", "pls",
    "plz", "hey", "hi", "ok", "okay", "so", "and", "but", "just", "really", "actually", "be", "there", "any",
    "ones", "item", "model",
))  # fmt: skip
_CLASSIFIER = "个款件双条只台部套种瓶支顶把块盒袋罐"


def question_topic(u: Understanding) -> str:
    """What a yes / no question asks about when it names no known attribute ("第二个能带上飞机不" -> "能带上飞机",
    "is the second one ok on a plane" -> "ok on a plane"); "" when it is not such a question or asks for the
    whole description ("介绍一下第二个") or says nothing beyond the item and catalog words ("这个黑色呢")."""
    text = (u.normalized or u.text.lower()).strip()
    if not _YES_NO.search(text) or _DETAILS.search(text) or OPEN_QUESTION.search(text):
        return ""
    cut = sorted([*find_references(text)[1], *((sp["start"], sp["end"]) for sp in u.spans)])
    kept, at = [], 0
    for start, end in cut:
        if start >= at:
            kept.append(text[at:start])
            at = end
    kept.append(text[at:])
    if u.lang == "zh":
        parts = [_FILLER_ZH.sub(" ", part if k == 0 else part.lstrip(_CLASSIFIER)) for k, part in enumerate(kept)]
        topic = " ".join(" ".join(parts).split()).strip(" 的")
        return topic if len(topic) >= 2 else ""
    words = " ".join(re.sub(r"[?!.,~]+", " ", part) for part in kept).split()
    while words and words[0] in _FILLER_EN:
        words.pop(0)
    while words and words[-1] in _FILLER_EN:
        words.pop()
    return " ".join(words) if len(" ".join(words)) >= 3 else ""


#: "来两个" / "要3件" / "x2" / "two of them": how many of the chosen item the shopper takes.
QUANTITY = re.compile(
    r"(?:来|要|拍|买|拿|下单|订)\s*(?P<zh>[两二三四五六七八九十]|\d{1,2})\s*"
    r"(?P<unit>个|件|双|条|只|台|套|瓶|盒|份|支|把|袋|罐|包)|"
    r"(?<![a-z\d])[x×*]\s*(?P<times>\d{1,2})\b|"
    r"\b(?P<en>two|three|four|five|\d{1,2}) (?:of (?:them|it|those|these|that|this|the)\b|pieces|pairs|units)\b"
)
_EN_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5}


def quantity(text: str) -> tuple[int, str]:
    """How many the message asks for and the unit it counts in (``(1, "")`` when it does not say)."""
    m = QUANTITY.search(text.lower())
    if not m:
        return 1, ""
    token = m.group("zh") or m.group("times") or m.group("en")
    n = _EN_COUNT.get(token) or (int(token) if token.isdigit() else zh_int(token))
    return (n, m.group("unit") or "件") if 1 <= n <= 99 else (1, "")
