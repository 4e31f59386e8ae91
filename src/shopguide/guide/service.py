"""Service actions of the guide: FAQ answers, after-sales cases, hand-offs with a ticket, small talk.

After-sales: a policy question ("退货运费谁出", "can I exchange it") gets the FAQ entry for it. A problem
("收到的杯子碎了", "a part is missing", "我要退款") opens a case: the guide apologises and asks for the order
number once; with the number (or on the next turn without it) it records a ticket for the after-sales team,
whose colleagues follow up. An angry shopper is passed to a person at once, with a ticket marked angry.
The guide cannot see orders or payments, so order look-ups and payment problems go to a person too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shopguide.guide import answers as A
from shopguide.guide.faq import FaqHit
from shopguide.guide.service_cues import (
    BOT_QUESTION,
    BYE,
    CASE_WAIT,
    LATE_HOUR,
    MAINLAND,
    PLACE,
    REGION_ONLY,
    SHIPPED,
    WRONG_SENT,
    medical_question,
    pinned_faq,
)
from shopguide.guide.types import Intent, Understanding

if TYPE_CHECKING:
    from shopguide.guide.dialogue import DialogueManager, Outcome
    from shopguide.guide.session import Session

#: A problem with something bought (as opposed to a question about the policy).
PROBLEM = re.compile(
    r"坏|碎|破|裂|漏|瑕疵|质量(?:太|很|真|好)?差|质量有问题|起球|掉色|褪色|开线|脱胶|变形|划痕|污渍|异味|发霉|过期|鼓包|冒烟|烧焦|"
    r"没到账|还没退|没收到退款|退款.{0,6}没(?:到|收到)|"
    r"少发|漏发|少了|缺了|缺少|没有配件|少个|发错|错发|不是我买的|货不对版|不一样|假货|用不了|不能用|没反应|充不进|"
    r"没声|没有声音|不出声|不亮了|不转了|充不上|连不上|开不了机|开不机|"
    r"我要退|给我退|要退款|退钱|申请退款|我要换|给我换|投诉|差评|12315|消协|举报|骗|态度|不理人|没人管|"
    r"\bbroken?\b|\bdamaged\b|\bcracked\b|\bshattered\b|\bfaulty\b|\bdefect|\bleak|\bripped\b|\btorn\b|\bstain|"
    r"\bmissing\b|\bwrong (?:item|size|colou?r|one|product)\b|\bnot what i ordered\b|\bdoesn'?t work\b|"
    r"\bno \w+ in the (?:box|bag|package|parcel)\b|\b(?:came|arrived) without\b|\bwas(?:n'?t| not) included\b|"
    r"\brefund\b.{0,30}\b(?:not|hasn'?t|haven'?t|still|never)\b|\bswollen\b|\bsmok(?:e|ing)\b|"
    r"\bstopped working\b|\bdead on arrival\b|\bfake\b|\bi want (?:a |my )?(?:refund|money back|replacement)\b|"
    r"\brefund me\b|\bcomplain|\bscam|\bchargeback\b|\brude\b|\bno one (?:replied|answered)\b|\bbad review\b"
)
#: Why a case is opened, by its first matching cue.
REASONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "complaint",
        re.compile(r"投诉|差评|12315|消协|举报|态度|骗|\bcomplain|\bscam|\bchargeback\b|\brude\b|\bbad review\b"),
    ),
    (
        "missing_parts",
        re.compile(r"少发|漏发|少了|缺|少个|没有配件|\bmissing\b|\bno \w+ in the\b|\bwithout\b|\bincluded\b"),
    ),
    ("wrong_item", re.compile(r"发错|错发|不是我买的|货不对版|\bwrong\b|\bnot what i ordered\b")),
    (
        "defect",
        re.compile(
            r"坏|碎|破|裂|漏|瑕疵|质量|起球|掉色|褪色|开线|脱胶|变形|划痕|污渍|异味|发霉|过期|用不了|不能用|没反应|"
            r"\bbroken?\b|\bdamaged\b|\bcracked\b|\bfaulty\b|\bdefect|\bleak|\bripped\b|\btorn\b|\bstain|"
            r"\bdoesn'?t work\b|\bstopped working\b|\bfake\b"
        ),
    ),
    ("exchange", re.compile(r"换|\bexchange\b|\bswap\b|\breplacement\b")),
    ("refund", re.compile(r"退|\brefund|\bmoney back\b|\breturn\b")),
)
#: Reasons of an after-sales case (the tickets an order number given later belongs to).
CASE_REASONS = frozenset({*(name for name, _ in REASONS), "after_sales", "angry"})
_CHOOSING = re.compile(
    r"用什么|用哪|用啥|选什么|选哪|买什么|买哪|推荐|\bwhich\b|\bwhat\b.*\b(?:buy|get|use)\b|\brecommend"
)
_COUPON = re.compile(r"优惠|券|折|活动|coupon|discount|code|promo")
#: Haggling over the price ("能便宜点不", "少点呗", "can you do a better price") as opposed to asking for cheaper items.
BARGAIN = re.compile(
    r"(?:能|可以|可不可以|能不能|能否|再|给我|给个|算我?|卖我?)(?:再)?便宜(?:点|些|一点|一些)?"
    r"(?=$|[\s,，。.!！?？~]|[不吗呢呗吧嘛啊呀么没哈])|"
    r"便宜(?:点|些|一点)?(?:呗|吧|嘛|啦|卖|给我)|(?:能|可以|再)?少(?:点|些|一点|算)(?:钱|吧|呗|嘛|不)|"
    r"\d+\s*(?:块|元)?\s*(?:卖不卖|卖吗|能卖吗|卖不|出不出|行不行|行吗|行不)(?![\u4e00-\u9fff])|"
    r"最低(?:多少|价|能)|一口价|抹(?:个)?零|打个折|让(?:点|些)利|砍(?:个|点)?价|议价|讲价|还价|"
    r"\b(?:can|could|would|will) you (?:do|give|make|let|offer)\b.{0,30}\b(?:cheaper|lower|discount|better price|"
    r"better deal|deal|less)\b|\b(?:can|could|would) you do (?:it|this|that|them) for\b|"
    r"\blower (?:the|your|ur) price\b|\bbest price\b|\bknock\b.{0,20}\boff\b|\bnegotiab|\bhaggl|\bbargain\b"
)
#: A hypothetical ("那要是已经发了咋整", "what if it already shipped").
_IF = re.compile(r"要是|如果|万一|假如|假设|\bif\b|\bwhat if\b|\bsuppose\b")
#: Asking whether it has shipped ("has it shipped yet?", "发货了吗") rather than saying so.
SHIP_QUESTION = re.compile(
    r"发货了(?:吗|没|么)|发了(?:吗|没)|\b(?:has|have|did) (?:it|they|my order) (?:been )?(?:ship|sent|dispatch)"
)
#: A question about when people are there ("你们几点有人", "what time are your agents online").
PEOPLE_HOURS = re.compile(
    r"(?:几点|什么时候|时间|多久|几时|啥时候).{0,6}(?:有人|人工|客服|真人|上班|在线|回复)|"
    r"(?:有人|人工|客服|真人).{0,6}(?:几点|什么时候|时间|上班|下班|几时|啥时候)|"
    r"\b(?:when|what time|what hours|hours)\b.{0,40}\b(?:agents?|staff|someone|humans?|support|customer service|"
    r"people|person|operators?|team|reps?|representatives?|online|available)\b|\bopening hours\b|\bbusiness hours\b"
)
_GOODBYE = re.compile(rf"{BYE}|先这样|下次|\bthat'?s all\b")
#: Closing a topic without a new request ("我先看看", "我再琢磨琢磨", "let me think about it").
LATER = re.compile(
    r"先看看|随便看看|再看看|再想想|再琢磨|琢磨琢磨|考虑(?:一下|考虑)|回头再|等等再说|再说吧|先这样|不买了|先不买|不要了吧|"
    r"\b(?:i'?ll|let me|i will|i need to|gonna) (?:think|have a think|look around|sleep on it|check)|\bjust browsing\b|"
    r"\bmaybe later\b|\bnot now\b"
)
ACK = re.compile(
    r"^(?:好的?|嗯+|哦+|噢|行|行吧|可以|知道了|明白|ok(?:ay)?|k|sure|cool|got it|alright|fine|hmm+|i see)[~!.。！\s]*$"
)
#: Hand-off reasons that put the shopper in a queue for a person now (the others are followed up later).
LIVE = frozenset(
    {"human", "angry", "repeated_failure", "order_status", "payment_problem", "unanswered", "order_shipped"}
)


def small_talk(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    text = u.normalized or u.text.lower()
    if BOT_QUESTION.search(text):
        return Outcome("chitchat", A.say("bot", lang), new_list=False)
    if u.intent == Intent.GREETING and _GOODBYE.search(text):
        return Outcome("greeting", A.say("goodbye", lang), new_list=False)
    closing = ACK.match(text.strip()) or LATER.search(text)  # "好的" / "ok 我先看看" / "let me think about it"
    if u.intent == Intent.CHITCHAT and (closing or s.handed_off):  # also "好的 我等着" after a hand-off
        return Outcome("chitchat", A.say("acknowledge", lang), new_list=False)
    key = {Intent.GREETING: "greeting", Intent.THANKS: "thanks"}.get(u.intent, "chitchat")
    return Outcome(key, A.say(key, lang), new_list=False)


def out_of_scope(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    medical = medical_question(u.normalized or u.text.lower())
    return Outcome("out_of_scope", A.say("out_of_scope_medical" if medical else "out_of_scope", lang), new_list=False)


def human(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    text = u.normalized or u.text.lower()
    asks_hours = PEOPLE_HOURS.search(text) or LATE_HOUR.search(text)
    hours = dm.faq.get("service_hours") if dm.faq is not None and asks_hours else None
    if hours is not None:  # "你们几点有人": when people are there, not a person now
        return faq_outcome(dm, s, u, lang, FaqHit(hours, 1.0))
    if HOURS.search(text) and dm.faq is not None:  # "人工几点上班": about the people's hours, not for them now
        hit = dm.faq.best(u.text, intent=Intent.HUMAN.value)
        if hit is not None and Intent.HUMAN.value in hit.entry.intents and hit.score >= dm.faq_unsure_threshold:
            return faq_outcome(dm, s, u, lang, hit)
    if u.slots.get("order_id"):
        s.case = {**s.case, "order_id": u.slots["order_id"]}
    return Outcome("handoff", "", handoff=True, ticket_reason="angry" if u.sentiment == "angry" else "human",
                   new_list=False)  # fmt: skip


def order_status(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    from shopguide.guide.dialogue import Outcome

    entry = dm.faq.get("order_status") if dm.faq else None
    if u.slots.get("order_id"):
        s.case = {**s.case, "order_id": u.slots["order_id"], "reason": "order_status"}
    text = entry.text(lang) if entry else A.say("handoff", lang)
    return Outcome("handoff", text, handoff=True, ticket_reason="order_status", new_list=False)


def faq_outcome(dm: DialogueManager, s: Session, u: Understanding, lang: str, hit: FaqHit) -> Outcome:
    """The FAQ entry's answer (its price first for "第二个有优惠吗"); a hand-off entry also records a ticket."""
    from shopguide.guide.dialogue import Outcome
    from shopguide.guide.references import resolve

    text = hit.entry.text(lang)
    if u.intent == Intent.PRICE_DISCOUNT:
        refs = (
            resolve(dm.kg, u.slots.get("reference"), s.shown, s.discussed, s.focus)
            if u.slots.get("reference")
            else None
        )
        item = refs.ids[0] if refs is not None and refs.ids else s.focus
        if item and dm.kg.item(item):
            text = A.price_note(dm.kg, item, lang) + "\n" + text
    reason = hit.entry.id if hit.entry.handoff else None
    return Outcome("faq", text, handoff=hit.entry.handoff, ticket_reason=reason, new_list=False)


def faq(dm: DialogueManager, s: Session, u: Understanding, lang: str, intent: Intent) -> Outcome:
    """A policy question of a service intent; a person when no FAQ entry answers it."""
    from shopguide.guide.dialogue import Outcome
    from shopguide.guide.shopping import CHEAPER, find

    browsing = s.shown and any(s.slots.get(k) for k in ("product_type", "category"))
    text = u.text.lower()
    region = dm.faq.get("shipping_area") if dm.faq is not None and intent == Intent.SHIPPING else None
    if region is not None and PLACE.search(text) and not _ASKS_WHEN.search(text) and not MAINLAND.search(text):
        return faq_outcome(dm, s, u, lang, FaqHit(region, 1.0))  # "what about macau, my friend lives there"
    said_shipped = SHIPPED.search(u.normalized or text) and not SHIP_QUESTION.search(text) and not _IF.search(text)
    if intent == Intent.ORDER_CHANGE and said_shipped:
        # "it already shipped tho": only a colleague can intercept or redirect it now
        return Outcome("handoff", A.say("order_change_shipped", lang), handoff=True, ticket_reason="order_shipped",
                       new_list=False)  # fmt: skip
    bargain = BARGAIN.search(u.normalized or text)
    if (
        intent == Intent.PRICE_DISCOUNT
        and browsing
        and CHEAPER.search(text)
        and not _COUPON.search(text)
        and not bargain
        and not pinned_faq(u.normalized or text)
    ):
        u.slots["sort"] = "cheaper"  # "有便宜点的吗" while browsing: a refinement, not a coupon question
        return find(dm, s, u, lang, Intent.REFINE)
    hit = dm.faq.best(u.text, intent=intent.value) if dm.faq else None
    haggling = dm.faq.get("bargaining") if dm.faq and bargain and intent == Intent.PRICE_DISCOUNT else None
    if haggling is not None:
        hit = FaqHit(haggling, 1.0)  # "能便宜点不 我买两件": prices are fixed (the coupons are the answer)
    pinned = pinned_faq(u.normalized or text)
    if pinned is not None and pinned.intent == intent and dm.faq is not None and haggling is None:
        entry = dm.faq.get(pinned.entry)
        if entry is not None:  # "寄回去的运费谁出", "别家便宜一百", "do new members get anything"
            out = faq_outcome(dm, s, u, lang, FaqHit(entry, 1.0))
            ours = s.case.get("reason") or s.last_case_reason
            if pinned.entry == "return_postage" and ours in ("defect", "wrong_item", "missing_parts"):
                out.text = A.say("return_postage_ours", lang) + "\n" + out.text
            return out
    if intent == Intent.USAGE and _CHOOSING.search(u.text.lower()) and u.slots.get("product_type"):
        return find(dm, s, u, lang, Intent.FIND_PRODUCT)  # "干皮用什么面霜": which one to use is a choice
    if intent == Intent.USAGE and hit is not None and u.confidence >= 0.5:
        return faq_outcome(dm, s, u, lang, hit)  # how-to: the care and instructions answer, whatever the wording
    if hit is not None and intent.value in hit.entry.intents and u.confidence >= 0.8 and hit.score >= 0.2:
        return faq_outcome(dm, s, u, lang, hit)  # a confident intent: its closest answer beats a hand-off
    if (hit is None or hit.score < dm.faq_threshold) and s.last_intent == intent and (before := _previous_ask(s, u)):
        again = dm.faq.best(f"{before} {u.text}", intent=intent.value) if dm.faq else None
        if again is not None and again.score >= dm.faq_threshold and intent.value in again.entry.intents:
            return faq_outcome(dm, s, u, lang, again)  # "what about Singapore?" after "do you ship to Japan?"
    if hit is None or hit.score < dm.faq_threshold:
        if intent in (Intent.USAGE, Intent.PRICE_DISCOUNT) and any(
            u.slots.get(k) for k in ("product_type", "category")
        ):
            return find(dm, s, u, lang, Intent.FIND_PRODUCT)  # "干皮用什么面霜": about choosing a product after all
        return Outcome("handoff", "", handoff=True, ticket_reason="unanswered", new_list=False)
    return faq_outcome(dm, s, u, lang, hit)


def _previous_ask(s: Session, u: Understanding) -> str:
    """For an elliptical follow-up ("what about Canada?", "那香港呢"), the shopper's message before it (the
    history already holds this one); "" otherwise."""
    from shopguide.guide.dialogue import FOLLOW_UP

    text = (u.normalized or u.text.lower()).strip()
    place_only = REGION_ONLY.match(text) and not re.search(r"how long|多久|几天", text)
    if not (FOLLOW_UP.match(text) or re.search(r"呢[?？]?$", text) or place_only):
        return ""
    asked = [t["text"] for t in s.history if t.get("role") == "shopper"]
    return asked[-2] if len(asked) >= 2 else ""


#: A question about when people are there ("人工几点上班", "what are your hours").
HOURS = re.compile(r"几点|什么时候|时间|上班|下班|\bhours?\b|\bwhen\b|\bwhat time\b|\bopen\b|\bonline\b")
#: Wording of a question about how things work (as opposed to a report of what went wrong).
POLICY_QUESTION = re.compile(
    r"[?？]|吗|么|呢|怎么|如何|多久|多长|几天|几年|几个月|多少天|几点|谁出|谁付|谁承担|能不能|可不可以|可以|能否|是不是|是否|"
    r"流程|政策|规定|[能会要有](?:\S{1,4})[不没](?:[?？!！~。.\s]*$)|的话|"
    r"\b(?:how|when|who|what|which|can i|could i|do i|do you|does|is there|are there|will|policy|if)\b"
)


#: Asking how long or when ("几天能到", "多久退款", "how long does the refund take").
_ASKS_WHEN = re.compile(r"几天|多久|多长时间|什么时候|啥时候|几个工作日|\bhow long\b|\bwhen\b|\bhow many days\b")


def is_policy_question(dm: DialogueManager, u: Understanding, text: str) -> bool:
    """A question about the after-sales policy rather than a problem to handle: asked as a question and either
    naming no problem ("退货运费谁出") or matching an FAQ entry closely ("有保修吗 坏了咋整")."""
    if not POLICY_QUESTION.search(text):
        return False
    if not PROBLEM.search(text) and not WRONG_SENT.search(text):
        return True
    hit = dm.faq.best(u.text, intent=Intent.AFTER_SALES.value) if dm.faq else None
    return hit is not None and hit.score >= 0.75 and hit.entry.id != "faulty_item"


def _reason(text: str) -> str:
    if WRONG_SENT.search(text) and not REASONS[0][1].search(text):
        return "wrong_item"
    return next((name for name, pattern in REASONS if pattern.search(text)), "after_sales")


def after_sales(dm: DialogueManager, s: Session, u: Understanding, lang: str) -> Outcome:
    """A policy question gets the FAQ; a problem opens a case: apologise, ask the order number once, ticket."""
    from shopguide.guide.dialogue import Outcome

    text = u.normalized or u.text.lower()
    order_id = u.slots.get("order_id")
    angry = u.sentiment == "angry"
    if not s.case and not order_id and s.last_ticket and CASE_WAIT.search(text):
        return Outcome("after_sales", A.say("after_sales_wait", lang, ticket=s.last_ticket), new_list=False)
    pinned = pinned_faq(text)
    if pinned is not None and pinned.intent == Intent.AFTER_SALES and not angry and not order_id:
        return faq(dm, s, u, lang, Intent.AFTER_SALES)  # "没拆封的话能退不", "大了能换小一码不": the policy
    if (s.last_ticket or s.case.get("order_id")) and not angry and not order_id and _ASKS_WHEN.search(text):
        hit = dm.faq.best(u.text) if dm.faq else None  # a refund's or a resend's timing: any entry may answer
        if hit is not None and hit.score >= dm.faq_unsure_threshold and not hit.entry.handoff:  # "直接退钱 几天能到"
            return faq_outcome(dm, s, u, lang, hit)
    policy = not angry and not order_id and is_policy_question(dm, u, text)
    if policy and s.case.get("asked") and pinned is None:
        hit = dm.faq.best(u.text, intent=Intent.AFTER_SALES.value) if dm.faq else None
        policy = hit is not None and hit.score >= dm.faq_threshold  # "我周末还等着穿呢" is the case going on
    if policy:
        return faq(dm, s, u, lang, Intent.AFTER_SALES)  # "退货运费谁出": the policy (an open case stays open)
    case = dict(s.case) or {"reason": _reason(text), "sentiment": u.sentiment}
    if case.get("reason") == "after_sales":
        case["reason"] = _reason(text)
    if order_id:
        case["order_id"] = order_id
    if angry:
        case["sentiment"] = "angry"
        s.case = case
        return Outcome("after_sales", "", handoff=True, ticket_reason="angry", new_list=False)
    if not case.get("order_id") and not case.get("asked"):
        case["asked"] = True
        s.case = case
        return Outcome("after_sales", A.say("after_sales_ask_order", lang), new_list=False)
    s.case = case
    return Outcome("after_sales", "", ticket_reason=case["reason"], new_list=False)


def handoff_text(out: Outcome, ticket: int | None, s: Session, lang: str) -> str:
    """The reply of a turn that recorded ticket ``ticket`` (and whether a person takes over now)."""
    reason = out.ticket_reason or "human"
    out.handoff = reason in LIVE or (out.handoff and reason not in dict(REASONS) and reason != "after_sales")
    if reason == "angry":
        key = "after_sales_angry" if s.case.get("order_id") or out.action != "after_sales" else "after_sales_angry_ask"
        return A.say(key, lang, ticket=ticket)
    if reason == "repeated_failure":
        return A.say("handoff_failed", lang, ticket=ticket)
    if out.action == "after_sales":
        order = s.case.get("order_id")
        key = "after_sales_ticket" if order else "after_sales_ticket_no_order"
        return A.say(key, lang, ticket=ticket, order=order)
    if out.text:
        return out.text + A.pick(lang, f"（工单号 {ticket}）", f" (ticket {ticket})")
    return A.say("handoff_ticket", lang, ticket=ticket)
