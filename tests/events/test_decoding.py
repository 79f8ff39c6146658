"""The fast decoder gives exactly Message's row for every call it takes, and leaves every call
Message would reject or read differently to Message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, get_args

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shopkeeper.events import decoding
from shopkeeper.events.normalize import event_row
from shopkeeper.events.schemas import ID_FIELDS, Message
from shopkeeper.events.service import with_defaults

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)

TIMES = [
    "2025-01-06T10:00:00Z",
    "2025-01-06t10:00:00z",
    "2025-01-06 10:00:00Z",
    "2025-01-06T10:00:00",
    "2025-01-06T10:00:00.1Z",
    "2025-01-06T10:00:00.1234567Z",  # msgspec would round the 7th digit; Pydantic truncates
    "2025-01-06T10:00:00.123456789+01:00",
    "2025-01-06T10:00Z",
    "2025-01-06",
    "2025-01-06T10:00:00+0100",
    "2025-01-06T10:00:00+01",
    "2025-01-06T23:59:60Z",
    "2025-01-06T10:00:00,5Z",
    " 2025-01-06T10:00:00Z",
    "1736157600",
    "not a date",
    1736157600,
    1736157600.5,
    True,
    None,
]
IDS = ["u-1", " u-2 ", "", "   ", 42, 2**70, 1.5, True, None, "x" * 321, "x" * 320, ["u"]]
TEXTS = ["Product Viewed", " Product Viewed", "Order Completed\n", "", None, 7, "x" * 201]
OBJECTS = [
    None,
    {},
    {"sku": "S-1", "price": 9.5, "currency": "eur", "category": "Toys"},
    {"page": {"url": "https://shop.example/p/1?utm_source=news&utm_medium=email"}},
    {"page": {"url": "https://shop.example/", "referrer": "https://www.google.com/"}},
    {"userAgent": "Mozilla/5.0 (iPhone)", "ip": "10.0.0.1", "locale": "de-DE"},
    {"order_id": 2**70, "total": 2**64, "sku": -(2**63)},
    ["not", "an", "object"],
    "nor this",
]

calls = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "identify", "page", "screen", "group", "alias", "x"])},
    optional={
        "messageId": st.sampled_from(["m-1", " m-2", "", None, 3, "m" * 101]),
        "userId": st.sampled_from(IDS),
        "anonymousId": st.sampled_from(IDS),
        "previousId": st.sampled_from(IDS),
        "groupId": st.sampled_from(IDS),
        "event": st.sampled_from(TEXTS),
        "name": st.sampled_from(TEXTS),
        "category": st.sampled_from(TEXTS),
        "properties": st.sampled_from(OBJECTS),
        "traits": st.sampled_from(OBJECTS),
        "context": st.sampled_from(OBJECTS),
        "timestamp": st.sampled_from(TIMES),
        "originalTimestamp": st.sampled_from(TIMES),
        "sentAt": st.sampled_from(TIMES),
        "integrations": st.sampled_from([None, {"All": True}]),
        "unknownField": st.sampled_from([1, "x"]),
    },
)
batch_fields = st.fixed_dictionaries(
    {},
    optional={
        "sentAt": st.sampled_from(TIMES),
        "context": st.sampled_from(OBJECTS),
        "writeKey": st.sampled_from(["key", 5]),
    },
)


def _by_message(item: Any, defaults: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return event_row(Message.model_validate(with_defaults(item, defaults)), NOW)
    except ValidationError:
        return None


@settings(max_examples=1500, deadline=None)
@given(call=calls, fields=batch_fields)
def test_the_fast_road_gives_messages_row_or_steps_aside(
    call: dict[str, Any], fields: dict[str, Any]
) -> None:
    body = json.dumps({"batch": [call], **fields}).encode()  # big integers too
    batch = decoding.split(body)
    assert batch is not None
    defaults = decoding.Defaults.of(batch)
    fast = decoding.call_of(batch.batch[0], defaults) if defaults else None
    item = decoding.load(batch.batch[0])  # what the service's slow road reads
    expected = _by_message(item, batch.defaults())
    if fast is None:
        return  # Message reads it (and names what is wrong, if anything)
    assert expected is not None, "the fast road took a call Message rejects"
    row = event_row(fast, NOW)
    if not str(call.get("messageId") or "").strip():
        row["message_id"] = expected["message_id"]  # generated when absent
    assert row == expected


def test_the_fast_road_takes_ordinary_calls() -> None:
    call = {
        "type": "track",
        "event": "Product Viewed",
        "messageId": "m-1",
        "userId": 42,
        "anonymousId": "a-1",
        "properties": {"sku": "S-1", "price": 9.5},
        "timestamp": "2025-01-06T10:00:00.123Z",
    }
    batch = decoding.split(orjson.dumps({"batch": [call], "sentAt": "2025-01-06T10:00:01Z"}))
    assert batch is not None
    defaults = decoding.Defaults.of(batch)
    assert defaults is not None
    fast = decoding.call_of(batch.batch[0], defaults)
    assert fast is not None
    assert fast.userId == "42"
    assert event_row(fast, NOW)["timestamp"] == datetime(2026, 11, 2, 11, 59, 59, 123000, UTC)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"batch": {}}',
        b'{"events": []}',
        b"{not json",
        b'"text"',
        b'{"batch": ["\\ud800"]}',  # a lone surrogate: the whole body is malformed
    ],
)
def test_only_batch_shaped_bodies_split(body: bytes) -> None:
    assert decoding.split(body) is None


def test_integers_past_64_bits_are_stored_exactly() -> None:
    assert decoding.load(b'{"n": 1180591620717411303424}') == {"n": 2**70}
    assert decoding.dump({"n": 2**70, "x": "é"}) == '{"n":1180591620717411303424,"x":"é"}'.encode()


@pytest.mark.parametrize("call", [b'"\xff"', b'{"type": "track", "event": "\xff"}'])
def test_a_call_that_is_not_json_is_left_to_the_slow_road(call: bytes) -> None:
    """Splitting a batch skims its calls without checking their text is UTF-8; reading one
    fails, so that call alone is rejected."""
    batch = decoding.split(b'{"batch": [' + call + b"]}")
    assert batch is not None
    assert decoding.call_of(batch.batch[0], decoding.Defaults()) is None
    with pytest.raises(decoding.BadJSON):
        decoding.load(batch.batch[0])


def test_call_of_reads_every_identifier_and_time_of_message() -> None:
    """``call_of`` names them one by one; a new one in Message must be added there."""
    times = {n for n, i in Message.model_fields.items() if datetime in get_args(i.annotation)}
    assert times == {"timestamp", "originalTimestamp", "sentAt"}
    assert set(ID_FIELDS) == {"userId", "anonymousId", "previousId", "groupId"}
