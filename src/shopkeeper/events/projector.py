"""The fact projector: applies what stored events say to identities, products and orders.

The event log is the source of truth; profiles, the catalog and orders are projections of it.
The projector reads events after its stored position in id order, derives each one's facts
(:func:`~shopkeeper.events.normalize.facts_of`), applies them and advances the position in
the **same transaction**, so every event's facts are applied exactly once, whatever crashes.

Two schedules, one code path (``SHOPKEEPER_PROJECTION``):

* ``inline`` — the ingest writer calls :meth:`Projector.apply_pending` inside the transaction
  that appends the events, so a 2xx means "stored *and* in the profile" (read-your-writes).
* ``background`` — the writer only appends and acknowledges; the projector's thread applies
  the facts moments later, in batches. Collection is then bounded by parsing and one insert
  per event, and profiles lag by the backlog (``shopkeeper_projection_lag_events``).

Either way the thread runs, so events stored before a crash or under the other schedule are
caught up on start. On PostgreSQL events are appended under an advisory lock
(:data:`~shopkeeper.events.repository.APPEND_LOCK`), so ids commit in order and reading
``id > position`` never skips an event that commits later.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import OperationalError

from shopkeeper.errors import ShopkeeperError
from shopkeeper.events import repository
from shopkeeper.events.kinds import SYSTEM_KINDS
from shopkeeper.events.normalize import Facts, OrderFact, facts_of, products_of
from shopkeeper.ops.logging import log

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shopkeeper.application import Shopkeeper

#: The projector's row in ``projections``.
NAME = "facts"
#: How far back :meth:`Projector.hold_back` looks to tell whether an ingest burst is on.
WINDOW_SECONDS = 1.0


class Projector:
    def __init__(self, shop: Shopkeeper, *, batch: int = 1000, idle_poll: float = 0.5) -> None:
        self.shop = shop
        self.batch = batch
        self.idle_poll = idle_poll
        #: Called with the rows whose facts were applied, after their transaction committed
        #: (triggers). Rows are queued by :meth:`apply_pending` and handed over by
        #: :meth:`follow_up`, so inline and background schedules share one path.
        self.followers: list[Callable[[list[dict[str, Any]]], None]] = []
        self._applied: deque[list[dict[str, Any]]] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: ProjectorProcess | None = None
        #: Seconds held back for the current ingest burst (:meth:`hold_back`); reset once
        #: the projector has caught up.
        self.held_back = 0.0

    # -- applying --------------------------------------------------------------------------
    def apply_pending(self, session: Session, limit: int | None = None) -> int:
        """Apply the facts of up to ``limit`` unapplied events in ``session``'s transaction."""
        position = repository.claim_position(session, NAME, self.shop.clock.now())
        rows = repository.events_after(session, position, limit)
        return self._apply_rows(session, rows, _facts_of(rows))

    def _apply_rows(self, session: Session, rows: list[dict[str, Any]], facts: list[Facts]) -> int:
        if not rows:
            return 0
        self.apply(session, facts)
        repository.advance_position(session, NAME, rows[-1]["id"], self.shop.clock.now())
        self.shop.metrics.projection_position.set(rows[-1]["id"])
        if self.followers:
            self._applied.append(rows)  # handed over once the caller's transaction commits
        return len(rows)

    def _apply_batch(self) -> int:
        """One batch of :meth:`drain`: the events are read and their facts derived *before*
        the write transaction (on SQLite the write lock is then held only while the facts are
        written, so appends go on meanwhile); if another projector moved the position in
        between, the batch is read again under the lock."""
        with self.shop.db.sessions() as session:
            position = repository.position_of(session, NAME)
            rows = repository.events_after(session, position, self.batch)
        if not rows:
            return 0
        facts = _facts_of(rows)
        with self.shop.db.transaction() as session:
            if repository.claim_position(session, NAME, self.shop.clock.now()) != position:
                return self.apply_pending(session, self.batch)
            return self._apply_rows(session, rows, facts)

    def follow_up(self) -> None:
        """Give committed, applied rows to the followers; a follower's failure is logged.

        A transaction that rolled back after :meth:`apply_pending` leaves rows here that were
        not applied; they are dropped by :meth:`discard` and re-applied from the position.
        """
        while self._applied:
            try:
                rows = self._applied.popleft()
            except IndexError:  # another thread took the last batch
                return
            for follower in self.followers:
                try:
                    follower(rows)
                except Exception:
                    log.exception("a follower of the projector failed")

    def discard(self) -> None:
        """Forget queued rows of a transaction that rolled back."""
        self._applied.clear()

    def drain(self, *, yielding: bool = False) -> int:
        """Apply everything pending, one transaction per batch; the number of events applied.

        A batch that fails is replayed one event at a time, and an event whose facts cannot
        be applied (bad data, not a busy database) is logged and skipped, so one poisoned
        event never stops every profile from updating. ``yielding`` (the server's projector)
        calls :meth:`hold_back` before each batch.
        """
        total = 0
        while not self._stopping.is_set():
            if yielding:
                self.hold_back()
            try:
                applied = self._apply_batch()
            except OperationalError:
                self.discard()
                raise  # the store is unavailable or busy: retry the same batch later
            except Exception:
                self.discard()
                log.exception("projector batch failed; applying its events one by one")
                applied = self._one_by_one()
            self.follow_up()
            total += applied
            if applied < self.batch:
                self.held_back = 0.0  # caught up: the next burst may be waited out again
                break
        return total

    def hold_back(self, sample: float = 0.2) -> None:
        """While an ingest burst is on, wait: collection keeps the store and the CPU.

        A burst is events arriving faster than ``SHOPKEEPER_PROJECTION_YIELD_RATE``: the log's
        newest id, sampled every ``sample`` seconds, over the last :data:`WINDOW_SECONDS`
        (over the time waited so far, on the first samples). On SQLite the projector and the ingest
        writers share one write lock and two cores, so applying facts during a burst slows
        every acknowledgement; the facts can follow when it is over. For at most
        ``SHOPKEEPER_PROJECTION_YIELD_SECONDS`` per burst, though: then the projector applies
        batches until it has caught up, so profiles never fall behind without bound.
        """
        settings = self.shop.settings
        rate, budget = settings.projection_yield_rate, settings.projection_yield_seconds
        if not rate or self.held_back >= budget:
            return
        # (time, newest id) over the last second: a checkpoint can stall the writer for a few
        # tenths of a second, and a burst must not look over during one (the projector then
        # took the write lock and stalled the burst longer)
        seen = deque([(time.monotonic(), self._newest())])
        while not self._stopping.wait(sample):
            now, latest = time.monotonic(), self._newest()
            seen.append((now, latest))
            while len(seen) > 2 and now - seen[1][0] >= WINDOW_SECONDS:
                seen.popleft()
            if (latest - seen[0][1]) / (now - seen[0][0]) < rate:
                return
            self.held_back += now - seen[-2][0]
            if self.held_back >= budget:
                log.info("projector: an ingest burst outlasted %.0f s; catching up", budget)
                return

    def _newest(self) -> int:
        with self.shop.db.sessions() as session:
            return repository.newest_id(session)

    def _one_by_one(self) -> int:
        done = 0
        for _ in range(self.batch):
            try:
                with self.shop.db.transaction() as session:
                    applied = self.apply_pending(session, 1)
            except OperationalError:
                self.discard()
                raise
            except Exception:
                self.discard()
                self._skip_one()
                applied = 1
            self.follow_up()
            if not applied:
                break
            done += applied
        return done

    def _skip_one(self) -> None:
        now = self.shop.clock.now()
        with self.shop.db.transaction() as session:
            position = repository.claim_position(session, NAME, now)
            rows = repository.events_after(session, position, 1)
            if rows:
                log.error("skipped the facts of event %s: they cannot be applied", rows[0]["id"])
                repository.advance_position(session, NAME, rows[0]["id"], now)
                self.shop.metrics.projection_skipped.inc()

    def lag(self) -> int:
        """Events stored whose facts are not applied yet (Shopkeeper's own events, such as
        trigger firings written after a batch, have none and do not count)."""
        with self.shop.db.sessions() as session:
            position = repository.position_of(session, NAME)
            return repository.count_after(session, position, skipping=SYSTEM_KINDS)

    def apply(self, session: Session, facts: list[Facts]) -> None:
        """Identities first (orders need their owner), then products, then orders."""
        self.shop.identities.observe(session, [item.observation for item in facts])
        products = products_of(facts)
        if products:
            self.shop.catalog.upsert(session, products, partial=True)
        orders = [item.order for item in facts if item.order is not None]
        if orders:
            self._apply_orders(session, orders)

    def _apply_orders(self, session: Session, facts: list[OrderFact]) -> None:
        keys = [("user_id", f.user_id) for f in facts if f.user_id] + [
            ("anonymous_id", f.anonymous_id) for f in facts if f.anonymous_id
        ]
        owners = repository.customer_ids_for(session, keys)
        orders: list[Any] = []
        for fact in facts:
            customer_id = owners.get(("user_id", fact.user_id or "")) or owners.get(
                ("anonymous_id", fact.anonymous_id or "")
            )
            if fact.order is not None:
                orders.append(fact.order.model_copy(update={"customer_id": customer_id}))
        if orders:
            self.shop.orders.record(session, orders)
        for fact in facts:
            if fact.kind == "order_cancelled":
                self.shop.orders.set_status(
                    session, fact.order_id, "cancelled", at=self.shop.clock.now()
                )
            elif fact.kind == "order_refunded":
                self.shop.orders.set_status(
                    session,
                    fact.order_id,
                    "refunded",
                    refunded=fact.refunded,
                    at=self.shop.clock.now(),
                )

    # -- the thread ------------------------------------------------------------------------
    def start(self) -> None:
        settings = self.shop.settings
        if settings.projection == "background" and settings.projector == "process":
            if self._child is None:
                child = ProjectorProcess(self.shop, batch=self.batch, yielding=True)
                self._child = child.start()
            return
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="projector", daemon=True)
            self._thread.start()

    def stop_soon(self) -> None:
        """Stop at the next batch boundary (and end a hold-back); :meth:`stop` also joins."""
        self._stopping.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def notify(self) -> None:
        """New events were committed: wake the thread now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        if self._child is not None:
            child, self._child = self._child, None
            child.stop()  # at its next batch: the next start catches up the rest
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        if self._child is not None:
            return self._child.alive
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        if self.shop.settings.projection == "inline":
            self._catch_up()  # the writer applies new events itself; only a backlog is left
            return
        while not self._stopping.is_set():
            self._wake.wait(self.idle_poll)
            self._wake.clear()
            try:
                self.drain(yielding=True)
            except Exception:  # keep projecting: the next round retries from the position
                log.exception("projector round failed")
                self._stopping.wait(1.0)

    def _catch_up(self) -> None:
        try:
            if self.lag() > 0:
                log.info("projector: applied %d events stored earlier", self.drain())
        except Exception:
            log.exception("projector catch-up failed; it runs again on the next start")


def _facts_of(rows: list[dict[str, Any]]) -> list[Facts]:
    # Shopkeeper's own events (segment entered/exited, triggers) describe the profile; they
    # are not the customer's doing, so they carry no facts to apply.
    return [facts_of(row) for row in rows if row["kind"] not in SYSTEM_KINDS]


class ProjectorProcess:
    """The projector (and what follows it: triggers) in a child process, for bulk loads.

    A bulk load appends with ``EventService.ingest(..., project=False)`` while this process
    applies the facts from the log on the other core; the position in ``projections`` keeps
    it exactly-once as always. Use as a context manager: leaving it waits until every event
    appended before is applied, then stops the child (an error in the child is raised here).
    """

    def __init__(self, shop: Shopkeeper, *, batch: int = 5000, yielding: bool = False) -> None:
        """``yielding``: hold back during ingest bursts (:meth:`Projector.hold_back`), as the
        server's projector does; a bulk load's projector keeps pace with the appends instead."""
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # never fork a live database pool
        self._done = context.Event()
        self._halt = context.Event()
        self._process = context.Process(
            target=_project_until_done,
            args=(shop.settings, shop.clock, batch, self._done, self._halt, yielding),
            name="shopkeeper-projector",
            daemon=True,
        )

    def start(self) -> ProjectorProcess:
        self._process.start()
        return self

    def finish(self) -> None:
        """Wait until every event appended so far is applied, then stop the child."""
        self._done.set()
        self._process.join()
        self.check()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the child at its next batch, whatever is left (a server shutting down: the
        log position keeps what was applied, and the next start catches up the rest)."""
        self._halt.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()  # a batch's transaction rolls back; nothing is lost
            self._process.join()

    def __enter__(self) -> ProjectorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.finish()
        else:  # the caller failed: stop the child, keep the caller's error
            self._done.set()
            self._process.join()

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def check(self) -> None:
        """Raise (a message for the CLI, not a traceback) if the child failed."""
        if self._process.exitcode not in (None, 0):
            raise ShopkeeperError(
                f"the projector process failed (exit code {self._process.exitcode}); the "
                "events are stored and their facts are applied when a projector next runs"
            )


def _project_until_done(
    settings: Any, clock: Any, batch: int, done: Any, halt: Any, yielding: bool
) -> None:
    """Child process: drain the log until told the appends are over and nothing is left, or
    until told to halt, or its parent dies (then at the next batch)."""
    import multiprocessing

    from shopkeeper.application import Shopkeeper
    from shopkeeper.db import Database
    from shopkeeper.ops.logging import configure_logging
    from shopkeeper.ops.runtime import tune_gc

    configure_logging(settings.log_level, json=settings.log_json)
    tune_gc()
    shop = Shopkeeper(settings=settings, db=Database(settings), clock=clock)
    projector = shop.events.projector
    projector.batch = batch
    parent = multiprocessing.parent_process()

    def watch() -> None:  # a server killed without a word must not leave this process behind
        while not halt.wait(0.5):
            if parent is not None and not parent.is_alive():
                break
        projector.stop_soon()

    threading.Thread(target=watch, name="projector-watch", daemon=True).start()
    try:
        while not projector.stopping:
            finishing = done.is_set()  # read before draining: nothing appended after it
            try:
                applied = projector.drain(yielding=yielding and not finishing)
            except OperationalError:  # the store is busy: the same batch again shortly
                log.warning("projector process: store busy, retrying")
                applied = -1
            if applied == 0 and finishing:
                return
            if applied <= 0:
                done.wait(0.05)
    finally:
        shop.close()
