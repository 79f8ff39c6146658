"""RFM: a ten-customer known answer scored by hand, tie rules, the grid, and movement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from ibis.backends import BaseBackend

from shopkeeper.analytics import rfm, summary
from shopkeeper.analytics.rfm import Segment
from shopkeeper.errors import Invalid
from tests.analytics.conftest import arrow_table, register

REFERENCE = date(2026, 11, 1)

# customer: (days since last order, orders, total spend) and the scores worked out by hand
# with score = 1 + floor(5 * strictly-worse / 10):
#   R (fewer days better): A..J are 9..0 customers better than → 5 5 4 4 3 3 2 2 1 1
#   F: B,H,I,J tie at 1 → 1; F,G tie at 2 (4 below) → 3; E 3 (6 below) → 4; D → 4; C → 5; A → 5
#   M: J 10 → 1, I 25 → 1, H 40 → 2, F 80 → 2, E 150 → 3, G 200 → 3, C 400 → 4, D 500 → 4,
#      B 600 → 5, A 1000 → 5
HAND = {
    "A": ((1, 10, 1000.0), (5, 5, 5), Segment.CHAMPIONS),
    "B": ((5, 1, 600.0), (5, 1, 5), Segment.NEW_CUSTOMERS),
    "C": ((10, 6, 400.0), (4, 5, 4), Segment.LOYAL),
    "D": ((20, 5, 500.0), (4, 4, 4), Segment.LOYAL),
    "E": ((30, 3, 150.0), (3, 4, 3), Segment.LOYAL),
    "F": ((45, 2, 80.0), (3, 3, 2), Segment.NEED_ATTENTION),
    "G": ((60, 2, 200.0), (2, 3, 3), Segment.AT_RISK),
    "H": ((90, 1, 40.0), (2, 1, 2), Segment.HIBERNATING),
    "I": ((120, 1, 25.0), (1, 1, 1), Segment.LOST),
    "J": ((200, 1, 10.0), (1, 1, 1), Segment.LOST),
}


def hand_orders() -> pd.DataFrame:
    """Orders a week apart ending ``recency`` days before the reference, spend split evenly."""
    rows = []
    for customer, ((recency, orders, total), _, _) in HAND.items():
        last = datetime(2026, 11, 1, 18, 0, tzinfo=UTC) - timedelta(days=recency)
        rows += [(customer, last - timedelta(days=7 * i), total / orders) for i in range(orders)]
    rows.append(("A", datetime(2026, 11, 2, 9, 0, tzinfo=UTC), 5000.0))  # after the reference
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


def test_hand_computed_rfm_from_orders(engine: BaseBackend) -> None:
    table = register(engine, "orders", arrow_table(hand_orders()))
    inputs = summary.rfm_inputs(table, REFERENCE).to_pandas().sort_values("customer_id")
    assert inputs["customer_id"].tolist() == list(HAND)
    for row in inputs.itertuples():
        recency, orders, total = HAND[row.customer_id][0]
        assert (row.recency_days, row.frequency) == (recency, orders)
        assert row.monetary_total == pytest.approx(total)
        assert row.average_order_value == pytest.approx(total / orders)
    scores = rfm.score(inputs.recency_days, inputs.frequency, inputs.monetary_total)
    got = {
        cid: ((int(r), int(f), int(m)), segment)
        for cid, r, f, m, segment in zip(
            inputs.customer_id,
            scores.recency,
            scores.frequency,
            scores.monetary,
            scores.segments,
            strict=True,
        )
    }
    assert got == {cid: (scored, segment) for cid, (_, scored, segment) in HAND.items()}


def test_ties_share_a_score_whatever_the_order() -> None:
    values = np.array([3, 1, 1, 2, 1, 5, 5, 4, 1, 2])
    scores = rfm.quintile_scores(values)
    assert scores.tolist() == [4, 1, 1, 3, 1, 5, 5, 4, 1, 3]  # 4 has 7 below: 1 + 35 // 10
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(values.size)
        assert rfm.quintile_scores(values[order]).tolist() == scores[order].tolist()
    assert rfm.quintile_scores([7, 7, 7]).tolist() == [1, 1, 1]
    assert rfm.quintile_scores([10, 20, 30, 40, 50], higher_is_better=False).tolist() == [
        5,
        4,
        3,
        2,
        1,
    ]
    assert rfm.quintile_scores([]).tolist() == []


def test_scores_are_quintiles_without_ties() -> None:
    scores = rfm.quintile_scores(np.arange(100))
    assert np.bincount(scores).tolist() == [0, 20, 20, 20, 20, 20]


def test_grid_covers_every_cell_with_every_segment() -> None:
    cells = {(r, f): rfm.segment_of(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert len(cells) == 25
    assert set(cells.values()) == set(Segment)
    assert cells[(5, 5)] is Segment.CHAMPIONS
    assert cells[(5, 1)] is Segment.NEW_CUSTOMERS
    assert cells[(1, 5)] is Segment.CANT_LOSE_THEM
    assert cells[(1, 1)] is Segment.LOST
    assert cells[(3, 3)] is Segment.NEED_ATTENTION
    with pytest.raises(Invalid):
        rfm.segment_of(0, 3)
    with pytest.raises(Invalid):
        rfm.quintile_scores([1.0, float("nan")])
    with pytest.raises(Invalid):
        rfm.score([1, 2], [1, 2], [1])


def test_movement_between_periods() -> None:
    august = {"a": Segment.LOYAL, "b": Segment.LOYAL, "c": Segment.CHAMPIONS, "d": Segment.LOST}
    september = {
        "a": Segment.AT_RISK,
        "b": Segment.LOYAL,
        "c": Segment.LOYAL,
        "e": Segment.NEW_CUSTOMERS,
    }
    moved = rfm.movements(august, september)
    assert [(m.customer_id, m.before, m.after) for m in moved] == [
        ("a", Segment.LOYAL, Segment.AT_RISK),
        ("c", Segment.CHAMPIONS, Segment.LOYAL),
        ("d", Segment.LOST, None),
        ("e", None, Segment.NEW_CUSTOMERS),
    ]
    slipped = [
        m.customer_id for m in moved if (m.before, m.after) == (Segment.LOYAL, Segment.AT_RISK)
    ]
    assert slipped == ["a"]
    counts = rfm.movement_counts(august, september)
    assert counts[(Segment.LOYAL, Segment.AT_RISK)] == 1
    assert sum(counts.values()) == 4
