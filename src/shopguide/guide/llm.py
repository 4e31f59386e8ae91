"""Optional LLM phrasing of the guide's replies (off unless an OpenAI-compatible endpoint is configured).

The rule path always writes the reply first, from grounded facts; the LLM may only re-word it. Its text
is accepted when it keeps every product title and catalog price of the rule reply and adds no title, price
or other number of its own; otherwise, and whenever the endpoint is slow (``timeout_s``), failing, or the
circuit breaker is open after ``failures_to_open`` consecutive failures (it retries after
``reset_after_s``), the rule reply is used as is. Nothing is downloaded; any server that speaks
``POST {base_url}/chat/completions`` works (vLLM, llama.cpp server, Ollama, a hosted API).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)

_TITLES = re.compile(r"「([^」]+)」|“([^”]+)”")
_PRICES = re.compile(r"¥\s*(\d+(?:\.\d+)?)")
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")
SYSTEM_PROMPT = {
    "zh": "你是电商导购。把下面的回复改写得更自然亲切，使用中文。必须原样保留每个「」里的商品名和每个价格，"
    "不要添加任何新的商品、价格、数字或属性。只输出改写后的回复。",
    "en": "You are a shop assistant. Rewrite the reply below to sound natural and friendly, in English. Keep every "
    "product name in “” and every price exactly as written; add no new products, prices, numbers or properties. "
    "Output only the rewritten reply.",
}


@dataclass(frozen=True)
class LLMConfig:
    """Where the OpenAI-compatible endpoint is and how patient to be with it."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 1.5
    failures_to_open: int = 3
    reset_after_s: float = 30.0
    max_tokens: int = 400


class CircuitBreaker:
    """Closed -> open after N consecutive failures -> half-open (one trial call) after a cool-down."""

    def __init__(self, failures_to_open: int = 3, reset_after_s: float = 30.0) -> None:
        self.failures_to_open, self.reset_after_s = failures_to_open, reset_after_s
        self.failures, self.opened_at = 0, 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            return self.failures < self.failures_to_open or time.monotonic() - self.opened_at >= self.reset_after_s

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.failures = 0
            else:
                self.failures += 1
                if self.failures >= self.failures_to_open:
                    self.opened_at = time.monotonic()


def grounded(candidate: str, original: str) -> bool:
    """True when ``candidate`` keeps the original's titles and prices and brings no title or number of its own."""
    titles = {a or b for a, b in _TITLES.findall(original)}
    new_titles = {a or b for a, b in _TITLES.findall(candidate)}
    if not titles <= new_titles or not new_titles <= titles:
        return False
    if set(_PRICES.findall(original)) != set(_PRICES.findall(candidate)):
        return False
    allowed = set(_NUMBERS.findall(original))
    return set(_NUMBERS.findall(candidate)) <= allowed and bool(candidate.strip())


class LLMPhraser:
    """Re-words grounded replies through an LLM, behind a timeout and a circuit breaker."""

    def __init__(self, config: LLMConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self.breaker = CircuitBreaker(config.failures_to_open, config.reset_after_s)
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.client = client or httpx.Client(base_url=config.base_url.rstrip("/"), headers=headers)

    def phrase(self, reply: str, lang: str) -> str:
        """The LLM's wording of ``reply`` when it is available and grounded; ``reply`` itself otherwise."""
        if not reply or not self.breaker.allow():
            return reply
        body = {
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT["en" if lang == "en" else "zh"]},
                {"role": "user", "content": reply},
            ],
            "temperature": 0.2,
            "max_tokens": self.config.max_tokens,
        }
        try:
            response = self.client.post("/chat/completions", json=body, timeout=self.config.timeout_s)
            response.raise_for_status()
            text = str(response.json()["choices"][0]["message"]["content"]).strip()
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("LLM phrasing failed; using the rule reply: %s", exc)
            self.breaker.record(False)
            return reply
        self.breaker.record(True)
        if not grounded(text, reply):
            log.info("LLM reply dropped: it changed or added facts")
            return reply
        return text

    def close(self) -> None:
        self.client.close()
