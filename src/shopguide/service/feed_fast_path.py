"""Cache hits of GET /v1/users/{id}/recommendations answered before FastAPI's routing.

A feed shown again is the most frequent request and, once cached, the cheapest to answer: one indexed
read of the shopper's recent actions and a dictionary lookup. Through the route, FastAPI's routing,
dependency solving and the validation of twelve query parameters cost several times that (in process
a cached answer took 0.363 ms through the route and takes 0.059 ms here, ``benchmarks/request_cost.py
--compare``, with the faster recent-actions read of ``store/sqlite_reads.py``). This middleware,
inside the metrics and the load shedding, recognises the route's path, builds the same cache key from a
query string in plain form (:meth:`FeedRequest.from_query`) and, on a hit, sends the cached body with
the route's headers.

A hit is served only to a caller the authenticator admits for the ``read`` scope (same check and rate
limit as the route's dependency). Everything else goes to the route unchanged: a refused caller, a miss (the route then computes the answer under its
deadline), a query it does not take as it is (the route parses it and names a bad field), a PostgreSQL
store (read in a thread, as the route does), a worker whose deleted-items sync is due, any error.

When a decision point of the learning loop chooses the feed's strategy, the fast path makes the decision as
the route would (the same context read and choice), looks up the answer of the chosen strategy, and on a hit
logs the decision and adds it to the body; on a miss it hands the decision to the route (``request.state``),
which computes, caches and serves that strategy (deciding afresh would leave the strategies the fast path
draws uncached for longer). A hit
needs no validation of its own: its key can only be in the cache because the route validated the very
same request when it made the answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from shopguide.bandit.runtime import Choice
from shopguide.data.schema import ID_PATTERN
from shopguide.errors import AccessError
from shopguide.service import metrics
from shopguide.service.answer_cache import CachedAnswer
from shopguide.service.feed import FeedRequest, count_sources, look_up
from shopguide.service.learning import decide_feed, with_decision

log = logging.getLogger(__name__)

ROUTE_PATH = "/v1/users/{user_id}/recommendations"
_PATH = re.compile(r"/v1/users/([^/]{1,128})/recommendations")
_ID = re.compile(ID_PATTERN)
_PLACEMENT = re.compile(r"[a-z0-9_-]{1,48}")
#: where a decision made here waits for the route on a miss (``request.state``)
CHOICE_KEY = "feed_choice"


class FeedFastPath:
    """ASGI middleware: serve a recommendations GET from the answer cache when it is there."""

    def __init__(self, app: ASGIApp, route: Any = None) -> None:
        """``route``: the route's APIRoute, set on the scope of a hit so that the metrics label it alike."""
        self.app = app
        self._route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self._cached(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self._route
        metrics.ANSWER_CACHE.labels("hit").inc()
        count_sources(answer.sources)
        headers = [(b"content-length", str(len(answer.body)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _cached(self, scope: Scope) -> CachedAnswer | None:
        match = _PATH.fullmatch(scope["path"])
        if match is None or not _ID.fullmatch(user := match.group(1)):
            return None
        app = scope.get("app")
        state = getattr(getattr(app, "state", None), "shopguide", None)
        if state is None or not state.answers.size or not state.store.local or state.deleted_sync_due():
            return None
        caller = app.state.auth.caller(scope["headers"])
        if caller is None or not caller.allows("read"):
            return None  # the route refuses it, with the error and the audit in one place
        request = FeedRequest.from_query(scope.get("query_string", b""))
        if request is None:
            return None
        try:
            state.models.refresh()
            served = state.models.served
            if served is None:
                return None
            choice = self._decide(app.state, state, served, user, scope.get("query_string", b""))
            if choice is not None:
                request = replace(request, strategy=choice.arm)
            generation = state.deleted_generation  # read before the set, as the route does
            answer = look_up(state, served, user, request, generation, count_miss=False)[2]
        except Exception:  # the route will meet the same failure and answer it its way
            log.debug("fast path lookup failed; the route answers", exc_info=True)
            return None
        if answer is None:
            if choice is not None:  # the route serves this decision (and caches the chosen strategy's answer)
                scope.setdefault("state", {})[CHOICE_KEY] = choice
            return None
        try:  # a hit takes a token from the caller's bucket, as the route's dependency would
            app.state.auth.admit(caller, "read", (scope.get("client") or ("", 0))[0])
        except AccessError:
            return None
        if choice is None:
            return answer
        app.state.learning.log(choice, answer.items, user_id=user)
        return CachedAnswer(with_decision(answer.body, choice), answer.sources, answer.items)

    @staticmethod
    def _decide(app_state: Any, state: Any, served: Any, user: str, query_string: bytes) -> Choice | None:
        """The learning loop's choice for the request's placement, as the route makes it (None: the point is
        off). Raises ValueError for a placement or device the route would refuse (the route then names it)."""
        learning = getattr(app_state, "learning", None)
        if learning is None or not learning.any_active("feed:"):
            return None
        params = dict(parse_qsl(query_string.decode("latin-1")))
        placement, device = params.get("placement", "home"), params.get("device")
        if not _PLACEMENT.fullmatch(placement) or (device is not None and len(device) > 32):
            raise ValueError("a parameter the route validates")
        return decide_feed(learning, state.store, served, user, placement, local_time=params.get("local_time"),
                           device=device)  # fmt: skip
