"""Settings, read from the environment with the prefix ``SHOPGUIDE_`` (and an optional ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopguide.data.dataset import DEFAULT_EVENT_WEIGHTS


class Settings(BaseSettings):
    """Everything shopguide can be configured with. Defaults run embedded with nothing to set up."""

    model_config = SettingsConfigDict(env_prefix="SHOPGUIDE_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="Working directory for the store and model bundles.")
    store_url: str = Field(default="", description="Store URL; empty means sqlite:///<home>/shopguide.db.")
    seed: int = Field(default=42, description="Seed for every stochastic step.")
    event_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS),
        description="Weight of each event type in the user-item matrix.",
    )
    fallback_chain: list[str] = Field(
        default_factory=lambda: ["hybrid", "item_knn", "category_popular", "popular"],
        description="Ordered recommender sources that fill a recommendation list.",
    )

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.home / 'shopguide.db'}"

    @property
    def model_dir(self) -> Path:
        return self.home / "models"
