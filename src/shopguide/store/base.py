"""The Store protocol: what every storage backend offers, whatever database sits behind it.

Contract (checked by ``tests/store/contract.py`` for every backend):

- Items are soft-deleted: a ``deleted`` flag hides them from reads, iteration and datasets; upserting the
  item again brings it back.
- Events are append-only and idempotent: :meth:`Event.key` is a unique key and a second copy is counted
  as a duplicate, never stored twice. Events come back with ``id`` set to that key.
- Event order is (ts, insertion order). ``iter_*`` methods page through the data with short queries, so
  they hold no transaction open between pages (and are not a snapshot).
- :meth:`Store.import_batch` is all or nothing; every other write is one short transaction.
- Chat sessions (the guide's dialogue state) are JSON objects kept by session id; the last write wins.
- Hand-off tickets are appended with a new id each; only their status changes afterwards. Listing is newest
  first. The caller scrubs personal data from a ticket's text before it is stored.
- A shopper's data (user row, events, chat sessions whose state names them, tickets naming them or their
  sessions) is exported whole by :meth:`Store.export_user` and removed in one transaction by
  :meth:`Store.erase_user`; :meth:`Store.purge` removes events and sessions older than a cutoff (retention).
  Both leave a new :meth:`Store.data_generation`, so copies made from the store (analytics) know to rebuild.
- The learning loop's decision points are written by compare-and-set on a version; a logged decision is
  closed (its reward recorded) exactly once, in the same transaction as the policy update that learned from it.
- API keys are stored as records with a keyed hash (never the key); revoking keeps the record, and
  "last used" times only move forward. Audit entries are append-only, listed newest first.
- Database failures surface as :class:`~shopguide.errors.StoreError`; unknown ids as
  :class:`~shopguide.errors.NotFoundError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from shopguide.bandit.decisions import Closing, DecisionRecord, PolicyRow
    from shopguide.data.dataset import Dataset
    from shopguide.data.schema import Event, Item, User
    from shopguide.security.audit import AuditEntry
    from shopguide.security.keys import ApiKey


@dataclass(frozen=True)
class AddEventsResult:
    """How many events were new (``accepted``) and how many had a key already stored (``duplicate``)."""

    accepted: int = 0
    duplicate: int = 0

    @property
    def total(self) -> int:
        return self.accepted + self.duplicate

    def __add__(self, other: AddEventsResult) -> AddEventsResult:
        return AddEventsResult(self.accepted + other.accepted, self.duplicate + other.duplicate)


@dataclass(frozen=True)
class ImportResult:
    """What one :meth:`Store.import_batch` wrote."""

    items: int = 0
    users: int = 0
    events: AddEventsResult = field(default_factory=AddEventsResult)


@dataclass(frozen=True)
class ErasureResult:
    """What :meth:`Store.erase_user` removed: the user row (0 or 1), events, chat sessions, tickets and the
    learning loop's logged decisions about the shopper."""

    users: int = 0
    events: int = 0
    sessions: int = 0
    tickets: int = 0
    decisions: int = 0

    @property
    def total(self) -> int:
        return self.users + self.events + self.sessions + self.tickets + self.decisions


@dataclass(frozen=True)
class PurgeResult:
    """What :meth:`Store.purge` removed: events, chat sessions and logged decisions older than the cutoffs."""

    events: int = 0
    sessions: int = 0
    decisions: int = 0


TICKET_STATUSES = ("open", "closed")


@dataclass(frozen=True)
class Ticket:
    """A conversation the guide handed to a person: why, how the shopper felt, and what was said."""

    session_id: str
    reason: str
    sentiment: str = "neutral"
    user_id: str | None = None
    order_id: str | None = None
    summary: str = ""
    transcript: tuple[dict[str, str], ...] = ()
    status: str = "open"
    id: int | None = None
    created_at: float | None = None
    updated_at: float | None = None


@runtime_checkable
class Store(Protocol):
    """Catalog, shoppers and behaviour events, behind one small interface."""

    #: The data lives on this machine (SQLite): a small indexed read takes microseconds and never waits
    #: on a network, so the service may run it on its event loop instead of in a worker thread.
    local: bool = False

    # ---------------------------------------------------------------- items
    def upsert_items(self, items: Iterable[Item]) -> int:
        """Insert or replace items (by id, last one wins); un-deletes them. Returns the number written."""
        ...

    def get_item(self, item_id: str, *, include_deleted: bool = False) -> Item:
        """The item with this id; NotFoundError when unknown (or deleted, unless ``include_deleted``)."""
        ...

    def get_items(self, item_ids: Iterable[str], *, include_deleted: bool = False) -> dict[str, Item]:
        """The known items among ``item_ids``, by id; unknown ids are left out."""
        ...

    def iter_items(self, include_deleted: bool = False) -> Iterator[Item]:
        """All items, ordered by id."""
        ...

    def delete_item(self, item_id: str) -> None:
        """Soft-delete an item; NotFoundError when the id was never stored. Deleting twice is fine."""
        ...

    def deleted_item_ids(self) -> set[str]:
        """The ids of all soft-deleted items (what other service workers may have deleted)."""
        ...

    # ---------------------------------------------------------------- users
    def upsert_users(self, users: Iterable[User]) -> int:
        """Insert or replace users (by id). Returns the number written."""
        ...

    def get_user(self, user_id: str) -> User:
        """The user with this id; NotFoundError when unknown."""
        ...

    def iter_users(self) -> Iterator[User]:
        """All users, ordered by id."""
        ...

    # ---------------------------------------------------------------- events
    def add_events(self, events: Iterable[Event]) -> AddEventsResult:
        """Append events; events whose key is already stored are counted as duplicates and skipped."""
        ...

    def iter_events(self, since_ts: float | None = None, user: str | None = None) -> Iterator[Event]:
        """Events with ``ts >= since_ts`` of ``user`` (None: no filter), in (ts, insertion) order."""
        ...

    def recent_events(self, user: str, limit: int = 20) -> list[Event]:
        """The user's last ``limit`` events, newest first (one indexed query)."""
        ...

    def recent_actions(self, user: str, limit: int = 20) -> list[tuple[str, str]]:
        """``(item, event type)`` of the user's last ``limit`` actions, newest first: what the shopper did,
        so impressions (what was shown) are left out and never crowd out the session's views and carts.
        The request path's lighter ``recent_events`` (backends answer it with one narrow query)."""
        events = self.recent_events(user, 5 * limit)
        return [(ev.item, ev.type.value) for ev in events if ev.type.value != "impression"][:limit]

    def recent_action_times(self, user: str, limit: int = 20) -> list[tuple[str, str, float]]:
        """``(item, event type, ts)`` of the user's last ``limit`` actions, newest first (impressions left out):
        :meth:`recent_actions` with times, for the learning loop's context (session length)."""
        events = self.recent_events(user, 5 * limit)
        return [(ev.item, ev.type.value, ev.ts) for ev in events if ev.type.value != "impression"][:limit]

    def active_users(self, limit: int = 1000) -> list[str]:
        """Up to ``limit`` shoppers by their latest action (impressions are not actions), most recent first:
        whose answers are worth preparing before they ask."""
        latest: dict[str, float] = {}
        for ev in self.iter_events():
            if ev.type.value != "impression":
                latest[ev.user] = ev.ts  # iter_events is in time order: the last seen is the latest
        return sorted(latest, key=lambda user: -latest[user])[: max(limit, 0)]

    def count_events(self) -> int:
        """The number of stored events."""
        ...

    # ---------------------------------------------------------------- chat sessions
    def get_session(self, session_id: str) -> dict[str, Any] | None:
        """The stored state of a chat session (a JSON object), or None when the session is unknown."""
        ...

    def put_session(self, session_id: str, state: Mapping[str, Any]) -> None:
        """Store (insert or replace) the state of a chat session; it must be JSON-serialisable."""
        ...

    # ---------------------------------------------------------------- hand-off tickets
    def add_ticket(self, ticket: Ticket) -> Ticket:
        """Store a new ticket; returns it with ``id`` and times set (``ticket.id`` is ignored)."""
        ...

    def tickets(self, status: str | None = None, limit: int = 100) -> list[Ticket]:
        """Tickets, newest first, optionally only those with ``status``."""
        ...

    def set_ticket_status(self, ticket_id: int, status: str) -> Ticket:
        """Change a ticket's status (``open`` / ``closed``); NotFoundError for an unknown id."""
        ...

    # ---------------------------------------------------------------- a shopper's data, retention
    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything held about the shopper, as one JSON-serialisable dict (read in one snapshot):
        ``user_id``, ``user`` (``{"id", "attributes"}`` or None), ``events`` (oldest first), ``sessions``
        (``{"session_id", "updated_at", "state"}`` of the chat sessions whose state has this ``user_id``) and
        ``tickets`` (those with this ``user_id`` or on one of those sessions). NotFoundError when nothing is held."""
        ...

    def erase_user(self, user_id: str) -> ErasureResult:
        """Remove everything :meth:`export_user` returns, in one write transaction; the counts removed.
        NotFoundError when nothing at all is held (so a second erasure is a NotFoundError)."""
        ...

    def purge(self, before_ts: float | None, *, sessions_before_ts: float | None = None) -> PurgeResult:
        """Delete events with ``ts < before_ts`` and chat sessions last written before ``sessions_before_ts``
        (default: ``before_ts``); None keeps them. Idempotent; large purges run in short batches."""
        ...

    def data_generation(self) -> int:
        """A number that grows whenever rows are removed (erasure, purge): with the last event's sequence it
        tells whether a copy of the events is still current (the analytics export checks it)."""
        ...

    # ---------------------------------------------------------------- access control (store/security_sql.py)
    def add_api_key(self, key: ApiKey) -> None:
        """Store a new API key record (only its keyed hash, never the key)."""
        ...

    def get_api_key(self, key_id: str) -> ApiKey | None:
        """The key record with this id (revoked and expired ones too), or None."""
        ...

    def api_keys(self) -> list[ApiKey]:
        """Every key record, oldest first."""
        ...

    def revoke_api_key(self, key_id: str, at: float) -> ApiKey:
        """Revoke a key (the first revocation time stays); NotFoundError for an unknown id."""
        ...

    def touch_api_keys(self, last_used: dict[str, float]) -> None:
        """Record when keys were last used (never moves a time back)."""
        ...

    def add_audit(self, entries: list[AuditEntry]) -> None:
        """Append audit entries."""
        ...

    def audit_entries(self, limit: int = 100, since_ts: float | None = None) -> list[AuditEntry]:
        """The newest audit entries, newest first."""
        ...

    # ---------------------------------------------------------------- learning loop (store/bandit_sql.py)
    def policy(self, name: str) -> PolicyRow | None:
        """The stored decision point ``name`` (config, learned state, version), or None."""
        ...

    def policies(self) -> list[PolicyRow]:
        """Every stored decision point, by name."""
        ...

    def learning_generation(self) -> tuple[tuple[str, int], ...]:
        """A cheap fingerprint of the policies' versions and experiments' updates (workers reload on change)."""
        ...

    def save_policy(
        self,
        name: str,
        *,
        expected_version: int | None,
        config: Mapping[str, Any] | None = None,
        state: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
        keep_state: bool = False,
        closing: Sequence[Closing] = (),
    ) -> int | None:
        """Compare-and-set a decision point and close ``closing`` decisions in one transaction; the new version,
        or None when the stored version is not ``expected_version`` or a decision was already closed."""
        ...

    def close_decisions(self, closing: Sequence[Closing]) -> int:
        """Close open decisions without a policy write; how many were closed."""
        ...

    def add_decisions(self, decisions: Iterable[DecisionRecord]) -> int:
        """Append served decisions (a repeated id is skipped); how many were new."""
        ...

    def open_decisions(self, before_ts: float, *, limit: int = 5000) -> list[DecisionRecord]:
        """Open decisions made before ``before_ts``, oldest first."""
        ...

    def decisions(
        self,
        point: str | None = None,
        *,
        since_ts: float | None = None,
        closed: bool | None = None,
        experiment: str | None = None,
        user_id: str | None = None,
        limit: int | None = None,
    ) -> list[DecisionRecord]:
        """Logged decisions (filtered by point, time, state, experiment, shopper), oldest first (the newest
        ``limit`` when given)."""
        ...

    def decision_counts(self) -> dict[str, dict[str, int]]:
        """Per decision point: open and closed decision counts."""
        ...

    def put_experiment(self, name: str, point: str, spec: Mapping[str, Any]) -> None:
        """Store (insert or replace) an A/B experiment's spec."""
        ...

    def experiment_specs(self) -> list[dict[str, Any]]:
        """Every stored experiment spec, by name."""
        ...

    def delete_experiment(self, name: str) -> None:
        """Remove an experiment; NotFoundError when unknown."""
        ...

    # ---------------------------------------------------------------- whole store
    def stats(self) -> dict[str, int]:
        """Counts: ``items`` (live), ``deleted_items``, ``users``, ``events``, ``events_<type>``."""
        ...

    def import_batch(
        self,
        items: Iterable[Item] = (),
        users: Iterable[User] = (),
        events: Iterable[Event] = (),
    ) -> ImportResult:
        """Write items, users and events in one transaction: if anything fails (including the iterables
        raising), nothing is written and the exception propagates."""
        ...

    def load_dataset(self, event_weights: Mapping[str, float] | None = None) -> Dataset:
        """A Dataset of all live items, all users and every event except those on deleted items.

        Catalog items and users come first in the vocabularies (ordered by id), so items without events
        are present; ids seen only in events follow in (ts, insertion) order.
        """
        ...

    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""
        ...

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
