"""A small typed Python client for the shopguide HTTP service, sync and async, over httpx.

::

    from shopguide.client import ShopguideClient

    with ShopguideClient("http://127.0.0.1:8000", api_key="sg_...") as sg:  # or SHOPGUIDE_API_KEY
        recs = sg.recommendations("shopper-001", n=5, lang="zh")
        for item in recs.items:
            print(item.id, item.title, item.reason)
        sg.send_events([{"user": "shopper-001", "item": recs.items[0].id, "type": "click", "ts": time.time()}])

Responses are the service's own pydantic models (:mod:`shopguide.service.schemas`, :class:`Item`). Error
responses become shopguide errors: 404 :class:`NotFoundError`, 413/422 :class:`DataError` (with ``field``),
400 :class:`ConfigError`, 409 :class:`ModelError`, 401 :class:`AuthError`, 403 :class:`PermissionDeniedError`,
429 :class:`RateLimitedError` (with ``retry_after``), 503 (overload, store down, not ready) and unreachable
servers :class:`ServiceUnavailableError` (with ``retry_after``), anything else :class:`ShopguideError`.
Every raised error carries ``status_code`` and ``code`` (the ``error`` field of the response) as attributes.

Events are idempotent on the server (each event's ``id``, or a hash of its content), so re-sending a
batch after a timeout or a 503 is safe: the copies are counted as ``duplicate``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter

from shopguide.data.schema import Event, Item
from shopguide.errors import (
    AuthError,
    ConfigError,
    DataError,
    ModelError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ShopguideError,
)
from shopguide.service import schemas
from shopguide.service.schemas import (
    EventsResult,
    ModelVersion,
    RecommendationResponse,
    RejectedEvent,
    TrainAccepted,
    UpsertResult,
)

__all__ = [
    "AsyncShopguideClient",
    "ServiceUnavailableError",
    "ShopguideClient",
    "TrainJob",
]

T = TypeVar("T")

#: The service's per-request limits (``max_event_batch`` default and ``MAX_ITEMS``): larger lists are sent in chunks.
EVENT_BATCH = 1000
ITEM_BATCH = 1000


class ServiceUnavailableError(ShopguideError):
    """The service cannot answer now (503: overloaded, store down, no model yet; or unreachable).

    ``retry_after`` is the server's ``Retry-After`` in seconds when it sent one, else None."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TrainJob(BaseModel):
    """A background training job as ``GET /v1/admin/train/{job}`` reports it."""

    model_config = ConfigDict(extra="allow")

    job: str
    status: str = "unknown"
    model: str | None = None
    version: str | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


# --------------------------------------------------------------------------- request plans and error mapping


@dataclass(frozen=True)
class _Call(Generic[T]):
    """One HTTP call: what to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None


def _seg(raw_id: str) -> str:
    """An id as one URL path segment (``/``, ``?``, ``#`` and spaces quoted)."""
    return quote(str(raw_id), safe="")


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:  # an HTTP date: not sent by shopguide
        return None


def _error_from(response: httpx.Response) -> ShopguideError:
    """The shopguide error for an error response ``{error, detail, field}`` (or whatever else came back)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text.strip() or response.reason_phrase}
    code = str(body.get("error") or body.get("status") or "http_error")
    detail = body.get("detail")
    detail = str(detail) if detail is not None else response.reason_phrase
    field_name = body.get("field")
    where = f"{response.request.method} {response.request.url.path}"
    exc: ShopguideError
    if status == 404:
        exc = NotFoundError(detail)
    elif status in (413, 422):
        exc = DataError(detail, field=str(field_name) if field_name is not None else None)
    elif status == 400:
        exc = ConfigError(detail)
    elif status == 409:
        exc = ModelError(detail)
    elif status == 503:
        exc = ServiceUnavailableError(f"{where}: {code}: {detail}", retry_after=_retry_after(response))
    elif status == 401:
        exc = AuthError(f"{where}: {detail}")
    elif status == 403:
        exc = PermissionDeniedError(f"{where}: {detail}")
    elif status == 429:
        exc = RateLimitedError(f"{where}: {detail}", retry_after=_retry_after(response) or 1.0)
    else:
        exc = ShopguideError(f"{where} -> HTTP {status} {code}: {detail}")
    exc.status_code = status  # type: ignore[attr-defined]
    exc.code = code  # type: ignore[attr-defined]
    return exc


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise _error_from(response)
    return response


def _model(kind: type[BaseModel] | TypeAdapter) -> Callable[[httpx.Response], Any]:
    if isinstance(kind, TypeAdapter):
        return lambda r: kind.validate_python(_check(r).json())
    return lambda r: kind.model_validate(_check(r).json())


def _schema(name: str, default: type[BaseModel] | None) -> Callable[[httpx.Response], Any]:
    """Parse into ``schemas.<name>`` when the service defines it (looked up at call time), else ``default``
    (or the raw JSON when there is no default)."""

    def parse(response: httpx.Response) -> Any:
        kind = getattr(schemas, name, None) or default
        data = _check(response).json()
        return kind.model_validate(data) if kind is not None else data

    return parse


def _nothing(response: httpx.Response) -> None:
    _check(response)


def _json(response: httpx.Response) -> Any:
    return _check(response).json()


def _ready(response: httpx.Response) -> bool:
    if response.status_code == 503:
        return False
    _check(response)
    return True


_VERSIONS = TypeAdapter(list[ModelVersion])


def _as_dict(record: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(record, BaseModel):
        return record.model_dump(mode="json", exclude_none=True)
    return dict(record)


def _chunks(records: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [records[i : i + size] for i in range(0, len(records), size)] or [records]


def _merge_events(results: list[tuple[int, EventsResult]]) -> EventsResult:
    """One EventsResult for chunks sent separately; error indices refer to the caller's whole list."""
    errors = [
        RejectedEvent(index=offset + err.index, field=err.field, reason=err.reason)
        for offset, result in results
        for err in result.errors
    ]
    return EventsResult(
        accepted=sum(r.accepted for _, r in results),
        duplicate=sum(r.duplicate for _, r in results),
        rejected=sum(r.rejected for _, r in results),
        errors=errors,
    )


class _Api:
    """The endpoints as call plans, shared by the sync and the async client."""

    @staticmethod
    def recommendations(
        user: str, n: int, category: str | Sequence[str] | None, exclude: Iterable[str], lang: str
    ) -> _Call[RecommendationResponse]:
        params = [("n", str(n)), ("lang", lang)]
        categories = [category] if isinstance(category, str) else list(category or ())
        params += [("category", c) for c in categories]
        params += [("exclude", e) for e in ([exclude] if isinstance(exclude, str) else exclude)]
        return _Call("GET", f"/v1/users/{_seg(user)}/recommendations", _model(RecommendationResponse), params)

    @staticmethod
    def item(item_id: str) -> _Call[Item]:
        return _Call("GET", f"/v1/items/{_seg(item_id)}", _model(Item))

    @staticmethod
    def similar(item_id: str, n: int, lang: str) -> _Call[RecommendationResponse]:
        params = [("n", str(n)), ("lang", lang)]
        return _Call("GET", f"/v1/items/{_seg(item_id)}/similar", _model(RecommendationResponse), params)

    @staticmethod
    def bundle(item_id: str, n: int, lang: str) -> _Call[RecommendationResponse]:
        params = [("n", str(n)), ("lang", lang)]
        return _Call("GET", f"/v1/items/{_seg(item_id)}/bundle", _model(RecommendationResponse), params)

    @staticmethod
    def search(
        q: str, n: int, category: str | None, min_price: float | None, max_price: float | None, lang: str
    ) -> _Call[Any]:
        params = [("q", q), ("n", str(n)), ("lang", lang)]
        optional = {"category": category, "min_price": min_price, "max_price": max_price}
        params += [(k, str(v)) for k, v in optional.items() if v is not None]
        return _Call("GET", "/v1/search", _schema("SearchResponse", None), params)

    @staticmethod
    def send_events(events: Sequence[dict[str, Any]]) -> _Call[EventsResult]:
        return _Call("POST", "/v1/events", _model(EventsResult), body={"events": list(events)})

    @staticmethod
    def upsert_items(items: Sequence[dict[str, Any]]) -> _Call[UpsertResult]:
        return _Call("POST", "/v1/items", _model(UpsertResult), body={"items": list(items)})

    @staticmethod
    def delete_item(item_id: str) -> _Call[None]:
        return _Call("DELETE", f"/v1/items/{_seg(item_id)}", _nothing)

    @staticmethod
    def train(model: str, params: Mapping[str, Any] | None) -> _Call[str]:
        return _Call(
            "POST",
            "/v1/admin/train",
            lambda r: TrainAccepted.model_validate(_check(r).json()).job,
            body={"model": model, "params": dict(params or {})},
        )

    @staticmethod
    def train_status(job: str) -> _Call[TrainJob]:
        return _Call("GET", f"/v1/admin/train/{_seg(job)}", _model(TrainJob))

    @staticmethod
    def models() -> _Call[list[ModelVersion]]:
        return _Call("GET", "/v1/admin/models", _model(_VERSIONS))

    @staticmethod
    def activate(version: str) -> _Call[ModelVersion]:
        return _Call("POST", f"/v1/admin/models/{_seg(version)}/activate", _model(ModelVersion))

    @staticmethod
    def ready() -> _Call[bool]:
        return _Call("GET", "/health/ready", _ready)

    @staticmethod
    def health() -> _Call[dict[str, Any]]:
        return _Call("GET", "/health/live", _json)

    @staticmethod
    def metrics() -> _Call[str]:
        return _Call("GET", "/metrics", lambda r: _check(r).text)


class _Base:
    def __init__(self, base_url: str | None, api_key: str | None, http_base: httpx.URL | None) -> None:
        if base_url is None and http_base is None:
            raise ConfigError("ShopguideClient needs base_url (or an http_client that has one)")
        self.base_url = str(base_url if base_url is not None else http_base).rstrip("/")
        self.headers = {"accept": "application/json", "user-agent": "shopguide-client"}
        api_key = api_key if api_key is not None else os.environ.get("SHOPGUIDE_API_KEY")
        if api_key:
            self.headers["authorization"] = f"Bearer {api_key}"

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _unreachable(self, call: _Call[Any], exc: httpx.TransportError) -> ServiceUnavailableError:
        return ServiceUnavailableError(f"{call.method} {self._url(call.path)}: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------- sync


class ShopguideClient(_Base):
    """Blocking client. ``http_client`` may be any ``httpx.Client`` (e.g. FastAPI's ``TestClient``); it is
    then used as is and not closed by :meth:`close`."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 5.0,
        api_key: str | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, api_key, http_client.base_url if http_client is not None else None)
        self._owns = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)
        self.timeout = timeout

    def _send(self, call: _Call[T]) -> T:
        try:
            response = self._http.request(
                call.method,
                self._url(call.path),
                params=call.params or None,
                json=call.body,
                headers=self.headers,
            )
        except httpx.TransportError as exc:
            raise self._unreachable(call, exc) from exc
        return call.parse(response)

    # ---- recommendations and catalog
    def recommendations(
        self,
        user: str,
        n: int = 10,
        category: str | Sequence[str] | None = None,
        exclude: Iterable[str] = (),
        lang: str = "en",
    ) -> RecommendationResponse:
        """Personalised items for ``user`` (unknown users get a filled cold-start list)."""
        return self._send(_Api.recommendations(user, n, category, exclude, lang))

    def item(self, item_id: str) -> Item:
        return self._send(_Api.item(item_id))

    def similar(self, item_id: str, n: int = 10, *, lang: str = "en") -> RecommendationResponse:
        return self._send(_Api.similar(item_id, n, lang))

    def bundle(self, item_id: str, n: int = 4, *, lang: str = "en") -> RecommendationResponse:
        """Items from complementary categories that go with ``item_id`` (搭配), each with its reason."""
        return self._send(_Api.bundle(item_id, n, lang))

    def search(
        self,
        q: str,
        n: int = 20,
        *,
        category: str | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        lang: str = "en",
    ) -> Any:
        """Catalog search in Chinese or English (a ``schemas.SearchResponse``)."""
        return self._send(_Api.search(q, n, category, min_price, max_price, lang))

    # ---- writes
    def send_events(
        self, events: Sequence[Event | Mapping[str, Any]], *, batch_size: int = EVENT_BATCH
    ) -> EventsResult:
        """Post events (in chunks of ``batch_size``); invalid ones come back in ``errors`` with their index."""
        records = [_as_dict(e) for e in events]
        results = [
            (i * batch_size, self._send(_Api.send_events(c))) for i, c in enumerate(_chunks(records, batch_size))
        ]
        return _merge_events(results)

    def upsert_items(self, items: Sequence[Item | Mapping[str, Any]], *, batch_size: int = ITEM_BATCH) -> UpsertResult:
        records = [_as_dict(it) for it in items]
        done = sum(self._send(_Api.upsert_items(c)).upserted for c in _chunks(records, batch_size))
        return UpsertResult(upserted=done)

    def delete_item(self, item_id: str) -> None:
        self._send(_Api.delete_item(item_id))

    # ---- admin
    def train(self, model: str = "fallback", params: Mapping[str, Any] | None = None) -> str:
        """Start training in the background; returns the job id (see :meth:`train_status`)."""
        return self._send(_Api.train(model, params))

    def train_status(self, job: str) -> TrainJob:
        return self._send(_Api.train_status(job))

    def wait_for_training(self, job: str, *, timeout: float = 300.0, poll: float = 0.2) -> TrainJob:
        """Poll until the job is done or failed; ServiceUnavailableError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.train_status(job)
            if status.finished:
                return status
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(f"training job {job} still {status.status} after {timeout:.0f}s")
            time.sleep(poll)

    def models(self) -> list[ModelVersion]:
        return self._send(_Api.models())

    def activate(self, version: str) -> ModelVersion:
        return self._send(_Api.activate(version))

    # ---- health
    def ready(self) -> bool:
        """True when the service has a model loaded and its store answers (False on 503)."""
        return self._send(_Api.ready())

    def health(self) -> dict[str, Any]:
        """The liveness answer (raises ServiceUnavailableError when the server is unreachable)."""
        return self._send(_Api.health())

    def metrics(self) -> str:
        """The Prometheus metrics page."""
        return self._send(_Api.metrics())

    def wait_ready(self, timeout: float = 60.0, poll: float = 0.2) -> None:
        """Block until :meth:`ready` is true; ServiceUnavailableError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.ready():
                    return
            except ServiceUnavailableError:
                pass
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(f"{self.base_url} not ready after {timeout:.0f}s")
            time.sleep(poll)

    # ---- lifecycle
    def close(self) -> None:
        if self._owns:
            self._http.close()

    def __enter__(self) -> ShopguideClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --------------------------------------------------------------------------- async


class AsyncShopguideClient(_Base):
    """The same API as :class:`ShopguideClient`, ``await``-able. ``http_client`` may be any
    ``httpx.AsyncClient`` (e.g. with ``httpx.ASGITransport(app)``); it is then not closed by :meth:`aclose`."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 5.0,
        api_key: str | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, http_client.base_url if http_client is not None else None)
        self._owns = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self.timeout = timeout

    async def _send(self, call: _Call[T]) -> T:
        try:
            response = await self._http.request(
                call.method,
                self._url(call.path),
                params=call.params or None,
                json=call.body,
                headers=self.headers,
            )
        except httpx.TransportError as exc:
            raise self._unreachable(call, exc) from exc
        return call.parse(response)

    async def recommendations(
        self,
        user: str,
        n: int = 10,
        category: str | Sequence[str] | None = None,
        exclude: Iterable[str] = (),
        lang: str = "en",
    ) -> RecommendationResponse:
        return await self._send(_Api.recommendations(user, n, category, exclude, lang))

    async def item(self, item_id: str) -> Item:
        return await self._send(_Api.item(item_id))

    async def similar(self, item_id: str, n: int = 10, *, lang: str = "en") -> RecommendationResponse:
        return await self._send(_Api.similar(item_id, n, lang))

    async def bundle(self, item_id: str, n: int = 4, *, lang: str = "en") -> RecommendationResponse:
        return await self._send(_Api.bundle(item_id, n, lang))

    async def search(
        self,
        q: str,
        n: int = 20,
        *,
        category: str | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        lang: str = "en",
    ) -> Any:
        return await self._send(_Api.search(q, n, category, min_price, max_price, lang))

    async def send_events(
        self, events: Sequence[Event | Mapping[str, Any]], *, batch_size: int = EVENT_BATCH
    ) -> EventsResult:
        records = [_as_dict(e) for e in events]
        results = []
        for i, chunk in enumerate(_chunks(records, batch_size)):
            results.append((i * batch_size, await self._send(_Api.send_events(chunk))))
        return _merge_events(results)

    async def upsert_items(
        self, items: Sequence[Item | Mapping[str, Any]], *, batch_size: int = ITEM_BATCH
    ) -> UpsertResult:
        records = [_as_dict(it) for it in items]
        done = 0
        for chunk in _chunks(records, batch_size):
            done += (await self._send(_Api.upsert_items(chunk))).upserted
        return UpsertResult(upserted=done)

    async def delete_item(self, item_id: str) -> None:
        await self._send(_Api.delete_item(item_id))

    async def train(self, model: str = "fallback", params: Mapping[str, Any] | None = None) -> str:
        return await self._send(_Api.train(model, params))

    async def train_status(self, job: str) -> TrainJob:
        return await self._send(_Api.train_status(job))

    async def wait_for_training(self, job: str, *, timeout: float = 300.0, poll: float = 0.2) -> TrainJob:
        deadline = time.monotonic() + timeout
        while True:
            status = await self.train_status(job)
            if status.finished:
                return status
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(f"training job {job} still {status.status} after {timeout:.0f}s")
            await asyncio.sleep(poll)

    async def models(self) -> list[ModelVersion]:
        return await self._send(_Api.models())

    async def activate(self, version: str) -> ModelVersion:
        return await self._send(_Api.activate(version))

    async def ready(self) -> bool:
        return await self._send(_Api.ready())

    async def health(self) -> dict[str, Any]:
        return await self._send(_Api.health())

    async def metrics(self) -> str:
        return await self._send(_Api.metrics())

    async def wait_ready(self, timeout: float = 60.0, poll: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if await self.ready():
                    return
            except ServiceUnavailableError:
                pass
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(f"{self.base_url} not ready after {timeout:.0f}s")
            await asyncio.sleep(poll)

    async def aclose(self) -> None:
        if self._owns:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncShopguideClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
