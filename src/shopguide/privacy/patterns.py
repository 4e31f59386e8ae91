"""Personal data written with words: street addresses and personal names, in Chinese and English.

Each finder returns candidate spans ``(start, end, type)``; :func:`shopguide.privacy.scrub.find_pii` resolves the
overlaps. Words are far more ambiguous than digits, so every rule needs either a cue or a shape that ordinary
shopping talk does not have; the rules, and why:

**Chinese addresses** are read as a run of components: administrative units (…省 …市 …区 …县 …镇 …街道), roads
(…路 …街 …大道 …巷 …胡同, not 线路 知道 频道 ...), places (…小区 …花园 …大厦 …公寓 …村 …苑) and numbered units
(88号, 3栋, 2单元, 501室, C座, B塔, R2-B栋, 三号楼), then a bare room number (501, 3-2-501). Where several readings
fit, a numbered unit wins, then the shortest name, so a name never runs past the next suffix. Component names never
cross a function character (我 在 住 的 到 至 寄 ...), so "我住在中山路88号" starts at 中. A space continues a run
only into an administrative unit, a number or a numbered road ("北京市 海淀区 中关村大街1号", but not "...1540号
上海联通营业厅"). Without a cue a run is an address only when it names a house: a road and its number (中山路88号),
or a building unit (栋 幢 座 单元 室 户 号楼) after a named component or after another unit (3栋2单元). That
leaves sizes (42号), dates (3号), AA batteries (5号电池), floors of a shop (万达广场3楼), flat layouts (3室2厅) and
cities (我在杭州市) alone. After a cue (地址, 收货地址, 住在, 家住, 寄到, 送到 ...) a run also counts when it names a
road or a place, or two administrative levels (住在北京市朝阳区), but not a lone city (寄到北京), a generic place
(住在农村) or a form template (xx市xx区xx路xx号).

**English addresses**: "[No.] <number> <Capitalised name> Street|St|Road|Rd|Avenue|Ave|Lane|Blvd|Drive|..." with an
optional apartment/unit, city and postcode (US ZIP, UK postcode, Chinese 6 digits); a sentence's final period
is not part of it, and "312 National Highway" (a public road) is none. After "my address is", "ship to",
"deliver to", "send it to", "I live at", "address:" also a text that starts with a number and a capitalised word,
or names a street, a flat or a postcode, up to the end of the clause. "ship to Canada" and "deliver to my office"
stay.

**Chinese names** follow a cue and are a common surname plus one or two given characters that are no function
characters: strong cues (收件人, 联系人, 姓名, 我叫, 名字叫, 机主, 经理：...) take the name as it comes; weak cues
(我是, 本人) only where a phrase starts, and the name must end the phrase ("您好，我是李娜，" but not
"我是王者荣耀玩家", "再说一遍我是付完钱的" or "本人要再次声明"). A name stops before an address that follows it
(收件人张三北京市...). A surname plus 先生 / 女士 / 小姐 is a name without a cue (张先生您好; not 谢谢先生), and so is a name written right next to a
mobile number, as on a shipping label ("王芳，13812345678，广东省…").

**English names** follow "my name is", "name:", "recipient:" (capitalised words; lowercase ones only after "my name
is", and only when they end the clause: "my name is wrong on the invoice" stays; "Product name: Nike" stays),
"I'm <Name>" (capitalised, not a nationality, a place or a word such as Sorry / Looking, and not followed by a
preposition: "I'm looking", "I'm not happy", "I'm Chinese", "I'm Interested in" stay), "this is <Name> <Name>" where
a clause starts (or "this is <Name> from/here/speaking"; "This is Amazon Prime day" stays), and Mr / Mrs / Ms /
Miss / Dr <Name> (not "Dr. Martens").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from shopguide.privacy.numbers import MOBILE, Candidate, words

# ---------------------------------------------------------------- Chinese addresses
_STOP = "我你您他她它们在住是的到从往至寄送收址了与及请给把被要想说就也还吗呢吧啊哦呀嘛去买卖用个这那有没让叫"
_N = rf"(?:(?![{_STOP}])[\u4e00-\u9fffA-Za-z])"  # a character of a component's name
_KINDS = {
    "admin": re.compile(rf"{_N}{{1,8}}?(?:特别行政区|自治区|自治州|自治县|街道|省|市|区|县|旗|镇|乡)"),
    "road": re.compile(rf"{_N}{{1,8}}?(?:大道|大街|胡同|路|街|巷|道)(?:[东西南北中]段)?"),
    "place": re.compile(
        rf"{_N}{{1,10}}?(?:小区|花园|公寓|大厦|广场|家园|新村|商城|中心|大楼|社区|公馆|庄园|大学|学院|校区|宿舍|苑|村|园|院|城|楼|湾|府)"
    ),
    "unit": re.compile(
        r"(?<!第)(?:[甲乙丙丁]?\d{1,5}[A-Za-z]?|[A-Za-z]\d{0,3}|[A-Za-z]{2}\d{1,3})(?:-[A-Za-z\d]{1,5})?\s?"
        r"(?:号楼|号院|号|栋|幢|座|单元|楼|层|室|户|门|弄|塔|区)"
        r"|(?<!第)[一二三四五六七八九十]{1,3}(?:号楼|栋|幢|单元|楼|层)"
    ),
    "room": re.compile(r"\d{1,4}(?:-\d{1,4}){0,2}(?![\d号A-Za-z])"),
}
_NOT_ROADS = tuple(
    words(
        "线路 电路 网路 思路 出路 套路 走路 迷路 一路 半路 马路 知道 频道 渠道 通道 味道 难道 轨道 管道 报道 车道 隧道 街道"
    )
)  # words that end like a road but name none (街道 is a sub-district, read as an administrative unit)
_TIE = ("unit", "place", "road", "admin", "room")  # 幸福小区 is a place (小区), not a district (…区)
_STRONG_UNIT = re.compile(r"(?:号楼|号院|栋|幢|座|单元|室|户)$")
_GENERIC_PLACES = words(
    "农村 城市 县城 小区 市区 郊区 城区 山区 景区 地区 社区 村里 乡村 城里 老家 本市 本地 外地 省内 省外 市内 学校 专区 园区 "
    "商城 中心 花园 广场 大学 学院 医院 法院 公园 楼"
)
_ZH_CUE = re.compile(
    r"(?:收货地址|收件地址|送货地址|配送地址|邮寄地址|家庭住址|家庭地址|详细地址|通讯地址|联系地址|地址|住址|家住|住在|"
    r"寄到|寄往|寄至|送到|送至|发到|邮寄到)(?:是|为|在)?\s*[:：]?\s*"
)


def _zh_run(text: str, pos: int) -> tuple[int, list[tuple[str, str]]]:
    """The components of the address run that starts at ``pos``: its end and ``(kind, text)`` of each one."""
    parts: list[tuple[str, str]] = []
    while pos < len(text):
        spaced = bool(parts) and (text[pos].isspace() or text[pos] == "-") and pos + 1 < len(text)
        at = pos + 1 if spaced else pos  # 北京市 海淀区
        found = [(m.end(), kind) for kind, p in _KINDS.items() if (m := p.match(text, at))]
        found = [
            (end, kind)
            for end, kind in found
            if (kind != "room" or (parts and parts[-1][0] not in ("admin", "room")))
            and (kind != "road" or not text[at:end].endswith(_NOT_ROADS))
            # after a space only an administrative unit, a number or a numbered road continues the address
            and (
                not spaced or kind in ("admin", "unit", "room") or (kind == "road" and _KINDS["unit"].match(text, end))
            )
        ]
        if not found:
            break
        # a numbered unit reads first (501室, not room 501 then 室); a bare room number last; else the shortest
        # reading, so that a name never reaches past the next suffix
        end, kind = min(found, key=lambda f: (f[1] != "unit", f[1] == "room", f[0], _TIE.index(f[1])))
        parts.append((kind, text[at:end]))
        pos = end
    return pos, parts


def _house(parts: list[tuple[str, str]]) -> bool:
    """Whether the components name one house: a road and its number, or a building unit."""
    named = False
    for k, (kind, part) in enumerate(parts):
        if kind == "unit" and part.endswith(("号", "弄")) and k and parts[k - 1][0] == "road":
            return True
        if kind == "unit" and _STRONG_UNIT.search(part) and (named or (k and parts[k - 1][0] == "unit")):
            return True
        if kind == "room" and part.count("-") == 2 and named:
            return True  # 3-2-501: building, unit, room
        named = named or (kind != "unit" and kind != "room" and part not in _GENERIC_PLACES)
    return False


def _cued_address(parts: list[tuple[str, str]]) -> bool:
    specific = [(kind, part) for kind, part in parts if part not in _GENERIC_PLACES]
    kinds = [kind for kind, _ in specific]
    return bool({"unit", "room", "road", "place"} & set(kinds)) or kinds.count("admin") >= 2


def zh_addresses(text: str) -> Iterator[Candidate]:
    for m in _ZH_CUE.finditer(text):
        end, parts = _zh_run(text, m.end())
        if parts and _cued_address(parts):
            yield m.end(), end, "address"
    pos = 0
    while (m := _NEXT_COMPONENT.search(text, pos)) is not None:
        end, parts = _zh_run(text, m.start())
        if parts and _house(parts):
            yield m.start(), end, "address"
        pos = max(end, m.start() + 1)


_NEXT_COMPONENT = re.compile("|".join(p.pattern for k, p in _KINDS.items() if k != "room"))

# ---------------------------------------------------------------- English addresses
_SUFFIX_WORDS = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Close|Crescent|"
    "Highway|Hwy|Parkway|Pkwy|Square|Sq|Circle|Trail|Row|Alley|Plaza"
)
_SUFFIX = f"(?:{_SUFFIX_WORDS})"
_TITLE = r"(?:[A-Z][a-z]*['’])?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?(?![A-Za-z])"
_UNIT_EN = (
    r"(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Flat|Room|Rm|Floor|Fl)\.?\s*#?\s*[A-Za-z0-9-]+|,?\s*#\s*\d+[A-Za-z]?)"
)
_NOT_PLACE = r"(?!(?:Thanks|Thank|Please|Cheers|Regards|Best|Sorry|Hi|Hello|Dear|And|But|Is|It)\b)"
_POSTCODE = r"(?:,?\s+(?:[A-Z]{2}\s+)?\d{5}(?:-\d{4})?|,?\s+[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|,?\s+\d{6}(?!\d))"
_EN_STREET = re.compile(
    rf"(?<![\w-])(?:No\.?\s*)?\d{{1,6}}[A-Za-z]?(?:-\d{{1,5}})?,?\s+(?:(?:North|South|East|West|[NSEW]\.?)\s+)?"
    rf"(?:(?:{_TITLE}|\d+(?:st|nd|rd|th))\s+){{1,4}}(?:{_SUFFIX}|street|road|avenue|lane|boulevard)\b\.?(?:\s+(?:NW|NE|SW|SE)\b)?{_UNIT_EN}?"
    rf"(?:,\s*{_NOT_PLACE}{_TITLE}(?:\s+{_NOT_PLACE}{_TITLE}){{0,2}}){{0,2}}{_POSTCODE}?"
)
_PUBLIC_ROAD = re.compile(
    r"(?:national|provincial|county|state|interstate)\s+highway", re.IGNORECASE
)  # "on 312 National Highway"
_EN_CUE = re.compile(
    r"(?<![A-Za-z])(?:my (?:home |shipping |delivery |mailing )?address is|(?:shipping|delivery|mailing|home) address"
    r"(?: is)?\s*:?|address\s*:|(?:ship|deliver|send|mail) (?:it |them |this |that |the (?:order|parcel|package) )?to|"
    r"I live at)\s*:?\s*",
    re.IGNORECASE,
)
_EN_CUE_END = re.compile(
    r"[!?;\n(@]|(?<!\bSt)(?<!\bRd)(?<!\bAve)(?<!\bDr)(?<!\bApt)(?<!\bLn)(?<!\bBlvd)(?<!\bCt)(?<!\bPl)(?<!\bSte)(?<!\bNo)"
    r"\.(?:\s|$)|\s(?:and|but|by|before|on|tomorrow|today|please|thanks|thank|asap|so|because|if|when|instead|not|or|"
    r"which|where|with|within|for|as|in|at|after|during|via|next|this)\b"
)
_EN_CUE_START = re.compile(rf"\d|{_TITLE}|(?i:apt|apartment|unit|suite|flat|room)\b")
_ADDRESSEE = re.compile(
    rf"((?!(?i:apt|apartment|unit|suite|flat|room|floor|building|block|no)\b){_TITLE}(?:\s+{_TITLE}){{0,2}}),\s*(?=\d|No\b)"
)
_EN_HOUSE = re.compile(rf"(?i:\b(?:{_SUFFIX_WORDS}|apt|apartment|unit|suite|flat|room)\b)|{_POSTCODE}")


def en_addresses(text: str) -> Iterator[Candidate]:
    for m in _EN_STREET.finditer(text):
        if not _PUBLIC_ROAD.search(m.group(0)):
            yield m.start(), m.end() - m.group(0).endswith("."), "address"  # "... Elm St." ends a sentence
    for m in _EN_CUE.finditer(text):
        start = m.end()
        if not _EN_CUE_START.match(text, start):
            continue  # "ship to my office", "deliver to the wrong house"
        stop = _EN_CUE_END.search(text, start, min(len(text), start + 120))
        chunk = text[start : stop.start() if stop else start + 120].rstrip(" ,.:-")
        if chunk and ((chunk[0].isdigit() and re.search(_TITLE, chunk)) or _EN_HOUSE.search(chunk)):
            end = start + len(chunk)
            if (named := _ADDRESSEE.match(chunk)) is not None:  # "ship to: John Smith, 12 Oak Road"
                yield start, start + len(named.group(1)), "name"
                start += named.end()
            yield start, end, "address"


# ---------------------------------------------------------------- Chinese names
_SURNAMES = frozenset(  # the common single-character surnames (about 400; they cover nearly every shopper)
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍"
    "庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾"
    "隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻厉伊仝区"
    "郜阚权帅屠豆朴盖练廉禹井祖漆巴丰支卿狄计索宣晋初扈晁芮普阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况宿鲜印逯隆茹诸战慕"
    "危亢嵇湛宾戎勾茅利於揭干尉冶斯束檀衣展阴昝幸奉植衡富尧"
)
_COMPOUND = tuple(words("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 端木"))
_NOT_GIVEN = (
    set(_STOP) | set("电手地号码话先女士姐老师同学师傅经理总哥姐叔阿吧呗喔哈啦咯嘞么啥什怎为对于已经都和来，") | {"不"}
)
_NOT_NAMES = words(
    "高兴 高手 高级 高端 高中 高速 王者 黄金 白金 金牌 金卡 钻石 常客 马上 周末 何必 方便 安全 全新 全部 全国 关于 关注 华为 苏宁 "
    "申请 成功 包邮 包裹 文件 许多 白色 黑色 程序 余额 万一 夏天 司机 路过 车主 房东 牛仔 代理 代购 温馨 明白 明天 平时 时候 "
    "应该 来自 于是 任何 江苏 江西 云南 安徽 海南 吉林 甘肃 宁夏 台湾 广东 广西 新疆 贵州 湖南 湖北 山东 山西 河南 河北 "
    "黑龙 陕西 福建 浙江 上海 北京 天津 重庆 四川 辽宁 内蒙 香港 澳门 青海 西藏 中国 中心 老客 新客 会员 用户 客户 学生 "
    "韩国 日本 美国 法国 英国 德国 俄罗 欧洲 单位 单身 管理 强烈 严重 鲁莽 连续 连接 宁愿 尚未 曾经 向来 毕业 师傅 冷静 "
    "乐意 刚才 刚刚 简单 费用 尤其 阳台 时间 石头 毛病 钱包 齐全 燕窝 谢谢 江湖 田园 付款 付费 傅里 易用 干净 干脆 干活 "
    "苗条 雷人 沙发 闻到 利用 屈服 宫颈 万能 包年 包月 付完 付过 白天 晚上 "
    "宁波 常州 温州 苏州 杭州 金华 包头 武汉 成都 石家 秦皇 许昌 柳州 桂林 南京 南昌 南宁 南通 江门 海口 邢台 安庆 马鞍 黄山 "
    "岳阳 惠州 沈阳 郑州 廊坊 乐山 乐清 洛阳 韩城 贺州 曲靖 连云 齐齐 龙岩 梅州 邵阳 万州 丽江 平顶 吉安 焦作 阳江 黄石 鹤壁"
)
_ZH_STRONG = re.compile(
    r"(?:收件人|收货人|寄件人|联系人|真实姓名|客户姓名|姓名|名字叫|名字是|我叫|机主|户主|持卡人|开户人|(?:经理|专员|工程师|师傅)(?=\s*[:：]))"
    r"(?:是|为|叫)?\s*[:：]?\s*"
)
_ZH_WEAK = re.compile(  # only where a phrase starts: "您好，我是李娜" but not "我再说一遍我是付完钱的"
    r"(?:^|(?<=[\s,.!?~:;，。！？～：；、])|(?<=您好)|(?<=你好)|(?<=哈喽)|(?<=嗨))(?:我是|本人)\s*[:：]?\s*"
)
_HONORIFIC = re.compile(r"(?:先生|女士|小姐)")
_SEPARATORS = " \t\n\xa0,，:：;；/|"


def _zh_name_at(text: str, pos: int, weak: bool) -> int | None:
    """The end of a Chinese name that starts at ``pos`` (surname + one or two given characters), or None."""
    if text.startswith(_COMPOUND, pos):
        given_at = pos + 2
    elif pos < len(text) and text[pos] in _SURNAMES:
        given_at = pos + 1
    else:
        return None
    given = 0
    while given < 2 and given_at + given < len(text):
        ch = text[given_at + given]
        if not "\u4e00" <= ch <= "\u9fff" or ch in _NOT_GIVEN:
            break
        if given == 1 and (_KINDS["admin"].match(text, given_at + 1) or _KINDS["road"].match(text, given_at + 1)):
            break  # 收件人张三北京市…: the address starts at 北
        given += 1
    end = given_at + given
    if not given or text[pos:end] in _NOT_NAMES or text[pos : pos + 2] in _NOT_NAMES:
        return None
    phrase_goes_on = end < len(text) and "\u4e00" <= text[end] <= "\u9fff" and text[end] not in "想要"
    if weak and phrase_goes_on and not (_KINDS["admin"].match(text, end) or _KINDS["road"].match(text, end)):
        return None  # 我是王者荣耀玩家: the "name" does not end the phrase (an address may follow it)
    return end


def _han(text: str, pos: int) -> bool:
    return 0 <= pos < len(text) and "\u4e00" <= text[pos] <= "\u9fff"


def zh_names(text: str) -> Iterator[Candidate]:
    for cue, weak in ((_ZH_STRONG, False), (_ZH_WEAK, True)):
        for m in cue.finditer(text):
            end = _zh_name_at(text, m.end(), weak)
            if end is not None:
                yield m.end(), end, "name"
    for m in MOBILE.finditer(text):  # 王芳，13812345678，广东省…: the shipping-label triple needs no cue
        left = m.start()
        while left > 0 and text[left - 1] in _SEPARATORS:
            left -= 1
        for start in range(left - 2, max(left - 5, -1), -1):
            if not _han(text, start - 1) and _zh_name_at(text, start, False) == left:
                yield start, left, "name"
                break
        right = m.end()
        while right < len(text) and text[right] in _SEPARATORS:
            right += 1
        end = _zh_name_at(text, right, False)
        if end is not None and not _han(text, end):
            yield right, end, "name"
    for m in _HONORIFIC.finditer(text):
        for length in (3, 2, 1):  # 张三丰先生, 张三先生, 张先生
            start = m.start() - length
            if start < 0 or (start and text[start - 1] == text[start]):  # 谢谢先生 is "thank you, sir"
                continue
            if _zh_name_at(text, start, False) == m.start() or (length == 1 and text[start] in _SURNAMES):
                yield start, m.end(), "name"
                break


# ---------------------------------------------------------------- English names
_NOT_EN_NAMES = words(
    "sorry happy here back done fine okay ok ready glad good not just so very really still also new interested afraid sure "
    "the a an from in at on with your their our customer service support team manager admin agent user member vip student "
    "teacher mom dad chinese american british english french german japanese korean indian canadian australian italian "
    "spanish russian mexican brazilian dutch swiss irish scottish welsh asian european african muslim christian jewish "
    "buddhist catholic monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december store shop official help desk center centre department calling writing "
    "sending pleased disappointed unhappy upset angry confused tired sick home outside inside online offline available "
    "prime pro max plus mini air edition series please thanks thank hello hi hey dear yes no looking having getting "
    "trying interested martens pepper scholl jart oz china xiao xiaobian little big telecom unicom mobile airlines "
    "airline bank company group weibo beijing shanghai guangzhou shenzhen tianjin chongqing hangzhou nanjing wuhan "
    "chengdu xian zhengzhou henan hebei hunan hubei guangdong guangxi shandong shanxi jiangsu zhejiang fujian sichuan "
    "yunnan guizhou anhui jiangxi liaoning jilin heilongjiang gansu qinghai hainan xinjiang tibet macau "
    "taiwan ningxia"
)
_EN_NAME_CUE = re.compile(
    r"(?<![A-Za-z])(?:my (?:full |first |last )?name(?:'s|’s| is)|(?<![A-Za-z] )(?:(?:full|first|last|customer|contact|"
    r"account|real|legal) )?name\s*:|(?:recipient|addressee|consignee|contact person)(?:'s name| name)?\s*(?::|\bis\b))\s*",
    re.IGNORECASE,
)
_EN_NAME = re.compile(rf"{_TITLE}|[A-Z]{{2,}}(?![A-Za-z])|[\u4e00-\u9fff]{{2,3}}(?![\u4e00-\u9fff])")
_LOWER_NAME = re.compile(r"[a-z]{2,}(?: [a-z]{2,})?(?=\s*(?:[,.;!?\n]|$|\s(?:and|but)\b))")
_IM = re.compile(r"(?<![A-Za-z])I(?:'m|’m| am)\s+")
_THIS_IS = re.compile(r"(?:^|[.!?,;:\n]\s*|(?<![A-Za-z])(?:hi|hello|hey|dear),?\s+)(?:this is)\s+", re.IGNORECASE)
_TITLES = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+")
_SELF_INTRO = re.compile(r"\s+(?:from|here|speaking|calling|again)\b")
_PREDICATE = re.compile(r"\s+(?:for|to|at|in|on|with|about|that|of|by)\b")  # "I'm Interested in", "I'm Looking for"
_TITLE_RE = re.compile(_TITLE)


def _words(text: str, pos: int, most: int, *, strict: bool) -> int:
    """End of up to ``most`` name words from ``pos`` (0 words: ``pos``); ``strict`` takes capitalised ones only."""
    pattern = _TITLE_RE if strict else _EN_NAME
    end = pos
    for k in range(most):
        if k and text[end : end + 1] != " ":
            break
        m = pattern.match(text, end + (k > 0))
        if m is None or _is_word(m.group(0)):
            break
        end = m.end()
    return end


def _is_word(token: str) -> bool:
    return token.lower() in _NOT_EN_NAMES


def en_names(text: str) -> Iterator[Candidate]:
    for m in _EN_NAME_CUE.finditer(text):
        end = _words(text, m.end(), 3, strict=False)
        low = _LOWER_NAME.match(text, m.end()) if m.group(0)[:2].lower() == "my" else None
        if end == m.end() and low and not _is_word(low.group(0).split()[0]):
            end = low.end()  # "my name is john smith." (only after "my name is": "name: ease." is a log line)
        if end > m.end():
            yield m.end(), end, "name"
    for m in _IM.finditer(text):
        end = _words(text, m.end(), 2, strict=True)
        if end > m.end() and not _PREDICATE.match(text, end):
            yield m.end(), end, "name"
    for m in _THIS_IS.finditer(text):
        end = _words(text, m.end(), 3, strict=True)
        two = " " in text[m.end() : end]
        if end > m.end() and (two or _SELF_INTRO.match(text, end)):
            yield m.end(), end, "name"
    for m in _TITLES.finditer(text):
        end = _words(text, m.end(), 2, strict=False)
        if end > m.end():
            yield m.start(), end, "name"


def find_words(text: str) -> list[Candidate]:
    """Candidate address and name spans of ``text`` (overlapping)."""
    return [*zh_addresses(text), *en_addresses(text), *zh_names(text), *en_names(text)]
