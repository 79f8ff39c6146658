"""Tenure: is this customer a newcomer, a returning customer or a regular? Pure, no I/O.

The rule lives in :func:`tenure_of`; its thresholds in :class:`TenureRules`, so a shop can
tune them without touching the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Tenure = Literal["newcomer", "returning", "regular"]


@dataclass(frozen=True, slots=True)
class TenureRules:
    """Thresholds of the tenure rule (defaults shown in :func:`tenure_of`)."""

    newcomer_days: int = 30
    newcomer_max_sessions: int = 1
    regular_orders: int = 3
    regular_sessions: int = 5
    regular_window_days: int = 90


@dataclass(frozen=True, slots=True)
class TenureFacts:
    """What the rule looks at, computed by the caller from the profile.

    Attributes:
        first_seen: When the customer was first seen (None: never, treated as "just now").
        sessions: All sessions known for the customer.
        recent_sessions: Sessions that started within the regular window (last 90 days).
        recent_orders: Completed orders placed within the regular window.
        orders_before_current_session: Completed orders placed before the latest session began
            (all completed orders when there is no session).
    """

    first_seen: datetime | None
    sessions: int
    recent_sessions: int
    recent_orders: int
    orders_before_current_session: int


def tenure_of(facts: TenureFacts, now: datetime, rules: TenureRules = TenureRules()) -> Tenure:
    """The customer's tenure. Checked in this order; the first that holds wins:

    1. **regular**: at least 3 completed orders, or at least 5 sessions, in the last 90 days
       (both counted inside the window, so a customer who bought three times two years ago and
       not since is *returning*, not regular).
    2. **newcomer**: first seen less than 30 days ago (exactly 30 days is no longer new), at most
       1 session, and no completed order before the current (latest) session. Someone whose
       first order is in the visit under way is still a newcomer.
    3. **returning**: everyone else.

    Numbers are :class:`TenureRules` defaults (``regular_orders``, ``regular_sessions``,
    ``regular_window_days``, ``newcomer_days``, ``newcomer_max_sessions``).

    Why regular first: a customer with three store orders and no web session would otherwise
    look like a newcomer online.
    """
    if (
        facts.recent_orders >= rules.regular_orders
        or facts.recent_sessions >= rules.regular_sessions
    ):
        return "regular"
    new_since = now - timedelta(days=rules.newcomer_days)
    recently_met = facts.first_seen is None or facts.first_seen > new_since
    if (
        recently_met
        and facts.sessions <= rules.newcomer_max_sessions
        and facts.orders_before_current_session == 0
    ):
        return "newcomer"
    return "returning"
