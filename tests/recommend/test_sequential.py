"""The sequential recommender: order matters, recent events count, training stops, checkpoints resume."""

from __future__ import annotations

import numpy as np
import pytest

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Event, Item
from shopguide.errors import ConfigError
from shopguide.recommend.recent import merge_sequence
from shopguide.recommend.sequential.config import SequentialConfig
from shopguide.recommend.sequential.features import item_features, price_band
from shopguide.recommend.sequential.network import SequenceNetwork
from shopguide.recommend.sequential.recommender import SequentialRecommender
from shopguide.recommend.sequential.training import (
    Holdout,
    holdout_metrics,
    left_pad,
    prefixes,
    sampled_bce,
    split_last,
    windows,
)

torch = pytest.importorskip("torch")

# one network (the shipped default is an ensemble of two; test_an_ensemble_... covers that)
FAST = {
    "dim": 16,
    "heads": 1,
    "layers": 1,
    "dropout": 0.0,
    "attention_dropout": 0.0,
    "lr": 0.02,
    "seed": 3,
    "members": 1,
}


def order_world(n_users: int = 12) -> Dataset:
    """Half the shoppers view x then y and buy c; the other half view y then x and buy d.

    Every shopper saw both x and y, so only the ORDER tells c from d.
    """
    items = [Item(id=i, title=f"item {i}", category=["demo"], price=10.0) for i in ("x", "y", "c", "d", "e")]
    events, ts = [], 0.0
    for u in range(n_users):
        path = ("x", "y", "c") if u % 2 == 0 else ("y", "x", "d")
        for item in path:
            ts += 1
            events.append(Event(user=f"u{u}", item=item, type="view", ts=ts))
    return Dataset.from_events(events, items, name="order-world")


@pytest.fixture(scope="module")
def order_model() -> SequentialRecommender:
    cfg = {**FAST, "max_epochs": 80, "validation": "none"}
    return SequentialRecommender(config=cfg).fit(order_world())


def test_the_order_of_recent_events_decides_the_next_item(order_model):
    first = order_model.recommend("visitor", 1, history=["x", "y"])[0].item
    second = order_model.recommend("visitor", 1, history=["y", "x"])[0].item
    assert (first, second) == ("c", "d")


def test_a_new_click_changes_the_next_answer_without_retraining(order_model):
    before = [r.item for r in order_model.recommend("visitor", 2, history=["y"])]
    after = [r.item for r in order_model.recommend("visitor", 2, history=["y", "x"])]
    assert before != after and after[0] == "d"


def test_every_item_has_a_source_and_a_reason_naming_a_history_item(order_model):
    rec = order_model.recommend("visitor", 1, history=["x", ("y", "cart")])[0]
    assert rec.source == "sequential"
    assert "item" in rec.reason.text("en") and "「item" in rec.reason.text("zh")


def test_split_last_holds_out_only_sequences_of_three_or_more():
    train, holdout = split_last([np.array([1, 2, 3]), np.array([4, 5])])
    assert [list(s) for s in train] == [[1, 2], [4, 5]]
    assert holdout.targets.tolist() == [3] and [list(s) for s in holdout.inputs] == [[1, 2]]


def test_windows_cover_long_sequences_newest_first():
    wins = windows([np.arange(7)], max_len=3)
    assert [list(w) for w in wins] == [[3, 4, 5, 6], [0, 1, 2, 3]]
    assert windows([np.array([5])], max_len=3) == []


def test_prefixes_give_one_sample_per_target_with_at_most_max_len_context():
    samples = prefixes([np.arange(5), np.array([9])], max_len=2)
    assert [list(p) for p in samples] == [[0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4]]


def test_prefix_training_learns_the_order_too():
    model = SequentialRecommender(
        config={**FAST, "max_epochs": 80, "validation": "none", "training_samples": "prefixes"}
    )
    model.fit(order_world())
    assert [model.recommend("visitor", 1, history=h)[0].item for h in (["x", "y"], ["y", "x"])] == ["c", "d"]


def test_left_pad_shifts_ids_and_keeps_the_newest():
    assert left_pad([np.array([0, 1, 2]), np.array([7])], width=2).tolist() == [[2, 3], [0, 8]]


def test_merge_sequence_does_not_repeat_the_overlap():
    known = np.array([1, 2, 3])
    assert merge_sequence(known, np.array([2, 3, 4])).tolist() == [1, 2, 3, 4]
    assert merge_sequence(known, np.array([5])).tolist() == [1, 2, 3, 5]
    assert merge_sequence(known, np.array([], dtype=np.int64)).tolist() == [1, 2, 3]


def test_holdout_metrics_rank_the_target_among_unmasked_items():
    cfg = SequentialConfig(dim=8, heads=1, layers=1, side_info=False)
    net = SequenceNetwork(5, cfg)
    with torch.no_grad():  # make item 4 the best answer to anything, item 3 the second best
        net.items.weight.zero_()
        net.final_norm.weight.fill_(1.0)
        net.final_norm.bias.fill_(1.0)
        net.items.weight[5].fill_(1.0)
        net.items.weight[4].fill_(0.5)
    ndcg, hr = holdout_metrics(net, Holdout([np.array([0]), np.array([4])], np.array([4, 3])))
    # user 1 has item 4 in its input: it is masked, so the target (3) ranks first for both users
    assert hr == 1.0 and ndcg == pytest.approx(1.0)


def test_early_stopping_keeps_the_best_epoch():
    model = SequentialRecommender(config={**FAST, "max_epochs": 200, "patience": 3}).fit(order_world(40))
    report = model.report_
    assert report.stopped.startswith("no better validation NDCG@10 for 3 epochs")
    assert len(report.epochs) == report.best_epoch + 3
    assert report.best_ndcg10 == max(e.ndcg10 for e in report.epochs)


def test_checkpoint_resume_continues_where_it_stopped(tmp_path):
    data = order_world()
    cfg = {**FAST, "validation": "none"}
    SequentialRecommender(config={**cfg, "max_epochs": 2}, checkpoint_dir=str(tmp_path)).fit(data)
    resumed = SequentialRecommender(config={**cfg, "max_epochs": 4}, checkpoint_dir=str(tmp_path), resume=True)
    resumed.fit(data)
    assert resumed.report_.resumed_from == 3
    assert [e.epoch for e in resumed.report_.epochs] == [1, 2, 3, 4]
    straight = SequentialRecommender(config={**cfg, "max_epochs": 4}).fit(data)
    np.testing.assert_allclose(resumed.item_matrix_, straight.item_matrix_, rtol=1e-4, atol=1e-5)
    with pytest.raises(ConfigError, match="dim"):
        SequentialRecommender(config={**cfg, "dim": 32}, checkpoint_dir=str(tmp_path), resume=True).fit(data)


def test_an_ensemble_scores_the_sum_of_its_members_and_reports_each(tmp_path):
    data = order_world(20)
    cfg = {**FAST, "max_epochs": 6, "patience": 50, "members": 1}
    ensemble = SequentialRecommender(config={**cfg, "members": 2}, checkpoint_dir=str(tmp_path)).fit(data)
    first = SequentialRecommender(config={**cfg, "seed": 3}).fit(data)
    second = SequentialRecommender(config={**cfg, "seed": 1003}).fit(data)
    users = np.arange(data.n_users)
    history = data.binary_matrix
    np.testing.assert_allclose(
        ensemble.score(users, history), first.score(users, history) + second.score(users, history), rtol=1e-4, atol=1e-4
    )
    assert ensemble.item_matrix_.shape == (data.n_items, 2 * FAST["dim"])
    report = ensemble.report_
    assert report.members == 2 and [e.member for e in report.epochs] == [0] * 6 + [1] * 6
    assert report.stopped.startswith("member 0: reached max_epochs=6; member 1:")
    assert report.best_ndcg10 is not None and 0.0 <= report.best_ndcg10 <= 1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["member-0", "member-1"]
    assert SequentialConfig(members=4, max_minutes=20).member(3) == SequentialConfig(
        seed=3042, members=4, max_minutes=5
    )


def test_a_model_saved_before_ensembles_still_loads_and_scores(order_model):
    import pickle

    state = dict(order_model.__dict__)
    state["encoder_"] = state.pop("encoders_")[0]
    old = SequentialRecommender.__new__(SequentialRecommender)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.recommend("visitor", 1, history=["x", "y"])[0].item == "c"


def test_sampled_bce_trains_the_original_sasrec_loss():
    torch.manual_seed(0)
    table = torch.randn(4, 8)  # pad + 3 items
    target = torch.tensor([1, 2, 3] * 50)
    hidden = torch.randn(len(target), 8)
    assert sampled_bce(hidden, table, target).item() > 0
    cfg = {**FAST, "loss": "sampled_bce", "training_samples": "all_positions", "max_epochs": 120, "validation": "none"}
    model = SequentialRecommender(config=cfg).fit(order_world())
    assert model.recommend("visitor", 1, history=["x", "y"])[0].item == "c"
    assert model.recommend("visitor", 1, history=["y", "x"])[0].item == "d"


def test_config_file_errors_name_the_file_and_field(tmp_path):
    good = tmp_path / "seq.yaml"
    good.write_text("dim: 32\nfilter_mix: 0.3\n")
    assert SequentialConfig.from_file(good).dim == 32
    bad = tmp_path / "bad.toml"
    bad.write_text("dim = -1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: field 'dim'"):
        SequentialConfig.from_file(bad)
    with pytest.raises(ConfigError, match="field 'colour'"):
        SequentialConfig.from_mapping({"colour": "red"})
    with pytest.raises(ConfigError, match="cannot read"):
        SequentialConfig.from_file(tmp_path / "missing.yaml")


def test_side_features_share_brand_category_and_price_band():
    items = [
        Item(id="a", title="a", category=["beauty", "lips"], brand="Acme", price=10.0),
        Item(id="b", title="b", category=["beauty", "eyes"], brand="acme", price=11.0),
        Item(id="c", title="c", category=["home"], price=500.0),
    ]
    events = [Event(user="u", item=i.id, type="view", ts=k) for k, i in enumerate(items)]
    feats = item_features(Dataset.from_events(events, items), min_items=2)
    assert set(feats.of(0)) == set(feats.of(1)) == {"cat:beauty", "brand:acme", price_band(10.0)}
    assert feats.of(2) == []
    assert price_band(None) is None and price_band(10.0) == price_band(11.0) != price_band(16.0)


@pytest.mark.parametrize(
    ("filter_mix", "frequencies", "post_norm"), [(0.0, 0, False), (0.4, 0, False), (0.4, 2, True), (0.6, 3, False)]
)
def test_the_numpy_encoder_matches_the_torch_network(filter_mix, frequencies, post_norm):
    from shopguide.recommend.sequential.export import NumpyEncoder

    shape = {"dim": 16, "heads": 2, "layers": 2, "max_len": 6, "post_norm": post_norm}
    cfg = SequentialConfig(**shape, filter_mix=filter_mix, filter_window=2, filter_frequencies=frequencies)
    torch.manual_seed(0)
    net = SequenceNetwork(9, cfg).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))  # away from the tiny initial weights
    seqs = [np.array([1, 2, 3]), np.array([4]), np.array([0, 1, 2, 3, 4, 5]), np.array([8, 7])]
    with torch.no_grad():
        table = net.item_table()
        expected = net(left_pad(seqs), table)[:, -1].numpy()
    got = NumpyEncoder.from_network(net)(seqs, table.detach().numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_the_fourier_kernel_is_bsarecs_low_pass_at_the_newest_slot():
    from shopguide.recommend.sequential.export import filter_kernel

    cfg = SequentialConfig(max_len=20, filter_frequencies=3)
    x = torch.randn(4, 20, 5)
    spectrum = torch.fft.rfft(x, dim=1, norm="ortho")
    spectrum[:, 3:] = 0  # BSARec keeps the lowest frequencies of the window and drops the rest
    low = torch.fft.irfft(spectrum, n=20, dim=1, norm="ortho")[:, -1]
    kernel = torch.from_numpy(filter_kernel(cfg))  # kernel[d] weighs the item d steps back
    np.testing.assert_allclose((kernel.flip(0)[None, :, None] * x).sum(dim=1), low, atol=1e-5)


@pytest.mark.parametrize("frequencies", [0, 3])
def test_padding_does_not_change_an_encoding(frequencies):
    """A shopper is encoded the same alone (serving) and next to a longer sequence (batched scoring)."""
    cfg = SequentialConfig(dim=16, heads=2, layers=2, max_len=8, filter_mix=0.5, filter_frequencies=frequencies)
    torch.manual_seed(1)
    net = SequenceNetwork(9, cfg).eval()
    short, long = np.array([3, 1]), np.array([0, 1, 2, 3, 4, 5, 6])
    with torch.no_grad():
        table = net.item_table()
        alone = net(left_pad([short]), table)[:, -1]
        batched = net(left_pad([short, long]), table)[:1, -1]
    np.testing.assert_allclose(alone.numpy(), batched.numpy(), rtol=1e-5, atol=1e-5)


def test_a_saved_model_answers_without_torch_state(order_model, tmp_path):
    order_model.save(tmp_path / "m")
    loaded = SequentialRecommender.load(tmp_path / "m")
    assert not any("torch" in type(v).__module__ for v in vars(loaded).values())
    assert loaded.recommend("visitor", 3, history=["x", "y"]) == order_model.recommend("visitor", 3, history=["x", "y"])


def test_a_saved_model_loads_and_answers_where_torch_cannot_be_imported(order_model, tmp_path):
    import subprocess
    import sys

    order_model.save(tmp_path / "m")
    code = (
        "import sys; sys.modules['torch'] = None\n"  # any `import torch` now raises ImportError
        "from shopguide.recommend.sequential.recommender import SequentialRecommender\n"
        f"m = SequentialRecommender.load({str(tmp_path / 'm')!r})\n"
        "print(m.recommend('visitor', 1, history=['x', 'y'])[0].item)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "c"


def test_it_joins_the_hybrid_and_the_fallback_chain():
    from shopguide.recommend.composite import FallbackChain, Hybrid

    data = order_world()
    cfg = {**FAST, "max_epochs": 80, "validation": "none"}
    hybrid = Hybrid(models=[SequentialRecommender(config=cfg), "item_knn"], weights=[1.0, 0.5]).fit(data)
    # item-CF cannot tell c from d (both follow x and y); the sequence model can, and is named
    first = hybrid.recommend("visitor", 1, history=["x", "y"])[0]
    assert (first.item, first.source) == ("c", "sequential")
    assert hybrid.recommend("visitor", 1, history=["y", "x"])[0].item == "d"
    chain = FallbackChain(steps=[SequentialRecommender(config=cfg), "popular"]).fit(data)
    assert chain.recommend("visitor", 1, history=["y", "x"])[0].source == "sequential"
    cold = chain.recommend("nobody", 3)  # no sequence at all: the next step fills the list
    assert len(cold) == 3 and {r.source for r in cold} == {"popular"}
