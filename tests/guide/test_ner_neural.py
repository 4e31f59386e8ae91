"""The neural product tagger: numpy serving equals torch, persistence, determinism, caching, optional torch."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from chat_helpers import SMALL_NEURAL

from shopguide.errors import MissingDependencyError, ModelError, NotFittedError
from shopguide.guide.ner import Entity, NeuralTagger, Sentence, load_neural, read_bio, score_tags
from shopguide.guide.ner.data import FOCUS_TYPES, to_tags
from shopguide.guide.ner.defaults import tune_sentences
from shopguide.guide.ner.encoding import FeatureEncoder
from shopguide.guide.ner.lexicon import Gazetteer
from shopguide.guide.ner.numpy_net import NumpyEnsemble, viterbi

BRANDS = ["北辰", "素野", "栖木", "青禾", "步云", "踏川", "Lumora"]
TYPES = ["衬衫", "卫衣", "运动鞋", "背包", "帽子", "外套"]
TEMPLATES = ["{b}{t}", "{b}新款{t}男", "正品{b}{t}包邮", "{b}官方旗舰店{t}", "2024春季{b}女士{t}"]


def titled(template: str, brand: str, kind: str) -> Sentence:
    text = template.format(b=brand, t=kind)
    b, t = text.index(brand), text.index(kind, text.index(brand) + len(brand))
    tags = to_tags(len(text), [("HPPX", b, b + len(brand)), ("HCCX", t, t + len(kind))])
    return Sentence(tuple(text), tuple(tags))


def training_set() -> list[Sentence]:
    """Invented titles; (北辰, 卫衣) never occur together and the last template never with 北辰."""
    return [
        titled(template, brand, kind)
        for k, template in enumerate(TEMPLATES)
        for i, brand in enumerate(BRANDS)
        for j, kind in enumerate(TYPES)
        if not (i + j + k) % 2 and not (brand == "北辰" and (kind == "卫衣" or k == 4))
    ]


@pytest.fixture(scope="module")
def tiny() -> list[Sentence]:
    return training_set()


@pytest.fixture(scope="module")
def neural(tiny: list[Sentence]) -> NeuralTagger:
    pytest.importorskip("torch")
    return NeuralTagger.train(tiny, **SMALL_NEURAL)


# ---- numpy serving equals the torch network


def _network(encoder: FeatureEncoder, tags: list[str]):
    torch = pytest.importorskip("torch")
    from shopguide.guide.ner.network import TaggerNetwork

    torch.manual_seed(0)
    dims = {"char": 6, "bigram": 5, "word": 4, "place": 3, "pos": 3, "class": 2}
    net = TaggerNetwork(encoder.sizes(), dims, encoder.dense_dim, tags, hidden=7).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.5 * torch.randn_like(p))  # away from the small initial weights and the zero CRF scores
    return torch, net


def test_numpy_forward_and_viterbi_match_torch(tiny: list[Sentence]) -> None:
    encoder = FeatureEncoder.build([list(s.text) for s in tiny], types=["HCCX", "HPPX"])
    tags = ["O", "B-HCCX", "I-HCCX", "B-HPPX", "I-HPPX"]
    torch, net = _network(encoder, tags)
    from shopguide.guide.ner.numpy_net import NumpyNetwork

    exported = NumpyEnsemble([NumpyNetwork.from_network(net)])
    gazetteer = Gazetteer({"HPPX": ["北辰", "素野"], "HCCX": ["衬衫", "包"]})
    for text in ["北辰衬衫", "正品素野新款背包包邮", "x", "没见过的字与词汇abc123"]:
        x = encoder.encode(list(text), gazetteer)
        ids, dense = torch.from_numpy(x.ids), torch.from_numpy(x.dense)
        with torch.no_grad():
            expected = net.emissions(ids[None], dense[None], torch.tensor([len(text)]))[0].numpy()
        np.testing.assert_allclose(exported.members[0].emissions(x), expected, rtol=1e-4, atol=1e-5)
        assert exported.decode(x) == net.decode(ids, dense)


def test_an_ensemble_averages_its_members_scores(tiny: list[Sentence]) -> None:
    encoder = FeatureEncoder.build([list(s.text) for s in tiny], types=["HCCX", "HPPX"])
    tags = ["O", "B-HCCX", "I-HCCX", "B-HPPX", "I-HPPX"]
    torch, first = _network(encoder, tags)
    torch.manual_seed(1)
    from shopguide.guide.ner.network import TaggerNetwork
    from shopguide.guide.ner.numpy_net import NumpyNetwork

    second = TaggerNetwork(encoder.sizes(), dict.fromkeys(encoder.sizes(), 3), encoder.dense_dim, tags, hidden=7)
    with torch.no_grad():
        for p in second.parameters():
            p.add_(0.5 * torch.randn_like(p))
    ensemble = NumpyEnsemble([NumpyNetwork.from_network(net.eval()) for net in (first, second)])
    x = encoder.encode(list("正品北辰新款卫衣男"), Gazetteer({"HPPX": ["北辰"]}))
    ids, dense, lengths = torch.from_numpy(x.ids)[None], torch.from_numpy(x.dense)[None], torch.tensor([9])
    with torch.no_grad():
        emissions = [net.emissions(ids, dense, lengths)[0].numpy() for net in (first, second)]
        crf = [[t.numpy() for t in net.crf_scores()] for net in (first, second)]
    mean = (emissions[0] + emissions[1]) / 2
    np.testing.assert_allclose(ensemble.emissions(x), mean, rtol=1e-4, atol=1e-5)
    expected = viterbi(mean, *((a + b) / 2 for a, b in zip(*crf, strict=True)))
    assert ensemble.decode(x) == expected
    restored = NumpyEnsemble.from_arrays(ensemble.arrays())
    assert len(restored.members) == 2 and restored.decode(x) == expected


def test_viterbi_finds_the_best_path_by_brute_force() -> None:
    rng = np.random.default_rng(0)
    em, trans, start, end = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)

    def score(path: tuple[int, ...]) -> float:
        return (
            start[path[0]]
            + em[0, path[0]]
            + end[path[-1]]
            + sum(trans[a, b] + em[i + 1, b] for i, (a, b) in enumerate(itertools.pairwise(path)))
        )

    paths = np.stack(np.meshgrid(*[range(3)] * 5, indexing="ij"), -1).reshape(-1, 5)
    best = max(map(tuple, paths), key=score)
    assert viterbi(em, trans, start, end) == list(best) and viterbi(em[:0], trans, start, end) == []


def test_crf_loss_is_the_negative_log_likelihood_of_the_gold_path(tiny: list[Sentence]) -> None:
    encoder = FeatureEncoder.build([list(s.text) for s in tiny], types=["HCCX", "HPPX"])
    torch, net = _network(encoder, ["O", "B-HCCX", "I-HCCX", "B-HPPX", "I-HPPX"])
    x = encoder.encode(list("北辰衬衫"), None)
    ids, dense, lengths = torch.from_numpy(x.ids)[None], torch.from_numpy(x.dense)[None], torch.tensor([4])
    gold = torch.tensor([[3, 4, 1, 2]])
    with torch.no_grad():
        em = net.emissions(ids, dense, lengths)[0]
        trans, start, end = net.crf_scores()
        paths = torch.cartesian_prod(*[torch.arange(5)] * 4)
        scores = start[paths[:, 0]] + em[torch.arange(4), paths].sum(1) + end[paths[:, -1]]
        scores = scores + trans[paths[:, :-1], paths[:, 1:]].sum(1)
        expected = torch.logsumexp(scores, 0) - scores[(paths == gold).all(1)][0]
        assert float(net.loss(ids, dense, lengths, gold)) == pytest.approx(float(expected), rel=1e-4)


# ---- the tagger on invented titles


def test_tags_an_unseen_combination_of_brand_type_and_template(tiny: list[Sentence], neural: NeuralTagger) -> None:
    text = "2024春季北辰女士卫衣"
    assert text not in {s.text for s in tiny}
    assert neural.tag(text) == [Entity("HPPX", "北辰", 6, 8), Entity("HCCX", "卫衣", 10, 12)]
    wide = "正品ＬＵＭＯＲＡ　帽子包邮"  # full-width and a space: offsets stay in the raw input
    assert neural.tag(wide) == [Entity("HPPX", "ＬＵＭＯＲＡ", 2, 8), Entity("HCCX", "帽子", 9, 11)]
    assert neural.tag("") == [] and neural.tag(" \u3000 ") == []


def test_save_load_round_trip_gives_identical_tags(tmp_path: Path, tiny: list[Sentence], neural: NeuralTagger) -> None:
    loaded = NeuralTagger.load(neural.save(tmp_path / "neural"))
    assert loaded.get_params() == neural.get_params() | {"extra_lexicon": None}
    texts = [s.text for s in tiny] + ["步云新款运动鞋", "栖木外套男", "随便什么", "Ａ１"]
    assert [loaded.predict_tags(t) for t in texts] == [neural.predict_tags(t) for t in texts]


def test_added_lexicon_is_used_without_retraining(tmp_path: Path, neural: NeuralTagger) -> None:
    tagger = NeuralTagger.load(neural.save(tmp_path / "copy"))
    tagger.add_lexicon({"HPPX": ["澄颜"]})
    assert "澄颜" in tagger.lexicon["HPPX"] and "澄颜" not in neural.lexicon["HPPX"]


def test_training_is_deterministic_and_members_differ(tiny: list[Sentence]) -> None:
    pytest.importorskip("torch")
    params = SMALL_NEURAL | {"epochs": 3, "members": 2}
    first, second = NeuralTagger.train(tiny, **params), NeuralTagger.train(tiny, **params)
    a, b = first.model_.arrays(), second.model_.arrays()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["m0/out/w"], a["m1/out/w"])


def test_early_stopping_keeps_the_best_epoch_on_the_validation_sentences(tiny: list[Sentence]) -> None:
    pytest.importorskip("torch")
    tagger = NeuralTagger.train(tiny[::2], valid=tiny[1::2], **SMALL_NEURAL | {"epochs": 8, "patience": 2})
    (log,) = tagger.train_log_
    f1 = log["valid_f1"]
    assert 1 <= len(f1) <= 8 and f1[log["best_epoch"] - 1] == max(f1)
    assert len(f1) == 8 or len(f1) - log["best_epoch"] == 2


def test_misuse_raises_model_errors(tmp_path: Path, tiny: list[Sentence], neural: NeuralTagger) -> None:
    with pytest.raises(NotFittedError):
        NeuralTagger().tag("北辰衬衫")
    with pytest.raises(ModelError, match="no sentences"):
        NeuralTagger.train([])
    with pytest.raises(ModelError, match="cannot read"):
        NeuralTagger.load(tmp_path / "missing")
    path = neural.save(tmp_path / "neural")
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    (path / "manifest.json").write_text(json.dumps(manifest | {"kind": "product"}), encoding="utf-8")
    with pytest.raises(ModelError, match="'product' tagger"):
        NeuralTagger.load(path)
    manifest["params"]["layers"] = 2  # written by some other version
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="other parameters"):
        NeuralTagger.load(path)


# ---- torch stays optional


def test_serving_needs_no_torch_and_training_says_what_is_missing(
    tmp_path: Path, tiny: list[Sentence], neural: NeuralTagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = neural.save(tmp_path / "neural")
    monkeypatch.setitem(sys.modules, "torch", None)  # any `import torch` now raises ImportError
    assert NeuralTagger.load(path).tag("正品青禾运动鞋") == neural.tag("正品青禾运动鞋")
    with pytest.raises(MissingDependencyError, match="torch"):
        NeuralTagger.train(tiny)


# ---- the cached default


def test_load_neural_trains_once_then_loads_the_cache(
    tmp_path: Path, tiny: list[Sentence], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    assert load_neural(tmp_path / "absent", tmp_path / "cache") is None
    data = tmp_path / "data"
    data.mkdir()
    lines = ["\n".join(f"{c} {t}" for c, t in zip(s.chars, s.tags, strict=True)) for s in tiny]
    (data / "train.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    params = SMALL_NEURAL | {"epochs": 2}
    assert load_neural(data, tmp_path / "cache", train_if_missing=False, **params) is None
    trained = load_neural(data, tmp_path / "cache", **params)
    assert trained is not None and len(list((tmp_path / "cache").iterdir())) == 1

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached tagger should have been loaded")

    monkeypatch.setattr(NeuralTagger, "fit", no_training)
    cached = load_neural(data, tmp_path / "cache", **params)
    assert cached is not None and cached.predict_tags("北辰衬衫") == trained.predict_tags("北辰衬衫")


# ---- the real data (skipped when ../shared/data is absent)

NER_DATA = Path(__file__).parents[2].parent / "shared" / "data" / "ecommerce-ner-zh"


@pytest.mark.slow
def test_two_epochs_on_the_real_data_beat_the_crf_baseline_on_unseen_dev(tmp_path: Path) -> None:
    if not NER_DATA.is_dir():
        pytest.skip(f"dataset not found at {NER_DATA}")
    pytest.importorskip("torch")
    train, dev = read_bio(NER_DATA / "train.txt"), read_bio(NER_DATA / "dev.txt")
    tune = tune_sentences(train, dev)
    tagger = NeuralTagger.train(train, valid=tune, members=1, epochs=2, threads=1)
    (log,) = tagger.train_log_
    assert max(log["valid_f1"]) > 0.69  # the CRF baseline scores 0.677 on this half
    loaded = NeuralTagger.load(tagger.save(tmp_path / "neural"))
    predicted = [loaded.predict_tags(s.chars) for s in tune]
    f1 = score_tags([s.tags for s in tune], predicted).micro(FOCUS_TYPES).f1
    assert f1 == pytest.approx(max(log["valid_f1"]))
