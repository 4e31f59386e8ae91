"""Product NER: BIO reading, span metrics, the CRF baseline and the product tagger on invented sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguide.errors import DataError, ModelError, NotFittedError
from shopguide.guide.ner import CrfTagger, Entity, ProductTagger, Sentence, load_default, read_bio, split_seen
from shopguide.guide.ner.data import entities, halves, parse_bio, spans, to_halfwidth, to_tags
from shopguide.guide.ner.lexicon import Gazetteer, mine_lexicon
from shopguide.guide.ner.metrics import score_spans, score_tags

NER_DATA = Path(__file__).parents[2].parent / "shared" / "data" / "ecommerce-ner-zh"

# ---- a tiny invented training set: brand + product type in a few title templates

BRANDS = ["北辰", "素野", "栖木", "青禾", "步云", "踏川", "Lumora"]
TYPES = ["衬衫", "卫衣", "运动鞋", "背包", "帽子", "外套"]
TEMPLATES = [
    [("{b}", "HPPX"), ("{t}", "HCCX")],
    [("{b}", "HPPX"), ("新款", None), ("{t}", "HCCX"), ("男", None)],
    [("正品", None), ("{b}", "HPPX"), ("{t}", "HCCX"), ("包邮", None)],
    [("{b}", "HPPX"), ("官方旗舰店", None), ("{t}", "HCCX")],
    [("2024春季", None), ("{b}", "HPPX"), ("女士", None), ("{t}", "HCCX")],
]


def make(parts: list[tuple[str, str | None]]) -> Sentence:
    chars: list[str] = []
    found = []
    for text, kind in parts:
        if kind:
            found.append((kind, len(chars), len(chars) + len(text)))
        chars.extend(text)
    return Sentence(tuple(chars), tuple(to_tags(len(chars), found)))


def training_set() -> list[Sentence]:
    """67 sentences; the pair (北辰, 卫衣) never occurs together and template 4 never with 北辰."""
    out = []
    for k, template in enumerate(TEMPLATES):
        for i, brand in enumerate(BRANDS):
            for j, kind in enumerate(TYPES):
                if (i + j + k) % 3 or (brand == "北辰" and (kind == "卫衣" or k == 4)):
                    continue
                out.append(make([(p.format(b=brand, t=kind), tag) for p, tag in template]))
    return out


@pytest.fixture(scope="module")
def tiny() -> list[Sentence]:
    return training_set()


@pytest.fixture(scope="module")
def product(tiny: list[Sentence]) -> ProductTagger:
    return ProductTagger.train(tiny, max_iterations=100, folds=3)


# ---- reading BIO files


def test_parse_bio_reads_sentences_crlf_and_ideographic_space(tmp_path: Path) -> None:
    path = tmp_path / "mini.txt"
    path.write_bytes("华 B-HPPX\r\n为 I-HPPX\r\n\u3000 O\r\n手 B-HCCX\r\n机 I-HCCX\r\n\r\n\r\n壳 B-HCCX\r\n".encode())
    first, second = read_bio(path)
    assert first.text == "华为\u3000手机" and first.tags == ("B-HPPX", "I-HPPX", "O", "B-HCCX", "I-HCCX")
    assert first.entities() == [Entity("HPPX", "华为", 0, 2), Entity("HCCX", "手机", 3, 5)]
    assert second.chars == ("壳",) and second.tags == ("B-HCCX",)


@pytest.mark.parametrize("bad", ["手机 B-HCCX", "手B-HCCX", "手 X-HCCX", "手", "手 B-"])
def test_malformed_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "broken.txt"
    path.write_text(f"华 B-HPPX\n为 I-HPPX\n\n{bad}\n机 I-HCCX\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_bio(path)
    assert err.value.file == str(path) and err.value.line == 4
    assert "broken.txt" in str(err.value) and "line 4" in str(err.value)


def test_parse_bio_accepts_lines_from_anywhere() -> None:
    assert parse_bio(["北 B-HPPX", "辰 I-HPPX", "", ""]) == [Sentence(("北", "辰"), ("B-HPPX", "I-HPPX"))]
    with pytest.raises(DataError, match=r"^query\.txt, line 2: "):
        parse_bio(["北 B-HPPX", "辰\tI-HPPX extra"], file="query.txt")


def test_spans_start_a_new_entity_at_an_orphan_or_mismatched_i() -> None:
    tags = ["I-HCCX", "I-HCCX", "O", "B-HPPX", "I-HCCX", "B-XH", "B-XH", "I-XH"]
    assert spans(tags) == [("HCCX", 0, 2), ("HPPX", 3, 4), ("HCCX", 4, 5), ("XH", 5, 6), ("XH", 6, 8)]
    assert spans(["O", "O"]) == [] and spans([]) == []
    assert to_tags(8, spans(tags)) == ["B-HCCX", "I-HCCX", "O", "B-HPPX", "B-HCCX", "B-XH", "B-XH", "I-XH"]


def test_entities_map_offsets_back_to_the_raw_text() -> None:
    raw = "Ａ 牌 手机"
    kept = [0, 2, 4, 5]  # positions of the non-space characters
    found = entities(raw, ["B-HPPX", "I-HPPX", "B-HCCX", "I-HCCX"], kept)
    assert found == [Entity("HPPX", "Ａ 牌", 0, 3), Entity("HCCX", "手机", 4, 6)]


def test_halfwidth_is_one_to_one() -> None:
    raw = "ＡＰＰＬＥ　ｉＰｈｏｎｅ１３（２５６Ｇ）手机，包邮！"
    folded = to_halfwidth(raw)
    assert folded == "APPLE iPhone13(256G)手机,包邮!" and len(folded) == len(raw)


def test_split_seen_and_stable_halves() -> None:
    train = [make([("北辰衬衫", "HCCX")]), make([("素野卫衣", "HCCX")])]
    dev = [make([("北辰衬衫", None)]), make([("青禾外套", "HCCX")]), make([("栖木背包", "HCCX")])]
    seen, unseen = split_seen(dev, train)
    assert [s.text for s in seen] == ["北辰衬衫"] and [s.text for s in unseen] == ["青禾外套", "栖木背包"]
    a, b = halves(dev)
    assert sorted(s.text for s in a + b) == sorted(s.text for s in dev) and halves(dev) == (a, b)


# ---- metrics


def test_scores_on_hand_made_spans() -> None:
    gold = [[("HPPX", 0, 2), ("HCCX", 2, 4)], [("HCCX", 0, 2), ("XH", 3, 5)]]
    pred = [[("HPPX", 0, 2), ("HCCX", 2, 5)], [("HCCX", 0, 2), ("HPPX", 3, 5), ("MISC", 6, 7)]]
    scores = score_spans(gold, pred)
    hccx, hppx = scores["HCCX"], scores["HPPX"]
    assert (hccx.tp, hccx.fp, hccx.fn) == (1, 1, 1) and hccx.f1 == pytest.approx(0.5)
    assert (hppx.tp, hppx.fp, hppx.fn) == (1, 1, 0)
    assert hppx.precision == pytest.approx(0.5) and hppx.recall == 1.0 and hppx.f1 == pytest.approx(2 / 3)
    assert scores["XH"].recall == 0.0 and scores["XH"].f1 == 0.0 and scores["MISC"].precision == 0.0
    focus = scores.micro(["HCCX", "HPPX"])
    assert (focus.tp, focus.fp, focus.fn) == (2, 2, 1)
    assert focus.precision == pytest.approx(0.5) and focus.recall == pytest.approx(2 / 3)
    assert focus.f1 == pytest.approx(4 / 7)
    every = scores.micro()
    assert (every.tp, every.fp, every.fn) == (2, 3, 2) and every.f1 == pytest.approx(4 / 9)
    assert scores.as_dict()["micro_HCCX_HPPX"]["f1"] == round(4 / 7, 4)


def test_score_tags_is_exact_span_and_checks_lengths() -> None:
    gold = [["B-HPPX", "I-HPPX", "B-HCCX", "I-HCCX"]]
    assert score_tags(gold, gold).micro().f1 == 1.0
    shorter = [["B-HPPX", "O", "B-HCCX", "I-HCCX"]]  # brand span one character short: a miss and a false alarm
    scores = score_tags(gold, shorter)
    assert scores["HPPX"].tp == 0 and scores["HPPX"].fp == 1 and scores["HPPX"].fn == 1
    assert scores["HCCX"].f1 == 1.0
    with pytest.raises(ValueError, match="length"):
        score_tags(gold, [["O"]])


# ---- lexicon


def test_mined_lexicon_and_gazetteer_matches() -> None:
    sentences = [make([("北辰", "HPPX"), ("衬衫", "HCCX")]), make([("Ｌｕｍｏｒａ", "HPPX"), ("衬衫", "HCCX")])]
    lexicon = mine_lexicon(sentences)
    assert lexicon == {"HCCX": ["衬衫"], "HPPX": ["lumora", "北辰"]}
    gazetteer = Gazetteer(lexicon)
    assert gazetteer.matches(list("lumora的衬衫")) == [("HPPX", 0, 6), ("HCCX", 7, 9)]
    feats = gazetteer.features(list("北辰衬衫"))
    assert "gHPPX=B" in feats[0] and "gHPPX=E" in feats[1] and "glHCCX=2" in feats[3]


# ---- taggers on the invented set


@pytest.mark.parametrize("cls", [CrfTagger, ProductTagger])
def test_tagger_finds_brand_and_type_in_an_unseen_sentence(tiny: list[Sentence], cls: type[CrfTagger]) -> None:
    tagger = cls.train(tiny, max_iterations=100)
    text = "2024春季北辰女士卫衣"  # brand, type and template never seen together
    assert text not in {s.text for s in tiny}
    assert tagger.tag(text) == [Entity("HPPX", "北辰", 6, 8), Entity("HCCX", "卫衣", 10, 12)]


def test_offsets_refer_to_raw_full_width_input(product: ProductTagger) -> None:
    text = "　正品 青禾　运动鞋 包邮"
    found = product.tag(text)
    assert [(e.type, e.text) for e in found] == [("HPPX", "青禾"), ("HCCX", "运动鞋")]
    assert all(text[e.start : e.end] == e.text for e in found)
    wide = "正品ＬＵＭＯＲＡ　帽子"  # full-width latin is folded before tagging, offsets stay in the input
    assert product.tag(wide) == [Entity("HPPX", "ＬＵＭＯＲＡ", 2, 8), Entity("HCCX", "帽子", 9, 11)]
    assert product.tag("") == [] and product.tag(" \u3000 ") == []


def test_added_lexicon_tags_a_brand_never_seen_in_training(tmp_path: Path, product: ProductTagger) -> None:
    text = "正品澄颜背包包邮"
    assert Entity("HPPX", "澄颜", 2, 4) not in product.tag(text)
    tagger = ProductTagger.load(product.save(tmp_path / "tagger"))  # a copy: the shared fixture stays as trained
    tagger.add_lexicon({"HPPX": ["澄颜"]})
    assert tagger.tag(text) == [Entity("HPPX", "澄颜", 2, 4), Entity("HCCX", "背包", 4, 6)]


@pytest.mark.parametrize("cls", [CrfTagger, ProductTagger])
def test_save_load_round_trip_gives_identical_tags(tmp_path: Path, tiny: list[Sentence], cls: type[CrfTagger]) -> None:
    tagger = cls.train(tiny, max_iterations=50)
    loaded = cls.load(tagger.save(tmp_path / "tagger"))
    assert loaded.get_params() == tagger.get_params()
    texts = [s.text for s in tiny] + ["步云新款运动鞋", "栖木外套男", "随便什么", "Ａ１"]
    assert [loaded.tag(t) for t in texts] == [tagger.tag(t) for t in texts]
    assert [loaded.predict_tags(t) for t in texts] == [tagger.predict_tags(t) for t in texts]


def test_training_is_deterministic(tiny: list[Sentence]) -> None:
    first = ProductTagger.train(tiny, max_iterations=30, folds=3)
    second = ProductTagger.train(tiny, max_iterations=30, folds=3)
    assert first.model_ == second.model_ and first.lexicon == second.lexicon


def test_misuse_raises_model_errors(tmp_path: Path, tiny: list[Sentence]) -> None:
    with pytest.raises(NotFittedError):
        CrfTagger().tag("北辰衬衫")
    with pytest.raises(ModelError, match="no sentences"):
        CrfTagger.train([])
    path = CrfTagger.train(tiny, max_iterations=10).save(tmp_path / "crf")
    with pytest.raises(ModelError, match="'crf'"):
        ProductTagger.load(path)
    with pytest.raises(ModelError, match="cannot read"):
        CrfTagger.load(tmp_path / "missing")


def test_load_default_without_the_dataset_returns_none(tmp_path: Path) -> None:
    assert load_default(tmp_path / "absent", tmp_path / "cache") is None
    assert not (tmp_path / "cache").exists()


# ---- the real data (skipped when ../shared/data is absent)


@pytest.mark.slow
def test_real_files_parse_with_the_documented_counts() -> None:
    if not NER_DATA.is_dir():
        pytest.skip(f"dataset not found at {NER_DATA}")
    train, dev = read_bio(NER_DATA / "train.txt"), read_bio(NER_DATA / "dev.txt")
    assert len(train) == 6000 and len(dev) == 998
    counts: dict[str, int] = {}
    for sentence in train:
        for ent in sentence.entities():
            counts[ent.type] = counts.get(ent.type, 0) + 1
    assert counts == {"HCCX": 20656, "HPPX": 2803, "XH": 1616, "MISC": 4322}
    assert len({s.text for s in train}) == 4610
    seen, unseen = split_seen(dev, train)
    assert len(seen) + len(unseen) == 998 and 0.44 < len(seen) / len(dev) < 0.48
