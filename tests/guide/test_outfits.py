"""搭配 plans: one item per requested group, the best total within the budget, or the cheapest with the shortfall."""

from __future__ import annotations

from typing import Any

from shopguide.guide.outfits import plan


class FakeKG:
    """Just prices: the planner reads nothing else from the graph."""

    def __init__(self, prices: dict[str, float]) -> None:
        self.prices = prices

    def attributes(self, item_id: str) -> dict[str, Any]:
        return {"price": self.prices[item_id]}


KG = FakeKG({"t1": 100, "t2": 300, "h1": 250, "p1": 200, "p2": 450, "s1": 150})
POOLS = {
    "T恤": [("t2", 1.0, "best tee"), ("t1", 0.6, "cheap tee")],
    "卫衣": [("h1", 0.9, "hoodie")],
    "西裤": [("p2", 1.0, "best trousers"), ("p1", 0.5, "cheap trousers")],
    "帆布鞋": [("s1", 1.0, "canvas")],
}


def candidates(target: str) -> list[tuple[str, float, str]]:
    return POOLS.get(target, [])


def test_without_a_budget_the_best_of_each_group() -> None:
    p = plan(KG, [["T恤"], ["西裤"]], candidates)  # type: ignore[arg-type]
    assert p.items == ["t2", "p2"] and p.total == 750 and not p.over_budget


def test_the_best_combination_within_the_budget() -> None:
    p = plan(KG, [["T恤"], ["西裤"]], candidates, budget=500)  # type: ignore[arg-type]
    assert p.items == ["t2", "p1"] and p.total == 500 and not p.over_budget
    p = plan(KG, [["T恤", "卫衣"], ["西裤"]], candidates, budget=460)  # type: ignore[arg-type]
    assert p.items == ["h1", "p1"] and p.total == 450  # the alternatives of a group compete


def test_what_the_anchor_costs_counts_against_the_total() -> None:
    p = plan(KG, [["帆布鞋"]], candidates, budget=400, spent=300)  # type: ignore[arg-type]
    assert p.items == ["s1"] and p.total == 450 and p.over_budget  # 150 does not fit the 100 left


def test_no_fit_gives_the_cheapest_set_and_says_so() -> None:
    p = plan(KG, [["T恤"], ["西裤"], ["帆布鞋"]], candidates, budget=300)  # type: ignore[arg-type]
    assert p.over_budget and p.items == ["t1", "p1", "s1"] and p.total == 450


def test_a_group_with_nothing_is_reported_missing() -> None:
    p = plan(KG, [["T恤"], ["领带"]], candidates, budget=1000)  # type: ignore[arg-type]
    assert p.items == ["t2"] and p.missing == ["领带"]
