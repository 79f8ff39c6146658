"""The import run: read rows, fold them into chunks, write each chunk in its own transaction.

Memory stays flat whatever the file size: rows stream from the source, at most one chunk
(``chunk_rows`` rows, 20,000 by default) is held, and each chunk is committed on its own, so a
crash loses only the chunk in flight. Re-running is safe because every write is an idempotent
upsert (products, identities, orders by id, events by message id).

Writes go through the same services as live events: customers through the identity graph
(``reason="import"``), products through :meth:`CatalogService.upsert`, orders through
:meth:`OrderService.record`, events through :meth:`EventService.ingest`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shopkeeper.errors import BadRequest
from shopkeeper.identities.service import Observation
from shopkeeper.imports import repository
from shopkeeper.imports.batch import Batch, RowError
from shopkeeper.imports.formats import FileFormat, registry
from shopkeeper.imports.reader import RowSource, open_source
from shopkeeper.imports.rejects import RejectsFile
from shopkeeper.imports.schemas import ImportSummary
from shopkeeper.models import AuditEntry
from shopkeeper.orders.schemas import OrderIn

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

#: ``progress(rows, done, total)``: rows read so far, and progress in the source's unit.
Progress = Callable[[int, int, int], None]

#: Orders held back at a chunk boundary so that a stray later line can still join them.
CARRY_ORDERS = 64
PROGRESS_EVERY = 8_192


class ImportService:
    """Runs imports into ``shop``. Owns its transactions (one per chunk), unlike services
    called from a request: an import is a job, and the job boundary is the chunk."""

    def __init__(self, shop: Shopkeeper, *, chunk_rows: int = 20_000) -> None:
        self.shop = shop
        self.chunk_rows = chunk_rows
        self.formats = registry(shop.clock)

    def default_rejects_path(self, format_name: str, first: Path) -> Path:
        """``<data dir>/rejects/<file>.<format>.<UTC time>.rejects.csv``."""
        stamp = self.shop.clock.now().strftime("%Y%m%dT%H%M%SZ")
        name = first.name.split(".")[0]
        return self.shop.settings.data_dir / "rejects" / f"{name}.{format_name}.{stamp}.csv"

    def run(
        self,
        format_name: str,
        paths: Sequence[Path],
        *,
        rejects_path: Path | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import ``paths`` (in order) as ``format_name``.

        Every file's header is checked before anything is written, so a wrong layout fails
        at once and leaves the store untouched.

        Raises:
            BadRequest: unknown format, missing or unreadable file.
            Invalid: a file's columns are not the format's (the message names them).
        """
        fmt = self.formats.get(format_name)
        if fmt is None:
            raise BadRequest(
                f"unknown format {format_name!r}; one of: {', '.join(sorted(self.formats))}",
                detail={"field": "format"},
            )
        if not paths:
            raise BadRequest("no file to import", detail={"field": "paths"})
        sources: list[RowSource] = []
        try:
            for path in paths:
                sources.append(open_source(path, multiline=fmt.multiline))
                fmt.bind(sources[-1].header, path)
            return self._run(fmt, list(paths), sources, rejects_path, progress)
        finally:
            for source in sources:
                source.close()

    def _run(
        self,
        fmt: FileFormat,
        paths: list[Path],
        sources: list[RowSource],
        rejects_path: Path | None,
        progress: Progress | None,
    ) -> ImportSummary:
        started = time.perf_counter()
        summary = ImportSummary(format=fmt.name, files=paths)
        rejects = RejectsFile(rejects_path or self.default_rejects_path(fmt.name, paths[0]))
        with self.shop.db.transaction() as session:
            customers_before, _ = repository.table_counts(session)
        totals = [source.progress()[1] for source in sources]
        finished = 0
        try:
            for path, source, total in zip(paths, sources, totals, strict=True):
                self._file(fmt, path, source, summary, rejects, progress, finished, sum(totals))
                finished += total
        finally:
            rejects.close()
        with self.shop.db.transaction() as session:
            customers_after, _ = repository.table_counts(session)
            # The run's counts, read by the data-quality scorecard (duplicates dropped here).
            session.add(
                AuditEntry(
                    at=self.shop.clock.now(),
                    actor="import",
                    action="data.import",
                    target=fmt.name,
                    detail={
                        "files": [path.name for path in paths],
                        "rows": summary.rows,
                        "duplicates": summary.duplicates,
                        "rejected": rejects.count,
                    },
                )
            )
        summary.customers_created = customers_after - customers_before
        summary.rejected = rejects.count
        summary.rejects_path = rejects.path if rejects.written else None
        summary.seconds = time.perf_counter() - started
        return summary

    def _file(
        self,
        fmt: FileFormat,
        path: Path,
        source: RowSource,
        summary: ImportSummary,
        rejects: RejectsFile,
        progress: Progress | None,
        offset: int,
        grand_total: int,
    ) -> None:
        parse = fmt.bind(source.header, path)
        batch = Batch()
        limit = self.chunk_rows
        rows = summary.rows
        next_report = rows + PROGRESS_EVERY
        for line, fields, raw, problem in source.rows():
            rows += 1
            if problem is not None:
                rejects.add(path, line, problem, raw)
            else:
                try:
                    parse(fields, batch, line, raw)
                except RowError as exc:
                    rejects.add(path, line, exc.reason, raw)
            if len(batch) >= limit:
                following = batch.carry(CARRY_ORDERS)
                self._write(fmt, batch, summary, rejects, path)
                batch = following
            if rows >= next_report:
                next_report = rows + PROGRESS_EVERY
                if progress is not None:
                    done, _ = source.progress()
                    progress(rows, offset + done, grand_total)
        summary.rows = rows
        self._write(fmt, batch, summary, rejects, path)
        if progress is not None:
            _, total = source.progress()
            progress(rows, offset + total, grand_total)

    def _write(
        self,
        fmt: FileFormat,
        batch: Batch,
        summary: ImportSummary,
        rejects: RejectsFile,
        path: Path,
    ) -> None:
        """Write one chunk in one transaction, and account for its rows."""
        summary.duplicates += batch.duplicates
        batch.duplicates = 0
        if batch.products or batch.customers or batch.orders:
            with self.shop.db.transaction() as session:
                if batch.products:
                    result = self.shop.catalog.upsert(
                        session, list(batch.products.values()), partial=fmt.partial_products
                    )
                    summary.products_created += result.created
                    summary.products_updated += result.updated
                if batch.customers:
                    self._observe(session, batch)
                if batch.orders:
                    self._record(session, fmt, batch, summary)
                else:
                    summary.accepted += batch.rows
        if batch.events:
            self._ingest(batch, summary, rejects, path)

    def _observe(self, session: Session, batch: Batch) -> None:
        observations = [
            Observation(
                timestamp=draft.timestamp,
                reason="import",
                user_id=draft.user_id,
                email=draft.email,
                traits=draft.traits,
                consent=draft.consent,
            )
            for draft in batch.customers.values()
        ]
        self.shop.identities.observe(session, observations)

    def _record(
        self, session: Session, fmt: FileFormat, batch: Batch, summary: ImportSummary
    ) -> None:
        drafts = batch.orders
        by_user = repository.customer_ids(
            session, "user_id", {d.user_id for d in drafts.values() if d.user_id}
        )
        by_email = repository.customer_ids(
            session, "email", {d.email for d in drafts.values() if d.email and not d.user_id}
        )
        orders: list[OrderIn] = []
        for draft in drafts.values():
            if draft.user_id:
                customer_id = by_user.get(draft.user_id)
            else:
                customer_id = by_email.get(draft.email) if draft.email else None
            orders.append(draft.to_input(customer_id, fmt.source))
        existing = repository.existing_order_ids(session, drafts)
        result = self.shop.orders.record(session, orders)
        summary.orders_created += result.created
        summary.orders_updated += result.updated
        summary.orders_unchanged += result.unchanged
        stored_rows = sum(drafts[order_id].rows for order_id in existing)
        # Rows of orders already stored identically added nothing: they are duplicates. When
        # a chunk mixes changed and unchanged existing orders the split is not reported per
        # order, so their rows count as accepted (they were written or re-checked).
        if existing and result.updated == 0:
            summary.duplicates += stored_rows
            summary.accepted += batch.rows - stored_rows
        else:
            summary.accepted += batch.rows

    def _ingest(
        self, batch: Batch, summary: ImportSummary, rejects: RejectsFile, path: Path
    ) -> None:
        result = self.shop.events.ingest([payload for _, _, payload in batch.events])
        for error in result.errors:
            line, raw, _ = batch.events[error.index]
            rejects.add(path, line, f"{error.field}: {error.message}", raw)
        summary.accepted += result.accepted
        summary.events_accepted += result.accepted
        summary.duplicates += result.duplicates
