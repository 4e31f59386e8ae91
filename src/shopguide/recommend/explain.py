"""Plain-language reasons attached to every recommended item, in English and Chinese."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Strength of an event type as an action on an item, used to word "because you <action> X".
ACTION_RANK = {"impression": 0, "view": 1, "click": 1, "rating": 2, "fav": 3, "cart": 4, "purchase": 5}
_ACTION_WORDS = {
    1: ("viewed", "浏览过"),
    2: ("rated", "评价过"),
    3: ("saved", "收藏了"),
    4: ("added to cart", "加购了"),
    5: ("bought", "购买过"),
}

_TEMPLATES: dict[str, tuple[str, str]] = {
    "because_you": ("because you {action} {item}", "因为您{action_zh}「{item}」"),
    "similar_to": ("similar to {item}: {traits}", "与「{item}」相似：{traits_zh}"),
    "similar_taste": ("shoppers with similar taste liked it", "与您口味相近的顾客也喜欢"),
    "matches_taste": ("matches your taste ({traits})", "符合您的偏好（{traits_zh}）"),
    "popular_in": ("popular in {category} {period}", "{category}{period_zh}热销"),
    "popular": ("popular {period}", "{period_zh}热门商品"),
    "bought_together": ("often bought together with {item}", "常与「{item}」一起购买"),
    "new_arrival": ("new arrival in {category}", "{category}新品"),
    "static": ("a staff pick", "编辑推荐"),
    "matches_query": ("matches your search: {traits}", "符合搜索：{traits_zh}"),
    "context": ("fits {period}: {traits}", "{period_zh}适用：{traits_zh}"),
    "goes_with": ("goes with {item}: {traits}", "与「{item}」搭配：{traits_zh}"),
}
_PERIODS = {"": ("", ""), "week": ("this week", "本周"), "now": ("right now", "近期"), "all": ("overall", "")}
#: Context conditions (weather, season, time of day) named in "context" reasons; see ``recommend.context``.
_PERIODS.update(
    {
        "rain": ("today's rain", "下雨天"),
        "snow": ("today's snow", "下雪天"),
        "cold": ("the cold weather", "天冷"),
        "hot": ("the hot weather", "天热"),
        "sunny": ("today's sunshine", "晴天"),
        "windy": ("the windy weather", "大风天"),
        "spring": ("spring", "春季"),
        "summer": ("summer", "夏季"),
        "autumn": ("autumn", "秋季"),
        "winter": ("winter", "冬季"),
        "morning": ("the morning", "早上"),
        "afternoon": ("the afternoon", "午后"),
        "evening": ("the evening", "晚上"),
        "night": ("the night", "夜晚"),
    }
)
_TRAIT_ZH = {
    "same brand": "同品牌",
    "same category": "同品类",
    "same style": "同风格",
    "same colour": "同颜色",
    "same material": "同材质",
    "similar price": "价格相近",
    "similar description": "描述相近",
    # context traits (recommend.context)
    "rain gear": "雨具",
    "waterproof": "防水",
    "warm": "保暖",
    "keeps drinks hot": "保温",
    "winter wear": "冬季款",
    "autumn/winter wear": "秋冬款",
    "spring/autumn wear": "春秋款",
    "spring/summer wear": "春夏款",
    "summer wear": "夏季款",
    "sun protection": "防晒",
    "quick-dry": "速干",
    "windproof": "防风",
    "cosy at home": "居家舒适",
    "morning pick-me-up": "提神醒脑",
    # pairing traits (recommend.pairing)
    "classic pairing": "经典搭配",
    "neutral colour": "百搭色",
    "same price range": "价位相当",
}


@dataclass(frozen=True)
class Reason:
    """Why an item was recommended: a kind plus the facts that fill its sentence."""

    kind: str
    item: str = ""
    action: int = 1
    category: str = ""
    period: str = ""
    traits: tuple[str, ...] = field(default_factory=tuple)
    item_alt: str = ""  # the item's second-language title; English text prefers it when set

    def text(self, lang: str = "en") -> str:
        en, zh = _TEMPLATES.get(self.kind, ("{kind}", "{kind}"))
        action_en, action_zh = _ACTION_WORDS.get(self.action, _ACTION_WORDS[1])
        period_en, period_zh = _PERIODS.get(self.period, (self.period, self.period))
        traits_en = ", ".join(self.traits) or "similar items"
        traits_zh = "、".join(_TRAIT_ZH.get(t, t) for t in self.traits) or "相似商品"
        template = zh if lang.startswith("zh") else en
        text = template.format(
            kind=self.kind,
            item=self.item_alt if self.item_alt and not lang.startswith("zh") else self.item,
            action=action_en,
            action_zh=action_zh,
            category=self.category,
            period=period_en,
            period_zh=period_zh,
            traits=traits_en,
            traits_zh=traits_zh,
        )
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.text("en")

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "en": self.text("en"), "zh": self.text("zh")}
