"""Cohort retention by first-order month, as a portable Ibis expression.

A customer's cohort is the calendar month (UTC) of their first counted order; they are
*retained* in month offset k when they placed a counted order in the k-th month after it
(k = 0 is the cohort month itself, so its retention is 1 by construction). Anonymous orders
have no customer and belong to no cohort. Input: the ``orders`` table of
:mod:`shopkeeper.analytics.repository`.
"""

from __future__ import annotations

import ibis.expr.types as ir


def _month_index(timestamp: ir.TimestampValue) -> ir.IntegerValue:
    return timestamp.year().cast("int64") * 12 + timestamp.month().cast("int64") - 1


def retention(orders: ir.Table, *, max_offset: int | None = None) -> ir.Table:
    """One row per (cohort, offset) with any retained customer.

    Returns:
        ``cohort`` (date, first day of the month), ``offset`` (int64 months since the cohort
        month), ``customers`` (retained that month), ``size`` (customers in the cohort) and
        ``retention`` = customers / size. Unordered; offsets where nobody returned are absent.
    """
    counted = orders.filter(orders.counted & orders.customer_id.notnull())
    counted = counted.mutate(month=_month_index(counted.timestamp))
    firsts = counted.group_by("customer_id").aggregate(
        first_month=lambda t: t.month.min(),
        cohort=lambda t: t.timestamp.min().truncate("M").cast("date"),
    )
    active = counted.select("customer_id", "month").distinct()
    joined = active.inner_join(firsts, "customer_id")
    joined = joined.mutate(offset=joined.month - joined.first_month)
    if max_offset is not None:
        joined = joined.filter(joined.offset <= max_offset)
    sizes = firsts.group_by("cohort").aggregate(size=lambda t: t.count())
    cells = joined.group_by(["cohort", "offset"]).aggregate(customers=lambda t: t.count())
    table = cells.inner_join(sizes, "cohort")
    return table.select(
        "cohort",
        offset=table.offset.cast("int64"),
        customers=table.customers.cast("int64"),
        size=table.size.cast("int64"),
        retention=table.customers.cast("float64") / table.size,
    )
