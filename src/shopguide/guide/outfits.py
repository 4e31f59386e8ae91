"""搭配 plans: items that go together, one per requested product type, within a total budget.

"这件衬衫配条裤子再来双鞋，一共别超过800" asks for trousers and shoes that go with the shirt, and for the three
to cost at most 800 together. The planner takes up to ``per_type`` candidates for each requested type (the
knowledge graph's complements of the anchor when there is one, else the catalog search for the type), then
picks one per type: the best-scoring combination whose total fits the budget (exhaustively: at most 4 types of
6 candidates, 1,296 combinations). When no combination fits, it returns the cheapest one, flagged, so the guide
can say by how much the budget falls short instead of silently dropping a category.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shopguide.guide.kg import KnowledgeGraph

#: What a whole outfit is made of when no item anchors it ("need a whole outfit for a wedding, under 2000"): per
#: dress code and gender, one group of product types per piece (types the catalog lacks are skipped).
FORMAL_OCCASIONS = frozenset({"婚礼", "商务", "通勤", "办公", "派对", "约会"})
OUTFIT_TEMPLATES: dict[tuple[str, str], list[list[str]]] = {
    ("formal", "男"): [["衬衫"], ["西裤"], ["皮鞋"], ["领带", "皮带"]],
    ("formal", "女"): [["连衣裙"], ["高跟鞋"], ["手提包", "项链"]],
    ("casual", "男"): [["T恤", "衬衫"], ["牛仔裤"], ["运动鞋", "帆布鞋"]],
    ("casual", "女"): [["连衣裙", "T恤"], ["帆布鞋", "运动鞋"], ["斜挎包"]],
    ("sport", "男"): [["T恤"], ["运动鞋", "跑步鞋"], ["运动水壶", "双肩包"]],
    ("sport", "女"): [["T恤"], ["跑步鞋", "运动鞋"], ["瑜伽垫", "运动水壶"]],
}


def template_for(occasion: str | None, gender: str | None) -> list[list[str]]:
    """The product-type groups of a whole outfit for an occasion and gender (women's when none is said)."""
    code = "sport" if occasion in ("运动", "户外") else "formal" if occasion in FORMAL_OCCASIONS else "casual"
    return [list(g) for g in OUTFIT_TEMPLATES[(code, "男" if gender == "男" else "女")]]


#: (item id, score in [0, 1], reason) candidates for one product type.
Candidates = list[tuple[str, float, str]]


@dataclass
class OutfitPlan:
    """The chosen items (one per requested type, in request order), why each, and the money."""

    items: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    total: float = 0.0
    budget: float | None = None
    over_budget: bool = False
    missing: list[str] = field(default_factory=list)  # requested types the catalog has nothing for


def plan(
    kg: KnowledgeGraph,
    targets: Sequence[Sequence[str]],
    candidates: Callable[[str], Candidates],
    *,
    budget: float | None = None,
    spent: float = 0.0,
    per_type: int = 6,
) -> OutfitPlan:
    """One item per target within ``budget`` (``spent``: what the budget already covers, e.g. the anchor). A
    target is a group of product types any of which will do ("T恤或者卫衣")."""
    pools: list[Candidates] = []
    missing: list[str] = []
    for group in list(targets)[:4]:
        merged = sorted((c for t in group for c in candidates(t)), key=lambda c: -c[1])
        pool = [c for c in merged if kg.attributes(c[0]).get("price") is not None][:per_type]
        if pool:
            pools.append(pool)
        else:
            missing.append("/".join(group))
    out = OutfitPlan(budget=budget, missing=missing)
    if not pools:
        return out
    left = None if budget is None else budget - spent
    best: tuple[float, float, tuple] | None = None
    cheapest: tuple[float, tuple] | None = None
    for combo in itertools.product(*pools):
        ids = [c[0] for c in combo]
        if len(set(ids)) < len(ids):
            continue
        cost = sum(float(kg.attributes(i)["price"]) for i in ids)
        score = sum(c[1] for c in combo)
        if cheapest is None or cost < cheapest[0]:
            cheapest = (cost, combo)
        if (left is None or cost <= left) and (best is None or (score, -cost) > (best[0], -best[1])):
            best = (score, cost, combo)
    if best is not None:
        cost, combo = best[1], best[2]
    elif cheapest is not None:
        cost, combo = cheapest
        out.over_budget = True
    else:
        return out
    out.items = [c[0] for c in combo]
    out.reasons = {c[0]: c[2] for c in combo}
    out.total = round(cost + spent, 2)
    return out
