"""Pattern cues that are not catalog words: references to shown cards, negation, refinements, questions.

All functions read text normalised by :func:`~.normalize.normalize_text` (lower case, digits).
"""

from __future__ import annotations

import re

from shopguide.guide.nlu.properties import find_properties

# --- references to shown cards ("第二个", "the last one", "这两款", "both") --------------------------------

_ZH_NUM = {"一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_EN_ORD = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
           "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "last": -1}  # fmt: skip
_EN_NUM = {"two": 2, "2": 2, "three": 3, "3": 3, "four": 4, "4": 4}
_ORD = r"(first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th|last)"
_NOT_CARD = (
    r"(?!\s+(?:time|times|date|day|week|month|year|order|thing|place|step|impression|purchase|floor|grade|"
    r"birthday|anniversary|generation|gen|edition|row|line|round|try|attempt|child|kid|son|daughter)\b)"
)
#: Relative references resolve against the list in focus: the dearest / cheapest card ("贵的那个", "the pricier one").
PRICIEST, CHEAPEST = "priciest", "cheapest"
_ONE_ZH = r"(?:那|这)?(?:一)?(?:个|款|件|双|条|只|台|部|套|种|瓶|支|顶|把|块|盒|袋|罐)"
_REL_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"(?:最|更|比较|稍微)?(?:贵|价格高|价钱高|价位高)(?:一点|一些|些|点)?的?(?:那|这)" + _ONE_ZH + r"?|"
            r"(?:最|更)?贵的" + _ONE_ZH
        ),
        PRICIEST,
    ),
    (
        re.compile(
            r"(?:最|更|比较|稍微)?(?:便宜|实惠|价格低|价钱低)(?:一点|一些|些|点)?的?(?:那|这)" + _ONE_ZH + r"?|"
            r"(?:最|更)?便宜的" + _ONE_ZH
        ),
        CHEAPEST,
    ),
    (
        re.compile(
            r"\b(?:the|that|this)\s+(?:more expensive|pricier|priciest|dearer|dearest|expensive|most expensive|"
            r"higher[- ]priced|pricey)\s+(?:one|option|model|pair|item|of (?:the|those|these|them|both)(?: (?:two|2))?)\b"
        ),
        PRICIEST,
    ),
    (
        re.compile(
            r"\b(?:the|that|this)\s+(?:cheaper|cheapest|cheap|less expensive|least expensive|lower[- ]priced|"
            r"more affordable|affordable)\s+(?:one|option|model|pair|item|of (?:the|those|these|them|both)(?: (?:two|2))?)\b"
        ),
        CHEAPEST,
    ),
]
#: A bare superlative next to "and / vs / 跟" is a card too: "最贵的跟最便宜的差在哪", "the cheapest vs the priciest".
_PAIR_ZH = r"(?:跟|和|与|同|比|还是|vs)"
_PAIR_EN = r"(?:and|vs\.?|versus|or|compared? to|compared? with|compares? (?:to|with)|against)"
_REL_PATTERNS += [
    (re.compile(rf"(?:最|更)贵的(?=\s*{_PAIR_ZH})|{_PAIR_ZH}\s*(?:最|更)贵的"), PRICIEST),
    (re.compile(rf"(?:最|更)(?:便宜|实惠)的(?=\s*{_PAIR_ZH})|{_PAIR_ZH}\s*(?:最|更)(?:便宜|实惠)的"), CHEAPEST),
    (
        re.compile(
            rf"\bthe (?:priciest|most expensive|dearest|pricier|more expensive)\b(?=\s+{_PAIR_EN}\b)|"
            rf"\b{_PAIR_EN} the (?:priciest|most expensive|dearest|pricier|more expensive)\b"
        ),
        PRICIEST,
    ),
    (
        re.compile(
            rf"\bthe (?:cheapest|least expensive|cheaper|less expensive)\b(?=\s+{_PAIR_EN}\b)|"
            rf"\b{_PAIR_EN} the (?:cheapest|least expensive|cheaper|less expensive)\b"
        ),
        CHEAPEST,
    ),
]
_REF_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"倒数第\s*([一二两三四五\d])"), "zh_from_end"),
    (re.compile(r"第\s*([一二两三四五六七八九十]|\d{1,2})(?![次天年周月届期季步代名])"), "zh_ord"),
    (re.compile(r"最后(?:一|那)?(?:个|款|件|双|条|只|台|部|套|种|瓶|支)|最后那|最后的"), "last"),
    (re.compile(r"(?:这|那|前)\s*(两|俩|2|三|3)(?!天|年|周|月|次|点|位|岁)"), "zh_first_n"),
    (re.compile(r"两者|二者|俩都|两个都|两款都|两件都"), "two"),
    (re.compile(r"(?<![\d.])([1-9])\s*号(?![码线])"), "num"),
    (re.compile(r"\b(?:the|that|this)\s+(first|top|last)\s+(two|three|2|3)\b"), "en_first_n"),
    (re.compile(rf"\b(?:the\s+)?{_ORD}\s+(?:and|or|vs\.?|versus|&|with)\s+(?:the\s+)?{_ORD}\b"), "en_ord_pair"),
    (re.compile(r"\bcompare\s+#?([1-6])\s*(?:and|or|vs\.?|versus|&|with)\s*#?([1-6])\b"), "num_pair"),
    (re.compile(r"\b(?:the|that|this)\s+" + _ORD + r"\b" + _NOT_CARD), "en_ord"),
    (re.compile(r"\b" + _ORD + r"\s+(?:one|ones|item|option|pick|product|choice|pair)\b"), "en_ord"),
    (re.compile(r"\b(?:both|these two|those two|the two|the 2|these 2|either one)\b"), "two"),
    (re.compile(r"\b(?:all three|these three|those three|the three)\b"), "three"),
    (re.compile(r"(?:\b(?:option|number|item|no\.?)\s*|#)([1-9])\b"), "num"),
]


def zh_int(token: str) -> int:
    return int(token) if token.isdigit() else _ZH_NUM.get(token, 0)


def find_references(text: str) -> tuple[list[int | str], list[tuple[int, int]]]:
    """1-based positions of the shown cards the message points at (-1 = the last; ``"priciest"`` /
    ``"cheapest"`` for "the pricier one" / 便宜的那款), and the spans used."""
    hits: list[tuple[int, int | str]] = []
    spans: list[tuple[int, int]] = []
    for pattern, which in _REL_PATTERNS:
        for m in pattern.finditer(text):
            if not any(m.start() < e and m.end() > s for s, e in spans):
                spans.append((m.start(), m.end()))
                hits.append((m.start(), which))
    for pattern, kind in _REF_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in spans):
                continue
            if kind == "zh_ord":
                found = [zh_int(m.group(1))]
            elif kind == "zh_from_end":
                found = [-zh_int(m.group(1))]
            elif kind == "last":
                found = [-1]
            elif kind == "zh_first_n":
                found = list(range(1, zh_int(m.group(1)) + 1))
            elif kind == "two":
                found = [1, 2]
            elif kind == "three":
                found = [1, 2, 3]
            elif kind == "en_first_n":
                n = _EN_NUM[m.group(2)]
                found = list(range(-n, 0)) if m.group(1) == "last" else list(range(1, n + 1))
            elif kind == "en_ord":
                found = [_EN_ORD[m.group(1)]]
            elif kind == "en_ord_pair":  # "the first and second", "1st vs 2nd"
                found = [_EN_ORD[m.group(1)], _EN_ORD[m.group(2)]]
            elif kind == "num_pair":  # "compare 1 and 3"
                found = [int(m.group(1)), int(m.group(2))]
            else:
                found = [int(m.group(1))]
            found = [f for f in found if f != 0]
            if kind == "zh_first_n" and m.end() < len(text) and text[m.end()] in "个件款双条":
                pass  # 这两个 / 前三款: cards
            elif (
                kind == "zh_first_n"
                and m.end() < len(text)
                and not re.match(r"[\s,，?？吗呢的有哪啥都全]|一起|一块|一并", text[m.end() :])
            ):
                found = []  # 这两天 / 这三样 ... are not cards (the lookahead above lists the common ones)
            if found:
                spans.append((m.start(), m.end()))
                hits.extend((m.start(), f) for f in found)
    ordered = [f for _, f in sorted(hits, key=lambda hit: hit[0])]
    return list(dict.fromkeys(ordered)), spans


#: Asking which values exist ("what colours DO you have", "有哪些颜色", "都有啥码"): a question, not a search.
WHICH_VALUES = {
    "color": re.compile(
        r"\b(?:what|which) colou?rs\b|\bcolou?rs? (?:do you have|are there|does it come in|available|options)\b|"
        r"有(?:什么|哪些|啥|几种|几个|哪几种|哪几个)(?:颜色|色)|都有(?:什么|啥|哪些)(?:颜色|色)|几个色|几种颜色"
    ),
    "size": re.compile(
        r"\b(?:what|which) sizes\b|\bsizes? (?:do you have|are there|available)\b|"
        r"有(?:什么|哪些|啥|几个)(?:尺码|码)|都有(?:什么|啥|哪些)(?:尺码|码)"
    ),
}
#: One budget for several items ("一共", "2500 total", "in all").
TOTAL = re.compile(r"一共|总共|加起来|合计|总价|整套|\btotal\b|\baltogether\b|\ball in\b|\bin all\b|\bcombined\b")
#: Asking for one more product next to what is already chosen ("再加个香薰蜡烛", "凑个包邮", "can I add a tie too").
ADD_ITEM = re.compile(
    r"再加|加个|加一个|加一[件双瓶盒条个]|再来[个一件双瓶盒条]|再买[个一件双瓶盒条]|顺便买|凑[个一]?(?:单|包邮|满减)|"
    r"\badd (?:a|an|some|one)\b|\bthrow in\b|\balso (?:get|grab|buy)\b|\bone more\b"
)


# --- negation scope ("不要红色的", "not leather", "除了黑色都行", "粉的算了", "skip Bose", "alcohol-free") ---------

_NEG_ZH = re.compile(
    r"(不想要|不太喜欢|不喜欢|不需要|(?<!的)不要|的不要(?![\s,，。!！~了哈啊哦呀]|$)|不想|不用|不含|不能是|不能有|(?<!是)不是|(?<![特区分性级类识告差个])别要|"
    r"(?<![特区分性级类识告差个])别(?![的人家处])|除了|除去|排除|讨厌|避开|受够了|(?<![是])非(?!常)|"
    r"已经有|早就有|早有|已有|都有(?=[^了])|(?<=[他她我])有(?:一)?[条件双个只把台款瓶支盒](?=[^,，。!！?？]{1,8}了)|已经送过|送过(?:的)?|(?:去年|上次|之前|以前)(?:就)?送(?:了|的|过)+)"
    r"(?!太|超过|那么|这么|贵)"
)
_NEG_EN = re.compile(
    r"\b(anything but|everything but|all but|not|no|without|except|excluding|other than|don't want|do not want|"
    r"dont want|don't like|do not like|hate|avoid|non|skip|no more|nothing|not a fan of|tired of|sick of|"
    r"done with|over|pass on|ditch|lose the|drop the|steer clear of|stay away from|allergic to|"
    r"(?:already|alr) (?:has|have|had|owns|own|got|bought)(?: a| an| one| some| two)?)\b"
    r"(?!\s+(?:too|so|very|more than|over|sure|really|much|problem|worries|thanks|thank|idea|rush|matter|longer|"
    r"only|just|bad|a bot|budget|\d)\b)"
)
#: Rejections that FOLLOW what they reject: "粉的算了", "华为的别推了", "奶茶喝腻了", "帐篷他已经有了", "Bose? nah".
_POST_ZH = re.compile(
    r"(?:的话)?(?:就|还是|也|都)?(?:算了|不要了|别推了|别推荐了|别再推了|不用推了|不考虑|不用了|pass|不行|免了|"
    r"[喝吃穿用看戴玩]腻了|腻了|有了|已经有了|有(?:一堆|一大堆|好多|很多|太多|一柜子)了?|(?:他|她)?不缺|已有|不适合|不喜欢|不太行|不咋地|踩过雷|踩雷|拉黑|out|"
    r"(?<=的)(?:也|都|就)?不要(?:了)?(?=[\s,，。!！~哈啊哦呀]|$)|"
    r"(?:太|有点|有些|好|真|也太|显得)(?:俗|土|丑|普通|一般|平淡|老气|显老|嫩|花|艳|暗|闷|丑了|low|廉价|扎眼|刺眼|晃眼|跳|骚|夸张|幼稚|死板|沉闷|显黑|显脏|不耐脏)"
    r"(?:了|气)?|显老|显胖|显黑|难看|不好看)"
)
_POST_EN = re.compile(
    r"(?:\s+(?:is|are|'s|'re|was|were|look|looks|seem|seems))?\s*(?:-free\b|\s+free\b|\s+(?:is|are)?\s*(?:a bit much|"
    r"too much|out|not (?:for|her|his|my|our) \w+|a no|a no-go|not happening|not it|"
    r"(?:will |would |'ll )?gets? (?:filthy|dirty|grubby|stained)|shows? (?:the )?(?:dirt|stains)|"
    r"(?:a bit |way |far |kind of |kinda |just |bit )?too (?:loud|bright|flashy|girly|boring|plain|dark|old|"
    r"young|childish|busy|garish|tacky|loud-looking|cheap-looking)|(?:so |really )?(?:ugly|tacky|hideous|meh))\b|"
    r"\?\s*(?:nah|nope|no)\b)"
)
_END_ZH = re.compile(r"[,.!?;，。！？；、]|但|而是|只要|就要|想要|换成|(?<!不)要|都|其他|其它|以外|之外|也行|就行")
_END_EN = re.compile(
    r"[,.!?;]|\b(?:but|instead|rather|please|though|just|only|so|i want|i need|i'd like|and show|"
    r"show me|for|in|under|below)\b"
)
_START = re.compile(r"[,.!?;，。！？；]|\b(?:but|and|so|then)\b|但|而且|然后|不过|还是")


#: A space between Chinese words, which shoppers type instead of a comma ("皮鞋有棕的吗 黑的我有了").
_SPACE_ZH = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
#: Words that carry no object of a rejection ("粉的 算了": the object is before the space).
_NO_OBJECT = re.compile(r"[\s我他她你们就也都还是的啊呀吧]*")


def _clause_start(text: str, pos: int) -> int:
    """Where the clause that ends at ``pos`` starts: after the last clause delimiter, or after the last space
    between Chinese words when what follows that space still names something ("有棕的吗 黑的我有了")."""
    start = 0
    for m in _START.finditer(text, 0, pos):
        start = m.end()
    for m in _SPACE_ZH.finditer(text, start, pos):
        if not _NO_OBJECT.fullmatch(text, m.end(), pos):
            start = m.end()
    return start


def negation_scopes(text: str) -> list[tuple[int, int]]:
    """Character spans a negation covers: from a cue to the end of its clause ("不要红色的"), or from the start of
    the clause to a rejection that follows what it rejects ("粉的算了", "alcohol-free")."""
    scopes: list[tuple[int, int]] = []
    for pattern, end_pattern in ((_NEG_ZH, _END_ZH), (_NEG_EN, _END_EN)):
        for m in pattern.finditer(text):
            end = end_pattern.search(text, m.end())
            stop = end.start() if end else len(text)
            if stop > m.end():
                scopes.append((m.end(), stop))
    for pattern in (_POST_ZH, _POST_EN):
        for m in pattern.finditer(text):
            start = _clause_start(text, m.start())
            if m.start() > start and not any(s <= start < e for s, e in scopes):
                scopes.append((start, m.start()))
    return scopes


# --- refinements ("便宜点的", "cheaper", "换个颜色") -----------------------------------------------------

#: The budget may go up ("贵点也行", "pricier is fine", "don't mind paying more"): the cap goes, nothing else.
BUDGET_OPEN = re.compile(
    r"贵(?:一)?(?:点|些)?(?:也|都)(?:行|可以|没事|没关系|无所谓)|贵点无所谓|价格无所谓|价钱无所谓|预算(?:可以)?(?:再)?(?:加|多|放宽)|"
    r"不差钱|\b(?:pricier|more expensive|dearer) (?:is|are|'s) (?:fine|ok|okay)\b|\bdon'?t mind (?:paying|spending) more\b|"
    r"\bprice doesn'?t matter\b|\bbudget(?:'s| is)? flexible\b|\bmoney(?:'s| is) no (?:object|issue)\b"
)

SORT_PATTERNS: dict[str, re.Pattern[str]] = {
    "cheaper": re.compile(
        r"(?:再|更)?便宜(?:一)?(?:点|些)|更便宜|便宜的|实惠(?:一)?(?:点|些)|\bcheaper\b|\bless expensive\b|"
        r"\bmore affordable\b|\blower price|\bcheap\b|\baffordable\b|\binexpensive\b|最便宜|最实惠|最低价|"
        r"\bcheapest\b|\blowest price\b|\bfor less\b|\bless money\b|\bcosts? less\b|\bnot (?:as|so) (?:expensive|pricey)\b|"
        # complaints about the price shown: "都好贵啊", "bit pricey tbh", "over my budget"
        r"(?:太|好|有点|有些|真|也太|这么|那么|偏|略|都|还是)贵(?!一?[点些]的)|贵了|贵死|超预算|超出预算|"
        r"\b(?:too|bit|a bit|little|kinda|so|very|way|really|quite|pretty) (?:pricey|expensive|steep|dear)\b|"
        r"\bover (?:my |the )?budget\b|\bout of my budget\b|\bcan'?t afford\b"
    ),
    "more_expensive": re.compile(
        r"贵(?:一)?(?:点|些)(?!(?:也|都)?(?:行|可以|没事|没关系|无所谓|ok|OK))|更贵(?!(?:也|都)(?:行|可以|没事|没关系))|高端|档次高|高档|"
        r"\bmore expensive\b(?! (?:is|are) (?:fine|ok|okay))|\bpricier\b(?! (?:is|are) (?:fine|ok|okay))|\bpremium\b|"
        r"\bhigher[- ]end\b|\bfancier\b|\bluxury\b|\bupscale\b|最贵|\bmost expensive\b|\bpriciest\b"
    ),
    "popular": re.compile(
        r"热门|最火|火的|流行|卖得(?:最)?好|热销|爆款|销量(?:最)?高|大家都在买|人气|\btrending\b|\bbest[- ]?sell(?:ers?|ing)\b|"
        r"\bmost popular\b|\bpopular\b|\bpeople (?:usually |normally |mostly )?buy\b"
    ),
    "newest": re.compile(
        r"新品|最新|新款|上新|\bnew arrivals\b|\bnewest\b|\blatest\b|\bnewer\b|\bwhat's new\b|\bnew in\b"
    ),
    "rating": re.compile(
        r"评价好|好评(?:多|最多|高)|口碑好的|评分高|\btop[- ]rated\b|\bhighest[- ]rated\b|\bhigher[- ]rated\b|"
        r"\bbest[- ]rated\b|\bbest[- ]reviewed\b|\bwell[- ]reviewed\b"
    ),
}
CHANGE_PATTERNS: dict[str, re.Pattern[str]] = {
    "color": re.compile(r"换(?:一)?个?颜色|换(?:一)?个色|换色|别的颜色|其他颜色|其它颜色|别的色|\banother colou?r|"
                        r"\bdifferent colou?rs?\b|\bother colou?rs?\b|\bother shades?\b"),
    "size": re.compile(r"[大小]一[码号]|换个?尺码|换码|[大小]一点|更[大小]的|\bsmaller\b|\bbigger\b|\blarger size\b|"
                       r"\bsize (?:up|down)\b|\bdifferent size\b"),
    "brand": re.compile(r"换个?(?:牌子|品牌)|别的(?:牌子|品牌)|其他(?:牌子|品牌)|\bdifferent brands?\b|\banother brand\b|"
                        r"\bother brands?\b"),
    "style": re.compile(r"换个?(?:风格|款式)|别的(?:风格|款式)|其他(?:风格|款式)|\bdifferent style\b|\banother style\b|"
                        r"\bother styles\b"),
    "items": re.compile(r"换一批|换一些|还有别的|还有其他的|再来几个|[多再]给几个|多来几个|看看别的|\bshow me more\b|\bmore options\b|"
                        r"\bother options\b|\bsomething else\b|\ba few more\b|\bsee more\b|\bmore like this\b"),
}  # fmt: skip


def find_sort(text: str) -> str | None:
    """The ordering a message asks for: cheaper, more_expensive, popular, newest, rating."""
    for name, pattern in SORT_PATTERNS.items():
        if pattern.search(text):
            return name
    return None


def find_changes(text: str) -> list[str]:
    """Which attribute the shopper wants changed ("换个颜色" -> color; "换一批" -> items)."""
    return [name for name, pattern in CHANGE_PATTERNS.items() if pattern.search(text)]


# --- the attribute a question is about ("什么材质", "is it in stock") -------------------------------------

ASK_PATTERNS: dict[str, re.Pattern[str]] = {
    "material": re.compile(r"材质|面料|料子|材料|什么做的|\bmaterials?\b|\bmade of\b|\bmade from\b|\bfabric\b|\blining\b"),
    "color": re.compile(r"颜色|什么色|几个色|几种色|\bcolou?rs?\b"),
    "size": re.compile(r"多大码|什么码|几码|尺码|码数|尺寸|多大|偏大|偏小|毫升|规格|容量|\bsizes?\b|\bsize chart\b|"
                       r"\brun(?:s)? (?:small|large|big)\b|\bhow big\b|\bdimensions\b|\bfit\b"),
    "price": re.compile(r"多少钱|价格|什么价|啥价|几块|价钱|贵不贵|\bhow much\b|\bprice\b|\bcost\b"),
    "reviews": re.compile(r"评价|口碑|好评|评论|买家秀|怎么说|评分|\breviews?\b|\bratings?\b|\brated\b|"
                          r"\bpeople say\b|\bfeedback\b"),
    "brand": re.compile(r"牌子|品牌|哪家的|\bbrand\b|\bwho makes\b"),
    "stock": re.compile(r"有货|现货|库存|还有吗|缺货|断货|卖完|没货|售罄|\bin stock\b|\bsold out\b|\bout of stock\b"),
}  # fmt: skip
#: Weak cues, used only when no other attribute is asked about ("what colours are available" is colour).
ASK_WEAK = {"stock": re.compile(r"\bavailable\b|\bavailability\b|还有\S{0,3}吗")}


def find_asked(text: str, *, weak: bool = False) -> list[str]:
    """The attributes a question asks about: catalog fields first, then open properties (:mod:`.properties`:
    waterproof, weight, sugar ...); ``weak``: only the weak cues."""
    if weak:
        return [name for name, pattern in ASK_WEAK.items() if pattern.search(text)]
    fields = [name for name, pattern in ASK_PATTERNS.items() if pattern.search(text)]
    return fields + [p for p in find_properties(text) if p not in fields]
