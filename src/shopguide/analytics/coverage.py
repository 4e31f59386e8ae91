"""Catalogue coverage and long-tail share of what was recommended (and, for comparison, of what shoppers did).

**Head and tail.** Items are ranked by the shoppers' own events on them in the selection (every type but
impressions), most first, ties by item id. The *head* is the shortest prefix of that ranking whose items
together hold ``head_share`` (default 80%) of those events: an item is in the head when the events of
the items ranked before it are still below ``head_share`` of the total. Every other item, including
items nobody touched, is in the *long tail*.

**Rows** (``scope``): ``recommended`` (impression events), one ``recommended: <source>`` row per
recommendation source (the impression's ``context.source``), then ``interactions`` (all the shoppers' own
events), ``views`` and ``purchases``. Each has ``events``, distinct ``items``, ``coverage`` (items / the
catalogue's live items in the filter's categories) and ``long_tail_share`` (the share of its events on
long-tail items). Without a catalogue (Taobao, bare event files) the catalogue is the set of items seen in
the events, at any date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from shopguide.analytics.dims import NONE_LABEL
from shopguide.analytics.filters import Filters
from shopguide.analytics.keys import sql_str
from shopguide.analytics.session import Session
from shopguide.analytics.source import EventSource


@dataclass
class Coverage:
    """The coverage table plus the numbers it was computed against."""

    table: pd.DataFrame
    catalogue: int
    head_items: int
    head_share: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "catalogue": self.catalogue,
            "head_items": self.head_items,
            "head_share": self.head_share,
            "notes": list(self.notes),
        }


def _head_condition(s: Session, head_share: float) -> tuple[str, int]:
    """SQL condition on ``pop`` (columns ``n``, ``item_id``) that is true for head items; and their number."""
    counts = s.rows("SELECT n, count(*) FROM pop WHERE n > 0 GROUP BY n ORDER BY n DESC")
    total = sum(int(n) * int(k) for n, k in counts)
    threshold = head_share * total
    cum = head = 0
    for n, k in counts:
        n, k = int(n), int(k)
        take = 0 if cum >= threshold else min(k, int((threshold - cum) // n) + 1)
        while take > 0 and cum + (take - 1) * n >= threshold:
            take -= 1
        while take < k and cum + take * n < threshold:
            take += 1
        head += take
        if take < k:
            if take == 0:
                return f"pop.n > {n}", head
            boundary = s.rows(f"SELECT item_id FROM pop WHERE n = {n} ORDER BY item_id LIMIT 1 OFFSET {take - 1}")[0][0]
            return f"(pop.n > {n} OR (pop.n = {n} AND pop.item_id <= {sql_str(boundary)}))", head
        cum += n * k
    return "pop.n > 0", head


def coverage(source: EventSource, filters: Filters | None = None, *, head_share: float = 0.8) -> Coverage:
    """Coverage and long-tail share per scope (see the module docstring)."""
    catalogue = source.catalogue_size(filters)
    with source.session(filters) as s:
        s.execute(
            "CREATE TEMP TABLE pop AS SELECT i, any_value(item_id) AS item_id, "
            "count(*) FILTER (WHERE t <> 'impression') AS n, count(*) FILTER (WHERE t = 'view') AS views, "
            "count(*) FILTER (WHERE t = 'purchase') AS buys FROM fe GROUP BY i"
        )
        head, head_items = _head_condition(s, head_share)
        totals = s.rows(
            f"""
            SELECT sum(n), count(*) FILTER (WHERE n > 0), sum(n) FILTER (WHERE NOT ({head})),
                   sum(views), count(*) FILTER (WHERE views > 0), sum(views) FILTER (WHERE NOT ({head})),
                   sum(buys), count(*) FILTER (WHERE buys > 0), sum(buys) FILTER (WHERE NOT ({head}))
            FROM pop
            """
        )[0]
        shown, all_shown = pd.DataFrame(columns=["src", "events", "items", "tail_events"]), (0, 0, 0)
        if source.has_type("impression", filters):
            shown = s.df(
                f"""
                WITH h AS (SELECT i, {head} AS head FROM pop)
                SELECT coalesce(fe.source, '') AS src, count(*) AS events, count(DISTINCT fe.i) AS items,
                       count(*) FILTER (WHERE NOT h.head) AS tail_events
                FROM fe JOIN h USING (i) WHERE fe.t = 'impression' GROUP BY ALL ORDER BY events DESC, src
                """
            )
            all_shown = s.rows(
                f"SELECT count(*), count(DISTINCT fe.i), count(*) FILTER (WHERE NOT ({head})) "
                "FROM fe JOIN pop USING (i) WHERE fe.t = 'impression'"
            )[0]
    rows = [("recommended", *all_shown)]
    rows += [(f"recommended: {r.src or NONE_LABEL}", r.events, r.items, r.tail_events) for r in shown.itertuples()]
    totals = [int(v or 0) for v in totals]
    rows += [(scope, *totals[3 * n : 3 * n + 3]) for n, scope in enumerate(("interactions", "views", "purchases"))]
    table = pd.DataFrame(rows, columns=["scope", "events", "items", "tail_events"])
    for col in ("events", "items", "tail_events"):
        table[col] = table[col].astype("int64")
    table["coverage"] = table["items"] / catalogue if catalogue else float("nan")
    table["long_tail_share"] = (table["tail_events"] / table["events"]).where(table["events"] > 0)
    notes = []
    if not all_shown[0]:
        notes.append("no impressions recorded: coverage of recommendations needs impression events")
    if not source.has_catalog:
        notes.append("no catalogue: coverage is relative to the items seen in the events")
    return Coverage(table.drop(columns="tail_events"), catalogue, head_items, head_share, notes)
