"""Sessions: by session_id when present, else cut by 30 minutes of inactivity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopkeeper.customers.sessions import SESSION_GAP, split_sessions

T = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T + timedelta(minutes=n)


def test_no_events_no_sessions() -> None:
    assert split_sessions([]) == []


def test_gap_of_exactly_30_minutes_stays_in_the_session() -> None:
    assert len(split_sessions([(minutes(0), None), (minutes(30), None)])) == 1


def test_gap_longer_than_30_minutes_starts_a_new_session() -> None:
    sessions = split_sessions([(minutes(0), None), (minutes(30.01), None)])
    assert [s.start for s in sessions] == [minutes(0), minutes(30.01)]


def test_inactivity_is_measured_from_the_previous_event_not_the_first() -> None:
    # A two-hour visit with a click every 20 minutes is one session.
    hits = [(minutes(m), None) for m in range(0, 121, 20)]
    assert len(split_sessions(hits)) == 1


def test_unsorted_input_is_sorted_and_counted() -> None:
    hits = [(minutes(100), None), (minutes(0), None), (minutes(10), None), (minutes(200), None)]
    sessions = split_sessions(hits)
    assert [(s.start, s.end, s.events) for s in sessions] == [
        (minutes(0), minutes(10), 2),
        (minutes(100), minutes(100), 1),
        (minutes(200), minutes(200), 1),
    ]


def test_session_ids_group_regardless_of_gaps() -> None:
    hits = [(minutes(0), "s1"), (minutes(300), "s1"), (minutes(5), "s2")]
    sessions = split_sessions(hits)
    assert [(s.session_id, s.events) for s in sessions] == [("s1", 2), ("s2", 1)]
    assert sessions[0].end == minutes(300)


def test_events_with_and_without_session_id_are_counted_side_by_side() -> None:
    hits = [(minutes(0), "web-1"), (minutes(1), None), (minutes(2), None), (minutes(90), "")]
    assert len(split_sessions(hits)) == 3


def test_gap_is_configurable() -> None:
    hits = [(minutes(0), None), (minutes(10), None)]
    assert len(split_sessions(hits, gap=timedelta(minutes=5))) == 2
    assert timedelta(minutes=30) == SESSION_GAP
