"""Run the API under uvicorn.

With ``workers > 1`` that many processes serve, each opening the store from the environment:
parsing and validation then use every core. Their events are committed by one more process, the
writer (:func:`~shopkeeper.events.writer.serve_workers`), which also runs the projector. One
connection appending for all workers groups more events per commit, and on SQLite it keeps its
page cache: a connection drops its cache whenever another one has committed, so two workers
appending in turn each read every index page they touch back from the file. Their Prometheus
metrics are summed over all of them (``ops.metrics.shared_across_processes``).

On POSIX systems the parent process accepts the connections and hands them to the workers in
turn (the accepted socket travels over a Unix socket pair, ``SCM_RIGHTS``), so every worker
holds the same share of a client's keep-alive connections. Neither alternative balances:
uvicorn's workers share one listening socket, and uvloop accepts a whole burst of connections in
whichever worker wakes first (one worker held most of a load generator's connections and queued
while the other idled); one ``SO_REUSEPORT`` socket per worker spreads connections by a hash,
and 16 connections split 11/5 or worse in one run in five, which puts two thirds of the load on
one worker. Elsewhere uvicorn's workers are used, each committing its own events and running a
projector (no writer process).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import multiprocessing
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from shopkeeper.app import create_app
from shopkeeper.application import Shopkeeper
from shopkeeper.events.writer import serve_workers
from shopkeeper.ops.http import CoalescingHttpTools
from shopkeeper.ops.logging import configure_logging
from shopkeeper.ops.metrics import shared_across_processes
from shopkeeper.ops.runtime import tune_gc

APP = "shopkeeper.ops.server:app_from_environment"
#: This worker's channel to the server's writer process (:func:`_worker` sets it); the writer
#: then runs the projector, not the worker.
_WRITER: socket.socket | None = None
#: How much lower the workers' CPU priority is than the writer's (``nice``). The writer
#: commits for all of them, one group at a time, so while it waits for a core every request
#: waits; the workers' parsing can wait instead.
WORKER_NICENESS = 10
#: Pending connections per worker socket (uvicorn's default).
BACKLOG = 2048


def app_from_environment() -> FastAPI:
    """The app factory each worker process calls (settings from the environment)."""
    shop = Shopkeeper.open()
    configure_logging(shop.settings.log_level, json=shop.settings.log_json)
    if _WRITER is not None:
        shop.events.use_writer_process(_WRITER)
    app = create_app(shop, projector=_WRITER is None)
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
    with shared_across_processes():
        if hasattr(socket, "send_fds"):
            serve_balanced(workers, options)
        else:
            uvicorn.run(APP, factory=True, workers=workers, **options)


def serve_balanced(workers: int, options: dict[str, Any]) -> None:
    """``workers`` processes serving the connections this process accepts, dealt in turn, and
    the writer process that commits their events.

    It stops the workers on SIGINT/SIGTERM, and when one worker (or the writer) exits it stops
    the others; the writer ends once every worker has; all die with the parent even on SIGKILL.
    """
    try:
        listener = _socket(options["host"], options["port"])
        listener.listen(BACKLOG)
    except OSError as exc:
        raise SystemExit(
            f"cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}"
        ) from None
    listener.setblocking(False)
    context = multiprocessing.get_context("spawn")
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    links = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    processes = [
        context.Process(target=_worker, args=(options, theirs, link))
        for (_, theirs), (link, _) in zip(pairs, links, strict=True)
    ]
    writer = context.Process(
        target=_writer, args=([end for _, end in links],), name="shopkeeper-writer"
    )
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
        writer.start()
        for process in processes:
            process.start()
        for _, theirs in pairs:
            theirs.close()
        for one, other in links:  # the writer's channels now belong to the children
            one.close()
            other.close()
        sentinels = [p.sentinel for p in processes] + [writer.sentinel]
        _deal(listener, [ours for ours, _ in pairs], sentinels)
        terminate()  # the first worker to exit ends the server
        for process in processes:
            process.join()
        writer.join(60)  # it answers what the workers sent, then sees them gone
        if writer.is_alive():
            writer.terminate()
            writer.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        listener.close()
        for ours, _ in pairs:
            ours.close()
    failed = [p.exitcode for p in [*processes, writer] if p.exitcode not in (0, -signal.SIGTERM)]
    if failed and not signalled:
        raise SystemExit(f"a server worker exited with {failed[0]}")


def _deal(listener: socket.socket, channels: list[socket.socket], sentinels: list[int]) -> None:
    """Accept connections and send each to the next worker, until a worker exits."""
    turn = itertools.cycle(channels)
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        for sentinel in sentinels:
            selector.register(sentinel, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is not listener:
                    return
                while True:
                    try:
                        connection, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:  # e.g. out of file descriptors: wait, the client retries
                        time.sleep(0.05)
                        break
                    with connection:
                        try:
                            socket.send_fds(next(turn), [b"c"], [connection.fileno()])
                        except OSError:  # that worker is gone: the server stops
                            return


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _worker(options: dict[str, Any], channel: socket.socket, link: socket.socket) -> None:
    global _WRITER
    _WRITER = link
    _die_with_parent("sk-worker")
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    config = uvicorn.Config(APP, factory=True, **options)
    HandedServer(config, channel).run()


def _writer(channels: list[socket.socket]) -> None:
    """The writer process: commit every worker's events and run the projector, until every
    worker has closed its channel."""
    _die_with_parent("sk-writer")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the workers; then this ends
    shop = Shopkeeper.open()
    configure_logging(shop.settings.log_level, json=shop.settings.log_json)
    tune_gc()
    shop.events.start()
    try:
        serve_workers(channels, shop.events.writer)
    finally:
        shop.events.stop()
        shop.close()


class HandedServer(uvicorn.Server):
    """A uvicorn server that listens on no socket: it serves the accepted connections its
    parent sends over ``channel``, and stops when the parent closes it."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel
        self._taking: set[asyncio.Task[None]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config, loop = self.config, asyncio.get_running_loop()

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )

        async def serve(connection: socket.socket) -> None:
            try:
                await loop.connect_accepted_socket(create_protocol, connection)
            except OSError:  # the client left before the connection was taken up
                connection.close()

        def receive() -> None:
            try:
                message, fds, _, _ = socket.recv_fds(self.channel, 1024, 256)
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message:  # the parent is gone
                loop.remove_reader(self.channel.fileno())
                self.should_exit = True
                return
            for fd in fds:
                task = loop.create_task(serve(socket.socket(fileno=fd)))
                self._taking.add(task)  # a reference, so the task is not collected early
                task.add_done_callback(self._taking.discard)

        self.servers = []
        self.channel.setblocking(False)
        loop.add_reader(self.channel.fileno(), receive)
        self.started = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets)


def _die_with_parent(name: str) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and
    name it (``PR_SET_NAME``: what ``ps``, ``top`` and ``/proc/<pid>/comm`` show)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        libc.prctl(15, name.encode()[:15])  # 15 = PR_SET_NAME
