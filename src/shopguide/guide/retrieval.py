"""Retrieval for the guide: catalog items that fit the dialogue's slots, best first.

Slots become hard filters on the knowledge graph (product type or category, price range, colour, material,
style, ... and every negation); when nothing fits, the softest attributes are relaxed one at a time (never
the category, the budget or a negation) and the reply says which. The survivors are ranked by BM25
relevance of the message and slot words (the service's SearchIndex; hybrid BM25 + multilingual embeddings
when it has the semantic part, so a paraphrase with no catalog word still ranks), the shopper's own recommender scores
(``model.recommend`` within the same categories, with their recent events as session history) and
popularity. Every card reason is built from the item's own catalog facts or the recommender's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopguide.guide.kg import KnowledgeGraph, as_list
from shopguide.recommend.base import Recommender
from shopguide.store.base import Store
from shopguide.text.search import SearchIndex

log = logging.getLogger(__name__)

#: Slots matched against item attributes (or the brand), and the order they are relaxed in.
ATTRIBUTE_SLOTS = ("brand", "color", "material", "style", "season", "gender", "occasion", "size")
RELAX_ORDER = ("occasion", "season", "style", "size", "material", "color", "brand", "gender")
#: Gift recipients -> what they tell the search (Chinese and English spellings).
_RECIPIENT_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, str]], ...] = (
    (("女朋友", "老婆", "妻子", "太太", "女友", "闺蜜", "姐姐", "妹妹", "妈妈", "母亲", "奶奶", "外婆",
      "girlfriend", "wife", "sister", "mom", "mum", "mother", "grandma"), ("gender", "女")),
    (("男朋友", "老公", "丈夫", "男友", "哥哥", "弟弟", "爸爸", "父亲", "爷爷", "外公",
      "boyfriend", "husband", "brother", "dad", "father", "grandpa"), ("gender", "男")),
    (("宝宝", "孩子", "小孩", "儿子", "女儿", "baby", "kid", "child", "son", "daughter"), ("category", "母婴")),
)  # fmt: skip
RECIPIENTS: dict[str, dict[str, str]] = {w: {k: v} for words, (k, v) in _RECIPIENT_GROUPS for w in words}
WEIGHTS = {"text": 1.0, "personal": 0.6, "popularity": 0.25}


@dataclass
class Found:
    """Items found for a request, why each one, and which attributes had to be relaxed."""

    ids: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    relaxed: list[str] = field(default_factory=list)


class Retriever:
    """Slot-filtered, personally re-ranked catalog retrieval over one served model."""

    def __init__(
        self,
        kg: KnowledgeGraph,
        search: SearchIndex | None = None,
        model: Recommender | None = None,
        store: Store | None = None,
        *,
        deleted: set[str] | None = None,
        recent_events: int = 20,
        personal_depth: int = 100,
    ) -> None:
        self.kg, self.search_index, self.model, self.store = kg, search, model, store
        self.deleted = deleted if deleted is not None else set()
        self.recent_events, self.personal_depth = recent_events, personal_depth

    def _mask(self, slots: Mapping[str, Any], negated: Mapping[str, Sequence[str]], attrs: Mapping[str, str],
              exclude: Iterable[str] = (), in_stock: bool = True) -> np.ndarray:  # fmt: skip
        known = {k: slots.get(k) for k in ("product_type", "category") if slots.get(k)}
        known = {k: v for k, v in known.items() if self.kg.has_category(v)}  # unknown words: text only
        if len(known) == 2 and not self.kg.select(**known, in_stock=False).any():
            # "candles, skincare, that kind of thing": a type outside the category named is either, not both
            known = {"product_type": [*as_list(known["product_type"]), *as_list(known["category"])]}
        return self.kg.select(
            **known, price_min=slots.get("price_min"), price_max=slots.get("price_max"), attributes=attrs,
            exclude_values=negated, exclude_items=[*self.deleted, *exclude], in_stock=in_stock,
        )  # fmt: skip

    def any_match(
        self, slots: Mapping[str, Any], negated: Mapping[str, Sequence[str]], *, in_stock: bool = True
    ) -> bool:
        """Whether any item fits the slots: with ``in_stock=False`` sold-out items count too; without it the
        soft attributes are ignored (relaxed as a search would) and only available items count."""
        attrs = {k: slots[k] for k in ATTRIBUTE_SLOTS if slots.get(k)} if not in_stock else {}
        return bool(self._mask(slots, negated, attrs, in_stock=in_stock).any())

    def gift_hints(self, slots: dict[str, Any]) -> None:
        """Add what the recipient implies (gender, the baby category) to slots the shopper left open."""
        for key, value in RECIPIENTS.get(str(slots.get("recipient", "")).lower(), {}).items():
            slots.setdefault(key, value)
        active = set(as_list(slots.get("occasion"))) & {"运动", "户外"}
        if active and not slots.get("product_type") and not slots.get("category") and self.kg.has_category("运动户外"):
            slots["category"] = "运动户外"  # "他平时爱运动 跑步爬山啥的": gifts for an active person
        young = set(as_list(slots.get("age_group"))) & {"婴儿", "儿童"}
        if young and not slots.get("product_type") and self.kg.has_category("母婴"):
            slots.setdefault("category", "母婴")

    def personal_scores(self, user_id: str | None, categories: list[str] | None) -> dict[str, tuple[float, str]]:
        """The shopper's recommender scores as rank credit in (0, 1], with the recommender's reason."""
        if self.model is None or not user_id:
            return {}
        try:
            recent = self.store.recent_actions(user_id, limit=self.recent_events) if self.store else []
            history = recent[::-1]
            recs = self.model.recommend(user_id, self.personal_depth, categories=categories, history=history,
                                        exclude=self.deleted, exclude_seen="none", fill=False)  # fmt: skip
        except Exception:  # the guide still answers from the catalog when the model fails
            log.exception("personal re-ranking failed", extra={"user": user_id})
            return {}
        return {r.item: (1.0 - k / max(len(recs), 1), r.reason) for k, r in enumerate(recs)}

    def _reason(self, idx: int, attrs: Mapping[str, str], personal: Any, lang: str) -> str:
        """The item's own facts that match the request (else its material and style), then the recommender's why."""
        meta = self.kg.dataset.item(idx)
        if meta is None:
            return ""
        facts = {"brand": meta.brand, **meta.attributes}
        keys = [k for k in attrs if k != "gender" and facts.get(k)] or [
            k for k in ("material", "style") if facts.get(k)
        ]
        parts = [self.kg.label(facts[k], lang) for k in keys]
        if personal is not None and getattr(personal, "kind", "") not in ("popular", "popular_in", "static"):
            parts.append(personal.text(lang))
        return " · ".join(parts)

    def search(
        self,
        slots: Mapping[str, Any],
        negated: Mapping[str, Sequence[str]],
        user_id: str | None,
        *,
        n: int = 4,
        text: str = "",
        sort: str | None = None,
        exclude: Iterable[str] = (),
        gift: bool = False,
        lang: str = "zh",
        keep: Iterable[str] = (),
        restart: bool = True,
    ) -> Found:
        """The best ``n`` items for the slots (see the module docstring); ``gift`` varies product types;
        ``keep``: attributes never relaxed (those the shopper has just asked for: "有黑色的吗" is answered with
        black items or an honest "none", not with other colours); ``restart``: when ``exclude`` leaves nothing,
        start the list again (else nothing is found, and the caller says so)."""
        kg, exclude, keep = self.kg, list(exclude), set(keep)
        attrs = {k: slots[k] for k in ATTRIBUTE_SLOTS if slots.get(k)}
        relaxed: list[str] = []
        mask = self._mask(slots, negated, attrs, exclude)
        for key in RELAX_ORDER:
            if mask.any():
                break
            if key in attrs and key not in keep:
                attrs.pop(key)
                relaxed.append(key)
                mask = self._mask(slots, negated, attrs, exclude)
        if not mask.any() and exclude and restart:  # "show me more" ran out: start the list again
            return self.search(slots, negated, user_id, n=n, text=text, sort=sort, gift=gift, lang=lang, keep=keep)
        candidates = np.flatnonzero(mask)
        if not len(candidates):
            return Found(relaxed=relaxed)
        score = np.zeros(kg.n_items)
        words = " ".join(
            str(v)
            for x in (text, *(slots.get(k) for k in ("product_type", "category")), *attrs.values())
            for v in as_list(x)
        )
        if self.search_index is not None and words.strip():
            index, allowed = self.search_index, None
            if getattr(index, "hybrid", False):  # BM25 + embeddings, the semantic part within the candidates
                allowed = [kg.dataset.items.id(int(i)) for i in candidates]
            for hit in index.search(words, min(len(index), 1000), allowed=allowed):
                idx = kg.index(hit.item_id)
                if idx is not None:
                    score[idx] = hit.score
        best = score[candidates].max()
        score = WEIGHTS["text"] * score / best if best > 0 else score
        cats = [c for k in ("product_type", "category") if kg.has_category(slots.get(k)) for c in as_list(slots[k])]
        personal = self.personal_scores(user_id, cats or None)
        for item_id, (credit, _) in personal.items():
            idx = kg.index(item_id)
            if idx is not None:
                score[idx] += WEIGHTS["personal"] * credit
        pop = kg.popularity
        score += WEIGHTS["popularity"] * pop / max(pop.max(initial=0.0), 1.0)
        key = {"cheaper": kg.price, "more_expensive": -kg.price, "popular": -pop, "rating": -pop, "newest": -kg.created}
        if sort in key:  # the asked-for order first, relevance among equals
            order = candidates[np.lexsort((candidates, -score[candidates], key[sort][candidates]))]
        else:
            order = candidates[np.lexsort((candidates, -score[candidates]))]
        chosen = self._varied(order, n) if gift else order[:n]
        ids = [kg.dataset.items.id(int(i)) for i in chosen]
        reasons = {
            i: self._reason(int(c), attrs, personal.get(i, (0, None))[1], lang)
            for i, c in zip(ids, chosen, strict=True)
        }
        return Found(ids, reasons, relaxed)

    def _varied(self, order: np.ndarray, n: int) -> np.ndarray:
        """Best first, one item per product type while the list can be filled."""
        seen: set[str] = set()
        first = [i for i in order if not (self.kg.leaf[i] in seen or seen.add(self.kg.leaf[i]))]
        rest = [i for i in order if i not in set(first)]
        return np.asarray((first + rest)[:n], dtype=np.int64)

    def personal(
        self, user_id: str | None, slots: Mapping[str, Any], negated: Mapping[str, Sequence[str]], n: int, lang: str
    ) -> tuple[list[str], dict[str, str]]:
        """Personal picks (the recommender's top items that fit the attributes), with the recommender's reasons."""
        found = self.search(slots, negated, user_id, n=n, lang=lang)
        return found.ids, found.reasons
