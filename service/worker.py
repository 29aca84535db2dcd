"""One serving worker process: load the models, then listen on its own SO_REUSEPORT socket and
serve until told to drain.

Each worker binds its own socket (``SO_REUSEPORT``), so the kernel spreads connections over the
workers instead of letting whichever wakes first take them all, and a worker that stops
listening takes no connection it will not serve. Models are loaded before the socket exists:
a worker never holds connections it cannot answer yet, and one whose models do not load exits
at once with ``LOAD_FAILED`` (unless ``fail_fast`` is off).

Draining (SIGTERM): readiness turns 503 at once; after ``pre_stop_delay_s`` the listener
stops taking new connections and closes once its backlog is served (``service.listener``:
a client that connects then waits a second for another worker, or is refused once none
listens, and is never reset); requests already received are answered, keep-alive
connections are told
``Connection: close`` (an idle one may still send one more request within a short linger);
then the worker exits 0, at the latest after ``graceful_timeout_s``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.listener import listening_socket, pending_connections, stop_new_connections
from service.settings import Settings

LOAD_FAILED = 3  # exit status of a worker whose models could not be loaded
IDLE_LINGER_S = 1.0  # how long an idle keep-alive connection may still send a request at drain
HANDSHAKE_GRACE_S = 0.2  # at drain, between refusing new connections and closing the listener

log = logging.getLogger("service.worker")


class DrainingProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, but at shutdown an idle keep-alive connection is not cut at
    once: a request already on its way is answered (with ``Connection: close``), and the
    connection closes when that answer is sent or after ``IDLE_LINGER_S``."""

    draining = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if getattr(self.server_state, "draining", False):  # accepted while the listener closed
            self.shutdown()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False

    def shutdown(self) -> None:
        self.draining = True
        if self.cycle is None or self.cycle.response_complete:
            self.loop.call_later(IDLE_LINGER_S, self._close_if_idle)
        else:
            self.cycle.keep_alive = False

    def _close_if_idle(self) -> None:
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first SIGTERM/SIGINT starts a drain (see the module docstring)
    and whose SIGHUP reloads the models."""

    def __init__(self, config: uvicorn.Config, app_state: Any, pre_stop_delay_s: float) -> None:
        super().__init__(config)
        self.app_state = app_state
        self.pre_stop_delay_s = pre_stop_delay_s
        self.drain_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drain_at is None:
            self.app_state.registry.draining = True  # /health/ready: 503 from now on
            self.drain_at = time.monotonic() + self.pre_stop_delay_s
            log.info("draining: not ready; listener closes in %.1f s", self.pre_stop_delay_s)
        elif sig == signal.SIGINT:
            self.force_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self.drain_at is not None and time.monotonic() >= self.drain_at:
            self.should_exit = True
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Before the listener closes, stop new connections to it, let handshakes under way
        finish, and take every connection waiting in its backlog (closing it would reset
        them): they are served like the others, then closed (``service.listener``)."""
        self.server_state.draining = True  # type: ignore[attr-defined]
        listeners = sockets or []
        if any([stop_new_connections(listener) for listener in listeners]):
            await asyncio.sleep(HANDSHAKE_GRACE_S)
        loop = asyncio.get_running_loop()
        for listener in listeners:
            for connection in pending_connections(listener):
                loop.create_task(loop.connect_accepted_socket(self._protocol, connection))
        await super().shutdown(sockets)

    def _protocol(self) -> asyncio.Protocol:
        return DrainingProtocol(
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        reload = self.app_state.reload
        if reload is not None:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload()))


def run_worker(index: int, log_config: dict[str, Any]) -> None:
    """The worker process' body (settings come from TAGGER_* variables, as in the parent)."""
    import logging.config

    from service.loading import load_models_now
    from service.main import create_app

    logging.config.dictConfig(log_config)
    os.environ["TAGGER_WORKER_INDEX"] = str(index)
    settings = Settings()
    load_error: str | None = None
    try:
        taggers = load_models_now(settings)
    except Exception as error:
        message = f"failed to load models: {type(error).__name__}: {error}"
        if settings.fail_fast:
            print(f"error: {message}", file=sys.stderr, flush=True)
            sys.exit(LOAD_FAILED)
        log.exception("%s (fail_fast is off: serving with /health/ready 503)", message)
        taggers, load_error = [], message
    app = create_app(settings, taggers=taggers, load_error=load_error)
    config = uvicorn.Config(
        app,
        http=DrainingProtocol,
        log_config=None,
        access_log=settings.access_log,
        timeout_graceful_shutdown=settings.graceful_timeout_s,
        lifespan="on",
    )
    server = DrainingServer(config, app.state, settings.pre_stop_delay_s)
    server.run(sockets=[listening_socket(settings.host, settings.port)])
