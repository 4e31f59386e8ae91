"""Language detection for shopper messages: Chinese or English, from the share of CJK characters.

No model and nothing to download: a CJK character counts once, a Latin word counts once, and the message
is Chinese when its CJK characters are at least as many as its Latin words ("Lumora的衬衫" and
"这个iphone case多少钱" are Chinese, "I want a 旗袍" is English). Messages with neither (digits, emoji,
punctuation) get ``default``.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]")
_LATIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

LANGS = ("zh", "en")


def cjk_ratio(text: str) -> float:
    """CJK characters / (CJK characters + Latin words); 0.0 for a message with neither."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    return cjk / (cjk + words) if cjk + words else 0.0


def detect_language(text: str, *, default: str = "zh") -> str:
    """``"zh"`` or ``"en"``."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if cjk == 0 and words == 0:
        return default
    return "zh" if cjk >= words else "en"
