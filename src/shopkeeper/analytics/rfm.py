"""RFM scoring: quintile scores 1–5, the named segments, and movement between periods.

Pure numpy; the inputs come from :func:`shopkeeper.analytics.summary.rfm_inputs`.

Scores. Each of recency (fewer days is better), frequency and monetary is scored 1–5 by
quintile: ``score = 1 + floor(5 * share of customers strictly worse)``. Customers with equal
values always get the same score — the score of the lowest position their tie group occupies —
so the result is independent of row order and never splits a tie at random (the usual
``qcut(rank(method="first"))`` does). The cost is uneven bins when values repeat a lot: in a
shop where 60 % of customers ordered once, all of them get F = 1 and the next score used is 4.

Segments. The segment depends on the (R, F) pair only, on the 5×5 R/F grid that the widely
copied "RFM segments" chart uses (the Putler/Klaviyo-style guides; in code it circulates as the
regex map ``[1-2][1-2]`` Hibernating … ``5[4-5]`` Champions). Those guides' prose tables give
overlapping score ranges; the grid is the partition behind them. Their eleventh segment,
*Lost*, takes the R = 1 half of the grid's Hibernating block (R = 1, F ≤ 2): that is our one
adaptation. Every one of the 25 cells has exactly one segment:

==========  =====  =====  =====  =====  =====
R / F         1      2      3      4      5
==========  =====  =====  =====  =====  =====
5           NEW    POT    POT    CHA    CHA
4           PRO    POT    POT    LOY    LOY
3           ABS    ABS    NEA    LOY    LOY
2           HIB    HIB    ATR    ATR    CLT
1           LOS    LOS    ATR    ATR    CLT
==========  =====  =====  =====  =====  =====

CHA Champions, LOY Loyal, POT Potential loyalist, NEW New customers, PRO Promising, NEA Need
attention, ABS About to sleep, ATR At risk, CLT Can't lose them, HIB Hibernating, LOS Lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from shopkeeper.errors import Invalid

IntArray = NDArray[np.int64]


class Segment(StrEnum):
    """The standard RFM segment names (stored and shown as these strings)."""

    CHAMPIONS = "Champions"
    LOYAL = "Loyal"
    POTENTIAL_LOYALIST = "Potential loyalist"
    NEW_CUSTOMERS = "New customers"
    PROMISING = "Promising"
    NEED_ATTENTION = "Need attention"
    ABOUT_TO_SLEEP = "About to sleep"
    AT_RISK = "At risk"
    CANT_LOSE_THEM = "Can't lose them"
    HIBERNATING = "Hibernating"
    LOST = "Lost"


_S = Segment
SEGMENT_GRID: tuple[tuple[Segment, ...], ...] = (
    # F = 1             F = 2                 F = 3                 F = 4         F = 5
    (_S.LOST, _S.LOST, _S.AT_RISK, _S.AT_RISK, _S.CANT_LOSE_THEM),  # R = 1
    (_S.HIBERNATING, _S.HIBERNATING, _S.AT_RISK, _S.AT_RISK, _S.CANT_LOSE_THEM),  # R = 2
    (_S.ABOUT_TO_SLEEP, _S.ABOUT_TO_SLEEP, _S.NEED_ATTENTION, _S.LOYAL, _S.LOYAL),  # R = 3
    (_S.PROMISING, _S.POTENTIAL_LOYALIST, _S.POTENTIAL_LOYALIST, _S.LOYAL, _S.LOYAL),  # R = 4
    (_S.NEW_CUSTOMERS, _S.POTENTIAL_LOYALIST, _S.POTENTIAL_LOYALIST, _S.CHAMPIONS, _S.CHAMPIONS),
)
"""``SEGMENT_GRID[r - 1][f - 1]`` is the segment of recency score r and frequency score f."""


@dataclass(frozen=True)
class RfmScores:
    """Per-customer scores (aligned with the input order) and segments."""

    recency: IntArray
    frequency: IntArray
    monetary: IntArray
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Movement:
    """One customer's segment in two periods; ``None`` when absent from that period."""

    customer_id: Hashable
    before: Segment | None
    after: Segment | None


def quintile_scores(values: object, *, higher_is_better: bool = True) -> IntArray:
    """Score 1–5 by quintile; ties share a score (see the module docstring).

    Example:
        >>> quintile_scores([10, 20, 30, 40, 50]).tolist()
        [1, 2, 3, 4, 5]
        >>> quintile_scores([1, 1, 1, 2, 5]).tolist()
        [1, 1, 1, 4, 5]
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise Invalid("scores need one finite value per customer", detail={"field": "values"})
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    keyed = array if higher_is_better else -array
    worse = np.searchsorted(np.sort(keyed), keyed, side="left")  # customers strictly worse
    scores: IntArray = 1 + (5 * worse) // array.size
    return scores.astype(np.int64)


def segment_of(recency_score: int, frequency_score: int) -> Segment:
    """The named segment of one (R, F) cell."""
    if not (1 <= recency_score <= 5 and 1 <= frequency_score <= 5):
        raise Invalid("RFM scores run from 1 to 5", detail={"field": "score"})
    return SEGMENT_GRID[recency_score - 1][frequency_score - 1]


def score(recency_days: object, frequency: object, monetary: object) -> RfmScores:
    """Quintile scores and segments for customers given their raw R, F and M values.

    ``recency_days`` is days since the last order (lower is better); ``frequency`` the number
    of orders and ``monetary`` the total (or average) spend, both higher-is-better.
    """
    r = quintile_scores(recency_days, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    if not (r.size == f.size == m.size):
        raise Invalid(
            "recency, frequency and monetary differ in length", detail={"field": "frequency"}
        )
    segments = tuple(
        SEGMENT_GRID[ri - 1][fi - 1] for ri, fi in zip(r.tolist(), f.tolist(), strict=True)
    )
    return RfmScores(r, f, m, segments)


def movements(
    before: Mapping[Hashable, Segment], after: Mapping[Hashable, Segment]
) -> list[Movement]:
    """Every customer whose segment changed between two periods' assignments.

    Customers who appear in only one period are included with ``None`` on the other side
    (new this period, or gone from it); unchanged customers are left out. Sorted by id's string
    form, so the output is stable for reports.
    """
    ids = set(before) | set(after)
    moved = [
        Movement(cid, before.get(cid), after.get(cid))
        for cid in ids
        if before.get(cid) != after.get(cid)
    ]
    return sorted(moved, key=lambda mv: str(mv.customer_id))


def movement_counts(
    before: Mapping[Hashable, Segment], after: Mapping[Hashable, Segment]
) -> Counter[tuple[Segment | None, Segment | None]]:
    """How many customers went from each segment to each other (the transition table)."""
    return Counter((mv.before, mv.after) for mv in movements(before, after))
