"""Who is calling, and may they: API keys and the storefront's cookie checked per request, with scopes, rate
limits and the audit log.

Every route declares a scope (``require("read")`` ...; a test checks that none is left without one). A
request proves itself with ``Authorization: Bearer <key>`` (keys: ``security/keys.py``), or, for the
storefront page only, with the signed same-origin cookie that ``GET /`` sets (scopes ``read`` and
``ingest``: the page shows feeds, chats and logs what the shopper sees and clicks, like any storefront's
tracking; ``SameSite=Strict`` keeps other sites from riding on it). ``SHOPGUIDE_ADMIN_KEY`` may name one
admin key in the configuration (operators provisioning replicas; the tests). ``--insecure-dev`` turns all
of this off, loudly, for local experiments; it is never the default.

Checks cost microseconds: key records are cached per worker for :data:`KEY_CACHE_SECONDS` (so a revoked
key stops working within that time in every worker), the hash is one HMAC, and the "last used" times and
audit entries are written in batches.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from shopguide.errors import AccessError, AuthError, PermissionDeniedError, RateLimitedError
from shopguide.security.audit import AuditEntry, AuditTrail
from shopguide.security.keys import ApiKey, key_hash, matches, parse_key_id
from shopguide.security.ratelimit import RateLimiter

log = logging.getLogger(__name__)

KEY_CACHE_SECONDS = 5.0
MAX_CACHED_KEYS = 10_000
TOUCH_SECONDS = 60.0
COOKIE = "sg_store"
COOKIE_SECONDS = 12 * 3600
STOREFRONT_SCOPES = frozenset({"read", "ingest"})
#: Scopes whose every request is written to the audit log.
AUDITED = frozenset({"catalog", "admin"})
_BEARER = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sg_...`.")


@dataclass(frozen=True)
class Principal:
    """The caller of a request: ``owner`` names it in chat-session ownership and the audit log."""

    owner: str
    name: str
    scopes: frozenset[str]
    rate_limit: float | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


class Authenticator:
    """The per-app checker: settings, the server secret, the store (attached at start-up)."""

    def __init__(self, settings: Any, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.secret = secret
        self._clock = clock
        self.limiter = RateLimiter()
        self.store: Any = None
        self.audit: AuditTrail | None = None
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}
        self._used: dict[str, float] = {}
        self._touched_at = time.monotonic()
        self._lock = threading.Lock()
        configured = settings.admin_key.get_secret_value() if settings.admin_key is not None else None
        self._config_hash = key_hash(secret, configured) if configured else None

    def attach(self, store: Any) -> None:
        """Use ``store`` for key records and the audit log (called by the app's lifespan)."""
        self.store = store
        self.audit = AuditTrail(store)

    # ---------------------------------------------------------------- who
    def principal(self, bearer: str | None, cookie: str | None) -> Principal | None:
        """The caller proven by a bearer key or the storefront cookie; None when neither is given.
        AuthError when a key is given but not valid."""
        if self.settings.insecure_dev:
            return Principal("insecure-dev", "insecure-dev", frozenset({"admin"}), rate_limit=0.0)
        if bearer:
            return self._key_principal(bearer)
        if cookie:
            browser = self.cookie_browser(cookie)
            if browser is not None:
                return Principal(f"browser:{browser}", "storefront", STOREFRONT_SCOPES)
        return None

    def _key_principal(self, key: str) -> Principal:
        if self._config_hash is not None and hmac.compare_digest(key_hash(self.secret, key), self._config_hash):
            return Principal("key:config", "configured admin key", frozenset({"admin"}), rate_limit=0.0)
        key_id = parse_key_id(key)
        record = self._record(key_id) if key_id is not None else None
        if record is None or not matches(self.secret, key, record):
            raise AuthError("the API key is not valid")
        status = record.status(self._clock())
        if status != "active":
            raise AuthError(f"the API key {record.key_id} is {status}")
        with self._lock:
            self._used[record.key_id] = self._clock()
        return Principal(f"key:{record.key_id}", record.name, frozenset(record.scopes), record.rate_limit)

    def forget(self) -> None:
        """Drop the cached key records: the next request reads them from the store (after a change made in
        this process; other processes' changes are seen within :data:`KEY_CACHE_SECONDS`)."""
        self._cache.clear()

    def _record(self, key_id: str) -> ApiKey | None:
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached[1] < KEY_CACHE_SECONDS:
            return cached[0]
        record = self.store.get_api_key(key_id) if self.store is not None else None
        if len(self._cache) >= MAX_CACHED_KEYS:  # made-up key ids must not grow memory without bound
            self._cache.clear()
        self._cache[key_id] = (record, now)
        return record

    # ---------------------------------------------------------------- may they
    def admit(self, principal: Principal | None, scope: str, client: str) -> Principal:
        """``principal`` if it may use ``scope`` now; else AuthError (none), PermissionDeniedError (scope)
        or RateLimitedError (too fast: per key, or per client address for the cookie and for callers
        without a key)."""
        s = self.settings
        admin = scope == "admin"
        if principal is None:
            self._limit_address(client, admin)
            raise AuthError("an API key is required: send 'Authorization: Bearer <key>'")
        if not principal.allows(scope):
            has = ", ".join(sorted(principal.scopes))
            raise PermissionDeniedError(f"this key may not use {scope!r} routes (its scopes: {has})")
        if principal.owner.startswith("browser:"):
            self._limit_address(client, admin)
        else:
            rate = principal.rate_limit if principal.rate_limit is not None else s.rate_limit_per_key
            self._limit(principal.owner, rate, admin)
        return principal

    def _limit_address(self, client: str, admin: bool) -> None:
        """The per-address bucket: the storefront's cookie, callers without a key, and failed keys."""
        self._limit(f"addr:{client}", self.settings.rate_limit_per_client, admin)

    def _limit(self, name: str, rate: float, admin: bool) -> None:
        if admin and rate != 0:
            rate = min(rate, self.settings.rate_limit_admin) if rate > 0 else self.settings.rate_limit_admin
        wait = self.limiter.take(f"{name}:{'admin' if admin else 'api'}", rate, rate * self.settings.rate_limit_burst)
        if wait > 0:
            raise RateLimitedError("too many requests; slow down", retry_after=wait)

    def caller(self, headers: list[tuple[bytes, bytes]]) -> Principal | None:
        """The caller of a raw ASGI request (its headers), or None when it brings no valid credentials. Takes
        no token: the feed's fast path asks this before it looks anything up, and :meth:`admit` only for a
        hit; a refusal is left to the route, whose dependency answers it (one place for errors and audit)."""
        bearer = cookie = None
        for name, value in headers:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                bearer = value[7:].decode("latin-1").strip()
            elif name == b"cookie":
                cookie = _cookie_value(value.decode("latin-1"))
        try:
            return self.principal(bearer, cookie)
        except AccessError:
            return None

    async def authorize(self, request: Request, scope: str, bearer: str | None) -> Principal:
        """The dependency's work: check, audit what needs it, flush the batched writes when due."""
        client = request.client.host if request.client else ""
        principal: Principal | None = None
        try:
            try:
                principal = self.principal(bearer, request.cookies.get(COOKIE))
            except AuthError:  # guessing keys counts against the address, like calling without one
                self._limit_address(client, scope == "admin")
                raise
            admitted = self.admit(principal, scope, client)
        except AccessError as exc:
            self._audit(request, scope, principal, client, _outcome(exc))
            raise
        finally:
            if self._flush_due():
                await run_in_threadpool(self.flush)
        self._audit(request, scope, admitted, client, "allowed")
        return admitted

    def _audit(self, request: Request, scope: str, principal: Principal | None, client: str, outcome: str) -> None:
        if self.audit is None or (scope not in AUDITED and outcome == "allowed"):
            return
        if scope not in AUDITED and outcome != "allowed" and principal is None:
            return  # anonymous refusals of public read routes: the rate limit handles them, not the log
        actor = f"{principal.owner} ({principal.name})" if principal is not None else "anonymous"
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self.audit.record(
            AuditEntry(self._clock(), actor[:160], f"{request.method} {scope}"[:160], target[:2000], client, outcome)
        )

    def _flush_due(self) -> bool:
        return (self.audit is not None and self.audit.due()) or (
            bool(self._used) and time.monotonic() - self._touched_at >= TOUCH_SECONDS
        )

    def flush(self) -> None:
        """Write the batched audit entries and key use times."""
        if self.audit is not None:
            self.audit.flush()
        with self._lock:
            used, self._used = self._used, {}
            self._touched_at = time.monotonic()
        if used and self.store is not None:
            try:
                self.store.touch_api_keys(used)
            except Exception:
                log.exception("could not record when %d keys were last used", len(used))

    # ---------------------------------------------------------------- the storefront's cookie
    def new_cookie(self) -> str:
        """A fresh signed cookie value for one browser: ``<browser id>.<expiry>.<signature>``."""
        browser, expires = secrets.token_hex(16), int(self._clock()) + COOKIE_SECONDS
        return f"{browser}.{expires}.{self._sign(browser, expires)}"

    def cookie_browser(self, value: str) -> str | None:
        """The browser id of a valid, unexpired cookie, else None."""
        parts = value.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        browser, expires, signature = parts[0], int(parts[1]), parts[2]
        if expires < self._clock() or not hmac.compare_digest(signature, self._sign(browser, expires)):
            return None
        return browser

    def _sign(self, browser: str, expires: int) -> str:
        return hmac.new(self.secret, f"storefront|{browser}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def _cookie_value(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _outcome(exc: Exception) -> str:
    if isinstance(exc, RateLimitedError):
        return "rate_limited"
    return "denied" if isinstance(exc, PermissionDeniedError) else "unauthenticated"


_DEPENDENCIES: dict[str, Any] = {}


def require(scope: str) -> Any:
    """The dependency of a route of ``scope`` (one object per scope, so FastAPI runs it once per request
    when a router and a route both declare it). Its value is the :class:`Principal`."""
    if scope not in _DEPENDENCIES:

        async def dependency(
            request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
        ) -> Principal:
            auth: Authenticator = request.app.state.auth
            return await auth.authorize(request, scope, credentials.credentials if credentials else None)

        dependency.__name__ = f"require_{scope}"
        dependency.scope = scope  # type: ignore[attr-defined]
        _DEPENDENCIES[scope] = Depends(dependency)
    return _DEPENDENCIES[scope]


def scope_of(dependant_call: Any) -> str | None:
    """The scope a dependency made by :func:`require` stands for (None for any other callable)."""
    return getattr(dependant_call, "scope", None)
