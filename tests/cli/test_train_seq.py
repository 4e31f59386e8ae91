"""``shopguide train-seq``: config file + overrides, checkpoints, resume, a saved version that answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopguide.recommend.bundle import BundleStore

pytest.importorskip("torch")


def test_train_seq_saves_an_active_version_that_recommends(cli, imported, tmp_path: Path):
    home = tmp_path / "home"
    config = tmp_path / "seq.yaml"
    config.write_text("dim: 16\nheads: 1\nlayers: 1\ndropout: 0.1\nattention_dropout: 0.1\nlr: 0.01\n")
    run = cli(
        "train-seq", "--config", config, "--set", "max_epochs=40", "--set", "validation=\"none\"",
        "--home", home, "--store", imported,
    )  # fmt: skip
    assert run.code == 0, run.out
    assert "2 networks, 80 epochs" in run.out and "(active)" in run.out  # the default: an ensemble of two
    for member in ("member-0", "member-1"):
        assert (home / "checkpoints" / "sequential" / member / "last.pt").is_file()
    model = BundleStore(home / "models").load()
    assert model.source == "sequential" and model.config_.dim == 16 and model.config_.max_epochs == 40
    # every shopper who looked at a0 then a1 looked at a2 next
    run = cli("recommend", "visitor", "-n", "3", "--json", "--history", "a0", "--history", "a1", "--home", home)
    recs = json.loads(run.stdout)
    assert recs[0]["item"] == "a2" and recs[0]["source"] == "sequential"


def test_train_seq_resumes_from_its_checkpoint(cli, imported, tmp_path: Path):
    home, ckpt = tmp_path / "home", tmp_path / "ckpt"
    common = ("--set", "dim=16", "--set", "members=1", "--set", 'validation="none"', "--checkpoints", ckpt)
    assert cli("train-seq", *common, "--set", "max_epochs=2", "--home", home, "--store", imported).code == 0
    run = cli("train-seq", *common, "--set", "max_epochs=3", "--resume", "--home", home, "--store", imported)
    assert run.code == 0, run.out
    assert BundleStore(home / "models").load().report_.resumed_from == 3


def test_train_seq_bad_config_names_the_field(cli, imported, tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"dim": 0}')
    run = cli("train-seq", "--config", bad, "--home", tmp_path / "home", "--store", imported)
    assert run.code == 2 and "field 'dim'" in run.out and "bad.json" in run.out
