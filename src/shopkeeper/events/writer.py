"""Group commit: one thread writes every request's events, many requests per transaction.

Request handlers hand their prepared events to :meth:`GroupCommitWriter.submit` and wait on
the returned future; the thread gathers what is queued (up to ``max_batch`` events or
``max_wait`` seconds), writes it in one transaction, commits, and only then resolves the
futures. So a 2xx is never sent for an event that is not committed, and concurrent small
requests share one fsync instead of paying one each. If a group fails, each request in it is
retried alone, so one bad request cannot fail its neighbours.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from shopkeeper.errors import Unavailable
from shopkeeper.ops.logging import log

Item = TypeVar("Item")
Result = TypeVar("Result")

_STOP = object()


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
