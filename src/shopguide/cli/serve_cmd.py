"""``shopguide serve``: run the HTTP service under uvicorn, with one or several worker processes.

The parent prepares the home once (imports the demo catalog into an empty store, trains the start-up
model when there is none) before any worker starts, so that several workers never import or train at
the same time; each worker then only opens the store and loads the active model. Settings reach the
workers through ``SHOPGUIDE_*`` environment variables. With several workers, Prometheus runs in
multi-process mode (a fresh ``PROMETHEUS_MULTIPROC_DIR`` under the home) so that ``/metrics`` sums them.

Also runnable without the CLI wiring: ``python -m shopguide.cli.serve_cmd --workers 2 --home var``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from shopguide.cli.common import HomeOpt, StoreOpt, console, handle_errors, settings_from
from shopguide.config import Settings
from shopguide.service.listener import REUSE_PORT, reserve

log = logging.getLogger(__name__)

APP = "shopguide.service.app:app_from_env"
#: uvicorn's httptools protocol refusing overload before the ASGI app (see shedding_protocol.py)
HTTP_PROTOCOL = "shopguide.service.shedding_protocol:SheddingHttpToolsProtocol"
METRICS_DIR = "prometheus-multiproc"


def prepare(settings: Settings) -> str | None:
    """Import the demo catalog / train the start-up model when needed (once, in this process, without
    loading the model: each worker loads it and builds its indexes). Returns the version to be served."""
    from shopguide.service.state import ServiceState
    from shopguide.store import open_store

    with open_store(settings.resolved_store_url) as store:
        return ServiceState.prepare_home(settings, store)


def first_admin_key(settings: Settings) -> str | None:
    """The admin key created for a home that has none (printed once by ``serve``), else None; also makes
    sure the server secret exists before the workers start."""
    from shopguide.security.manage import ensure_local_admin
    from shopguide.security.secret import server_secret
    from shopguide.store import open_store

    server_secret(settings)
    with open_store(settings.resolved_store_url) as store:
        return ensure_local_admin(store, settings)


def export_settings(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Make the workers (fresh interpreters) see the same settings as this command."""
    os.environ["SHOPGUIDE_HOME"] = str(settings.home)
    if settings.store_url:
        os.environ["SHOPGUIDE_STORE_URL"] = settings.store_url
    os.environ["SHOPGUIDE_HOST"] = host
    os.environ["SHOPGUIDE_PORT"] = str(port)
    os.environ["SHOPGUIDE_WORKERS"] = str(workers)
    if settings.insecure_dev:
        os.environ["SHOPGUIDE_INSECURE_DEV"] = "true"


def metrics_dir(home: Path) -> Path:
    """An empty directory for prometheus_client's multi-process files (stale files from a previous run
    would add old counts to the new run's totals)."""
    path = home / METRICS_DIR
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@contextmanager
def worker_listeners() -> Iterator[None]:
    """Make uvicorn's supervisor (several workers, or --reload) bind a ReusePortListener, so that each
    worker listens on a SO_REUSEPORT socket of its own and gets its share of new connections, with
    TCP_NODELAY (see :mod:`shopguide.service.listener`). A Unix socket or an inherited fd keeps uvicorn's
    own binding; where SO_REUSEPORT does not exist the one shared socket stays, made IPPROTO_TCP (uvicorn
    creates it with proto 0, and asyncio turns TCP_NODELAY on only for IPPROTO_TCP sockets)."""
    import uvicorn.config

    original = uvicorn.config.Config.bind_socket
    uvicorn_log = logging.getLogger("uvicorn.error")  # configured by uvicorn, unlike ours

    def bind_socket(self: uvicorn.config.Config) -> socket.socket:
        if self.uds is None and self.fd is None and REUSE_PORT:
            try:
                sock = reserve(self.host, self.port)
            except OSError as exc:
                uvicorn_log.error("could not listen on %s:%s: %s", self.host, self.port, exc)
                sys.exit(uvicorn.config.STARTUP_FAILURE)
            port = sock.getsockname()[1]
            uvicorn_log.info("Uvicorn running on http://%s:%d, one SO_REUSEPORT socket per worker", self.host, port)
            return sock
        sock = original(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            sock.set_inheritable(True)
        return sock

    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]
    try:
        yield
    finally:
        uvicorn.config.Config.bind_socket = original  # type: ignore[method-assign]


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on. Env: SHOPGUIDE_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on. Env: SHOPGUIDE_PORT.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (one model copy each). Env: SHOPGUIDE_WORKERS.")
    ] = None,
    home: HomeOpt = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development; one worker).")] = False,
    store: StoreOpt = None,
    graceful_timeout: Annotated[
        float, typer.Option(help="Seconds in-flight requests get to finish on shutdown.")
    ] = 10.0,
    access_log: Annotated[bool, typer.Option(help="Log every request (costly under load).")] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    insecure_dev: Annotated[
        bool,
        typer.Option(
            "--insecure-dev",
            help="INSECURE: no API keys, every caller is admin (local experiments only). Env: SHOPGUIDE_INSECURE_DEV.",
        ),
    ] = False,
) -> None:
    """Serve recommendations, events, catalog and admin over HTTP (docs at /docs)."""
    import uvicorn

    with handle_errors():
        settings = settings_from(home, store)
        settings = settings.model_copy(update={"home": settings.home.resolve()})
        if insecure_dev:
            settings = settings.model_copy(update={"insecure_dev": True})
        host = host or settings.host
        port = port if port is not None else settings.port
        workers = 1 if reload else (workers or settings.workers)
        settings.home.mkdir(parents=True, exist_ok=True)

        console.print(f"preparing [bold]{settings.home}[/] (store {settings.resolved_store_url})")
        version = prepare(settings)
        admin_key = first_admin_key(settings)
        if admin_key is not None:
            console.print("[bold]An admin API key was created for this home. It is shown only this once; keep it:[/]\n")
            console.print(admin_key, markup=False, highlight=False, soft_wrap=True)
            console.print(
                "\nsend it as 'Authorization: Bearer <key>' to the admin routes (/v1/admin, /dashboard, /metrics); "
                "more keys: shopguide keys create --help. The storefront at / needs no key.\n"
            )
        if settings.insecure_dev:
            console.print("[bold red]INSECURE DEV MODE: no keys are checked; every caller is admin.[/]")
        export_settings(settings, host=host, port=port, workers=workers)
        if workers > 1:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(settings.home))
        console.print(
            f"shopguide serving model [bold]{version}[/] on [bold]http://{host}:{port}[/] "
            f"({workers} worker{'s' if workers > 1 else ''}); API docs at http://{host}:{port}/docs"
        )
    with worker_listeners():
        uvicorn.run(
            APP,
            factory=True,
            http=HTTP_PROTOCOL,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            timeout_graceful_shutdown=graceful_timeout,
            access_log=access_log,
            log_level=log_level,
        )


if __name__ == "__main__":
    typer.run(serve)
