"""The data-quality rules as data, and the scoring maths over counts. No web or database imports.

Every check is a question asked of one table ("how many orders have no customer?") whose answer
is a :class:`Count`: rows affected out of rows examined, with a few example ids. The SQL that
counts lives in :mod:`shopkeeper.quality.repository`; what a check means, how bad it is and how
it weighs in the scores lives here, so the scoring is testable with plain numbers.

Scoring (all scores are 0–100, higher is better):

- A check's *share* is ``affected / total``. Checks with ``total == 0`` (an empty table, a shop
  without events) are not scored: no data is not good data.
- Each check has a severity whose weight says how much its share counts:
  ``error`` 1.0, ``warning`` 0.5, ``info`` 0.0. Informational findings (cancellations,
  non-product codes, duplicates already dropped at import) are reported but never lower a score.
- A table's score in a dimension is ``100 × (1 − Σ wᵢ·shareᵢ / Σ wᵢ)`` over its scored checks
  in that dimension: the severity-weighted mean share of affected rows. A check that passes
  counts with share 0, so one bad rule among many costs less than one bad rule alone.
- A dimension's overall score is the plain mean of the tables' scores in it: each table counts
  the same, so ten million clean events cannot hide a broken customer table.
- A table's score, and the overall score, are the weighted means of their dimension scores,
  with :data:`DIMENSION_WEIGHTS` (completeness 0.20, validity 0.25, uniqueness 0.20,
  timeliness 0.10, consistency 0.20, anomaly 0.05), over the dimensions that have a score.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CHECKS",
    "CURRENCIES",
    "DIMENSIONS",
    "DIMENSION_WEIGHTS",
    "SEVERITY_WEIGHTS",
    "TABLES",
    "Check",
    "Count",
    "Finding",
    "Scores",
    "anomalies",
    "duration",
    "percentile_from_histogram",
    "robust_z",
    "score",
]

TABLES = ("customers", "identities", "products", "orders", "order_lines", "events", "consents")
DIMENSIONS = ("completeness", "validity", "uniqueness", "timeliness", "consistency", "anomaly")
SEVERITY_WEIGHTS: Mapping[str, float] = {"error": 1.0, "warning": 0.5, "info": 0.0}
DIMENSION_WEIGHTS: Mapping[str, float] = {
    "completeness": 0.20,
    "validity": 0.25,
    "uniqueness": 0.20,
    "timeliness": 0.10,
    "consistency": 0.20,
    "anomaly": 0.05,
}

#: Robust z-scores beyond this flag a day's volume (Iglewicz and Hoaglin's cut-off).
ANOMALY_Z = 3.5

_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
"""
#: Active ISO 4217 currency codes (funds, metals and test codes left out: shops do not sell
#: in them). Compared upper-cased.
CURRENCIES = frozenset(_ISO_4217.split())


@dataclass(frozen=True)
class Check:
    """What a check means. ``sentence`` is formatted with ``affected``, ``total`` and the
    count's ``detail`` (e.g. ``{p95}``), and reads as a finding."""

    id: str
    table: str
    dimension: str
    severity: str
    sentence: str
    unit: str = "rows"


@dataclass(frozen=True)
class Count:
    """The answer to one check: ``affected`` of ``total`` units, a few example ids, and
    numbers the sentence may quote (percentiles, per-status counts)."""

    affected: int
    total: int
    examples: tuple[str, ...] = ()
    detail: Mapping[str, float | int | str] = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.affected / self.total if self.total else 0.0


@dataclass(frozen=True)
class Finding:
    check: Check
    count: Count

    @property
    def message(self) -> str:
        values = {"affected": self.count.affected, "total": self.count.total, **self.count.detail}
        return self.check.sentence.format(**values)


def _c(id: str, dimension: str, severity: str, sentence: str, unit: str = "rows") -> Check:
    return Check(id, id.partition(".")[0], dimension, severity, sentence, unit)


_CHECKS = (
    # customers
    _c("customers.email_missing", "completeness", "warning",
       "{affected:,} of {total:,} customers have no e-mail address."),
    _c("customers.consent_missing", "completeness", "warning",
       "{affected:,} of {total:,} customers have no consent recorded for any purpose."),
    _c("customers.email_invalid", "validity", "error",
       "{affected:,} of {total:,} customers' e-mail addresses are not valid syntax."),
    _c("customers.future_timestamp", "validity", "error",
       "{affected:,} of {total:,} customers were seen more than a day in the future."),
    _c("customers.ancient_timestamp", "validity", "error",
       "{affected:,} of {total:,} customers were first seen before 1990."),
    _c("customers.duplicate_email", "uniqueness", "warning",
       "{affected:,} of {total:,} customers repeat another customer's e-mail address."),
    # identities
    _c("identities.email_invalid", "validity", "error",
       "{affected:,} of {total:,} e-mail identities are not valid syntax."),
    _c("identities.future_timestamp", "validity", "error",
       "{affected:,} of {total:,} identities were created more than a day in the future."),
    _c("identities.ancient_timestamp", "validity", "error",
       "{affected:,} of {total:,} identities were created before 1990."),
    _c("identities.duplicate_email", "uniqueness", "warning",
       "{affected:,} of {total:,} e-mail identities repeat another one but for letter case."),
    _c("identities.on_merged_customer", "consistency", "warning",
       "{affected:,} of {total:,} identities still point to a merged-away customer."),
    # products (completeness and prices over real products only)
    _c("products.title_missing", "completeness", "warning",
       "{affected:,} of {total:,} products have no title."),
    _c("products.category_missing", "completeness", "warning",
       "{affected:,} of {total:,} products have no category."),
    _c("products.brand_missing", "completeness", "warning",
       "{affected:,} of {total:,} products have no brand."),
    _c("products.price_missing", "completeness", "warning",
       "{affected:,} of {total:,} products have no price."),
    _c("products.price_not_positive", "validity", "error",
       "{affected:,} of {total:,} priced products have a zero or negative price."),
    _c("products.currency_unknown", "validity", "error",
       "{affected:,} of {total:,} products name a currency that is not an ISO 4217 code."),
    _c("products.non_product", "validity", "info",
       "{affected:,} of {total:,} catalog codes are not products (postage, fees, adjustments);"
       " they are kept out of recommendations."),
    # orders
    _c("orders.customer_missing", "completeness", "warning",
       "{affected:,} of {total:,} orders have no customer (anonymous orders)."),
    _c("orders.currency_missing", "completeness", "warning",
       "{affected:,} of {total:,} orders have no currency."),
    _c("orders.currency_unknown", "validity", "error",
       "{affected:,} of {total:,} orders name a currency that is not an ISO 4217 code."),
    _c("orders.negative_total", "validity", "error",
       "{affected:,} of {total:,} orders that are neither cancelled nor refunded have a"
       " negative total."),
    _c("orders.future_timestamp", "validity", "error",
       "{affected:,} of {total:,} orders are placed more than a day in the future."),
    _c("orders.ancient_timestamp", "validity", "error",
       "{affected:,} of {total:,} orders are placed before 1990."),
    _c("orders.cancelled", "validity", "info",
       "{affected:,} of {total:,} orders are cancelled or refunded ({cancelled:,} cancelled,"
       " {refunded:,} refunded, {partially_refunded:,} partially refunded)."),
    _c("orders.duplicate", "uniqueness", "warning",
       "{affected:,} of {total:,} orders repeat another order of the same customer, time"
       " and total."),
    _c("orders.total_mismatch", "consistency", "warning",
       "{affected:,} of {total:,} orders with lines have a total that disagrees with the sum"
       " of their lines."),
    # order lines
    _c("order_lines.name_missing", "completeness", "warning",
       "{affected:,} of {total:,} order lines have no product name."),
    _c("order_lines.negative_price", "validity", "error",
       "{affected:,} of {total:,} order lines have a negative unit price."),
    _c("order_lines.zero_price", "validity", "warning",
       "{affected:,} of {total:,} product lines have a zero unit price."),
    _c("order_lines.quantity_not_positive", "validity", "error",
       "{affected:,} of {total:,} lines of orders that are neither cancelled nor refunded"
       " have a zero or negative quantity."),
    _c("order_lines.non_product", "validity", "info",
       "{affected:,} of {total:,} order lines are non-product codes (postage, fees,"
       " adjustments)."),
    _c("order_lines.duplicate", "uniqueness", "warning",
       "{affected:,} of {total:,} order lines repeat another line of the same order exactly"
       " (sku, quantity and price)."),
    _c("order_lines.import_duplicates", "uniqueness", "info",
       "{affected:,} of {total:,} rows read by imports repeated a row already read or stored"
       " (exact duplicates); each was stored once."),
    _c("order_lines.unknown_sku", "consistency", "error",
       "{affected:,} of {total:,} order lines name a sku that is not in the catalog."),
    # events
    _c("events.identifier_missing", "completeness", "error",
       "{affected:,} of {total:,} events carry neither a userId nor an anonymousId."),
    _c("events.device_missing", "completeness", "warning",
       "{affected:,} of {total:,} events have no device type."),
    _c("events.source_missing", "completeness", "warning",
       "{affected:,} of {total:,} events have no traffic source."),
    _c("events.currency_unknown", "validity", "error",
       "{affected:,} of {total:,} events name a currency that is not an ISO 4217 code."),
    _c("events.future_timestamp", "validity", "error",
       "{affected:,} of {total:,} events are timestamped more than a day in the future."),
    _c("events.ancient_timestamp", "validity", "error",
       "{affected:,} of {total:,} events are timestamped before 1990."),
    _c("events.duplicate", "uniqueness", "warning",
       "{affected:,} of {total:,} events repeat another event of the same visitor, kind,"
       " time, sku and order under a different message id."),
    _c("events.late", "timeliness", "warning",
       "{affected:,} of {total:,} events arrived more than an hour after they happened"
       " (lag p50 {p50}, p95 {p95}, p99 {p99})."),
    _c("events.stale_source", "timeliness", "warning",
       "{affected:,} of {total:,} traffic sources (source/medium) sent nothing for more than"
       " {hours:,} hours.", unit="sources"),
    _c("events.stale_kind", "timeliness", "warning",
       "{affected:,} of {total:,} event kinds were not seen for more than {hours:,} hours.",
       unit="kinds"),
    _c("events.cart_without_view", "consistency", "warning",
       "{affected:,} of {total:,} products added to a cart were not viewed by that visitor"
       " before."),
    _c("events.refund_without_order", "consistency", "error",
       "{affected:,} of {total:,} refund or cancellation events name no stored order."),
    _c("events.unknown_sku", "consistency", "warning",
       "{affected:,} of {total:,} product events name a sku that is not in the catalog."),
    _c("events.volume_anomaly", "anomaly", "warning",
       "{affected:,} of {total:,} source-days of the last {days} days have an unusual event"
       " volume (robust z beyond 3.5).", unit="source-days"),
    # consents
    _c("consents.purpose_unknown", "validity", "error",
       "{affected:,} of {total:,} consent rows name an unknown purpose."),
    _c("consents.future_timestamp", "validity", "error",
       "{affected:,} of {total:,} consent rows are recorded more than a day in the future."),
    _c("consents.ancient_timestamp", "validity", "error",
       "{affected:,} of {total:,} consent rows are recorded before 1990."),
    _c("consents.duplicate", "uniqueness", "warning",
       "{affected:,} of {total:,} consent rows repeat another row of the same customer,"
       " purpose, answer and time."),
    _c("consents.on_merged_customer", "consistency", "warning",
       "{affected:,} of {total:,} consent rows still belong to a merged-away customer."),
)  # fmt: skip

#: Every check by id.
CHECKS: Mapping[str, Check] = {check.id: check for check in _CHECKS}


@dataclass(frozen=True)
class Scores:
    """Scores of a scorecard: ``None`` where nothing was scored (no data)."""

    overall: float | None
    dimensions: Mapping[str, float | None]
    tables: Mapping[str, float | None]
    table_dimensions: Mapping[str, Mapping[str, float | None]]


def _weighted_mean(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    scored = [(w, s) for w, s in pairs if s is not None and w > 0]
    weight = sum(w for w, _ in scored)
    if weight == 0:
        return None
    return sum(w * s for w, s in scored) / weight


def score(findings: Iterable[Finding]) -> Scores:
    """Scores from every check's count (passing checks included: they pull scores up).

    >>> ok = Finding(CHECKS["orders.customer_missing"], Count(0, 10))
    >>> bad = Finding(CHECKS["orders.currency_unknown"], Count(5, 10))
    >>> score([ok, bad]).table_dimensions["orders"]["validity"]
    50.0
    """
    cells: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for finding in findings:
        weight = SEVERITY_WEIGHTS[finding.check.severity]
        if finding.count.total > 0 and weight > 0:
            key = (finding.check.table, finding.check.dimension)
            cells.setdefault(key, []).append((weight, finding.count.share))
    table_dimensions: dict[str, dict[str, float | None]] = {}
    for table in TABLES:
        row: dict[str, float | None] = {}
        for dimension in DIMENSIONS:
            shares = cells.get((table, dimension))
            if shares:
                penalty = sum(w * s for w, s in shares) / sum(w for w, _ in shares)
                row[dimension] = round(100 * (1 - penalty), 1)
            else:
                row[dimension] = None
        table_dimensions[table] = row
    dimensions: dict[str, float | None] = {}
    for dimension in DIMENSIONS:
        values = [row[dimension] for row in table_dimensions.values()]
        present = [v for v in values if v is not None]
        dimensions[dimension] = round(statistics.fmean(present), 1) if present else None
    tables = {
        table: _round(_weighted_mean((DIMENSION_WEIGHTS[d], s) for d, s in row.items()))
        for table, row in table_dimensions.items()
    }
    overall = _round(_weighted_mean((DIMENSION_WEIGHTS[d], s) for d, s in dimensions.items()))
    return Scores(overall, dimensions, tables, table_dimensions)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def robust_z(values: Sequence[float]) -> list[float]:
    """Robust z-scores ``0.6745·(x − median) / MAD`` (Iglewicz and Hoaglin).

    When more than half the values are equal the MAD is 0; the mean absolute deviation
    (scaled by 1.2533 to match a normal's spread) stands in. If that is 0 too, every value
    equals the median and every z is 0.

    >>> [round(z, 2) for z in robust_z([10, 11, 9, 10, 100])]
    [0.0, 0.67, -0.67, 0.0, 60.7]
    """
    if not values:
        return []
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    if mad > 0:
        return [0.6745 * (v - median) / mad for v in values]
    mean_ad = statistics.fmean(abs(v - median) for v in values)
    if mean_ad > 0:
        return [(v - median) / (1.2533 * mean_ad) for v in values]
    return [0.0 for _ in values]


def anomalies(days: Sequence[str], volumes: Sequence[float]) -> list[tuple[str, float, float]]:
    """``(day, volume, z)`` of the days whose robust z-score is beyond :data:`ANOMALY_Z`."""
    return [
        (day, volume, z)
        for day, volume, z in zip(days, volumes, robust_z(volumes), strict=True)
        if abs(z) > ANOMALY_Z
    ]


def percentile_from_histogram(edges: Sequence[float], counts: Sequence[int], q: float) -> float:
    """The ``q`` quantile (0–1) read off a histogram: the upper edge of the bucket holding it.

    ``counts[i]`` counts values ``<= edges[i]`` and above the previous edge; the last count
    may be one longer than ``edges`` (values beyond the last edge, reported as ``inf``).

    >>> percentile_from_histogram([1, 10, 100], [5, 4, 1], 0.5)
    1
    >>> percentile_from_histogram([1, 10], [1, 1, 8], 0.9)
    inf
    """
    total = sum(counts)
    if total == 0:
        return 0.0
    target = q * total
    running = 0
    for i, count in enumerate(counts):
        running += count
        if running >= target:
            return edges[i] if i < len(edges) else math.inf
    return math.inf


def duration(seconds: float) -> str:
    """A lag for people: ``≤45s``, ``≤5m``, ``≤2h``, ``≤3d``, ``>30d``."""
    if math.isinf(seconds):
        return ">30d"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"≤{seconds / size:g}{unit}"
    return f"≤{seconds:g}s"
