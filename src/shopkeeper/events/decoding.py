"""Batch bodies read straight into calls: the ingest hot path's decoder.

``msgspec`` reads a batch's JSON into typed structs in one pass of C: no dict and no Pydantic
model per call, which were the larger part of a worker's CPU per event (BENCHMARKS.md, "Where
the time goes"). :class:`Message` stays the one definition of a call. The struct here is
derived from its fields, and a call that the struct or the checks below would treat in any way
differently from Message — or that Message would reject — comes back as None, for Message to
validate and to name the field at fault. So both roads give the same row for every call;
``tests/events/test_decoding.py`` checks it on a corpus.

Pure: no web or database imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, get_args

import msgspec
import orjson
from annotated_types import MaxLen
from pydantic_core import SchemaValidator, core_schema

from shopkeeper.events.schemas import ID_FIELDS, Message, id_text, missing_for_type

#: Pydantic's own datetime parser, the one Message runs: msgspec rounds a fraction of more than
#: six digits where Pydantic truncates it, so times are read as text and parsed here.
_DATETIME = SchemaValidator(core_schema.datetime_schema())


def _call_struct() -> type[msgspec.Struct]:
    """A struct with Message's fields: identifiers may be integers (Message's validator turns
    them into text), times are text (parsed by :data:`_DATETIME`), lengths are kept."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for name, info in Message.model_fields.items():
        kind: Any = info.annotation
        if name in ID_FIELDS:
            kind = str | int | None
        elif datetime in get_args(kind):
            kind = str | None
        else:
            limit = next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)
            if limit is not None:
                kind = Annotated[str, msgspec.Meta(max_length=limit)] | None
        fields.append((name, kind) if info.is_required() else (name, kind, info.default))
    return msgspec.defstruct("Call", fields)


Call = _call_struct()


class Batch(msgspec.Struct):
    """A ``/v1/batch`` body: its calls still undecoded, and the fields Segment lets a batch
    give every call that lacks them."""

    batch: list[msgspec.Raw]
    context: Any = None
    sentAt: Any = None
    integrations: Any = None
    writeKey: Any = None

    def defaults(self) -> dict[str, Any]:
        """The batch-level fields, as :func:`~shopkeeper.events.service.with_defaults` takes
        them (a null one is as good as none)."""
        given = {"context": self.context, "sentAt": self.sentAt, "integrations": self.integrations}
        return {key: value for key, value in given.items() if value is not None}


_BATCH = msgspec.json.Decoder(Batch)
_CALL = msgspec.json.Decoder(Call)


#: What msgspec raises for bad input: its own errors, and UnicodeDecodeError for bytes that
#: are not UTF-8.
BadJSON = (msgspec.MsgspecError, ValueError)


def split(body: bytes) -> Batch | None:
    """The body as a :class:`Batch`, or None when it is not a JSON object with a ``batch``
    array (the caller then reads it the slow way, which names what is wrong)."""
    try:
        return _BATCH.decode(body)
    except BadJSON:
        return None


def load(data: bytes | memoryview) -> Any:
    """Any JSON document, read as the fast road reads a call: an integer past 64 bits stays
    an exact integer (``orjson.loads`` would make it a float). Raises one of :data:`BadJSON`."""
    return msgspec.json.decode(data)


def dump(value: Any) -> bytes:
    """The JSON the store keeps for a value, and that the size limit measures: ``orjson``'s,
    or msgspec's for an integer past 64 bits, which orjson cannot write."""
    try:
        return orjson.dumps(value, default=str)
    except TypeError:
        return msgspec.json.encode(value, enc_hook=str)


@dataclass(frozen=True, slots=True)
class Defaults:
    """A batch's ``sentAt`` (parsed) and ``context``, for the calls that lack their own."""

    sent_at: datetime | None = None
    context: dict[str, Any] | None = None

    @classmethod
    def of(cls, batch: Batch) -> Defaults | None:
        """None when a batch-level field is malformed: then every call takes Message's road."""
        context, sent_at = batch.context, batch.sentAt
        if context is not None and not isinstance(context, dict):
            return None
        if sent_at is not None:
            if not isinstance(sent_at, str):
                return None
            try:
                sent_at = _DATETIME.validate_python(sent_at)
            except ValueError:
                return None
        return cls(sent_at, context)


def call_of(raw: bytes, defaults: Defaults) -> Any | None:
    """The call in ``raw`` with the batch's defaults applied, exactly as Message would give
    it; None when only Message can say (something is wrong or unusual about it)."""
    try:
        call: Any = _CALL.decode(raw)
    except BadJSON:
        return None
    # Message trims these; a value that needs it is rare enough to leave to Message.
    for text in (call.messageId, call.event, call.name, call.category):
        if text is not None and text != text.strip():
            return None
    # Field by field, not in a loop: this runs for every event (a test checks the names).
    try:
        if call.userId is not None:
            call.userId = id_text(call.userId)
        if call.anonymousId is not None:
            call.anonymousId = id_text(call.anonymousId)
        if call.previousId is not None:
            call.previousId = id_text(call.previousId)
        if call.groupId is not None:
            call.groupId = id_text(call.groupId)
        if call.timestamp is not None:
            call.timestamp = _DATETIME.validate_python(call.timestamp)
        if call.originalTimestamp is not None:
            call.originalTimestamp = _DATETIME.validate_python(call.originalTimestamp)
        if call.sentAt is not None:
            call.sentAt = _DATETIME.validate_python(call.sentAt)
    except ValueError:  # Pydantic's ValidationError is one too
        return None
    if call.sentAt is None:
        call.sentAt = defaults.sent_at
    if defaults.context is not None:
        own = call.context
        call.context = defaults.context if own is None else {**defaults.context, **own}
    if missing_for_type(call):
        return None
    return call
