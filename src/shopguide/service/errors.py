"""The one place where domain errors become HTTP status codes (house rule 6)."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopguide.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    DataError,
    ModelError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ShopguideError,
    StoreError,
    StoreRefusedError,
)
from shopguide.security.ratelimit import retry_after_header

log = logging.getLogger(__name__)

STATUS: list[tuple[type[ShopguideError], int, str]] = [
    (DataError, 422, "invalid_input"),
    (ConfigError, 400, "bad_request"),
    (NotFoundError, 404, "not_found"),
    (ModelError, 409, "model_unavailable"),
    (ConflictError, 409, "conflict"),
    (StoreRefusedError, 500, "store_error"),
    (StoreError, 503, "store_unavailable"),
    (AuthError, 401, "unauthorized"),
    (PermissionDeniedError, 403, "forbidden"),
    (RateLimitedError, 429, "rate_limited"),
]


#: What a client is told about a store error; the driver's text (SQL, values) goes to the log only.
STORE_DETAIL = {
    "store_error": "the store could not process this request",
    "store_unavailable": "the store is unavailable; try again later",
}


def error_body(error: str, detail: str, field: str | None = None) -> dict:
    """The one shape of every error answer (``ErrorBody`` in the OpenAPI document)."""
    return {"error": error, "detail": detail, "field": field}


def error_json(error: str, detail: str, field: str | None = None) -> bytes:
    """:func:`error_body` serialised, for the ASGI layers that answer before any route (shedding, body limit)."""
    return json.dumps(error_body(error, detail, field)).encode()


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShopguideError)
    async def domain_error(request: Request, exc: ShopguideError) -> JSONResponse:
        status, code = next(((s, c) for t, s, c in STATUS if isinstance(exc, t)), (500, "internal_error"))
        field = getattr(exc, "field", None)
        detail = exc.message if isinstance(exc, DataError) else str(exc)
        if isinstance(exc, StoreError):
            # the driver's message, without the traceback (whose SQL parameters could hold personal data)
            log.error("%s %s answered %d: %s", request.method, request.url.path, status, exc)
            detail = STORE_DETAIL[code]
        headers = None
        if isinstance(exc, AuthError):
            field, headers = "Authorization", {"WWW-Authenticate": "Bearer"}
        elif isinstance(exc, PermissionDeniedError):
            field = "Authorization"
        elif isinstance(exc, RateLimitedError):
            headers = {"Retry-After": retry_after_header(exc.retry_after)}
        return JSONResponse(error_body(code, detail, field), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return JSONResponse(error_body("invalid_input", "the body is not valid JSON", "body"), 422)
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        return JSONResponse(
            error_body("invalid_input", first.get("msg", "invalid request"), ".".join(loc) or None), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail), None), exc.status_code, headers=exc.headers)
