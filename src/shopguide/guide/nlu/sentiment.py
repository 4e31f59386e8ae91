"""How the shopper feels: angry / negative / neutral / positive, from cues in both languages.

The guide needs one decision from it, and needs it to be predictable: an angry shopper with an order problem
goes to a person at once, and a hand-off ticket records the mood. So this is a transparent cue count, not a
model: strong cues (profanity, insults, threats to escalate: 12315, 投诉, 差评, chargeback, lawyer) count 2,
mild ones (失望, 无语, "disappointed", "ridiculous", "!!", a word in CAPITALS, "???") count 1; a score of 2
or more is angry, 1 is negative. Positive cues only count when there is nothing negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_STRONG = re.compile(
    r"他妈|tmd|妈的|卧槽|我靠|草泥马|傻逼|sb(?![a-z])|垃圾|坑爹|骗子|骗钱|黑店|滚|去死|"
    r"12315|消协|消费者协会|投诉|举报|曝光|起诉|律师|工商局|差评|退一赔三|"
    r"\bfuck|\bshit\b|\bwtf\b|\bbullshit\b|\bdamn\b|\bscam|\bliars?\b|\bcrap\b|\bpathetic\b|\bchargeback\b|"
    r"\blawyer\b|\bsue\b|\breport (?:you|this|your)\b|\bbbb\b|\b(?:1|one)[- ]star\b|\bbad review\b|"
    r"\bworst\b|\bunacceptable\b|\bdisgust|\bfurious\b|\bfed up\b|"
    # asking again after nobody helped: the classic reason to escalate
    r"第[二三四五2-5]次|又一次|说了多少遍|一直没人|没人(?:回|理|管)|还是没(?:人|回|处理)|\b(?:second|third|fourth|fifth) time\b|"
    r"\bnobody (?:got back|replied|answered|called|helped)\b|\bno one (?:got back|replied|answered|called|helped)\b|"
    r"\bstill (?:no|nothing|waiting)\b|\balready (?:told|explained|gave)\b"
)
_MILD = re.compile(
    r"失望|无语|气死|服了|什么鬼|烦死|太差|很差|真差|差劲|离谱|搞什么|怎么回事|咋回事|还不|到底|凭什么|受不了|"
    r"\bdisappoint|\bterrible\b|\bawful\b|\bridiculous\b|\bannoy|\bfrustrat|\bangry\b|\bupset\b|\buseless\b|"
    r"\bstill\b|\bagain\b|\bseriously\b|\bnonsense\b|\brubbish\b|\bjoke\b"
)
_POSITIVE = re.compile(
    r"好评|喜欢|不错|满意|给力|赞|棒|\bgreat\b|\blove\b|\bperfect\b|\bawesome\b|\bexcellent\b|\bhappy\b"
)
_SHOUT = re.compile(r"[!！]{2,}|[?？]{3,}")
_CAPS_WORD = re.compile(r"\b[A-Z]{4,}\b")


@dataclass(frozen=True)
class Sentiment:
    """The mood of one message and the cues it was read from."""

    label: str = "neutral"
    score: int = 0
    cues: tuple[str, ...] = field(default=())

    @property
    def angry(self) -> bool:
        return self.label == "angry"


def read_sentiment(normalized: str, raw: str = "") -> Sentiment:
    """The sentiment of a message (``normalized``: lower-cased text; ``raw``: as typed, for CAPITALS)."""
    cues = [m.group(0) for m in _STRONG.finditer(normalized)]
    score = 2 * len(cues)
    mild = [m.group(0) for m in _MILD.finditer(normalized)]
    mild += [m.group(0) for m in _SHOUT.finditer(raw or normalized)]
    mild += [m.group(0) for m in _CAPS_WORD.finditer(raw) if m.group(0) not in {"HELLO", "THANKS"}]
    score += len(mild)
    cues += mild
    if score >= 2:
        return Sentiment("angry", score, tuple(cues))
    if score == 1:
        return Sentiment("negative", score, tuple(cues))
    positive = tuple(m.group(0) for m in _POSITIVE.finditer(normalized))
    return Sentiment("positive" if positive else "neutral", 0, positive)
