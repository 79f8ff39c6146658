"""Event collection on the Segment spec: decode, validate, turn into rows, commit.

The hot path is: bounded read → gzip → a batch read into calls by ``msgspec``
(:mod:`~shopkeeper.events.decoding`; Pydantic's Message for any call it leaves) →
:func:`~shopkeeper.events.normalize.event_values` → group-commit writer. Only events whose
messageId is new are appended, and the :class:`~shopkeeper.events.projector.Projector` applies
the facts of appended events exactly once — inside the same transaction (``inline``) or moments
later (``background``) — so a replayed batch changes nothing.
"""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shopkeeper.errors import BadRequest, Invalid, PayloadTooLarge
from shopkeeper.events import decoding, repository
from shopkeeper.events.normalize import event_values
from shopkeeper.events.projector import Projector
from shopkeeper.events.repository import MESSAGE_ID_AT
from shopkeeper.events.rows import Encoding
from shopkeeper.events.schemas import CALL_TYPES, EventError, Message
from shopkeeper.events.writer import GroupCommitWriter, Writer, WriterClient
from shopkeeper.ops.logging import log

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper

#: An ``events`` row as the projector and triggers read it (column name → value).
Row = dict[str, Any]
#: An ``events`` row encoded for the driver, in column order
#: (:func:`~shopkeeper.events.normalize.event_values`): what the group-commit writer takes,
#: so its thread does nothing but insert and commit.
Values = list[Any]


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    errors: list[EventError] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.errors


@dataclass
class Encoded:
    """A batch validated and encoded for the store (:meth:`EventService.encode`).

    Plain values only, so a bulk load can validate and encode on one core (the simulator's
    process) while another process appends (:meth:`EventService.append`).
    """

    rows: list[Values]
    errors: list[EventError]
    #: Events whose messageId came earlier in the same batch (stored once).
    repeated: int = 0


@dataclass
class Parsed:
    """A request body turned into events ready to store, plus the ones rejected."""

    prepared: list[Values]
    errors: list[EventError]
    write_key: str | None = None


class EventService:
    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop
        self.settings = shop.settings
        self.projector = Projector(shop, batch=shop.settings.projection_batch)
        self.projector.followers.append(self._react)
        self.writer: Writer[Values, tuple[int, int]] = GroupCommitWriter(
            self._store_groups,
            max_batch=shop.settings.writer_max_batch,
            max_wait=shop.settings.writer_max_wait_ms / 1000,
            after=self._after_commit,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, projector: bool = True) -> None:
        """Start the writer and, unless another process of the server runs it, the projector."""
        self.writer.start()
        if projector:
            self.projector.start()

    def stop(self) -> None:
        self.writer.stop()
        self.projector.stop()

    def use_writer_process(self, channel: socket.socket) -> None:
        """Hand appends to the server's writer process over ``channel`` instead of committing
        them here (:func:`~shopkeeper.events.writer.serve_workers`): every worker's events then
        go through one connection, in groups as large as all workers' requests together."""
        self.writer = WriterClient(channel)

    @property
    def inline(self) -> bool:
        return self.settings.projection == "inline"

    def settle(self) -> None:
        """Wait until every batch submitted so far is committed, its facts applied *and* the
        work that follows them (triggers) done: an empty request queued behind them is answered
        only then, and on the background schedule the projector is drained too."""
        if self.writer.running:
            self.writer.submit([]).result()
        if not self.inline:
            self.projector.drain()

    # -- decoding --------------------------------------------------------------------------
    def decode(self, body: bytes, content_encoding: str | None, *, batch: bool = False) -> Any:
        """Bytes → JSON, enforcing the size limit after gzip (so no zip bomb gets through).

        A ``batch`` body comes back as a :class:`~shopkeeper.events.decoding.Batch`, its calls
        still undecoded, when it has the shape of one; anything else as plain JSON."""
        limit = self.settings.max_batch_bytes
        if content_encoding and content_encoding.strip().lower() in {"gzip", "x-gzip"}:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                body = inflater.decompress(body, limit + 1)
            except zlib.error as exc:
                raise BadRequest("body is not valid gzip", detail={"field": "body"}) from exc
            if len(body) > limit or inflater.unconsumed_tail:
                raise PayloadTooLarge(f"body exceeds {limit} bytes after decompression")
        elif content_encoding and content_encoding.strip().lower() not in {"identity", ""}:
            raise BadRequest(f"unsupported Content-Encoding {content_encoding!r}; use gzip")
        if len(body) > limit:
            raise PayloadTooLarge(f"body exceeds {limit} bytes")
        if batch and (split := decoding.split(body)) is not None:
            return split
        try:
            return decoding.load(body)
        except decoding.BadJSON as exc:
            raise BadRequest(f"malformed JSON: {exc}", detail={"field": "body"}) from exc

    @staticmethod
    def write_key_of(document: Any) -> str | None:
        """The ``writeKey`` a body carries (Segment's alternative to the HTTP header)."""
        key = document.get("writeKey") if isinstance(document, dict) else None
        if isinstance(document, decoding.Batch):
            key = document.writeKey
        return key if isinstance(key, str) else None

    def parse(self, document: Any, call_type: str | None) -> Parsed:
        """Validate a single call (``call_type`` set by the route) or a ``batch`` document."""
        if isinstance(document, decoding.Batch) and call_type is None:
            return self._parse_batch(document)
        if not isinstance(document, dict):
            raise BadRequest("the body must be a JSON object", detail={"field": "body"})
        write_key = self.write_key_of(document)
        if call_type is None:
            items = document.get("batch")
            if not isinstance(items, list):
                raise Invalid("a batch needs a 'batch' array", detail={"field": "batch"})
            defaults = {
                k: document[k] for k in ("context", "sentAt", "integrations") if k in document
            }
        else:
            items = [{**document, "type": document.get("type") or call_type}]
            defaults = {}
            if items[0]["type"] != call_type:
                raise Invalid(f"type must be {call_type!r} on this route", detail={"field": "type"})
        received_at = self.shop.clock.now()
        prepared, errors = self.prepare_all(items, received_at, defaults)
        return Parsed(prepared, errors, write_key)

    def prepare_all(
        self, items: Sequence[Any], received_at: datetime, defaults: Mapping[str, Any] | None = None
    ) -> tuple[list[Values], list[EventError]]:
        """Encoded rows for ``items`` (plain JSON values), and the errors of those that are
        not calls. An item's size is that of its JSON as the store writes it
        (:func:`decoding.dump`)."""
        prepared: list[Values] = []
        errors: list[EventError] = []
        for index, item in enumerate(items):
            self._prepare(index, item, received_at, defaults, None, prepared, errors)
        return prepared, errors

    def _parse_batch(self, batch: decoding.Batch) -> Parsed:
        """A batch's calls, each read by :func:`~shopkeeper.events.decoding.call_of` when it
        can and by Message otherwise. A call's size is that of its JSON as sent."""
        received_at = self.shop.clock.now()
        limit = self.settings.max_event_bytes
        fast = decoding.Defaults.of(batch)
        defaults = batch.defaults()
        encoding = self.encoding
        received = encoding.time(received_at)
        prepared: list[Values] = []
        errors: list[EventError] = []
        for index, raw in enumerate(batch.batch):
            call = decoding.call_of(raw, fast) if fast and len(raw) <= limit else None
            if call is not None:
                prepared.append(event_values(call, received_at, encoding, received))
                continue
            try:
                item = decoding.load(raw)
            except decoding.BadJSON as exc:
                errors.append(EventError(index=index, field="", message=f"malformed JSON: {exc}"))
                continue
            self._prepare(index, item, received_at, defaults, len(raw), prepared, errors)
        return Parsed(prepared, errors, self.write_key_of(batch))

    def _prepare(
        self,
        index: int,
        item: Any,
        received_at: datetime,
        defaults: Mapping[str, Any] | None,
        size: int | None,
        prepared: list[Values],
        errors: list[EventError],
    ) -> None:
        """Validate one item with Message: its row to ``prepared``, or why not to ``errors``."""
        if not isinstance(item, dict):
            errors.append(EventError(index=index, field="", message="an event must be an object"))
            return
        if defaults:
            item = with_defaults(item, defaults)
        if item.get("type") not in CALL_TYPES:
            why = f"type must be one of {', '.join(CALL_TYPES)}"
            errors.append(EventError(index=index, field="type", message=why))
            return
        limit = self.settings.max_event_bytes
        if (size if size is not None else len(decoding.dump(item))) > limit:
            errors.append(EventError(index=index, field="", message=f"event exceeds {limit} bytes"))
            return
        try:
            message = Message.model_validate(item)
        except ValidationError as exc:
            errors.extend(_errors(index, exc))
            return
        prepared.append(event_values(message, received_at, self.encoding))

    # -- storing ---------------------------------------------------------------------------
    async def submit(self, encoded: list[Values]) -> tuple[int, int]:
        """Store through the group-commit writer; returns (accepted, duplicates) once committed.

        The rows come encoded, from the request's thread, so the writer's thread (the one
        every request waits for) only inserts and commits."""
        if not encoded:
            return 0, 0
        if not self.writer.running:
            return await asyncio.to_thread(lambda: self._store_and_follow([encoded])[0])
        return await asyncio.wrap_future(self.writer.submit(encoded))

    def ingest(
        self,
        payloads: Sequence[Any],
        *,
        received_at: datetime | None = None,
        project: bool = True,
    ) -> IngestResult:
        """The Python API: same semantics as ``POST /v1/batch`` (per-index errors, dedup).

        Unlike the HTTP API it returns only once the events' facts are applied, whatever the
        projection schedule: importers and the simulator hand over to reports right after.
        ``project=False`` only appends (a bulk load whose facts a
        :class:`~shopkeeper.events.projector.ProjectorProcess` applies alongside).
        """
        if not project:
            return self.append(self.encode(payloads, received_at))
        encoded, errors = self.prepare_all(payloads, received_at or self.shop.clock.now())
        if self.writer.running:
            accepted, duplicates = self.writer.submit(encoded).result()
        else:
            accepted, duplicates = self._store_and_follow([encoded])[0]
        if not self.inline:
            self.projector.drain()
        self._count(accepted, duplicates, len(errors))
        return IngestResult(accepted, duplicates, errors)

    def encode(self, payloads: Sequence[Any], received_at: datetime | None = None) -> Encoded:
        """Validate ``payloads`` as :meth:`ingest` does and encode them for :meth:`append`."""
        prepared, errors = self.prepare_all(payloads, received_at or self.shop.clock.now())
        unique = _unique([prepared])
        return Encoded(unique, errors, len(prepared) - len(unique))

    def append(self, encoded: Encoded) -> IngestResult:
        """Append an :meth:`encode`-d batch (new messageIds only) without applying its facts:
        the projector applies them, as on the background schedule."""
        inserted = self._insert(encoded.rows, project=False)
        if inserted:
            self.projector.notify()
        accepted = len(inserted)
        duplicates = len(encoded.rows) - accepted + encoded.repeated
        self._count(accepted, duplicates, len(encoded.errors))
        return IngestResult(accepted, duplicates, encoded.errors)

    def record_outcome(self, accepted: int, duplicates: int, rejected: int) -> None:
        self._count(accepted, duplicates, rejected)

    def _count(self, accepted: int, duplicates: int, rejected: int) -> None:
        events = self.shop.metrics.events
        if accepted:
            events.labels("accepted").inc(accepted)
        if duplicates:
            events.labels("duplicate").inc(duplicates)
        if rejected:
            events.labels("rejected").inc(rejected)

    @property
    def encoding(self) -> Encoding:
        """How this store's driver takes event rows."""
        return repository.encoding_for(self.shop.db.dialect)

    def _store_and_follow(self, groups: Sequence[Sequence[Values]]) -> list[tuple[int, int]]:
        """Without the writer thread: store, then the after-commit work, in the caller's thread."""
        outcomes = self._store_groups(groups)
        self._after_commit(groups)
        return outcomes

    def _after_commit(self, groups: Sequence[Sequence[Values]]) -> None:
        """Work that follows a committed batch, off the acknowledgement when the writer runs:
        whatever follows the facts the projector applied inline (triggers)."""
        self.projector.follow_up()

    def _react(self, rows: list[Row]) -> None:
        """Evaluate triggers for the people behind events whose facts were just applied."""
        if self.settings.triggers != "on":
            return
        try:
            self.shop.triggers.react(rows)
        except Exception:  # a trigger problem never fails or loses the stored events
            log.exception("triggers failed for a committed batch")

    def _store_groups(
        self, groups: Sequence[Sequence[Values]], *, project: bool = True
    ) -> list[tuple[int, int]]:
        """Write several requests' events in one transaction; (accepted, duplicates) each."""
        try:
            inserted = self._append(groups, project=project and self.inline)
        except BaseException:
            self.projector.discard()  # rolled back: no applied rows to follow up
            raise
        if inserted and not self.inline:
            self.projector.notify()
        outcomes = []
        claimed: set[str] = set()
        for group in groups:
            accepted = 0
            for values in group:
                message_id = values[MESSAGE_ID_AT]
                if message_id in inserted and message_id not in claimed:
                    claimed.add(message_id)
                    accepted += 1
            outcomes.append((accepted, len(group) - accepted))
        return outcomes

    def _append(self, groups: Sequence[Sequence[Values]], *, project: bool) -> set[str]:
        """Append the new events of several requests in one transaction (applying their facts
        too when ``project``: the inline schedule); the messageIds actually stored."""
        # insert_encoded keeps the first of each messageId, across the requests too
        return self._insert([values for group in groups for values in group], project)

    def _insert(self, encoded: list[Values], project: bool) -> set[str]:
        with self.shop.metrics.commit_seconds.time(), self.shop.db.transaction() as session:
            inserted = repository.insert_encoded(session, encoded)
            if inserted and project:
                self.projector.apply_pending(session)
        return inserted


def _unique(groups: Sequence[Sequence[Values]]) -> list[Values]:
    """The encoded rows of ``groups`` with the first of each messageId only."""
    seen: set[str] = set()
    unique: list[Values] = []
    for group in groups:
        for values in group:
            if values[MESSAGE_ID_AT] not in seen:
                seen.add(values[MESSAGE_ID_AT])
                unique.append(values)
    return unique


def with_defaults(item: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` with a batch's ``defaults`` for the fields it lacks or leaves null; contexts
    are merged, the call's own keys winning."""
    merged = dict(item)
    for key, value in defaults.items():
        if key == "context" and isinstance(value, dict):
            own = item.get("context")
            merged["context"] = {**value, **own} if isinstance(own, dict) else value
        elif merged.get(key) is None:
            merged[key] = value
    return merged


def _errors(index: int, exc: ValidationError) -> list[EventError]:
    found = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(part) for part in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        if not path and "'" in message:  # model-level rule: name the field it is about
            path = message.split("'")[1]
        found.append(EventError(index=index, field=path, message=message))
    return found
