"""Settings, read from the environment with the prefix ``SHOPGUIDE_`` (and an optional ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopguide.data.dataset import DEFAULT_EVENT_WEIGHTS


class Settings(BaseSettings):
    """Everything shopguide can be configured with. Defaults run embedded with nothing to set up."""

    model_config = SettingsConfigDict(env_prefix="SHOPGUIDE_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="Working directory for the store and model bundles.")
    store_url: str = Field(default="", description="Store URL; empty means sqlite:///<home>/shopguide.db.")
    seed: int = Field(default=42, description="Seed for every stochastic step.")
    secret: SecretStr | None = Field(
        default=None,
        description="Key of every HMAC (API key hashes, pseudonymous shopper ids, signed cookies); replicas must "
        "share it. Empty: generated once into <home>/secret.key (owner-only). Rotating it revokes all API keys.",
    )
    event_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS),
        description="Weight of each event type in the user-item matrix.",
    )
    fallback_chain: list[str] = Field(
        default_factory=lambda: ["hybrid", "recent_item_knn", "category_popular", "popular"],
        description="Registry names of the fallback model's steps, in order (env: JSON list).",
    )

    # ---- service
    host: str = Field(default="127.0.0.1", description="Address the HTTP service listens on.")
    port: int = Field(default=8000, description="Port of the HTTP service.")
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")
    bootstrap_demo: bool = Field(
        default=True, description="Import the demo catalog at start-up when the store is empty."
    )
    startup_model: str = Field(default="fallback", description="Model trained at start-up when none exists.")
    deadline_ms: float = Field(default=100.0, gt=0, description="Per-request deadline for recommendations.")
    max_in_flight: int = Field(
        default=32,
        ge=1,
        description="Requests in flight per worker beyond which it answers 503 at once (see RESULTS.md §8 for why 32).",
    )
    shed_wait_ms: float = Field(
        default=0.0,
        ge=0,
        description="Also shed a request (503 + Retry-After) when its estimated wait, requests in flight x recent "
        "mean service time of this worker, exceeds this many ms; 0 (default) turns this off and only max_in_flight "
        "applies. Measured trade-off in benchmarks/RESULTS.md section 8: lower p99 under overload, 503s during "
        "model swaps.",
    )

    @property
    def shed_wait_seconds(self) -> float:
        """The queueing budget in seconds (0: wait-based shedding off)."""
        return self.shed_wait_ms / 1000

    answer_cache_size: int = Field(
        default=10_000,
        ge=0,
        description="Finished recommendation answers each worker keeps (keyed by model version, shopper, request "
        "and the shopper's latest events, so a new event or model is never answered from it); 0 turns it off.",
    )
    answer_cache_seconds: float = Field(default=300.0, gt=0, description="Longest a cached answer is reused.")
    warm_shoppers: int = Field(
        default=1000,
        ge=0,
        description="At start-up each worker prepares the default feed (n=10, English) of this many most recently "
        "active shoppers before it takes requests; 0 turns it off.",
    )
    warm_answers: int = Field(
        default=1000,
        ge=0,
        description="Before a new model version is swapped in, each worker prepares this many of the answers it "
        "served most recently, with the new version; 0 turns it off.",
    )
    warm_seconds: float = Field(
        default=10.0, ge=0, description="Longest a worker spends preparing answers at start-up or before a swap."
    )
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="Largest accepted request body.")
    max_event_batch: int = Field(default=1000, ge=1, description="Most events accepted in one POST.")
    train_product_tagger: bool = Field(
        default=False,
        description="Train the Chinese product tagger on ../shared/data/ecommerce-ner-zh at start-up when no "
        "cached model exists under <home>/cache/ner (once: the neural tagger about 8 minutes on 2 cores with torch, "
        "else the CRF tagger 1-2 minutes).",
    )
    model_check_seconds: float = Field(default=2.0, ge=0, description="How often workers look for a new model.")

    # ---- retention (privacy/retention.py; `shopguide purge`, and on a schedule while serving)
    retention_days: float = Field(default=0.0, ge=0, description="Days behaviour events are kept; 0: forever.")
    session_retention_days: float = Field(
        default=30.0, ge=0, description="Days a chat session is kept after its last message; 0: forever."
    )
    purge_interval_seconds: float = Field(
        default=3600.0, ge=0, description="How often a serving worker purges what retention expired; 0: never."
    )

    # ---- learning loop (bandit/: decision points, rewards, experiments; README "The learning loop")
    learning_points: list[str] = Field(
        default_factory=lambda: ["feed:home", "guide:vague"],
        description="Decision points the service offers: feed:<placement> (the feed's leading strategy) and "
        "guide:vague (ask or show on a vague request). Each is stored with its switch on first start.",
    )
    learning_enabled: list[str] = Field(
        default_factory=list,
        description="Points switched on when first stored; afterwards the stored switch rules "
        "(`shopguide bandit on/off`, PUT /v1/admin/bandit/{point}), without a restart.",
    )
    learning_policy: str = Field(
        default="linear_thompson",
        description="Policy kind of new points: epsilon_greedy, ucb1, bernoulli_thompson, linucb, linear_thompson.",
    )
    learning_min_explore: float = Field(
        default=0.05, ge=0, le=1, description="Exploration floor: every arm keeps at least this share / arms."
    )
    learning_max_explore: float = Field(
        default=0.5, ge=0, le=1, description="Cap on exploration (epsilon-greedy's epsilon is clipped to it)."
    )
    reward_window_seconds: float = Field(
        default=1800.0, gt=0, description="Events this long after a decision count as its reward."
    )
    reward_grace_seconds: float = Field(
        default=60.0, ge=0, description="How long after the window a decision waits for late events."
    )
    reward_weights: dict[str, float] = Field(
        default_factory=lambda: {"view": 1.0, "click": 1.0, "fav": 1.0, "cart": 1.0, "purchase": 1.0},
        description="Reward of each outcome type in [0, 1]; a decision's reward is its best outcome's weight.",
    )
    learn_seconds: float = Field(default=10.0, ge=0, description="How often a worker learns; 0: only on request.")
    learning_seed: int | None = Field(
        default=None, description="Seed of the decisions' random draws (None: fresh entropy per worker)."
    )

    nlu_corpora: Path | None = Field(
        default=None,
        description="A folder holding the public intent corpora (bitext-cs-tagged/, mg-shopdial/, e.g. ../shared/data): "
        "the guide's intent model then also trains on their train splits (they are read, never copied). "
        "`make run` sets it when ../shared/data exists.",
    )

    # ---- access control (security/, SECURITY.md)
    admin_key: SecretStr | None = Field(
        default=None,
        description="An admin API key given by configuration (e.g. provisioned to replicas); kept in memory only.",
    )
    insecure_dev: bool = Field(
        default=False,
        description="INSECURE: serve every request as admin without a key (local experiments only; never the default).",
    )
    rate_limit_per_key: float = Field(
        default=200.0, ge=0, description="Requests per second per API key (a key may set its own); 0: unlimited."
    )
    rate_limit_per_client: float = Field(
        default=50.0,
        ge=0,
        description="Requests per second per client address for the storefront's cookie and for callers without a "
        "valid key; 0: unlimited.",
    )
    rate_limit_admin: float = Field(
        default=5.0, gt=0, description="Requests per second per caller on admin routes (a lower, separate limit)."
    )
    rate_limit_burst: float = Field(
        default=2.0, ge=1, description="A bucket holds this many seconds' worth of requests (bursts above the rate)."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (env: JSON list); empty: same origin only.",
    )

    # continuous training (champion / challenger)
    continuous_training: bool | None = Field(
        default=None,
        description="Train a challenger in the background after start-up and on a schedule, and serve it when it "
        "beats the active model (service/trainer.py). Unset: on for `shopguide serve` and "
        "`uvicorn --factory shopguide.service.app:app_from_env`, off for apps built in code (`create_app`).",
    )
    training_model: str = Field(
        default="sequential",
        description="Registry name of the challenger (the sequential transformer by default; skipped with a "
        "logged reason when torch is not installed).",
    )
    training_params: dict[str, object] = Field(
        default_factory=dict,
        description='Parameters of the challenger (env: JSON, e.g. {"config": {"max_minutes": 10}}).',
    )
    training_start_delay_seconds: float = Field(
        default=120.0, ge=0, description="Seconds after start-up before the first cycle."
    )
    training_period_seconds: float = Field(
        default=3600.0, gt=0, description="Seconds from the end of one cycle to the next check."
    )
    training_min_new_events: int = Field(
        default=1000, ge=1, description="Events that must arrive after the last cycle before the next one trains."
    )
    training_holdout: float = Field(
        default=0.1, gt=0, lt=0.5, description="Latest share of events held out to compare challenger and champion."
    )
    training_min_eval_users: int = Field(
        default=50, ge=1, description="Fewest evaluated shoppers for a promotion (fewer: no promotion, reason kept)."
    )
    training_margin: float = Field(
        default=0.0, ge=0, description="Relative NDCG@10 gain the challenger must exceed (0.05: 5 % better)."
    )
    training_min_z: float = Field(
        default=1.0, ge=0, description="Standard errors of the NDCG@10 difference the challenger must win by."
    )
    training_threads: int = Field(default=1, ge=1, description="BLAS and torch threads of a training cycle.")
    training_nice: int = Field(
        default=10, ge=0, le=19, description="How much lower than the service's the training's CPU priority is."
    )
    training_isolation: str = Field(
        default="process",
        pattern="^(process|thread)$",
        description="'process': train in a spawned low-priority process; 'thread': in a thread of the worker "
        "(forced for an in-memory store).",
    )
    training_keep_rejected: int = Field(
        default=3, ge=1, description="Challengers that lost kept on disk per model (older ones are removed)."
    )

    # ---- optional LLM phrasing of the guide's replies (off unless base URL and model are set)
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (vLLM, llama.cpp, Ollama)."
    )
    llm_model: str | None = Field(default=None, description="Model name sent to the endpoint.")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer token for the endpoint (never logged).")
    llm_timeout_ms: float = Field(
        default=1500.0, gt=0, description="Longest wait for a re-worded reply; the rule reply is used after it."
    )

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.home / 'shopguide.db'}"

    @property
    def model_dir(self) -> Path:
        return self.home / "models"
