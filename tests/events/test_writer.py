"""The frames a server's workers and its writer process exchange (``events.writer``)."""

from __future__ import annotations

import math
import socket
import threading
from datetime import UTC, datetime

from shopkeeper.events.writer import _receive, _send


def _round_trip(message: object) -> object:
    left, right = socket.socketpair()
    with left, right:
        _send(left, threading.Lock(), message)
        return _receive(right)


def test_encoded_sqlite_rows_cross_as_sent() -> None:
    number, (row,) = _round_trip((7, [["m-1", math.nan, None, 3, "ü"]]))  # type: ignore[misc]
    assert number == 7
    assert row[0] == "m-1"
    assert math.isnan(row[1])
    assert row[2:] == [None, 3, "ü"]


def test_values_marshal_cannot_take_cross_pickled() -> None:
    when = datetime(2025, 1, 6, 9, tzinfo=UTC)
    assert _round_trip((8, [["m-2", when]])) == (8, [["m-2", when]])


def test_a_closed_channel_reads_as_none() -> None:
    left, right = socket.socketpair()
    left.close()
    with right:
        assert _receive(right) is None
