"""Hyper-parameters of the sequential recommender, validated, loadable from a YAML / JSON / TOML file.

The defaults are the ones the Amazon Beauty benchmark ran with (benchmarks/sequential_beauty.py); they
are meant to be sensible for any catalogue of a few thousand to a few hundred thousand items.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shopguide.errors import ConfigError


class SequentialConfig(BaseModel):
    """Architecture, training and stopping rules of :class:`SequentialRecommender`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # architecture
    max_len: int = Field(50, ge=2, le=1024, description="Most recent items the encoder reads.")
    dim: int = Field(64, ge=8, le=1024, description="Width of item embeddings and hidden states.")
    layers: int = Field(2, ge=1, le=12)
    heads: int = Field(1, ge=1, le=16)
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="Dropout on embeddings and hidden states.")
    attention_dropout: float = Field(0.5, ge=0.0, lt=1.0)
    side_info: bool = Field(True, description="Add brand / category / price-band / tag embeddings to each item.")
    min_feature_items: int = Field(2, ge=1, description="A side feature needs this many items to get an embedding.")
    filter_mix: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="Share of a causal low/high-frequency filter mixed into each attention layer (BSARec-style).",
    )
    filter_window: int = Field(3, ge=1, description="Window of the causal moving-average low-pass filter.")
    filter_frequencies: int = Field(
        0,
        ge=0,
        description="k > 0: low-pass as BSARec's FFT filter keeping the k lowest frequencies of a max_len window "
        "(applied causally); 0: moving average over filter_window items.",
    )
    post_norm: bool = Field(
        False, description="Layer norm after each residual sum (BERT / BSARec style) instead of before each sublayer."
    )
    contrastive_weight: float = Field(
        0.0, ge=0.0, description="Weight of a DuoRec-style contrastive loss between two dropout views of each window."
    )
    contrastive_temperature: float = Field(0.2, gt=0.0)
    # training
    training_samples: Literal["all_positions", "prefixes"] = Field(
        "prefixes",
        description="'all_positions': one window per shopper, a loss at every position (SASRec). 'prefixes': every "
        "prefix is its own sample with its own dropout, a loss at its last item only (S3-Rec / BSARec; about 7x "
        "the encoder work on Amazon Beauty, the same softmax work).",
    )
    loss: Literal["softmax", "sampled_bce"] = Field(
        "softmax",
        description="'softmax': cross-entropy over every item. 'sampled_bce': binary cross-entropy of the next "
        "item against one random other item (the original SASRec; for reproducing published baselines).",
    )
    lr: float = Field(5e-4, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    batch_size: int = Field(256, ge=1)
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    max_epochs: int = Field(200, ge=1)
    patience: int = Field(10, ge=1, description="Stop after this many epochs without a better validation NDCG@10.")
    max_minutes: float = Field(
        30.0, gt=0.0, description="Wall-clock budget of one training run (no epoch is started that would overrun it)."
    )
    validation: Literal["last", "none"] = Field(
        "last", description="'last': each shopper's last item is held out as the early-stopping target."
    )
    members: int = Field(
        2,
        ge=1,
        le=8,
        description="Networks trained one after the other with seeds seed, seed+1000, seed+2000, ..., each within "
        "max_minutes / members; a shopper's score is the sum of their scores (the product of their softmax "
        "distributions), served as one dot product over concatenated vectors.",
    )
    seed: int = 42
    threads: int | None = Field(None, ge=1, description="torch threads while training (default: torch's choice).")
    device: Literal["auto", "cpu", "cuda"] = "auto"

    def member(self, index: int) -> SequentialConfig:
        """The config of ensemble member ``index``: its own seed (``seed + 1000 * index``, so that runs with
        neighbouring seeds share no member) and its share of the time budget."""
        return self.model_copy(
            update={"seed": self.seed + 1000 * index, "max_minutes": self.max_minutes / self.members}
        )

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None, *, source: str = "config") -> SequentialConfig:
        """Validate a mapping; errors name the source and the field."""
        try:
            return cls.model_validate(values or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "?"
            raise ConfigError(f"{source}: field {where!r}: {err['msg']}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> SequentialConfig:
        """Read a YAML (.yaml/.yml), JSON (.json) or TOML (.toml) file of config fields."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read sequential config {path}: {exc.strerror}") from None
        try:
            if path.suffix == ".json":
                values = json.loads(text)
            elif path.suffix == ".toml":
                values = tomllib.loads(text)
            else:
                values = yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'yaml'}: {exc}") from None
        if values is not None and not isinstance(values, dict):
            raise ConfigError(f"{path}: expected a mapping of config fields, got {type(values).__name__}")
        return cls.from_mapping(values, source=str(path))
