"""Group commit: one thread writes every request's events, many requests per transaction.

Request handlers hand their prepared events to :meth:`GroupCommitWriter.submit` and wait on
the returned future; the thread gathers what is queued (up to ``max_batch`` events or
``max_wait`` seconds), writes it in one transaction, commits, and only then resolves the
futures. So a 2xx is never sent for an event that is not committed, and concurrent small
requests share one fsync instead of paying one each. If a group fails, each request in it is
retried alone, so one bad request cannot fail its neighbours.

A server of several worker processes runs ONE such writer, in a process of its own
(:func:`serve_workers`); each worker hands its requests over with a :class:`WriterClient`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import itertools
import marshal
import pickle
import queue
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, Protocol, TypeVar

from shopkeeper.errors import Unavailable
from shopkeeper.ops.logging import log

Item = TypeVar("Item")
Result = TypeVar("Result")

_STOP = object()


Sent = TypeVar("Sent", contravariant=True)


class Writer(Protocol[Sent, Result]):
    """What ingest needs of a writer: :class:`GroupCommitWriter` or :class:`WriterClient`."""

    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self, timeout: float = 30.0) -> None: ...

    def submit(self, items: Sequence[Sent]) -> Future[Result]: ...


class GroupCommitWriter(Generic[Item, Result]):
    def __init__(
        self,
        write: Callable[[Sequence[Sequence[Item]]], list[Result]],
        *,
        max_batch: int = 5000,
        max_wait: float = 0.002,
        name: str = "ingest-writer",
        after: Callable[[Sequence[Sequence[Item]]], None] | None = None,
    ) -> None:
        """``write`` stores several requests' items in ONE transaction, returning one result
        per request, in order. ``after`` (optional) gets each committed group once its
        requests are answered: follow-up work that must not delay the acknowledgement."""
        self._write = write
        self._after = after
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._started and self._thread.is_alive()

    def submit(self, items: Sequence[Item]) -> Future[Result]:
        future: Future[Result] = Future()
        self._queue.put((items, future))
        return future

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then stop the thread."""
        if self.running:
            self._queue.put(_STOP)
            self._thread.join(timeout)
        self._started = False

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            size = len(first[0])  # type: ignore[index]
            deadline = time.monotonic() + self._max_wait
            while size < self._max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = (
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else (self._queue.get_nowait())
                    )
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
                size += len(item[0])  # type: ignore[index]
            self._commit(group)  # type: ignore[arg-type]

    def _commit(self, group: list[tuple[Sequence[Item], Future[Result]]]) -> None:
        try:
            results = self._write([items for items, _ in group])
        except Exception:
            if len(group) == 1:
                log.exception("ingest write failed")
                group[0][1].set_exception(
                    Unavailable("the store could not commit the events; retry")
                )
                return
            for one in group:  # isolate the failing request
                self._commit([one])
            return
        for (_, future), result in zip(group, results, strict=True):
            future.set_result(result)
        if self._after is not None:
            try:
                self._after([items for items, _ in group])
            except Exception:  # follow-up work never stops the writer
                log.exception("after-commit work failed")


class WriterClient(Generic[Item, Result]):
    """A server worker's handle on the writer process: :meth:`submit` sends the items over
    ``channel`` (a Unix socket to :func:`serve_workers`), and a thread resolves each future
    when the writer answers, that is once the items are committed."""

    def __init__(self, channel: socket.socket) -> None:
        self._channel = channel
        self._sending = threading.Lock()
        self._pending: dict[int, Future[Result]] = {}
        self._numbers = itertools.count()
        self._thread = threading.Thread(target=self._receive, name="writer-client", daemon=True)
        self._closed = False

    def start(self) -> None:
        if not self._closed and not self._thread.is_alive():
            self._thread.start()

    @property
    def running(self) -> bool:
        return not self._closed and self._thread.is_alive()

    def submit(self, items: Sequence[Item]) -> Future[Result]:
        future: Future[Result] = Future()
        number = next(self._numbers)
        self._pending[number] = future
        try:
            _send(self._channel, self._sending, (number, list(items)))
        except OSError:
            self._pending.pop(number, None)
            future.set_exception(Unavailable("the store's writer is gone; retry"))
        return future

    def stop(self, timeout: float = 30.0) -> None:
        """Wait for the answers to what was submitted, then close the channel."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._channel.shutdown(socket.SHUT_WR)  # the writer answers the rest, then closes
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._channel.close()
        self._fail_pending()

    def _receive(self) -> None:
        try:
            while (answer := _receive(self._channel)) is not None:
                number, ok, value = answer
                future = self._pending.pop(number, None)
                if future is None:
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(Unavailable(value))
        except OSError:
            pass
        finally:
            self._fail_pending()

    def _fail_pending(self) -> None:
        while self._pending:
            _, future = self._pending.popitem()
            if not future.done():
                future.set_exception(Unavailable("the store's writer is gone; retry"))


def serve_workers(channels: Sequence[socket.socket], writer: Writer[Any, Any]) -> None:
    """The writer process's side of :class:`WriterClient`: submit what every channel sends to
    ``writer`` and answer each request once it is committed. Returns when every worker has
    closed its channel and had its answers."""
    threads = [
        threading.Thread(target=_serve, args=(channel, writer), name=f"worker-{n}", daemon=True)
        for n, channel in enumerate(channels)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _serve(channel: socket.socket, writer: Writer[Any, Any], timeout: float = 60.0) -> None:
    sending = threading.Lock()
    outstanding: set[Future[Any]] = set()

    def answer(number: int, future: Future[Any]) -> None:
        outstanding.discard(future)
        error = future.exception()
        reply = (number, True, future.result()) if error is None else (number, False, str(error))
        with contextlib.suppress(OSError):
            _send(channel, sending, reply)

    try:
        while (request := _receive(channel)) is not None:
            number, items = request
            future = writer.submit(items)
            outstanding.add(future)
            future.add_done_callback(functools.partial(answer, number))
    except OSError:
        pass
    finally:
        concurrent.futures.wait(outstanding.copy(), timeout)
        channel.close()


_LENGTH = struct.Struct("!I")
#: A frame's first byte: how the rest is serialised. ``marshal`` takes the plain values an
#: encoded SQLite row holds with fewer instructions than ``pickle`` (which memoises every object
#: it writes), both ways; anything else (PostgreSQL rows carry datetimes)
#: goes as a pickle. Both ends are processes of the same server, so the same Python.
_MARSHAL, _PICKLE = b"M", b"P"


def _send(channel: socket.socket, lock: threading.Lock, message: object) -> None:
    try:
        data = _MARSHAL + marshal.dumps(message)  # type: ignore[arg-type]
    except ValueError:  # a type marshal does not know
        data = _PICKLE + pickle.dumps(message, protocol=5)
    with lock:
        channel.sendall(_LENGTH.pack(len(data)))
        channel.sendall(data)


def _receive(channel: socket.socket) -> Any:
    """The next message, or None once the other side has closed."""
    header = _read(channel, _LENGTH.size)
    if header is None:
        return None
    data = _read(channel, _LENGTH.unpack(header)[0])
    if data is None:
        raise ConnectionResetError("the channel closed in the middle of a message")
    body = memoryview(data)[1:]
    if data[:1] == _MARSHAL:
        return marshal.loads(body)  # noqa: S302 - our own processes, over a socket pair
    return pickle.loads(body)  # noqa: S301 - our own processes, over a socket pair


def _read(channel: socket.socket, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = channel.recv_into(view[got:])
        if n == 0:
            if got == 0:
                return None
            raise ConnectionResetError("the channel closed in the middle of a message")
        got += n
    return buffer
