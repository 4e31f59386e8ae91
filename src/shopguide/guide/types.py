"""Shared types of the guide: what the NLU understood from one message, and the dialogue's state.

The NLU (``guide.nlu``) produces an ``Understanding``; the dialogue manager (``guide.dialogue``) folds
it into a ``DialogueState`` and picks an action. Keep this module free of logic: it is the contract
between the parts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Intent(StrEnum):
    """What the shopper wants from this message."""

    FIND_PRODUCT = "find_product"  # 我想买一双跑步鞋 / show me running shoes
    RECOMMEND = "recommend"  # 给我推荐点东西 / what would you recommend for me
    COMPARE = "compare"  # 这两款有什么区别 / compare the first and the second
    ASK_ATTRIBUTE = "ask_attribute"  # 这件是什么材质 / is it in stock / what sizes
    OUTFIT = "outfit"  # 这件衬衫配什么裤子 / what goes with this
    GIFT = "gift"  # 送女朋友什么好 / gift ideas for my dad under 500
    PRICE_DISCOUNT = "price_discount"  # 有优惠吗 / any discount
    SHIPPING_RETURNS = "shipping_returns"  # 多久发货 / how do returns work
    ORDER_STATUS = "order_status"  # 我的订单到哪了 / where is my order
    GREETING = "greeting"  # 你好 / hi
    THANKS = "thanks"  # 谢谢 / thanks
    CHITCHAT = "chitchat"  # 你是谁 / tell me a joke
    HUMAN = "human"  # 转人工 / talk to a person
    REFINE = "refine"  # 便宜点的 / cheaper / 换个颜色 / not leather


#: Slot names the NLU fills (values are canonical catalog values, Chinese where the catalog is Chinese).
SLOT_NAMES = (
    "product_type",  # 衬衫 (leaf category)
    "category",  # 服装 (top-level category)
    "brand",
    "color",
    "size",
    "price_min",  # float, CNY
    "price_max",  # float, CNY
    "gender",  # 男 / 女 / 中性
    "age_group",  # 儿童 / 青年 / 中年 / 老人 ...
    "occasion",
    "season",
    "style",
    "material",
    "recipient",  # gift: 女朋友 / dad ...
    "reference",  # ordinal references to shown cards: [1] for "the first one", [1, 2] for "these two"
    "attribute_asked",  # ask_attribute: material / size / price / stock / reviews / color ...
    "sort",  # cheaper / more_expensive / popular
    "attribute_change",
    "unknown_product",  # a product type the tagger found that the catalog does not carry (空气炸锅)  # refine: the attribute to change, "color" for 换个颜色 / another colour; "items" for 换一批
)


class Understanding(BaseModel):
    """The NLU's reading of one message."""

    text: str
    normalized: str = ""
    lang: str = Field(description="'zh' or 'en'")
    intent: Intent
    confidence: float = Field(ge=0.0, le=1.0)
    slots: dict[str, Any] = Field(default_factory=dict)
    negated: dict[str, list[str]] = Field(
        default_factory=dict, description="Slot values the shopper does NOT want: {'color': ['红色']}"
    )
    intent_scores: dict[str, float] = Field(default_factory=dict)


class Card(BaseModel):
    """A product card shown in a reply."""

    id: str
    title: str
    price: float | None = None
    reason: str = ""


class DialogueState(BaseModel):
    """What the guide remembers about one conversation (persisted in the store between turns)."""

    session_id: str
    user_id: str | None = None
    lang: str = "zh"
    slots: dict[str, Any] = Field(default_factory=dict)
    negated: dict[str, list[str]] = Field(default_factory=dict)
    last_intent: Intent | None = None
    shown: list[str] = Field(default_factory=list, description="Item ids of the cards shown last, in order")
    asked: list[str] = Field(default_factory=list, description="Clarifying questions already asked")
    turns: int = 0
