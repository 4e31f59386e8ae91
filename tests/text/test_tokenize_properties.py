"""Property-based tests of the text normaliser and tokenizer: any text (control characters, surrogates of
other scripts, full-width forms) is folded and split without an exception. Derandomised examples."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shopguide.text.tokenize import Tokenizer, normalize

PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)
TOKENIZER = Tokenizer(["北辰", "栖木山"])  # one per module: jieba's dictionary loads once

PIECES = ["衬衫", "北辰", "ＡＢＣ", "５００ｍｌ", "Slim-Fit", "\u3000", "\x00", "\t", "\n", "İ", "ß", "ﬁ", "①", "٣",
          "e\u0301", "😀", "\u200b", "'", "-", ".", " "]  # fmt: skip
text = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(PIECES), max_size=20).map("".join))


@PROPS
@given(raw=text)
def test_normalize_is_idempotent_folded_and_trimmed(raw: str) -> None:
    once = normalize(raw)
    assert normalize(once) == once
    assert once == once.strip() and "  " not in once
    assert not any("A" <= ch <= "Z" or "Ａ" <= ch <= "Ｚ" for ch in once), "ASCII and full-width letters fold"


@PROPS
@given(raw=text)
def test_tokens_are_non_empty_words_without_whitespace(raw: str) -> None:
    tokens = TOKENIZER(raw)
    assert all(tok and not any(ch.isspace() for ch in tok) for tok in tokens)
    assert TOKENIZER(raw) == tokens, "deterministic"
    assert TOKENIZER(normalize(raw)) == tokens, "tokenising normalises first"
