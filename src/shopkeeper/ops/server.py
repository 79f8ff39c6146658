"""Run the API under uvicorn.

With ``workers > 1`` that many processes serve, each opening the store from the environment with
its own group-commit writer: parsing and validation then use every core, while the database
still serialises the commits (SQLite's write lock, taken with BEGIN IMMEDIATE, is waited for,
not failed). Prometheus counters are per process in that mode.

On Linux each worker listens on its own ``SO_REUSEPORT`` socket, so the kernel spreads new
connections over the workers. uvicorn's own workers share one socket, and uvloop accepts a whole
burst of connections in whichever worker wakes first: under a load generator's keep-alive
connections one worker held most of them and queued while the other idled. Elsewhere (no
``SO_REUSEPORT`` balancing) uvicorn's workers are used.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import signal
import socket
import sys
from typing import Any

import uvicorn
from fastapi import FastAPI

from shopkeeper.app import create_app
from shopkeeper.application import Shopkeeper
from shopkeeper.ops.http import CoalescingHttpTools
from shopkeeper.ops.logging import configure_logging
from shopkeeper.ops.runtime import tune_gc

APP = "shopkeeper.ops.server:app_from_environment"
#: Pending connections per worker socket (uvicorn's default).
BACKLOG = 2048


def app_from_environment() -> FastAPI:
    """The app factory each worker process calls (settings from the environment)."""
    shop = Shopkeeper.open()
    configure_logging(shop.settings.log_level, json=shop.settings.log_json)
    app = create_app(shop)
    tune_gc()
    return app


def run(shop: Shopkeeper, *, host: str, port: int, workers: int | None = None) -> None:
    workers = workers or shop.settings.workers
    configure_logging(shop.settings.log_level, json=shop.settings.log_json)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": shop.settings.log_level,
        "access_log": False,
        "server_header": False,
        "http": CoalescingHttpTools,
    }
    if workers == 1:
        uvicorn.run(create_app(shop), **options)
        return
    shop.close()
    if sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT"):
        serve_reuseport(workers, options)
    else:
        uvicorn.run(APP, factory=True, workers=workers, **options)


def serve_reuseport(workers: int, options: dict[str, Any]) -> None:
    """``workers`` processes, each with its own listening socket on the same address.

    The parent keeps one bound, non-listening socket of the group: it reserves the port (port 0
    picks one for all) and receives no connections. It stops the workers on SIGINT/SIGTERM, and
    when one worker exits it stops the others; a worker dies with the parent even on SIGKILL.
    """
    try:
        reserved = _socket(options["host"], options["port"])
    except OSError as exc:
        raise SystemExit(
            f"cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}"
        ) from None
    port = reserved.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=({**options, "port": port},)) for _ in range(workers)
    ]
    signalled = False

    def terminate() -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    def on_signal(*_: object) -> None:
        nonlocal signalled
        signalled = True
        terminate()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        sentinels = {process.sentinel for process in processes}
        multiprocessing.connection.wait(sentinels)  # the first worker to exit ends the server
        terminate()
        for process in processes:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reserved.close()
    failed = [p.exitcode for p in processes if p.exitcode not in (0, -signal.SIGTERM)]
    if failed and not signalled:
        raise SystemExit(f"a server worker exited with {failed[0]}")


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(options: dict[str, Any]) -> None:
    _die_with_parent()
    sock = _socket(options["host"], options["port"])
    sock.listen(BACKLOG)
    config = uvicorn.Config(APP, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (``PR_SET_PDEATHSIG``)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
