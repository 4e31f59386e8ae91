"""Context-aware re-ranking: boost items that fit the shopper's weather, season and time of day.

A :class:`Context` becomes *conditions* (``weather=rain``, ``season=winter``, ``time=evening``, ``city=...``).
:class:`ContextRules`, a table given as a JSON/YAML-shaped dict (defaults: :data:`DEFAULT_RULES`), says which
items fit a condition (tags, product types = leaf categories, attribute values) and the factor their scores
are multiplied by; a factor below 1 demotes (no down jackets in summer). :class:`ContextIndex` finds, once per
catalog, the items each rule matches, so a request does dict lookups only. No weather service is called.
Use::

    index = ContextIndex(items)                                # once per catalog
    ctx = Context(local_time="2026-11-20T19:00", weather="小雨")
    ranked = ContextReranker().rerank(recs, index, ctx, n=10)  # boosted items get a "context" reason
    extra = index.recommendations(ctx, 3)                      # fitting items to inject, source "context"
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from shopguide.data.dataset import Dataset
from shopguide.data.schema import Item
from shopguide.errors import ConfigError, DataError
from shopguide.recommend.base import Recommendation
from shopguide.recommend.explain import Reason

log = logging.getLogger(__name__)

#: Words naming a weather kind; Chinese words match as substrings, English ones as whole words.
WEATHER_WORDS: dict[str, tuple[str, ...]] = {
    "rain": ("rain", "rainy", "raining", "drizzle", "shower", "showers", "storm", "雨"),
    "snow": ("snow", "snowy", "snowing", "sleet", "雪"),
    "cold": ("cold", "chilly", "freezing", "frost", "冷", "寒", "降温", "冰冻"),
    "hot": ("hot", "heat", "heatwave", "scorching", "热", "炎", "高温", "酷暑"),
    "sunny": ("sunny", "sun", "clear", "晴"),
    "windy": ("windy", "wind", "gale", "风"),
}
COLD_BELOW_C, HOT_ABOVE_C = 8.0, 28.0
#: What an index is built from: items, id -> item, or a Dataset (whose popularity then orders candidates).
Catalog = Dataset | Mapping[str, Item] | Iterable[Item]
_SEASONS = ("winter",) * 2 + ("spring",) * 3 + ("summer",) * 3 + ("autumn",) * 3 + ("winter",)
_TIMES = ("night",) * 5 + ("morning",) * 6 + ("afternoon",) * 6 + ("evening",) * 5 + ("night",) * 2
_CLASHES = {"summer": {"cold", "snow"}, "winter": {"hot"}}
_SOUTH = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}


def parse_weather(text: str | None, temperature_c: float | None = None) -> frozenset[str]:
    """Weather kinds named in free text (English or Chinese), plus what the temperature implies."""
    kinds: set[str] = set()
    norm = unicodedata.normalize("NFKC", text or "").lower()
    words = set(re.findall(r"[a-z]+", norm))
    for kind, names in WEATHER_WORDS.items():
        if any((n in words) if n.isascii() else (n in norm) for n in names):
            kinds.add(kind)
    if norm and not kinds:
        log.debug("weather text names no known condition: %r", text)
    if "snow" in kinds:
        kinds.add("cold")
    if temperature_c is not None and (temperature_c < COLD_BELOW_C or temperature_c > HOT_ABOVE_C):
        kinds.add("cold" if temperature_c < COLD_BELOW_C else "hot")
    return frozenset(kinds)


class Context(BaseModel):
    """Where and when the shopper is. Every field is optional; weather words it does not know are ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    local_time: datetime | None = None
    city: str | None = None
    region: str | None = None
    hemisphere: Literal["north", "south"] = "north"
    weather: str | None = None
    temperature_c: float | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None = None, **fields: Any) -> Context:
        """Build from loose input such as query parameters; raises DataError naming the bad field."""
        try:
            return cls.model_validate({**(data or {}), **fields})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise DataError(first.get("msg", "invalid value"), field=".".join(map(str, first["loc"])) or None) from None

    def conditions(self) -> frozenset[str]:
        """Active conditions: ``weather=rain``, ``season=winter``, ``time=evening``, ``city=...``...

        Time of day: morning 5-11, afternoon 11-17, evening 17-22, night. Seasons are meteorological, flipped in
        the south. Observed weather beats the calendar: no ``season=summer`` on a cold or snowy day, and so on.
        """
        kinds = parse_weather(self.weather, self.temperature_c)
        out = {f"weather={k}" for k in kinds}
        out |= {f"{k}={v.lower()}" for k, v in (("city", self.city), ("region", self.region)) if v}
        if self.local_time is not None:
            out.add(f"time={_TIMES[self.local_time.hour]}")
            season = _SEASONS[self.local_time.month - 1]
            season = _SOUTH[season] if self.hemisphere == "south" else season
            if not kinds & _CLASHES.get(season, set()):
                out.add(f"season={season}")
        return frozenset(out)


def _values(raw: Any, trait: str, where: str) -> dict[str, str]:
    """A matcher: value (lower case) -> trait; a list gives every value the rule's trait."""
    if isinstance(raw, Mapping):
        return {str(k).lower(): str(v) for k, v in raw.items()}
    if isinstance(raw, str | Iterable) or raw is None:
        return {str(v).lower(): trait for v in ([raw] if isinstance(raw, str) else raw or ())}
    raise ConfigError(f"{where}: expected a list or a mapping, got {type(raw).__name__}")


@dataclass(frozen=True, eq=False)
class Rule:
    """Items matching any of ``tags`` / ``product_types`` / ``attributes`` fit while any ``when`` holds."""

    when: tuple[str, ...]
    factor: float
    tags: Mapping[str, str]
    product_types: Mapping[str, str]
    attributes: Mapping[str, Mapping[str, str]]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "rule") -> Rule:
        """``{"when": "weather=rain" | [...], "factor": 1.6, "trait": ..., "tags": [...] | {value: trait},
        "product_types": ..., "attributes": {"season": ...}}``; ConfigError naming ``where`` when invalid."""
        raw = data.get("when")
        when = tuple(w.strip().lower() for w in ([raw] if isinstance(raw, str) else raw or ()))
        factor = data.get("factor", 1.5)
        if not when or any("=" not in w for w in when):
            raise ConfigError(f"{where}: 'when' must name conditions like 'weather=rain', got {raw!r}")
        if not isinstance(factor, int | float) or factor <= 0:
            raise ConfigError(f"{where}: 'factor' must be a positive number, got {factor!r}")
        trait, attrs = str(data.get("trait", when[0].split("=", 1)[1])), data.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise ConfigError(f"{where}: 'attributes' must map attribute names to values")
        tags, types = (_values(data.get(k), trait, f"{where}.{k}") for k in ("tags", "product_types"))
        return cls(when, float(factor), tags, types, {k: _values(v, trait, f"{where}.{k}") for k, v in attrs.items()})

    def traits(self, item: Item) -> tuple[str, ...]:
        """Why ``item`` fits this rule (empty when it does not)."""
        found = [self.tags.get(t.lower()) for t in item.tags]
        found += [self.product_types.get(c.lower()) for c in reversed(item.category)]
        found += [m.get(item.attributes.get(k, "").lower()) for k, m in self.attributes.items()]
        return tuple(dict.fromkeys(t for t in found if t))


# fmt: off
_WINTRY = {"tags": ["warm", "保暖"], "product_types": ["羽绒服", "毛衣", "围巾"], "attributes": {"season": ["秋冬", "冬季"]}}
#: The built-in table, in the shape :meth:`ContextRules.from_dict` reads from JSON or YAML. The last two demote.
DEFAULT_RULES: list[dict[str, Any]] = [
    {"when": "weather=rain", "factor": 1.6, "trait": "rain gear", "product_types": ["雨伞", "雨靴", "雨衣"],
     "tags": {"rain": "rain gear", "雨天": "rain gear", "waterproof": "waterproof", "防水": "waterproof"}},
    {"when": ["weather=cold", "weather=snow", "season=winter"], "factor": 1.4, "trait": "warm",
     "tags": ["warm", "保暖", "winter"], "product_types": ["羽绒服", "毛衣", "针织衫", "围巾", "毛毯", "保温杯"],
     "attributes": {"season": {"秋冬": "autumn/winter wear", "冬季": "winter wear"}}},
    {"when": ["weather=hot", "season=summer"], "factor": 1.4, "trait": "summer wear",
     "tags": {"summer": "summer wear", "uv": "sun protection", "sun": "sun protection", "quick-dry": "quick-dry"},
     "product_types": {"T恤": "summer wear", "短裤": "summer wear", "凉鞋": "summer wear", "防晒霜": "sun protection"},
     "attributes": {"season": {"夏季": "summer wear", "春夏": "spring/summer wear"}}},
    {"when": "weather=sunny", "factor": 1.2, "trait": "sun protection", "tags": ["uv", "sun"],
     "product_types": ["墨镜", "防晒霜", "防晒衣", "棒球帽"]},
    {"when": "weather=windy", "factor": 1.2, "trait": "windproof", "tags": ["windproof"], "product_types": ["风衣"]},
    {"when": ["season=spring", "season=autumn"], "factor": 1.15, "trait": "spring/autumn wear",
     "attributes": {"season": ["春秋"]}},
    {"when": ["time=evening", "time=night"], "factor": 1.1, "trait": "cosy at home",
     "product_types": ["香薰蜡烛", "台灯", "毛毯"], "attributes": {"occasion": ["居家"]}},
    {"when": "time=morning", "factor": 1.1, "trait": "morning pick-me-up", "product_types": ["咖啡", "茶叶"]},
    {"when": ["weather=hot", "season=summer"], "factor": 0.6, **_WINTRY},
    {"when": ["weather=cold", "weather=snow", "season=winter"], "factor": 0.8, "product_types": ["短裤", "凉鞋"],
     "attributes": {"season": ["夏季"]}},
]
# fmt: on


class ContextRules:
    """An ordered table of :class:`Rule`. Load a JSON or YAML file yourself and pass the parsed dict."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> ContextRules:
        """From ``{"rules": [...]}`` or a list of rule dicts (see :data:`DEFAULT_RULES`)."""
        rules = data.get("rules") if isinstance(data, Mapping) else data
        if not isinstance(rules, Sequence) or isinstance(rules, str):
            raise ConfigError("context rules must be a list of rules (or {'rules': [...]})")
        return cls(Rule.from_dict(r, f"context rule {i}") for i, r in enumerate(rules))

    def active(self, context: Context) -> tuple[tuple[int, str], ...]:
        """(rule position, value of the condition that fired it, e.g. "rain") for every rule that applies."""
        conds = context.conditions()
        hits = ((i, next((w for w in r.when if w in conds), None)) for i, r in enumerate(self.rules))
        return tuple((i, w.split("=", 1)[1]) for i, w in hits if w is not None)


class Match(NamedTuple):
    """How an item fits the context: the combined factor; when boosted, the condition and traits to name."""

    factor: float
    reason: Reason | None


def _combine(hits: Iterable[tuple[float, str, tuple[str, ...]]]) -> Match | None:
    """Strongest boost times strongest demotion; the strongest boost (first on ties) words the reason."""
    best, demote = (1.0, "", ()), 1.0
    for hit in hits:
        best, demote = (hit if hit[0] > best[0] else best), min(demote, hit[0])
    total = best[0] * demote
    reason = Reason("context", period=best[1], traits=best[2][:2]) if total > 1 else None
    return None if total == 1.0 else Match(total, reason)


class ContextIndex:
    """Per-rule item matches of one catalog, found once, so that a request does lookups only."""

    def __init__(self, catalog: Catalog, rules: ContextRules | None = None) -> None:
        self.rules = rules or ContextRules.from_dict(DEFAULT_RULES)
        if isinstance(catalog, Dataset):
            keep = sorted((i for i, m in enumerate(catalog.item_meta) if m), key=lambda i: -catalog.item_popularity[i])
            items: list[Item] = [catalog.item_meta[i] for i in keep]  # type: ignore[misc]
        else:
            items = list(catalog.values() if isinstance(catalog, Mapping) else catalog)
        self._matches = [{it.id: t for it in items if (t := rule.traits(it))} for rule in self.rules.rules]
        self._order = [it.id for it in items]  # popularity order for a Dataset, else catalog order
        self._available = {it.id for it in items if it.in_stock}
        self._cache: dict[tuple[tuple[int, str], ...], list[tuple[str, Match]]] = {}

    def match(self, item_id: str, active: Sequence[tuple[int, str]]) -> Match | None:
        """The item's fit under the active rules (``rules.active(context)``); None when neutral."""
        rules = self.rules.rules
        hits = [(rules[i].factor, c, t) for i, c in active if (t := self._matches[i].get(item_id)) is not None]
        return _combine(hits) if hits else None

    def _fitting(self, active: tuple[tuple[int, str], ...]) -> list[tuple[str, Match]]:
        if active not in self._cache:  # few distinct condition sets: computed once each
            ids = {item for i, _ in active if self.rules.rules[i].factor > 1 for item in self._matches[i]}
            fit = [(i, m) for i in self._order if i in ids and (m := self.match(i, active)) and m.factor > 1]
            self._cache[active] = sorted(fit, key=lambda im: -im[1].factor)
        return self._cache[active]

    def recommendations(
        self, context: Context, n: int | None = 10, *, exclude: Iterable[str] = (), in_stock_only: bool = True
    ) -> list[Recommendation]:
        """Fitting items, best first (factor, then popularity or catalog order), source "context", score = factor."""
        skip = set(exclude)
        fit = (im for im in self._fitting(self.rules.active(context)) if im[0] not in skip)
        fit = (im for im in fit if im[0] in self._available or not in_stock_only)
        return [Recommendation(item, m.factor, "context", m.reason) for item, m in islice(fit, n)]


IndexOrItems = ContextIndex | Mapping[str, Item]


class ContextReranker:
    """Multiplies the scores of fitting items by their rule's factor, reorders (stable) and explains."""

    def __init__(self, rules: ContextRules | None = None) -> None:
        self.rules = rules or ContextRules.from_dict(DEFAULT_RULES)

    def rerank(
        self, recs: Sequence[Recommendation], items: IndexOrItems, context: Context, *, n: int | None = None
    ) -> list[Recommendation]:
        """Re-rank ``recs``; ``items`` is a prebuilt index (its own rules apply) or an id -> Item mapping.

        Boosted items keep their ``source`` and get a "context" reason; demoted ones keep theirs.
        """
        if not isinstance(items, ContextIndex):  # match just these items, on the fly
            items = ContextIndex([items[r.item] for r in recs if r.item in items], self.rules)
        active = items.rules.active(context)
        out: list[tuple[float, int, Recommendation]] = []
        for pos, rec in enumerate(recs):
            m = items.match(rec.item, active) if active else None
            if m is not None:
                score = rec.score * m.factor if rec.score >= 0 else rec.score / m.factor
                rec = replace(rec, score=score, reason=m.reason or rec.reason)
            out.append((-rec.score, pos, rec))
        out.sort(key=lambda t: t[:2])
        return [rec for *_, rec in out[:n]]


def candidates_for(
    context: Context, catalog: ContextIndex | Catalog, rules: ContextRules | None = None, *, n: int | None = None
) -> list[str]:
    """In-stock item ids that fit the active conditions, best first (builds an index unless given one)."""
    index = catalog if isinstance(catalog, ContextIndex) else ContextIndex(catalog, rules)
    return [r.item for r in index.recommendations(context, n)]
