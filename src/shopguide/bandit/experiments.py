"""A/B experiments: a configured split of shoppers into variants at one decision point, deterministic
assignment, the sample-ratio-mismatch check and a summary of per-variant results.

::

    exp = Experiment("rank-v2", "feed:home", (Variant("control", 0.5), Variant("treatment", 0.5, arm="ease")))
    assign(exp, "user-42")                       # -> the same Variant in every process, forever
    srm_check({"control": 1000, "treatment": 800}, exp).mismatch    # True: p < 0.001
    variant_summary({"control": 50, "treatment": 70}, {"control": 1000, "treatment": 1000})

**Assignment.** A unit (a shopper id) gets the point ``u = top 53 bits of SHA-256(f"{salt}:{unit_id}")
/ 2**53``, uniform in [0, 1) and the same on every machine and Python version (no ``hash()``). Variants
own consecutive buckets of [0, 1) in their configured order, each as wide as its normalised weight; the unit
gets the variant whose bucket holds ``u``. Consequences:

* the salt (the experiment's name unless set) decorrelates experiments: a shopper's variant in one
  experiment says nothing about their variant in another, and changing one experiment's salt reshuffles
  that experiment only;
* changing weights moves a unit only when a bucket boundary crosses its point. Adding weight to the
  *last* variant moves every boundary towards 0, so units only ever move to a later variant; with two
  variants exactly the units between the old and the new boundary switch (the change in share, nobody
  else). With three or more variants, units also pass between middle buckets (the boundaries shift in
  proportion), so ramp one variant up by raising the last variant's weight, or start a new experiment.

``assign`` ignores ``enabled``: serving checks the switch (``enabled=False`` means "serve as if there
were no experiment") and can flip it without a restart by replacing the frozen value.

**Sample-ratio mismatch (SRM).** :func:`srm_check` compares units per variant with the configured split
by Pearson's chi-square goodness-of-fit test. It flags a mismatch at ``p < 0.001``, the customary SRM
threshold: stricter than 0.05 because the check runs on every experiment and every look, and a real
assignment or logging bug gives p-values far below it at A/B sample sizes.

Validation errors are :class:`~shopguide.errors.DataError` with ``field`` set (e.g. ``variants[1].weight``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from shopguide.bandit.stats import chi2_sf, newcombe_interval, ratio_interval, two_proportion_p, wilson_interval
from shopguide.errors import DataError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
#: The p-value under which :func:`srm_check` reports a sample-ratio mismatch.
SRM_THRESHOLD = 0.001
CONTROL_NAME = "control"
JSON_VERSION = 1
_MAX_TS = 4102444800.0  # 2100-01-01: later start times are not plausible
_WEIGHT_TOLERANCE = 1e-12


def _check_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise DataError(
            f"must be 1..64 characters of letters, digits, '_', '.', ':' or '-', got {value!r}", field=where
        )
    return value


def _check_weight(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"must be a number, got {value!r}", field=where)
    weight = float(value)
    if not math.isfinite(weight) or weight <= 0:
        raise DataError(f"must be finite and > 0, got {value!r}", field=where)
    return weight


def _normalised(weights: list[float]) -> list[float]:
    """Weights scaled to sum 1; weights that already do (to 1e-12) are kept, so normalising is idempotent."""
    total = math.fsum(weights)
    if abs(total - 1.0) <= _WEIGHT_TOLERANCE:
        return weights
    return [w / total for w in weights]


@dataclass(frozen=True)
class Variant:
    """One arm of an experiment: its ``name``, its share of units (``weight``) and the fixed ``arm``
    (strategy) it serves, or ``None`` to let the bandit policy decide."""

    name: str
    weight: float = 1.0
    arm: str | None = None


@dataclass(frozen=True)
class Experiment:
    """A split of units at one decision ``point`` (e.g. ``"feed:home"``) into ``variants``.

    Validated on construction: at least two variants with unique names, weights finite and > 0 (stored
    normalised to sum 1, in the given order), ids matching :data:`NAME_PATTERN`. ``salt`` defaults to
    ``name``; ``started_at`` is a Unix time or ``None``.
    """

    name: str
    point: str
    variants: tuple[Variant, ...]
    enabled: bool = True
    salt: str = ""
    started_at: float | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "name")
        _check_name(self.point, "point")
        if not isinstance(self.enabled, bool):
            raise DataError(f"must be true or false, got {self.enabled!r}", field="enabled")
        if not isinstance(self.variants, tuple | list) or len(self.variants) < 2:
            raise DataError("an experiment needs at least two variants", field="variants")
        seen: set[str] = set()
        weights = []
        for n, v in enumerate(self.variants):
            if not isinstance(v, Variant):
                raise DataError(f"must be a Variant, got {type(v).__name__}", field=f"variants[{n}]")
            _check_name(v.name, f"variants[{n}].name")
            if v.name in seen:
                raise DataError(f"duplicate variant name {v.name!r}", field=f"variants[{n}].name")
            seen.add(v.name)
            weights.append(_check_weight(v.weight, f"variants[{n}].weight"))
            if v.arm is not None:
                _check_name(v.arm, f"variants[{n}].arm")
        shares = _normalised(weights)
        set_ = object.__setattr__
        set_(self, "variants", tuple(Variant(v.name, w, v.arm) for v, w in zip(self.variants, shares, strict=True)))
        set_(self, "salt", _check_name(self.salt or self.name, "salt"))
        if self.started_at is not None:
            ts = self.started_at
            if isinstance(ts, bool) or not isinstance(ts, int | float) or not 0 <= ts < _MAX_TS:
                raise DataError(f"must be a Unix time between 1970 and 2100, got {ts!r}", field="started_at")
            set_(self, "started_at", float(ts))

    @property
    def split(self) -> dict[str, float]:
        """Variant name -> normalised weight, in order (what ``experiment_results(splits=...)`` takes)."""
        return {v.name: v.weight for v in self.variants}

    @property
    def control(self) -> Variant:
        """The baseline: the variant named ``control``, else the first."""
        return next((v for v in self.variants if v.name == CONTROL_NAME), self.variants[0])

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON object (with ``version``) that :meth:`from_dict` rebuilds exactly."""
        return {
            "version": JSON_VERSION,
            "name": self.name,
            "point": self.point,
            "variants": [{"name": v.name, "weight": v.weight, "arm": v.arm} for v in self.variants],
            "enabled": self.enabled,
            "salt": self.salt,
            "started_at": self.started_at,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON text (floats survive unchanged)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Experiment:
        """Rebuild from :meth:`to_dict`'s object; unknown or missing keys raise :class:`DataError` naming them.
        ``weight`` defaults to 1 and ``arm``, ``enabled``, ``salt``, ``started_at`` to their defaults."""
        if not isinstance(data, Mapping):
            raise DataError(f"an experiment must be a JSON object, got {type(data).__name__}")
        known = {"version", "name", "point", "variants", "enabled", "salt", "started_at"}
        for key in data:
            if key not in known:
                raise DataError(f"unknown key; expected some of {', '.join(sorted(known))}", field=str(key))
        if data.get("version", JSON_VERSION) != JSON_VERSION:
            raise DataError(
                f"unsupported version {data['version']!r} (this build reads {JSON_VERSION})", field="version"
            )
        for key in ("name", "point", "variants"):
            if key not in data:
                raise DataError("is required", field=key)
        raw = data["variants"]
        if not isinstance(raw, list | tuple):
            raise DataError("must be a list of variants", field="variants")
        variants = []
        for n, v in enumerate(raw):
            if not isinstance(v, Mapping):
                raise DataError("must be an object with name, weight and arm", field=f"variants[{n}]")
            extra = set(v) - {"name", "weight", "arm"}
            if extra:
                raise DataError("unknown key; expected name, weight, arm", field=f"variants[{n}].{sorted(extra)[0]}")
            if "name" not in v:
                raise DataError("is required", field=f"variants[{n}].name")
            variants.append(Variant(v["name"], v.get("weight", 1.0), v.get("arm")))
        return cls(
            name=data["name"],
            point=data["point"],
            variants=tuple(variants),
            enabled=data.get("enabled", True),
            salt=data.get("salt") or "",
            started_at=data.get("started_at"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Experiment:
        """Rebuild from :meth:`to_json`'s text (invalid JSON raises :class:`DataError`)."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise DataError(f"not valid JSON: {err}") from err
        return cls.from_dict(data)


def unit_point(salt: str, unit_id: str) -> float:
    """The unit's point in [0, 1): the top 53 bits of SHA-256 of ``f"{salt}:{unit_id}"`` (UTF-8) over 2**53."""
    digest = hashlib.sha256(f"{salt}:{unit_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def assign(experiment: Experiment, unit_id: str) -> Variant:
    """The variant of ``unit_id`` (a non-empty id): the one whose weight bucket holds :func:`unit_point`."""
    if not isinstance(unit_id, str) or not unit_id:
        raise DataError(f"a unit id must be a non-empty string, got {unit_id!r}", field="unit_id")
    u = unit_point(experiment.salt, unit_id)
    bound = 0.0
    for variant in experiment.variants[:-1]:
        bound += variant.weight
        if u < bound:
            return variant
    return experiment.variants[-1]  # takes [last bound, 1), whatever rounding left of the weights' sum


@dataclass(frozen=True)
class SRMResult:
    """The sample-ratio-mismatch check of one experiment.

    ``expected`` is units per variant under the configured split; ``p_value`` and ``mismatch`` are ``None``
    when there is no verdict (``verdict`` says why: ``"no data"`` or ``"single variant"``); otherwise
    ``verdict`` is ``"ok"`` or ``"mismatch"``. ``unexpected`` lists variants with units that the split does
    not name: any such unit is a mismatch (p = 0).
    """

    counts: dict[str, int]
    expected: dict[str, float]
    total: int
    statistic: float | None
    dof: int
    p_value: float | None
    mismatch: bool | None
    threshold: float
    verdict: str
    unexpected: tuple[str, ...] = ()


def srm_check(
    counts: Mapping[str, int],
    experiment: Experiment | Mapping[str, float],
    *,
    threshold: float = SRM_THRESHOLD,
) -> SRMResult:
    """Pearson's chi-square goodness of fit of units per variant (``counts``; missing names count 0)
    against the split of ``experiment`` (or a mapping variant -> weight); a mismatch is ``p < threshold``."""
    if isinstance(experiment, Experiment):
        split = experiment.split
    else:
        if not isinstance(experiment, Mapping) or not experiment:
            raise DataError("must be an Experiment or a non-empty mapping of variant -> weight", field="experiment")
        weights = [_check_weight(w, f"experiment[{name!r}]") for name, w in experiment.items()]
        split = dict(zip(experiment, _normalised(weights), strict=True))
    if not 0 < threshold < 1:
        raise DataError(f"must be in (0, 1), got {threshold!r}", field="threshold")
    observed: dict[str, int] = {}
    for name, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
            raise DataError(f"must be a whole count >= 0, got {n!r}", field=f"counts[{name!r}]")
        observed[str(name)] = int(n)
    unexpected = tuple(name for name, n in observed.items() if name not in split and n > 0)
    full = {name: observed.get(name, 0) for name in split} | {name: observed[name] for name in unexpected}
    total = sum(full.values())
    expected = {name: total * split.get(name, 0.0) for name in full}
    dof = len(split) - 1

    def result(statistic: float | None, p: float | None, verdict: str) -> SRMResult:
        mismatch = None if p is None else p < threshold
        return SRMResult(full, expected, total, statistic, dof, p, mismatch, threshold, verdict, unexpected)

    if total == 0:
        return result(None, None, "no data")
    if unexpected:
        return result(math.inf, 0.0, "mismatch")
    if dof < 1:
        return result(None, None, "single variant")
    statistic = math.fsum((full[name] - e) ** 2 / e for name, e in expected.items())
    p = chi2_sf(statistic, dof)
    return result(statistic, p, "mismatch" if p < threshold else "ok")


@dataclass(frozen=True)
class VariantSummary:
    """One variant's rate with its 95% Wilson interval and, except for the control, its comparison to the
    control: ``diff`` (rate minus the control's) with Newcombe's hybrid score interval, ``lift`` (relative:
    rate over the control's, minus 1) with the Katz log interval, and the two-sided p-value of the pooled
    two-proportion z-test. Comparison fields are NaN on the control and where undefined."""

    name: str
    successes: int
    trials: int
    rate: float
    rate_low: float
    rate_high: float
    is_control: bool
    diff: float
    diff_low: float
    diff_high: float
    lift: float
    lift_low: float
    lift_high: float
    p_value: float


def variant_summary(
    successes: Mapping[str, int], trials: Mapping[str, int], *, control: str | None = None
) -> list[VariantSummary]:
    """Per variant of ``trials`` (in its order): the rate and its comparison to ``control`` (default: the
    variant named ``control``, else the first). ``successes`` missing a variant count 0."""
    if not trials:
        return []
    unknown = [name for name in successes if name not in trials]
    if unknown:
        raise DataError(f"variant {unknown[0]!r} has successes but no trials", field="successes")
    for name, n in trials.items():
        x = successes.get(name, 0)
        if n < 0 or x < 0 or x > n:
            raise DataError(f"need 0 <= successes <= trials, got {x} of {n}", field=f"successes[{name!r}]")
    if control is None:
        control = CONTROL_NAME if CONTROL_NAME in trials else next(iter(trials))
    elif control not in trials:
        raise DataError(f"{control!r} is not among the variants", field="control")
    nan = float("nan")
    xc, nc = int(successes.get(control, 0)), int(trials[control])
    rate_c = xc / nc if nc > 0 else nan
    out = []
    for name, n in trials.items():
        x, n = int(successes.get(name, 0)), int(n)
        rate = x / n if n > 0 else nan
        low, high = wilson_interval(x, n)
        if name == control:
            out.append(VariantSummary(name, x, n, rate, low, high, True, nan, nan, nan, nan, nan, nan, nan))
            continue
        d_low, d_high = newcombe_interval(x, n, xc, nc)
        r_low, r_high = ratio_interval(x, n, xc, nc)
        lift = rate / rate_c - 1 if rate_c > 0 else nan
        p = two_proportion_p(x, n, xc, nc)
        out.append(
            VariantSummary(
                name, x, n, rate, low, high, False, rate - rate_c, d_low, d_high, lift, r_low - 1, r_high - 1, p
            )
        )
    return out
