"""One exception tree for all of shopguide.

::

    ShopguideError
    ├── ConfigError              bad settings or an unknown URL scheme / model name
    ├── MissingDependencyError   an optional extra is not installed
    ├── DataError                bad input data; carries file, line and field when known
    ├── StoreError               the store failed (unreachable, locked, closed) or is in an unexpected state
    │   └── StoreRefusedError    the database refused one statement (a constraint, a value): not an outage
    ├── NotFoundError            an id the caller named does not exist
    ├── ConflictError            the request clashes with the current state (a concurrent change, a running experiment)
    ├── ModelError               model misuse: not fitted, incompatible bundle, ...
    │   └── NotFittedError
    └── AccessError              a request may not be served to this caller (service only)
        ├── AuthError            no valid credentials (401)
        ├── PermissionDeniedError  valid credentials without the route's scope (403)
        └── RateLimitedError     too many requests; carries ``retry_after`` seconds (429)

Domain code raises these; the CLI and the service map them to exit codes / HTTP status in one place.
"""

from __future__ import annotations


class ShopguideError(Exception):
    """Base class of every error shopguide raises on purpose."""


class ConfigError(ShopguideError):
    """Invalid configuration: settings, URLs, model names or parameters."""


class MissingDependencyError(ShopguideError):
    """An optional dependency is needed but not installed."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f"{package!r} is not installed; install it with: pip install 'shopguide[{extra}]'")
        self.package = package
        self.extra = extra


class DataError(ShopguideError):
    """Invalid input data. ``str(err)`` names the file, line and field when they are known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def located(self, *, file: str | None = None, line: int | None = None) -> DataError:
        """Return a copy of this error with the file and/or line filled in (existing values win)."""
        return DataError(
            self.message,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            field=self.field,
        )


class StoreError(ShopguideError):
    """The store failed, or holds data in a state this version cannot use."""


class StoreRefusedError(StoreError):
    """The database refused a statement (a constraint, a value it cannot hold, an SQL error): the store is up,
    and sending the same data again will not help."""


class ConflictError(ShopguideError):
    """The request clashes with the current state: another writer changed it first, or it would contradict
    something already running (e.g. a second experiment on one decision point). Retrying later may succeed."""


class NotFoundError(ShopguideError):
    """A named id (item, user, model version) does not exist."""


class ModelError(ShopguideError):
    """A recommender was used wrongly or a saved bundle cannot be loaded."""


class NotFittedError(ModelError):
    """A recommender method that needs ``fit`` was called before it."""


class AccessError(ShopguideError):
    """A request may not be served to this caller."""


class AuthError(AccessError):
    """No credentials, or credentials that are not valid (unknown, expired or revoked key)."""


class PermissionDeniedError(AccessError):
    """Valid credentials that lack the scope the route needs."""


class RateLimitedError(AccessError):
    """The caller exceeded its rate limit; ``retry_after`` is how many seconds until a request is accepted."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
