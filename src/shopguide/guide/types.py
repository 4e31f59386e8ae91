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
    """What the shopper wants from this message (one per message: what the guide must handle first)."""

    FIND_PRODUCT = "find_product"  # 我想买一双跑步鞋 / show me running shoes / 有空气炸锅吗
    RECOMMEND = "recommend"  # 给我推荐点东西 / what's popular / anything similar
    COMPARE = "compare"  # 这两款有什么区别 / which is better
    ASK_ATTRIBUTE = "ask_attribute"  # 这件是什么材质 / is it waterproof / 含糖吗
    OUTFIT = "outfit"  # 这件衬衫配什么裤子 / what goes with this
    GIFT = "gift"  # 送女朋友什么好 / gift ideas for my dad under 500
    REFINE = "refine"  # 便宜点的 / another colour / 粉的算了 / skip Bose
    ACCEPT = "accept"  # 就它了 / I'll take the second one
    PRICE_DISCOUNT = "price_discount"  # 有优惠券吗 / 能便宜点不 / 买这个送啥 / 保价吗
    SHIPPING = "shipping"  # 包邮吗 / 发什么快递 / 几天到 / 能寄到香港吗 (before any order problem)
    AFTER_SALES = "after_sales"  # 碎了 / 少发配件 / 退款 / 换货 / 退货运费谁出 / 投诉 / 12315
    ORDER_STATUS = "order_status"  # 我的订单到哪了 / where is my order
    ORDER_CHANGE = "order_change"  # 改地址 / 先别发 / 取消订单
    INVOICE = "invoice"  # 开发票 / VAT invoice
    PAYMENT = "payment"  # 花呗分期 / card declined / charged twice
    ACCOUNT = "account"  # 注册 / 登录不了 / reset my password
    USAGE = "usage"  # 怎么用 / 能机洗吗 / how do I charge it
    GREETING = "greeting"  # 你好 / hi / 拜拜
    THANKS = "thanks"  # 谢谢 / thanks
    CHITCHAT = "chitchat"  # 你是谁 / 好的 / ok
    HUMAN = "human"  # 转人工 / talk to a person
    OUT_OF_SCOPE = "out_of_scope"  # 帮我写作业 / book me a flight


#: Intents about buying something (the rest are service questions or small talk).
SHOPPING_INTENTS = frozenset({Intent.FIND_PRODUCT, Intent.RECOMMEND, Intent.COMPARE, Intent.ASK_ATTRIBUTE,
                              Intent.OUTFIT, Intent.GIFT, Intent.REFINE, Intent.ACCEPT})  # fmt: skip
#: Service questions answered from the FAQ (or handed to a person).
SERVICE_INTENTS = frozenset({Intent.PRICE_DISCOUNT, Intent.SHIPPING, Intent.AFTER_SALES, Intent.ORDER_STATUS,
                             Intent.ORDER_CHANGE, Intent.INVOICE, Intent.PAYMENT, Intent.ACCOUNT, Intent.USAGE})  # fmt: skip


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
    "reference",  # shown cards: [1] "the first one", [1, 2] "these two", ["priciest"] "the pricier one"
    "attribute_asked",  # ask_attribute: material / size / price / stock / reviews / color ... or an open
    # property the catalog may not list: waterproof / weight / sugar / battery ...
    "sort",  # cheaper / more_expensive / popular / newest / rating
    "attribute_change",  # refine: the attribute to change ("color" for 换个颜色; "items" for 换一批)
    "unknown_product",  # a product the catalog does not sell (空气炸锅), canonical name from the gazetteer
    "unknown_brand",  # a brand the catalog does not sell (华为)
    "order_id",  # an order number the shopper gave (after-sales)
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
    sentiment: str = Field(default="neutral", description="angry / negative / neutral / positive")
    spans: list[dict[str, Any]] = Field(
        default_factory=list, description="Where the catalog words were found: {slot, value, start, end} in normalized."
    )
    unknown_words: list[str] = Field(
        default_factory=list, description="Content words the guide does not know (not in its language or catalog)."
    )


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
