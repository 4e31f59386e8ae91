"""Products and brands a shop may NOT sell, so the guide can say so instead of guessing a substitute.

``guide/data/gazetteer.yaml`` (the project's own list, written for the guide) names common product types
(空气炸锅 / air fryer, 茶具 / tea set, 手机支架 / phone stand, 相机包 / camera bag, ...) with the top-level
category they belong to and the catalog product types a shopper might accept instead, and well-known
brands (华为 / Huawei, Bose, 耐克 / Nike, ...) with the categories they are known for and, for some, model
names that say what product they are (AirPods are earphones).

They serve the NLU three ways:

* their words join the segmenter's dictionary, so a compound stays whole (茶具 is not 茶, 手机支架 is not 手机);
* a surface the catalog does not sell becomes ``unknown_product`` / ``unknown_brand`` (the canonical name);
* a surface whose canonical name the catalog DOES sell (a custom catalog with 空气炸锅 or 华为) becomes a plain
  ``product_type`` / ``brand`` slot: the gazetteer then only adds synonyms.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopguide.errors import DataError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "gazetteer.yaml"


@dataclass(frozen=True)
class ForeignProduct:
    """A product type outside the catalog: its surfaces, its category and the catalog types close to it."""

    name: str
    surfaces: tuple[str, ...]
    category: str | None = None
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForeignBrand:
    """A brand outside the catalog and the categories it is known for."""

    name: str
    surfaces: tuple[str, ...]
    domains: tuple[str, ...] = ()
    models: dict[str, str] = field(default_factory=dict)  # a model name -> the product type it is (airpods -> 耳机)


@dataclass(frozen=True)
class Gazetteer:
    """Foreign products and brands by canonical name."""

    products: dict[str, ForeignProduct] = field(default_factory=dict)
    brands: dict[str, ForeignBrand] = field(default_factory=dict)

    def entries(
        self, product_types: Iterable[str] = (), brands: Iterable[str] = ()
    ) -> dict[str, tuple[tuple[str, str], ...]]:
        """Lexicon entries: surface -> slot pairs. Names the catalog sells become its slots, the rest unknown_*."""
        sold_types, sold_brands = set(product_types), {b.lower() for b in brands}
        out: dict[str, tuple[tuple[str, str], ...]] = {}
        for p in self.products.values():
            pair = ("product_type", p.name) if p.name in sold_types else ("unknown_product", p.name)
            for surface in p.surfaces:
                out.setdefault(surface, (pair,))
        for b in self.brands.values():
            sold = next((s for s in (b.name, *b.surfaces) if s.lower() in sold_brands), None)
            pair = ("brand", sold) if sold else ("unknown_brand", b.name)
            for surface in b.surfaces:
                out.setdefault(surface, (pair,))
            for model, product_type in b.models.items():  # "airpods": the brand, and earphones (if sold)
                out.setdefault(model, (pair, ("product_type", product_type)) if product_type in sold_types else (pair,))
        return out


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(f"{key} must be a list of strings", file=where, field=key)
    return tuple(v.strip() for v in value if v.strip())


def parse(raw: Mapping[str, Any], where: str = "gazetteer") -> Gazetteer:
    """A gazetteer from its YAML structure; DataError names the entry and field on any problem."""
    if not isinstance(raw, Mapping):
        raise DataError("the gazetteer must be a mapping with 'products' and 'brands'", file=where)
    products: dict[str, ForeignProduct] = {}
    for n, entry in enumerate(raw.get("products") or [], 1):
        at = f"{where} (products entry {n})"
        if not isinstance(entry, Mapping) or not str(entry.get("zh") or "").strip():
            raise DataError("a product needs a Chinese name 'zh'", file=at, field="zh")
        name = str(entry["zh"]).strip()
        surfaces = (name, *_strings(entry.get("zh_alt"), at, "zh_alt"), *_strings(entry.get("en"), at, "en"))
        alternatives = _strings(entry.get("alternatives"), at, "alternatives")
        category = str(entry["category"]).strip() if entry.get("category") else None
        products[name] = ForeignProduct(name, tuple(dict.fromkeys(s.lower() for s in surfaces)), category, alternatives)
    brands: dict[str, ForeignBrand] = {}
    for n, entry in enumerate(raw.get("brands") or [], 1):
        at = f"{where} (brands entry {n})"
        if not isinstance(entry, Mapping) or not str(entry.get("name") or "").strip():
            raise DataError("a brand needs a 'name'", file=at, field="name")
        name = str(entry["name"]).strip()
        surfaces = tuple(dict.fromkeys(s.lower() for s in (name, *_strings(entry.get("alt"), at, "alt"))))
        models = entry.get("models") or {}
        if not isinstance(models, Mapping) or not all(isinstance(v, str) for v in models.values()):
            raise DataError("models must map a model name to a product type", file=at, field="models")
        brands[name] = ForeignBrand(name, surfaces, _strings(entry.get("domains"), at, "domains"),
                                    {str(k).strip().lower(): v.strip() for k, v in models.items()})  # fmt: skip
    return Gazetteer(products, brands)


def load(path: str | Path | None = None) -> Gazetteer:
    """Read a gazetteer YAML file (default: the packaged one)."""
    import yaml

    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read the gazetteer: {exc}", file=str(path)) from None
    return parse(raw, str(path))


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The packaged gazetteer (read once per process)."""
    return load()
