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

#: Inactivity that ends a session when events carry no ``session_id``.
SESSION_GAP = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Session:
    """One visit: its first and last event times and how many events it holds."""

    start: datetime
    end: datetime
    events: int
    session_id: str | None = None


def split_sessions(
    hits: Iterable[tuple[datetime, str | None]], gap: timedelta = SESSION_GAP
) -> list[Session]:
    """The sessions in ``hits`` (``(timestamp, session_id)`` pairs, any order), oldest first.

    Args:
        hits: One pair per event; ``session_id`` None or empty means "split by inactivity".
        gap: An inactivity longer than this (strictly) starts a new session; exactly ``gap``
            apart stays in the same session.
    """
    by_id: dict[str, list[datetime]] = {}
    loose: list[datetime] = []
    for at, session_id in hits:
        if session_id:
            by_id.setdefault(session_id, []).append(at)
        else:
            loose.append(at)
    sessions = [
        Session(start=min(times), end=max(times), events=len(times), session_id=sid)
        for sid, times in by_id.items()
    ]
    loose.sort()
    start = previous = None
    count = 0
    for at in loose:
        if previous is not None and start is not None and at - previous > gap:
            sessions.append(Session(start=start, end=previous, events=count))
            start, count = None, 0
        if start is None:
            start = at
        previous = at
        count += 1
    if start is not None and previous is not None:
        sessions.append(Session(start=start, end=previous, events=count))
    sessions.sort(key=lambda s: (s.start, s.end))
    return sessions
