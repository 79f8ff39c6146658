"""Sessions (Unomi: Session) rebuilt from a customer's events. Pure: no web or database imports.

Events that carry a ``session_id`` (the SDK or the shop set one) are grouped by it. Events
without one are cut into sessions by inactivity: a gap longer than ``gap`` (30 minutes, the
Google Analytics and Segment convention) starts a new session. The two are counted side by side,
so a shop that sets ``session_id`` on web events but not on app events still gets both.

Example::

    >>> from datetime import datetime, timedelta
    >>> t = datetime(2026, 1, 1, 12, 0)
    >>> len(split_sessions([(t, None), (t + timedelta(minutes=29), None),
    ...                     (t + timedelta(minutes=90), None)]))
    2
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shopkeeper.segments.traffic import session_channel

#: Inactivity that ends a session when events carry no ``session_id``.
SESSION_GAP = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Session:
    """One visit: its first and last event times and how many events it holds."""

    start: datetime
    end: datetime
    events: int
    session_id: str | None = None
    #: Traffic channel of the visit: the first channel its events show, in time order
    #: (:func:`shopkeeper.segments.traffic.session_channel`); None when none shows one.
    channel: str | None = None


def split_sessions(
    hits: Iterable[tuple[datetime, str | None] | tuple[datetime, str | None, str | None]],
    gap: timedelta = SESSION_GAP,
) -> list[Session]:
    """The sessions in ``hits`` (``(timestamp, session_id)`` pairs, any order), oldest first.

    Args:
        hits: One tuple per event; ``session_id`` None or empty means "split by inactivity".
            An optional third item is the traffic channel the event shows (or None); each
            session then carries the first one in time order as its ``channel``.
        gap: An inactivity longer than this (strictly) starts a new session; exactly ``gap``
            apart stays in the same session.
    """
    by_id: dict[str, list[tuple[datetime, str | None]]] = {}
    loose: list[tuple[datetime, str | None]] = []
    for hit in hits:
        at, session_id = hit[0], hit[1]
        channel = hit[2] if len(hit) > 2 else None
        if session_id:
            by_id.setdefault(session_id, []).append((at, channel))
        else:
            loose.append((at, channel))
    sessions = [_session(sorted(found, key=_time), sid) for sid, found in by_id.items()]
    loose.sort(key=_time)
    current: list[tuple[datetime, str | None]] = []
    for hit in loose:
        if current and hit[0] - current[-1][0] > gap:
            sessions.append(_session(current, None))
            current = []
        current.append(hit)
    if current:
        sessions.append(_session(current, None))
    sessions.sort(key=lambda s: (s.start, s.end))
    return sessions


def _time(hit: tuple[datetime, str | None]) -> datetime:
    return hit[0]


def _session(hits: list[tuple[datetime, str | None]], session_id: str | None) -> Session:
    """A session from its hits in time order."""
    return Session(
        start=hits[0][0],
        end=hits[-1][0],
        events=len(hits),
        session_id=session_id,
        channel=session_channel([c for _, c in hits]),
    )
