"""Names analytics agrees on with the rest of shopguide: event types and the event context keys.

Event producers (the service, the storefront page, your own logs) should write these context keys; each
becomes a column of the working table and a dimension of the funnel and strategy tables.

Impressions make CTR computable: log one ``impression`` event per item shown, with ``source`` (and, where
they apply, ``strategy``, ``intent``, ``experiment``, ``variant``, ``traffic_source``). Clicks, carts and
purchases need not repeat these keys: each is attributed to the latest impression of the same item to the
same user at or before it, within the attribution window (see :mod:`shopguide.analytics.strategy`).
"""

from __future__ import annotations

from shopguide.data.loaders.generic import EVENT_ALIASES
from shopguide.data.schema import EventType

EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
#: Event types that are a shopper's own action (everything but impressions): "active" means one of these.
ACTION_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t != "impression")

#: Event context keys analytics reads, and what the service (and any event producer) should write there.
CONTEXT_KEYS: dict[str, str] = {
    "source": "the recommender component that produced the shown item (item_knn, popular, category_popular, "
    "content, hybrid, sequential, search, chat, ...); written on impressions",
    "strategy": "the policy or configuration that chose the list (fallback, bandit-ts, a model version, ...)",
    "intent": "the conversational guide's intent when the list answers a chat turn (search, recommend, "
    "compare, bundle, answer, faq)",
    "traffic_source": "where the visit came from (home, search, category, chat, push, ad, email, external); "
    "written on every event of the visit",
    "experiment": "the A/B experiment the shopper is enrolled in",
    "variant": "the experiment arm (the arm named 'control', else the first by name, is the baseline)",
    "device": "app, web, mini-program, ...",
    "simulated": "'true' on events made by the demo simulator",
}


def sql_str(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def canonical_type(raw: object) -> str | None:
    """The event type a raw value names (any case, aliases such as ``pv`` / ``buy``); None when unknown."""
    text = str(raw).strip().lower()
    if text in EVENT_TYPES:
        return text
    alias = EVENT_ALIASES.get(text)
    return alias.value if alias is not None else None
