"""Cues that route a message to a service answer whatever the intent model guessed.

Each cue is a wording specific enough to decide on its own, found where the model was unsure or wrong on
conversations written by others: who pays to send an item back, another shop's lower price, what new shoppers
get (pinned FAQ entries); "are you a bot?"; a problem reported about something received ("my blanket came with
a stain", "我拍的37码 寄来个39的"); waiting for the after-sales team; a bare region after a delivery question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shopguide.guide.types import Intent


@dataclass(frozen=True)
class PinnedFaq:
    """An FAQ entry a wording always asks for, and the intent that entry answers."""

    entry: str
    intent: Intent
    pattern: re.Pattern[str]


PINNED_FAQ: tuple[PinnedFaq, ...] = (
    PinnedFaq(
        "return_postage",
        Intent.AFTER_SALES,
        re.compile(
            r"(?:寄|退|发|送)(?:回|还)(?:去|来|给你们)?的?(?:运费|邮费|快递费)|(?:运费|邮费|快递费).{0,8}(?:寄回|退回|寄还)|"
            r"(?:寄回|退回|寄还).{0,10}(?:谁出|谁付|谁承担|要钱|收费|自己出|我出)|退货.{0,4}(?:运费|邮费|快递费)|运费险|"
            r"\b(?:pay|cover|charge|cost)\b.{0,30}\b(?:send|ship|post|mail)(?:ing)?\b.{0,20}\bback\b|"
            r"\b(?:send|ship|post|mail)(?:ing)?\b.{0,20}\bback\b.{0,20}\b(?:free|pay|cost|charge|who covers)\b|"
            r"\breturn (?:shipping|postage|label)\b"
        ),
    ),
    PinnedFaq(
        "price_protection",
        Intent.PRICE_DISCOUNT,
        re.compile(
            r"(?:别家|别的店|别人家|其他店|其它店|其他家|别的地方|淘宝|京东|拼多多|某东|某宝|某猫|某多多|狗东|天猫|外面|隔壁|官网|直播间)"
            r".{0,10}"
            r"(?:便宜|更低|低|价格|卖)|比价|保价|价保|退差价|补差价|"
            r"\b(?:cheaper|lower|less)\b.{0,25}\b(?:elsewhere|other (?:shops?|stores?|sites?|websites?)|another "
            r"(?:shop|store|site|website)|on (?:amazon|taobao|jd|tmall|pinduoduo))\b|\bprice[- ]?match|"
            r"\b(?:jd|taobao|tmall|amazon|pinduoduo|another shop|other shops?|another store|other stores?)\b.{0,40}"
            r"\b(?:less|cheaper|lower)\b|\bmatch (?:it|that|the price|their price|that price)\b|"
            r"\bprice protection\b|\b(?:get|refund|pay|give)(?: me)? (?:back )?the difference\b|\bthe difference back\b|"
            r"刚买就降价|买完就降价|降价了.{0,10}(?:退|补|返)|买贵了|退(?:我|给我)?(?:点)?差价|"
            r"(?:买|拍|下单|入手)(?:的|了).{0,20}(?:降价|降了|便宜了)|(?:降价|降了|便宜了)\s*\d*\s*(?:块|元)?.{0,6}"
            r"(?:咋整|咋办|怎么办|能退|能补|能返|可以退|可以补)|\b(?:bought|ordered|paid)\b.{0,40}\b(?:price )?"
            r"(?:dropped|went down|is (?:now )?cheaper|on sale)\b"
        ),
    ),
    PinnedFaq(
        "exchanges",
        Intent.AFTER_SALES,
        re.compile(
            r"(?:不合适|不合脚|不合身|大了|小了|偏大|偏小|不喜欢|穿不了)(?:的话)?.{0,8}(?:能|可以|可不可以|能不能|给)?换(?![个成别颜])|"
            r"换(?:大|小)一?(?:码|号)|换(?:个|一个)?(?:尺码|码数)|"
            r"\b(?:exchange|swap) (?:it|them|this|these)? ?for (?:a |the )?(?:bigger|smaller|larger|different|another) ?(?:size|one)?\b|"
            r"\b(?:doesn'?t|don'?t|does not|do not) fit\b.{0,30}\b(?:exchange|swap|change)\b|"
            r"\bif (?:it |they )?(?:not|doesn'?t|don'?t|does not|do not) fits?\b.{0,20}\b(?:change|exchange|swap)\b"
        ),
    ),
    PinnedFaq(
        "returns",
        Intent.AFTER_SALES,
        re.compile(
            r"(?:没拆封|没拆|未拆封|没用过|没穿过|不喜欢|不想要了?)(?:的话)?.{0,8}(?:能|可以|可不可以|能不能)?退(?:货|吗|不|么|嘛|$)|"
            r"无理由退|七天退|7天退|"
            r"\b(?:unopened|unused|unworn)\b.{0,30}\breturn|\breturn (?:it|them) if\b|\bif (?:he|she|they|i) "
            r"(?:doesn'?t|don'?t) like (?:it|them)\b.{0,30}\breturn"
        ),
    ),
    PinnedFaq(
        "coupons",
        Intent.PRICE_DISCOUNT,
        re.compile(
            r"新人(?:券|优惠|有|红包|福利|礼|专享|价)|新用户|新会员|新客|首单|"
            r"\bnew (?:members?|customers?|shoppers?|users?|accounts?|sign[- ]?ups?)\b|\bfirst (?:order|purchase)\b"
        ),
    ),
)

#: "Are you a bot or a person?" (small talk about the guide, not a request for a person).
BOT_QUESTION = re.compile(
    r"(?:你|您)(?:是|是不是)(?:真人|机器人|人工|ai|人)(?:还是|吗|么|嘛|啊|\?|？|$)|(?:真人|机器人)还是(?:真人|机器人|人)|"
    r"是不是机器人|是机器人吗|是真人吗|\b(?:are|r) (?:you|u) (?:a |an )?(?:bot|robot|ai|real person|human|person|real)\b|"
    r"\bis this (?:a |an )?(?:bot|robot|real person|human|ai)\b|\bam i (?:talking|chatting) (?:to|with) a (?:bot|robot|person|human)\b"
)
#: Reporting what arrived ("my ... came", "我拍的 ... 寄来个", "ordered X and got Y"), as opposed to shopping.
REPORT = re.compile(
    r"(?:坏|碎|裂|鼓包|漏|破|冒烟|发霉|开线|脱胶|掉色|起球)了|\bmy\b|\bi (?:got|rece?i?e?ved|bought|ordered)\b|\b(?:came|arrived|showed up|delivered)\b|\bordered\b.{0,40}"
    r"\b(?:got|rece?i?e?ved|came|sent)\b|收到|到手|到货|我买的|我拍的|刚买的|买的|拍的|寄来|发来|寄过来|发过来"
)
#: A wrong item or size sent ("拍的37码 寄来个39的", "ordered a navy tie and got a pink mug").
WRONG_SENT = re.compile(
    r"(?:拍|买|订|下单)的.{0,15}(?:寄|发|送)(?:来|过来|到)(?:了)?(?:个|一个|一[双件条只台支瓶盒]|[双件条只台支瓶盒]|的|是)|(?:寄|发)(?:来|过来)(?:的)?(?:是|成)|"
    r"收到的(?:是|却是|居然是|竟然是)|\bordered\b.{0,40}\b(?:got|rece?i?e?ved|came|sent me)\b|"
    r"\bsent (?:me )?(?:the |a )?wrong\b|\b(?:got|rece?i?e?ved) (?:the |a )?wrong\b|"
    r"\b(?:got|rece?i?e?ved|came|sent|arrived)\b.{0,40}\binstead of\b"
)
#: Waiting for the after-sales team ("how long till someone gets back to me", "多久有人联系我").
CASE_WAIT = re.compile(
    r"(?:多久|多长时间|什么时候|啥时候|几时|几天).{0,8}(?:联系|回复|处理|回我|给我回|有结果|有人)|"
    r"\bhow (?:long|soon)\b.{0,30}\b(?:get back|contact|hear|reply|respond|call|sort|fix|process)|"
    r"\bwhen (?:will|would|do|does)\b.{0,30}\b(?:get back|contact|hear|reply|respond|call)"
)
#: A late hour in a question about whether anyone is there ("its 11pm is anyone even there", "这么晚还有人吗").
LATE_HOUR = re.compile(
    r"(?:\b\d{1,2}\s*(?:pm|am)\b|\blate\b|\bmidnight\b|\bnight\b|深夜|半夜|这么晚|大晚上|凌晨|晚上\d{1,2}点|"
    r"\d{1,2}点(?:半|多|钟)?了).{0,40}"
    r"(?:\bany(?:one|body)\b|\bsomeone\b|\bhumans?\b|有人|人在|客服)|"
    r"(?:\bany(?:one|body)\b|有人|人在|客服).{0,40}(?:\b\d{1,2}\s*(?:pm|am)\b|\blate\b|\bmidnight\b|这么晚|半夜|凌晨)"
)
#: Which courier the shop ships with ("你们发的中通还是韵达", "发什么快递", "which courier do u use"): a shipping
#: question even when the shopper adds that tracking failed ("我查不到").
COURIER_WHICH = re.compile(
    r"(?:发|用|走)的?(?:是)?(?:什么|啥|哪家|哪个)(?:快递|物流)|(?:中通|韵达|顺丰|圆通|申通|极兔|邮政|ems|京东快递)\s*还是|"
    r"还是\s*(?:中通|韵达|顺丰|圆通|申通|极兔|邮政|ems)|\b(?:which|what) (?:courier|carrier|delivery company|shipping company)\b"
)
#: Whether a parcel ordered now arrives by a date ("周五前能到不", "520前能到吗", "will it arrive by friday").
ARRIVE_BY = re.compile(
    r"(?:前|之前|以前)能(?:到|送到|收到)|能(?:送)?到(?:不|吗|么|没)|几天(?:能)?(?:到|送到)|多久(?:能)?(?:到|送到)|"
    r"\b(?:arrive|get (?:here|there)|be (?:here|there)|delivered)\b.{0,20}\b(?:by|before)\b|\bin time for\b"
)
#: Changing an item of an order already placed ("单里那件T恤能从M换成L不", "change the size on my order").
ORDER_ITEM_CHANGE = re.compile(
    r"(?:单里|订单里|订单上|单子里|单上|那单|这单).{0,16}(?:换成|改成|改为|换为|改一下|换一下)|"
    r"\b(?:in|on) (?:my|the|that) order\b.{0,30}\b(?:change|swap|switch)\b|"
    r"\b(?:change|swap|switch)\b.{0,30}\b(?:in|on) (?:my|the|that) order\b"
)
#: A goodbye at the end of a short message ("好吧 那等等看 886", "ok cya"): closing, not a request.
BYE = r"(?<!\d)886?|拜拜|再见|回见|\bbye(?: bye)?|\bcya|\bsee (?:ya|you)|\bgoodbye"
GOODBYE_END = re.compile(rf"(?:{BYE})[~!.。！\s]*$")
#: Saying whether the order has shipped ("还没发货呢", "it already shipped", "那要是已经发了").
SHIP_STATE = re.compile(
    r"还没发|没发货|未发货|已经发了|已发货|发货了|发出去了|已经寄|\b(?:not|hasn'?t|has not|haven'?t|didn'?t) "
    r"(?:been )?(?:shipped|sent|dispatched)\b|\balready (?:shipped|sent|dispatched|on its way)\b"
)
#: Saying the order has already shipped ("it already shipped tho", "已经发货了"): a change needs a person then.
SHIPPED = re.compile(
    r"(?<!没)(?<!未)(?<!还没)已经发(?:货|出|了)|已发货|发出去了|已经寄出|(?<!没)(?<!未)(?<!还没)发货了|\balready (?:shipped|sent|dispatched|on its way)\b|"
    r"\b(?:has|have|it'?s|its|was) (?:already )?(?:been )?(?:shipped|dispatched)\b"
)
#: Adding to an order already placed ("add socks to that one", "加到那个订单里").
TO_ORDER = re.compile(
    r"\bto (?:that|this|the same|my|the) (?:one|order)\b|\bto (?:that|this|my) order\b|\binstead of cancel|"
    r"(?:加|放)(?:到|进)(?:那个|这个|那|这|原来的?|之前的?)?(?:订单|单)|同一(?:个)?订单|合并"
)
#: Replacing one piece of a set ("swap the shoes for brown ones", "鞋换成棕色的").
SWAP = re.compile(r"\bswap\b|\bswitch\b|\breplace\b|\binstead\b|\bchange the\b|换成|换个|换双|换条|换件|换一")
#: Medical advice about the shopper's body ("血糖高的人一天吃多少坚果合适", "is it ok for diabetics", "失眠吃什么药"):
#: a question for a doctor, which the guide says plainly it cannot answer. Medicine words decide alone; a
#: condition only with a question of what is safe or how much ("能测血压不" asks about a watch, not this).
_MEDICINE = re.compile(
    r"(?:吃|用|买)(?:什么|啥|哪种)药|药膏|处方|医生|\bibuprofen\b|\bparacetamol\b|\baspirin\b|\bsteroid|\bprescri|"
    r"\bmedication\b|\bmedicine\b|\bdoctor\b|\bmy gp\b"
)
_CONDITION = re.compile(
    r"糖尿病|血糖|血压|高血脂|胆固醇|痛风|失眠|\bdiabet|\bblood (?:sugar|pressure)\b|\bcholesterol\b|\bgout\b|\binsomnia\b"
)
_ADVICE = re.compile(
    r"能吃|能喝|可以吃|可以喝|吃多少|喝多少|一天.{0,6}多少|适合(?:吃|喝)|有影响|加重|安全吗|吃什么|吃啥|怎么办|"
    r"\bsafe\b|\bok(?:ay)? (?:to|for)\b|\bhow (?:much|many)\b|\bshould (?:he|she|i|they)\b|\bcan (?:he|she|i|they) (?:eat|drink|have|take)\b"
)
#: What a device measures ("能测血压不", "does it track sleep"): a question about the product.
MEASURES = re.compile(r"测|监测|\bmeasur|\bmonitor|\btrack")
_SELLS = re.compile(r"买|卖|有没有|有[^吃]{0,8}吗|\bbuy\b|\bsell\b|\bcarry\b|\bdo (?:you|u) have\b|\bin stock\b")


def medical_question(text: str) -> bool:
    """Whether ``text`` asks for medical advice rather than about a product (see :data:`_MEDICINE`)."""
    if _SELLS.search(text) or MEASURES.search(text):
        return False
    return bool(_MEDICINE.search(text)) or bool(_CONDITION.search(text) and _ADVICE.search(text))


#: A message that is only a place (and "and ... again"), read as a follow-up of a delivery question.
#: Mainland cities and provinces: a shipping question naming one is about time or fees, not whether it is served.
_MAINLAND = (
    r"beijing|shanghai|guangzhou|shenzhen|chengdu|hangzhou|harbin|[a-z]+ province|"
    r"北京|上海|广州|深圳|成都|杭州|哈尔滨|[\u4e00-\u9fff]{2,3}(?:省|市)"
)
_PLACE = (
    r"(?:hong ?kong|hk|macao|macau|taiwan|singapore|japan|korea|usa|us|uk|canada|australia|overseas|abroad|"
    r"xinjiang|tibet|xizang|inner mongolia|qinghai|ningxia|gansu|hainan|香港|澳门|台湾|新加坡|日本|韩国|美国|英国|加拿大|"
    rf"澳洲|海外|国外|新疆|西藏|内蒙古?|青海|宁夏|甘肃|海南|{_MAINLAND})"
)
MAINLAND = re.compile(_MAINLAND)
#: A place named in a shipping question ("what about macau, my friend lives there", "寄新加坡行不").
PLACE = re.compile(rf"(?<![a-z]){_PLACE}(?![a-z])")
REGION_ONLY = re.compile(
    rf"^(?:and |what about |how about |also |or |那|那么|还有)?(?:to |for |in )?{_PLACE}(?:呢|的话呢|的话|呀|啊)?"
    rf"(?: again| then| too)?[?？!.。\s]*$|^(?:and |so )?how long (?:to|for) {_PLACE}(?: again| then)?[?？.\s]*$"
)


def pinned_faq(text: str) -> PinnedFaq | None:
    """The FAQ entry a normalised message's wording always asks for, or None."""
    return next((p for p in PINNED_FAQ if p.pattern.search(text)), None)
