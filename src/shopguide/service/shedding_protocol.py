"""uvicorn's httptools protocol with load shedding in front of the ASGI app.

Under an overload of several times what a worker can serve, the 503s themselves become the work: in
the ASGI middleware each costs a request task, uvicorn's response cycle and Starlette's outer layers
(0.044 ms of CPU; 0.018 ms here, ``benchmarks/shed_cost.py``). This protocol applies the worker's :class:`ShedPolicy` as soon as a
request's headers are parsed and writes a prepared 503 straight to the socket: no task, no ASGI scope,
no middleware. Admitted requests take uvicorn's normal path unchanged (and meet the middleware, which
then never refuses them, as both count the same limit).

The number of requests in flight is uvicorn's own count of request tasks in this worker, which rises
the moment a request is admitted (the middleware's count only when its task starts running: a burst
read in one event-loop turn would all be admitted). A pipelined request behind one still in progress is
never refused here, as its answer must wait for the one before it; uvicorn queues it as usual.

``shopguide serve`` runs uvicorn with ``http="shopguide.service.shedding_protocol:SheddingHttpToolsProtocol"``.
The policy is the ``shedding`` attribute of the app's state (set by ``create_app``); an app without
one is served exactly like plain uvicorn.
"""

from __future__ import annotations

from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from shopguide.service.resilience import ShedPolicy


class _NoWaiter:
    """The cycle's ``message_event`` for a refused request: nobody waits on it."""

    def set(self) -> None:
        return None


class _Refused:
    """Stands in for the response cycle of a refused request: already complete, so the parser callbacks
    for the rest of that request (its body, its end) and a lost connection have nothing to do."""

    response_complete = True
    disconnected = False
    message_event = _NoWaiter()


_REFUSED = _Refused()


def find_policy(app: Any) -> ShedPolicy | None:
    """The :class:`ShedPolicy` of an app, looking through uvicorn's wrappers (``.app`` attributes)."""
    for _ in range(8):
        if app is None:
            return None
        policy = getattr(getattr(app, "state", None), "shedding", None)
        if isinstance(policy, ShedPolicy):
            return policy
        app = getattr(app, "app", None)
    return None


class SheddingHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that answers 503 + ``Retry-After`` itself while the worker is overloaded."""

    _policy: ShedPolicy | None
    _policy_looked_up = False

    def _shed_policy(self) -> ShedPolicy | None:
        if not self._policy_looked_up:
            self._policy = find_policy(self.app)
            self._policy_looked_up = True
        return self._policy

    def on_headers_complete(self) -> None:
        # a refusal just before, in the same read, armed the keep-alive timeout: this request disarms it
        self._unset_keepalive_if_required()
        policy = self._shed_policy()
        if policy is not None and (self.cycle is None or self.cycle.response_complete):
            detail = policy.overloaded(len(self.tasks))
            if detail is not None and not self.parser.should_upgrade():
                path = httptools.parse_url(self.url).path.decode("ascii", "replace")
                if not policy.exempt(path):
                    self._refuse(policy, detail)
                    return
        super().on_headers_complete()

    def _refuse(self, policy: ShedPolicy, detail: str) -> None:
        method = self.parser.get_method().decode("ascii", "replace")
        policy.refused(method)
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        body = policy.body(detail)
        head = [STATUS_LINE[503]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\ncontent-length: ",
            str(len(body)).encode(),
            b"\r\nretry-after: ",
            str(policy.retry_after).encode(),
            b"\r\n" if keep_alive else b"\r\nconnection: close\r\n",
            b"\r\n",
            body,
        ]
        self.cycle = _REFUSED  # type: ignore[assignment]
        self.transport.write(b"".join(head))
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()  # counts it, resumes reading, arms the keep-alive timeout
