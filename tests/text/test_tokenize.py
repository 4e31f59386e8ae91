from __future__ import annotations

from shopguide.text.tokenize import Tokenizer, has_cjk, normalize


def test_normalize_folds_full_width_and_case():
    assert normalize("ＡＢＣ　５００ＭＬ") == "abc 500ml"


def test_chinese_words_bigrams_and_english_words():
    tok = Tokenizer(["北辰"])
    tokens = tok("北辰衬衫 Slim-Fit 500ml")
    assert "北辰" in tokens and "衬衫" in tokens
    assert "辰衬" in tokens  # character bigram for recall on short queries
    assert "slim-fit" in tokens and "500ml" in tokens
    assert has_cjk("abc 衬衫") and not has_cjk("abc")


def test_user_words_stay_whole_and_tokenizers_are_independent():
    brand = "栖木山"
    assert brand in Tokenizer([brand], bigrams=False)(f"{brand}衬衫")
    assert brand not in Tokenizer(bigrams=False)(f"{brand}衬衫")
