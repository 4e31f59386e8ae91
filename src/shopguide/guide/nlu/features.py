"""What the intent model sees besides raw n-grams: catalog words abstracted to their slot, and cue tags.

Two small inputs help a classifier trained on a few hundred sentences generalise:

* **abstracted text**: catalog words replaced by their slot ("送女朋友什么好" -> "送 ‹recipient› 什么好",
  "show me black leather boots" -> "show me ‹color› ‹material› ‹product_type›"), so the model learns
  the sentence frame, not the product;
* **tags**: which slots and cues the message has (a reference to a card, a price, an asked attribute, a
  negation, a refinement) and which intent keywords it contains (优惠 / coupon, 搭配 / goes with ...).
  The keywords are hints, not rules: the model learns how much each is worth.
"""

from __future__ import annotations

import re

from shopguide.guide.nlu import cues
from shopguide.guide.nlu.lexicon import Lexicon
from shopguide.guide.nlu.slots import SlotExtractor, SlotReading

#: Intent keywords, both languages. Overlaps are intended; they are features, not decisions.
INTENT_CUES: dict[str, str] = {
    "find": r"想买|要买|想入|入一|找|有没有|有木有|有卖|搜|看看|看下|来一|要一|想要|缺个|"
    r"\blooking for\b|\bshow me\b|\bfind\b|\bneed\b|\bwant\b|\bwanna\b|\bgot any\b|\bdo (?:you|u) (?:have|sell)\b|"
    r"\bsearching\b|\bi'd like\b|\bafter\b|\bbuy\b",
    "recommend": r"推荐|建议|挑|选个|帮我选|猜我|适合我|好物|热门|最火|\brecommend|\bsuggest|\brecs\b|\bpick\b|"
    r"\bchoose\b|\bshould i (?:get|buy|wear)\b|\bwhat do you think\b|\bbest ?sellers?\b|\btrending\b|\binspiration\b|"
    r"\bsurprise me\b|\bsuit me\b|\bi'd like\b",
    "compare": r"区别|不同|对比|比较|比一下|比比|比怎么样|哪个好|哪个更|哪款更|哪双|谁更|谁强|选哪个|差别|不一样|还是|"
    r"\bcompare|\bdifference\b|\bdiff\b|\bvs\.?\b|\bversus\b|\bbetter\b|\bwhich one\b|\bwhich is\b|\bbetween\b|"
    r"\bpros and cons\b|\bdecide\b|\bworth it\b|\bor\b",
    "outfit": r"搭|配什么|穿什么|配齐|一套|一身|整套|look|\bgoes? (?:well )?with\b|\bpair|\bmatch|\boutfit|\bstyle (?:this|me)\b|"
    r"\bwear with\b|\blayer\b|\bcomplete (?:the|my) look\b|\bwhole look\b|\bfull look\b",
    "gift": r"送|礼物|礼盒|生日|节|纪念日|\bgifts?\b|\bpresents?\b|\bbirthday\b|\banniversary\b|\bchristmas\b|"
    r"\bvalentine|\bsecret santa\b|\bsurprise my\b|\bget my\b|\bgive my\b|\bshower\b|\bgraduation\b|\bhousewarming\b",
    "price": r"优惠|便宜|折|券|活动|促销|降价|涨价|满减|改价|砍价|赠品|会员|积分|最低价|价格|少点|商量|买一送一|"
    r"\bdiscount|\bcoupons?\b|\bsales?\b|\bdeals?\b|\bpromo|\bvouchers?\b|\bcheaper\b|\bprice\b|\boffers?\b|"
    r"\bcashback\b|\bpoints\b|\bcodes?\b|\bknock\b|\bbucks off\b",
    "shipping": r"发货|快递|包邮|运费|邮费|寄|送货|配送|顺丰|几天能到|能到|多久到|几天到|发什么|哪里发|偏远|"
    r"\bship|\bdeliver|\bcourier\b|\bexpress\b|\bnext day\b|\bpostage\b|\bfree shipping\b",
    "after_sales": r"退|换货|换个码|坏了|碎了|破了|裂了|漏|少发|少了|缺|漏发|错发|发错|质量|起球|掉色|开线|瑕疵|保修|质保|"
    r"售后|维修|修|投诉|差评|12315|消协|举报|骗|运费险|"
    r"\breturns?\b|\brefund|\bexchange\b|\bwarranty\b|\bswap\b|\brepair\b|\bdamaged\b|\bbroken?\b|"
    r"\bcracked\b|\bfaulty\b|\bdefect|\bmissing\b|\bwrong (?:item|size|colou?r|one)\b|\bcomplain|\bscam|"
    r"\bchargeback\b|\bleak|\bstopped working\b|\bdoesn'?t work\b",
    "order_change": r"改地址|改一下地址|修改地址|改电话|改收货|晚点发|先别发|延迟发|取消|拍错|改个码|合并|"
    r"\bcancel|\bchange (?:my |the )?(?:address|order|delivery)|\bhold (?:my |the )?order\b|\bwrong address\b",
    "invoice": r"发票|开票|专票|普票|抬头|税号|收据|\binvoice|\breceipt|\bvat\b|\btax\b",
    "payment": r"付款|支付|花呗|分期|信用卡|扣款|扣了|扣钱|付不了|银行卡|货到付款|微信付|支付宝|"
    r"\bpay|\bpayment|\bcard\b|\bcharged\b|\binstal+ments?\b|\bpaypal\b|\bdeclined\b|\bcash on delivery\b",
    "account": r"账号|账户|登录|登陆|密码|注册|绑定|换绑|注销|会员卡|\baccount\b|\blog ?in\b|\bsign (?:in|up)\b|"
    r"\bpassword\b|\bregist|\bnewsletter\b|\bunsubscribe\b",
    "usage": r"怎么用|如何用|使用方法|怎么使用|用法|怎么安装|安装|怎么充电|怎么洗|机洗|手洗|水洗|清洗|保养|说明书|怎么穿|怎么戴|"
    r"怎么调|怎么连|连接|配对|\bhow (?:do|to|should) (?:i |you )?(?:use|wash|clean|charge|install|set up|assemble|"
    r"care|store|connect|pair)\b|\binstructions?\b|\bmanual\b|\bmachine wash",
    "accept": r"就它|就这个|就要|就选|拍了|下单了|要了|买了|我要这|加购|加入购物车|决定了|\bi'?ll take\b|"
    r"\badd (?:it|this|that|the \w+(?: one)?) to (?:my )?cart\b|\bsold\b|\bi'?ll (?:go with|get|buy)\b|\bordering\b",
    "out_of_scope": r"作业|股票|机票|酒店|新闻|政治|天气预报|彩票|翻译|写(?:一篇|个)|考试|"
    r"\bhomework\b|\bstocks?\b|\bflights?\b|\bhotel\b|\bnews\b|\bpolitic|\bforecast\b|\blottery\b|"
    r"\bessay\b|\bcrypto|\bbitcoin\b",
    "angry": r"他妈|tmd|妈的|卧槽|我靠|垃圾|坑爹|骗子|什么破|破玩意|气死|无语|恶心|滚|草泥马|sb|傻逼|"
    r"[!！]{2,}|\bfuck|\bshit\b|\bwtf\b|\bscam|\bridiculous\b|\bunacceptable\b|\bdisgust|\bfurious\b",
    "order": r"订单|物流|包裹|单号|下单|下的单|签收|催|收到|取消|地址|付款|还没到|到哪|还在路上|发了没|"
    r"\border\b|\borders\b|\bpackage\b|\bparcel\b|\btracking\b|\btrack\b|\barrived?\b|\bdelivered\b|\bcancel|"
    r"\baddress\b|\bshipped\b|\bstuck\b|\bwaiting\b|\bmy stuff\b|\bshowed up\b|\bcome\b|\blate\b|\bpurchase\b",
    "greeting": r"你好|您好|在吗|在不在|在\?|哈喽|哈罗|嗨|早|晚上好|下午好|有人吗|大家好|^亲|^喂|^嘿|"
    r"\bhi\b|\bhello\b|\bhey+\b|\bhiya\b|\bhowdy\b|\bmorning\b|\bevening\b|\bafternoon\b|\banyone there\b|"
    r"\bsup\b|\bwhat's up\b|\bgreetings\b|\bg'day\b|\byo\b",
    "thanks": r"谢|感谢|感恩|辛苦|\bthank|\bthx\b|\bty\b|\btysm\b|\bappreciate|\bcheers\b|\bappreciated\b",
    "chitchat": r"你是|你叫|你会|你能|你喜欢|你有|你觉得|你多大|你吃|你真|你好聪明|笑话|故事|唱|无聊|天气|聊|心情|累|"
    r"哈哈|嗯嗯|^哦|笑死|\byou\b|\byour\b|\bjoke\b|\bweather\b|\bbored\b|\bsong\b|\bchat\b|\brobot\b|\blol\b|"
    r"\bhaha\b|\bhmm+\b|\bok\b|\bnice\b|\blife\b|\btime is it\b|\bbad day\b",
    "human": r"人工|客服|真人|投诉|工作人员|店主|机器人|电话|换人|\bhuman\b|\bperson\b|\bagent\b|\brepresentative\b|"
    r"\bsupport\b|\bcustomer service\b|\bmanager\b|\bcomplaint\b|\boperator\b|\bstaff\b|\bsomeone\b|\bcall\b|"
    r"\bescalate\b|\breal\b|\blive\b|\bnot a bot\b|\banyone from\b",
    "this": r"这个|这款|这件|这条|这双|这瓶|这支|这台|这块|它|\bit\b|\bthis\b|\bthese\b|\bthe \w+ one\b",
    "question": r"吗|呢|多少|什么|怎么|哪|几|\?|^(?:is|are|do|does|can|how|what|which|when|where|who|will)\b",
    "refine": r"换|别的|其他|再|更|一点|呢|只要|除了|不要|的$|\banother\b|\bother\b|\bmore\b|\bless\b|\binstead\b|"
    r"\bonly\b|\bdifferent\b|\banything but\b|\bones\b|\bthen\b|\bwhat about\b|^in\b|^not\b|^no\b",
}
_CUES = {name: re.compile(pattern) for name, pattern in INTENT_CUES.items()}
_PRODUCT = {"product_type", "category", "brand"}
_ATTRS = {"color", "material", "style", "season", "occasion", "size"}
_PEOPLE = {"recipient", "gender", "age_group"}


class IntentFeatures:
    """Abstracted text and tags of one message (see the module docstring)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.extractor = SlotExtractor(lexicon)

    def __call__(self, normalized: str, reading: SlotReading | None = None) -> tuple[str, list[str]]:
        """(abstracted text, tags) of a normalised message; ``reading`` is its slot reading if already known."""
        if reading is None:
            reading = self.extractor.extract(normalized, normalized=True)
        parts: list[str] = []
        last = 0
        for match in reading.matches:
            slot = match.pairs[0][0]
            parts.append(normalized[last : match.start])
            parts.append(f" ‹{slot}› ")
            last = match.end
        parts.append(normalized[last:])
        abstracted = " ".join("".join(parts).split())

        slots = reading.slots
        tags = [f"cue_{name}" for name, pattern in _CUES.items() if pattern.search(normalized)]
        tags += [f"slot_{s}" for s in slots if s not in ("attribute_asked", "attribute_change", "sort")]
        if _PRODUCT & slots.keys():
            tags.append("has_product")
        if _ATTRS & slots.keys():
            tags.append("has_attr")
        if _PEOPLE & slots.keys():
            tags.append("has_people")
        if "price_min" in slots or "price_max" in slots:
            tags.append("has_price")
        tags += [f"ask_{a}" for a in cues.find_asked(normalized)]
        if "sort" in slots:
            tags.append(f"sort_{slots['sort']}")
        changes = cues.find_changes(normalized)
        tags += [f"change_{c}" for c in changes]
        if reading.negated:
            tags.append("has_negation")
        refs = slots.get("reference", [])
        if refs:
            tags.append("refs_many" if len(refs) > 1 else "refs_one")
        if any(isinstance(v, list) for k, v in slots.items() if k not in ("reference", "attribute_asked")):
            tags.append("multi_value")  # 真皮和PU皮 / running shoes vs sneakers
        n_words = len(abstracted.split()) if abstracted.isascii() else len(abstracted)
        tags.append("len_short" if n_words <= 3 else "len_long" if n_words >= 8 else "len_mid")
        if normalized.endswith(("?", "吗", "呢")):
            tags.append("question")
        if not reading.matches and not slots:
            tags.append("no_slots")
        return abstracted, tags
