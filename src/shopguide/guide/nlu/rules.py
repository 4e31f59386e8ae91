"""High-precision intent rules, applied before the classifier where the wording leaves no doubt.

Each rule is (language, pattern, intent) on normalised text; the first that matches wins and the intent
gets confidence ``RULE_CONFIDENCE`` (or the model's, if higher). They are scored on the held-out split
like the model (``benchmarks/guide_nlu.py`` reports how often they fire and how often they are right).
"""

from __future__ import annotations

import re

from shopguide.guide.types import Intent

RULE_CONFIDENCE = 0.95

_GREET_ZH = r"(你好|您好|在吗|在不在|哈喽|哈罗|嗨|早上好|中午好|晚上好|下午好|早安|有人吗|hello|hi)"
_THANKS_ZH = r"(谢谢|多谢|感谢|谢啦|谢了|蟹蟹|非常感谢|太感谢了|万分感谢|十分感谢)"
_GREET_EN = r"(hi|hello|hey|heya|hiya|howdy|yo|greetings|good (morning|afternoon|evening)|morning|evening)"
_THANKS_EN = (
    r"(thanks|thank you|thank u|thx|ty|tysm|cheers|many thanks|much appreciated|appreciate it|merci|gracias|danke|"
    r"salamat|arigato|obrigado|obrigada|grazie|xie ?xie|ta)"
)

RULES: tuple[tuple[str, re.Pattern[str], Intent], ...] = (
    ("zh", re.compile(r"转人工|人工客服|找人工|接人工|要人工|转接人工|人工服务|真人客服|转接客服|找客服|联系客服"), Intent.HUMAN),
    ("zh", re.compile(r"^(?:" + _GREET_ZH + r"[呀啊吖哇~!?.,。，！？\s]*)+$"), Intent.GREETING),
    ("zh", re.compile(r"^(好的|好嘞|好|ok|嗯)?[,，\s]*" + _THANKS_ZH + r"(你|亲|啦|呀)?[~!.。！\s]*$"), Intent.THANKS),
    ("zh", re.compile(r"取消(这个|我的|一下)?订单|订单(怎么|能不能|可以)?取消"), Intent.ORDER_CHANGE),
    ("zh", re.compile(r"我的订单到哪|订单(到哪|状态)|查(一下)?物流|物流信息|快递(到哪|怎么还没)"), Intent.ORDER_STATUS),
    ("en", re.compile(r"\b(talk|speak|chat) (to|with) (a |an |some )?(real |live )?(human|person|agent|representative)\b|"
                      r"\blive (agent|person)\b|\bhuman please\b|\btransfer me\b|\bget me a (human|manager)\b"), Intent.HUMAN),
    ("en", re.compile(r"^(?:" + _GREET_EN + r"( there)?[!.?~,\s]*)+$"), Intent.GREETING),
    ("en", re.compile(r"^((ok|okay|great|perfect|awesome|got it)[,\s]+)?" + _THANKS_EN +
                      r"( so much| a lot| very much| again| a bunch)?[!.\s]*$"), Intent.THANKS),
    ("en", re.compile(r"\bwhere('s| is) my (order|package|parcel|stuff)\b|\btrack(ing)? (my )?(order|package|parcel)\b|"
                      r"\border status\b"), Intent.ORDER_STATUS),
    ("en", re.compile(r"\bcancel (my|the|this) order\b"), Intent.ORDER_CHANGE),
)  # fmt: skip


def rule_intent(normalized: str, lang: str) -> Intent | None:
    """The intent a rule assigns to ``normalized`` text in ``lang``, or None when no rule fires."""
    for rule_lang, pattern, intent in RULES:
        if rule_lang == lang and pattern.search(normalized):
            return intent
    return None
