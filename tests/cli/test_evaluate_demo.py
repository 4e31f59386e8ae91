"""``shopguide evaluate`` on the imported checkerboard store, and ``shopguide demo`` end to end."""

from __future__ import annotations

import json

import pytest

from shopguide.recommend.bundle import BundleStore

METRICS_AT_10 = {"HR@10", "Recall@10", "Precision@10", "NDCG@10", "MRR@10", "MAP@10"}


def test_evaluate_writes_every_model_with_its_metrics(cli, imported, tmp_path):
    out = tmp_path / "reports" / "out.json"

    run = cli(
        "evaluate",
        "--store",
        imported,
        "--protocol",
        "stratified",
        "--model",
        "popular",
        "--model",
        "item_knn",
        "--json",
        out,
    )

    assert run.code == 0, run.out
    assert "all models" in run.out  # the side-by-side table of both models
    results = json.loads(out.read_text(encoding="utf-8"))
    assert [r["model"] for r in results] == ["popular", "item_knn"]  # registry names
    popular, knn = (r["metrics"] for r in results)
    for result in results:
        assert result["mode"] == "full ranking"
        assert result["n_users"] == 8  # every checkerboard shopper has a test item
        assert result["flags"] == {"ratio": 0.75, "seed": 42}
        assert METRICS_AT_10 | {"HR@20", "NDCG@20"} <= set(result["metrics"])
        assert all(0.0 <= v <= 1.0 for v in result["metrics"].values())
    # item-kNN separates the two tastes perfectly; popularity pushes red shirts on the phone-case shoppers
    assert knn["NDCG@10"] == pytest.approx(1.0)
    assert knn["MRR@10"] == pytest.approx(1.0)
    assert popular["NDCG@10"] < knn["NDCG@10"]
    assert popular["MRR@10"] < knn["MRR@10"]


def test_evaluate_is_deterministic(cli, imported, tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outs:
        run = cli("evaluate", "--store", imported, "--protocol", "stratified", "-m", "item_knn", "--json", out)
        assert run.code == 0, run.out

    a, b = (json.loads(p.read_text(encoding="utf-8"))[0]["metrics"] for p in outs)
    assert a == b


def test_evaluate_validation_on_a_protocol_without_one_is_a_usage_error(cli, imported, tmp_path):
    out = tmp_path / "out.json"

    run = cli("evaluate", "--store", imported, "--protocol", "stratified", "--validation", "--json", out)

    assert run.code == 2, run.out
    assert "has no validation task" in run.out
    assert not out.exists()


def test_evaluate_on_an_empty_store_is_a_data_error(cli, store_url):
    run = cli("evaluate", "--store", store_url, "--model", "popular")

    assert run.code == 2, run.out
    assert "Traceback" not in run.out


def _table_rows(text: str, heading: str) -> list[str]:
    """The item rows of the rich table printed under ``heading``."""
    lines = text.split(heading, 1)[1].splitlines()
    rows = []
    for line in lines[1:]:
        if line.startswith("└"):
            break
        if "demo-" in line:
            rows.append(line)
    return rows


def test_demo_shows_simulated_data_and_a_cold_start_list_and_is_idempotent(cli, tmp_path, stats):
    home = tmp_path / "demo"
    store_url = f"sqlite:///{home / 'shopguide.db'}"

    first = cli("demo", "--home", home, "--shoppers", "1", "-n", "3")

    assert first.code == 0, first.out
    assert "simulated" in first.out
    assert "trained fallback" in first.out
    shopper_rows = _table_rows(first.out, "(simulated shopper)")
    cold_rows = _table_rows(first.out, "a new visitor (cold start)")
    assert len(shopper_rows) == 3
    assert len(cold_rows) == 3
    assert all("popular" in row for row in cold_rows)  # a stranger gets bestsellers, and is told so
    counts = stats(store_url)
    assert counts["events"] > 0
    assert counts["items"] > 0
    versions = [v.version for v in BundleStore(home / "models").versions()]
    assert len(versions) == 1

    second = cli("demo", "--home", home, "--shoppers", "1", "-n", "3")

    assert second.code == 0, second.out
    assert stats(store_url) == counts  # no duplicated events, items or shoppers
    assert "trained" not in second.out  # the existing model is reused
    assert [v.version for v in BundleStore(home / "models").versions()] == versions
    assert _table_rows(second.out, "a new visitor (cold start)") == cold_rows
