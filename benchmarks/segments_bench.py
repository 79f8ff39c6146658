"""Segment rules: 50 realistic rules in batch over 1M customers, and real-time latency per rule.

Run: ``.venv/bin/python -m benchmarks.segments_bench [--quick] [--customers N]`` from the repo
root. Prints a Markdown table and writes ``benchmarks/results/segments[-quick].json``.

Data: numpy-generated customers (profile fields as columns) and ~10 events per customer
(views, cart adds, orders, searches, page views over 180 days) built as Arrow tables and loaded
into an in-process DuckDB once; generation and loading are reported but not part of the
figures. Batch: the 50 rules as one ``membership`` expression (one scan of the events, the
path a nightly job takes), executed to Arrow; and each rule alone (``members`` count), summed.
Real time: one profile with ~200 events; each rule compiled once, then ``matches`` timed over
many calls (and ``evaluate``, which also builds the reasons).

``--pipeline`` measures what ``shopkeeper segments evaluate`` runs on the engine instead of
ready-made profile columns: raw store-shaped tables (people, orders, purchased lines, events
with sessions, scores; generated in Arrow, as a 1M-customer store would take hours to
simulate) -> every profile field (:func:`shopkeeper.segments.facts.profile_table`: sessions by
window functions, tenure, recency-weighted affinities, latest source/device) -> the 50 rules in
one query -> members diffed against the previous run's open memberships (5% churn) as the
service does. Not included: reading the store into Arrow and writing memberships/events.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopkeeper.segments.batch import BatchEvaluator
from shopkeeper.segments.realtime import EventFacts, ProfileFacts, compile_rule
from shopkeeper.segments.rules import Condition, parse_rule

RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 3, 1, 12, 0, 0)
KINDS = ["product_viewed", "page_viewed", "product_added", "product_searched", "order_completed"]
KIND_P = [0.55, 0.2, 0.12, 0.08, 0.05]
CATEGORIES = [
    "kids/toddler/shoes",
    "kids/toddler/clothing",
    "kids/baby",
    "women/dresses",
    "women/shoes",
    "men/shirts",
    "men/shoes",
    "home/kitchen",
    "home/garden",
    "sport/running",
]
BRANDS = ["acme", "zeta", "nordic", "lumen", "pico", "vega", "orbit", "kite"]
TIERS = ["budget", "mid", "premium"]
PERSONAS = ["deal_seekers", "premium_loyalists", "parents", "window_shoppers"]
SOURCES = ["direct", "organic", "paid_search", "paid_social", "social", "email", "referral"]
DEVICES = ["mobile", "desktop", "tablet"]
COUNTRIES = ["DE", "FR", "NL", "AT", "CH", "BE", "IT", "ES"]
SEGMENTS = ["Champions", "Loyal", "Potential loyalist", "New customers", "At risk", "Lost"]


def customers(n: int, rng: np.random.Generator) -> pa.Table:
    orders = rng.poisson(1.5, n)
    revenue = np.where(orders > 0, orders * rng.gamma(2.0, 30.0, n), 0.0)

    def pick(values: list[str], missing: float = 0.0) -> pa.Array:
        idx = rng.integers(0, len(values), n)
        mask = rng.random(n) < missing
        return pa.DictionaryArray.from_arrays(
            pa.array(idx, pa.int32(), mask=mask), pa.array(values)
        ).dictionary_decode()

    def maybe(values: np.ndarray, missing: float) -> pa.Array:
        return pa.array(values, mask=rng.random(n) < missing)

    return pa.table(
        {
            "customer_id": np.arange(n, dtype=np.int64),
            "orders": orders,
            "sessions": orders + rng.poisson(3.0, n),
            "revenue": revenue.round(2),
            "aov": maybe(np.where(orders > 0, revenue / np.maximum(orders, 1), 0).round(2), 0.3),
            "days_since_last_order": maybe(rng.exponential(90.0, n).round(1), 0.3),
            "rfm_segment": pick(SEGMENTS, 0.3),
            "rfm_r": maybe(rng.integers(1, 6, n), 0.3),
            "rfm_f": maybe(rng.integers(1, 6, n), 0.3),
            "clv": maybe(rng.gamma(2.0, 60.0, n).round(2), 0.3),
            "p_alive": maybe(rng.beta(4.0, 2.0, n), 0.3),
            "tenure": pick(["newcomer", "returning", "regular"]),
            "first_visit": rng.random(n) < 0.15,
            "email_consent": rng.random(n) < 0.6,
            "source": pick(SOURCES, 0.1),
            "device_type": pick(DEVICES),
            "country": pick(COUNTRIES, 0.05),
            "affinity.category.kids": maybe(rng.random(n), 0.5),
            "affinity.brand.acme": maybe(rng.random(n), 0.6),
            "affinity.price_tier.premium": maybe(rng.random(n), 0.5),
        }
    )


def events(n_customers: int, per_customer: float, rng: np.random.Generator) -> pa.Table:
    m = int(n_customers * per_customer)
    # Activity is skewed (Gamma(0.5) weights): a few busy customers, many with a visit or two.
    active = np.cumsum(rng.gamma(0.5, 1.0, n_customers))
    kind = rng.choice(len(KINDS), m, p=KIND_P)
    product = np.isin(kind, [0, 2, 4])
    ages = rng.exponential(40.0, m).clip(0, 180) * 86_400_000_000  # microseconds, recent-heavy
    stamps = np.datetime64(NOW, "us") - ages.astype("timedelta64[us]")

    def pick(values: list[str], where: np.ndarray | None = None) -> pa.Array:
        idx = rng.integers(0, len(values), m)
        mask = None if where is None else ~where
        return pa.DictionaryArray.from_arrays(
            pa.array(idx, pa.int32(), mask=mask), pa.array(values)
        ).dictionary_decode()

    skus = [f"sku-{i:05d}" for i in range(5000)]
    return pa.table(
        {
            "customer_id": active.searchsorted(rng.random(m) * active[-1], side="right"),
            "timestamp": pa.array(stamps, pa.timestamp("us")),
            "kind": pa.DictionaryArray.from_arrays(
                pa.array(kind, pa.int32()), pa.array(KINDS)
            ).dictionary_decode(),
            "category": pick(CATEGORIES, product),
            "brand": pick(BRANDS, product),
            "price_tier": pick(TIERS, product),
            "sku": pick(skus, product),
            "value": pa.array(rng.gamma(2.0, 25.0, m).round(2), mask=~product),
            "source": pick(SOURCES),
            "device_type": pick(DEVICES),
            "query": pick(["shoes", "red dress", "toddler boots", "garden"], kind == 3),
        }
    )


def rules() -> list[dict[str, Any]]:
    """50 rules a marketer would write: behaviour in windows, RFM/CLV, traffic, combinations."""

    def eq(field: str, value: Any) -> dict[str, Any]:
        return {"field": field, "op": "=", "value": value}

    def views(category: str) -> dict[str, Any]:
        return {
            "all": [
                eq("kind", "product_viewed"),
                {"field": "category", "op": "under", "value": category},
            ]
        }

    def count(where: dict[str, Any], days: int, op: str, n: float) -> dict[str, Any]:
        return {"count": {"where": where, "within": {"days": days}}, "op": op, "value": n}

    orders = eq("kind", "order_completed")
    found: list[dict[str, Any]] = []
    for category in ("kids/toddler", "kids", "women", "men", "home", "sport"):
        for days, n in ((14, 4), (30, 6)):
            found.append(count(views(category), days, ">=", n))
        found.append(
            {
                "all": [
                    count(views(category), 14, ">=", 2),
                    {
                        "share": {
                            "where": eq("price_tier", "premium"),
                            "of": views(category),
                            "within": {"days": 14},
                        },
                        "op": ">=",
                        "value": 0.5,
                    },
                ]
            }
        )
    for segment_set in (["Loyal", "Champions"], ["At risk", "Lost"], ["New customers"]):
        found.append(
            {
                "all": [
                    count(orders, 90, "=", 0),
                    {"field": "rfm_segment", "op": "in", "value": segment_set},
                ]
            }
        )
    found.append({"all": [eq("first_visit", True), eq("source", "paid_social")]})
    for source in ("email", "paid_search", "organic"):
        found.append({"all": [eq("source", source), {"field": "orders", "op": ">=", "value": 1}]})
    for threshold in (100, 250, 500):
        found.append({"field": "clv", "op": ">=", "value": threshold})
        found.append(
            {
                "sum": {"field": "value", "where": orders, "within": {"days": 30}},
                "op": ">=",
                "value": threshold,
            }
        )
    for days in (7, 30, 90):
        found.append(
            {
                "distinct": {
                    "field": "sku",
                    "where": eq("kind", "product_viewed"),
                    "within": {"days": days},
                },
                "op": ">=",
                "value": 5,
            }
        )
        found.append(
            {
                "all": [
                    count(eq("kind", "product_added"), days, ">=", 1),
                    {"not": count(orders, days, ">=", 1)},
                ]
            }
        )
    found.append(
        {
            "all": [
                {"field": "p_alive", "op": "<", "value": 0.3},
                {"field": "revenue", "op": ">", "value": 200},
            ]
        }
    )
    found.append(
        {
            "any": [
                {"field": "affinity.category.kids", "op": ">=", "value": 0.4},
                count(views("kids"), 30, ">=", 3),
            ]
        }
    )
    found.append({"field": "affinity.price_tier.premium", "op": ">=", "value": 0.5})
    found.append(
        {
            "all": [
                eq("device_type", "mobile"),
                {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]},
                {"field": "tenure", "op": "!=", "value": "newcomer"},
            ]
        }
    )
    found.append(
        {
            "count": {
                "where": {
                    "all": [
                        eq("kind", "product_searched"),
                        {"field": "query", "op": "contains", "value": "shoe"},
                    ]
                },
                "within": {"hours": 24},
            },
            "op": ">=",
            "value": 1,
        }
    )
    found.append({"count": {"within": {"minutes": 30}}, "op": ">=", "value": 1})
    found.append(
        {
            "all": [
                {"field": "days_since_last_order", "op": ">", "value": 60},
                {"field": "email_consent", "op": "=", "value": True},
                {"field": "aov", "op": ">=", "value": 50},
            ]
        }
    )
    found.append(
        {
            "share": {
                "where": eq("brand", "acme"),
                "of": eq("kind", "product_viewed"),
                "within": {"days": 60},
            },
            "op": ">",
            "value": 0.3,
        }
    )
    found.append({"not": {"field": "rfm_segment", "op": "is set"}})
    found.append(
        {
            "all": [
                {"field": "rfm_r", "op": ">=", "value": 4},
                {"field": "rfm_f", "op": ">=", "value": 4},
            ]
        }
    )
    for tier in TIERS:
        found.append(
            count({"all": [eq("kind", "product_added"), eq("price_tier", tier)]}, 30, ">=", 2)
        )
    assert len(found) == 50, len(found)
    return found


def one_profile(
    rng: np.random.Generator, n_events: int = 200
) -> tuple[ProfileFacts, list[EventFacts]]:
    table = events(1, n_events, rng).to_pylist()
    facts = [
        EventFacts(
            timestamp=row["timestamp"],
            **{
                k: row[k]
                for k in (
                    "kind",
                    "category",
                    "brand",
                    "price_tier",
                    "sku",
                    "value",
                    "source",
                    "device_type",
                    "query",
                )
            },
        )
        for row in table
    ]
    profile = customers(1, rng).to_pylist()[0]
    profile.pop("customer_id")
    return ProfileFacts(profile), facts


def raw_tables(n: int, per_customer: float, rng: np.random.Generator) -> dict[str, pa.Table]:
    """Store-shaped inputs of :func:`shopkeeper.segments.facts.profile_table` for n customers."""
    ev = events(n, per_customer, rng)
    m = ev.num_rows
    with_session = rng.random(m) < 0.5  # half the events carry a session_id (web SDK), half not
    session = pa.array(
        (np.asarray(ev.column("customer_id")) * 100 + rng.integers(0, 8, m)).astype(str),
        mask=~with_session,
    )
    ev = ev.append_column("session_id", session)
    ev = ev.append_column("medium", pa.nulls(m, pa.string()))
    ev = ev.append_column("campaign", pa.nulls(m, pa.string()))
    ev = ev.append_column("country", pa.array(rng.choice(COUNTRIES, m)))
    n_orders = int(n * 1.5)
    order_owner = rng.integers(0, n, n_orders)
    order_age = rng.exponential(120.0, n_orders).clip(0, 720) * 86_400_000_000
    order_time = np.datetime64(NOW, "us") - order_age.astype("timedelta64[us]")
    statuses = rng.choice(["completed", "completed", "completed", "refunded", "placed"], n_orders)
    orders = pa.table(
        {
            "customer_id": order_owner,
            "timestamp": pa.array(order_time, pa.timestamp("us")),
            "status": statuses,
            "amount": rng.gamma(2.0, 30.0, n_orders).round(2),
        }
    )
    per_order = rng.integers(1, 3, n_orders)
    line_order = np.repeat(np.arange(n_orders), per_order)
    k = len(line_order)
    lines = pa.table(
        {
            "customer_id": order_owner[line_order],
            "timestamp": pa.array(order_time[line_order], pa.timestamp("us")),
            "category": rng.choice(CATEGORIES, k),
            "brand": rng.choice(BRANDS, k),
            "price_tier": rng.choice(TIERS, k),
        }
    )
    first_seen = np.datetime64(NOW, "us") - (rng.exponential(300.0, n) * 86_400_000_000).astype(
        "timedelta64[us]"
    )
    people = pa.table(
        {
            "customer_id": np.arange(n, dtype=np.int64),
            "first_seen_at": pa.array(first_seen, pa.timestamp("us")),
            "email_consent": rng.random(n) < 0.6,
        }
    )
    scored = rng.random(n) < 0.7
    ids = np.arange(n, dtype=np.int64)[scored]
    s = len(ids)
    scores = pa.table(
        {
            "customer_id": ids,
            "rfm_r": rng.integers(1, 6, s),
            "rfm_f": rng.integers(1, 6, s),
            "rfm_m": rng.integers(1, 6, s),
            "rfm_segment": rng.choice(SEGMENTS, s),
            "clv": rng.gamma(2.0, 60.0, s).round(2),
            "p_alive": rng.beta(4.0, 2.0, s),
            "persona": rng.choice(PERSONAS, s),
        }
    )
    return {"people": people, "orders": orders, "lines": lines, "events": ev, "scores": scores}


def bench_pipeline(
    n: int, per_customer: float, parsed: list[Condition], rng: np.random.Generator
) -> dict[str, Any]:
    """Profile fields from raw tables + 50 rules + membership diff (see the module doc)."""
    from shopkeeper.segments.facts import Inputs, profile_table
    from shopkeeper.segments.service import _profile_fields

    started = time.perf_counter()
    con = ibis.duckdb.connect()
    tables = raw_tables(n, per_customer, rng)
    for name, table in tables.items():
        con.create_table(name, table)
    load_s = time.perf_counter() - started
    inputs = Inputs(**{name: con.table(name) for name in tables})
    fields = {f for rule in parsed for f in _profile_fields(rule)}

    started, cpu = time.perf_counter(), time.process_time()
    people = profile_table(inputs, NOW, fields)
    result = BatchEvaluator(people, con.table("events")).membership(parsed, NOW).to_pyarrow()
    engine_s, engine_cpu = time.perf_counter() - started, time.process_time() - cpu

    ids = result.column("customer_id")
    members = [
        set(pc.filter(ids, result.column(f"rule_{i}")).to_pylist()) for i in range(len(parsed))
    ]
    previous = []
    for found in members:  # last run's open memberships: 5% of members new, as many gone
        kept = [c for c in found if rng.random() >= 0.05]
        previous.append(set(kept) | {-1 - i for i in range(len(found) - len(kept))})
    started, cpu = time.perf_counter(), time.process_time()
    changes = 0
    for now_in, was_in in zip(members, previous, strict=True):
        changes += len(sorted(now_in - was_in)) + len(sorted(was_in - now_in))
    diff_s, diff_cpu = time.perf_counter() - started, time.process_time() - cpu
    con.disconnect()
    return {
        "pipeline_rows": {name: t.num_rows for name, t in tables.items()},
        "pipeline_load_s": round(load_s, 1),
        "pipeline_facts_and_rules_s": round(engine_s, 2),
        "pipeline_facts_and_rules_cpu_s": round(engine_cpu, 2),
        "pipeline_diff_s": round(diff_s, 2),
        "pipeline_diff_cpu_s": round(diff_cpu, 2),
        "pipeline_changes": changes,
        "pipeline_members": [len(m) for m in members],
    }


def bench_batch(con: Any, parsed: list[Condition], per_rule: bool) -> dict[str, Any]:
    batch = BatchEvaluator(con.table("customers"), con.table("events"))
    started, cpu = time.perf_counter(), time.process_time()
    table = batch.membership(parsed, NOW).to_pyarrow()
    all_at_once = time.perf_counter() - started
    cpu_s = time.process_time() - cpu  # all DuckDB threads: the work, whatever the machine load
    sizes = [pc.sum(table.column(f"rule_{i}")).as_py() or 0 for i in range(len(parsed))]
    out: dict[str, Any] = {
        "batch_all_rules_s": round(all_at_once, 2),
        "batch_all_rules_cpu_s": round(cpu_s, 2),
        "members": sizes,
    }
    if per_rule:
        times = []
        for i, rule in enumerate(parsed):
            started = time.perf_counter()
            one = batch.membership([rule], NOW)
            size = one.filter(one.rule_0).count().execute()
            times.append(time.perf_counter() - started)
            assert size == sizes[i], (i, size, sizes[i])
        out["batch_each_rule_total_s"] = round(sum(times), 2)
        out["batch_each_rule_median_s"] = round(statistics.median(times), 3)
    return out


def bench_realtime(parsed: list[Condition], rng: np.random.Generator) -> dict[str, Any]:
    profile, facts = one_profile(rng)
    per_rule, with_reasons = [], []
    for rule in parsed:
        compiled = compile_rule(rule)
        calls = 2000
        started = time.perf_counter()
        for _ in range(calls):
            compiled.matches(profile, facts, NOW)
        per_rule.append((time.perf_counter() - started) / calls * 1e3)
        started = time.perf_counter()
        for _ in range(calls // 4):
            compiled.evaluate(profile, facts, NOW)
        with_reasons.append((time.perf_counter() - started) / (calls // 4) * 1e3)
    per_rule.sort()
    return {
        "realtime_events": len(facts),
        "realtime_median_ms": round(statistics.median(per_rule), 4),
        "realtime_p90_ms": round(per_rule[int(0.9 * len(per_rule))], 4),
        "realtime_max_ms": round(per_rule[-1], 4),
        "realtime_with_reasons_median_ms": round(statistics.median(with_reasons), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events-per-customer", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="50k customers, for a smoke run")
    parser.add_argument("--skip-per-rule", action="store_true", help="only the 50-rule query")
    parser.add_argument(
        "--pipeline", action="store_true", help="profile fields from raw tables + rules + diff"
    )
    args = parser.parse_args()
    n = 50_000 if args.quick else args.customers
    rng = np.random.default_rng(7)
    parsed = [parse_rule(rule) for rule in rules()]
    if args.pipeline:
        pipeline = {"customers": n} | bench_pipeline(n, args.events_per_customer, parsed, rng)
        RESULTS.mkdir(exist_ok=True)
        name = "segments-pipeline-quick.json" if args.quick else "segments-pipeline.json"
        (RESULTS / name).write_text(json.dumps(pipeline, indent=2) + "\n")
        print("| figure | value |\n|---|---|")
        for key, value in pipeline.items():
            if key != "pipeline_members":
                print(f"| {key} | {value} |")
        return

    started = time.perf_counter()
    con = ibis.duckdb.connect()
    con.create_table("customers", customers(n, rng))
    con.create_table("events", events(n, args.events_per_customer, rng))
    load_s = time.perf_counter() - started
    n_events = con.table("events").count().execute()

    results: dict[str, Any] = {"customers": n, "events": int(n_events), "load_s": round(load_s, 1)}
    results |= bench_batch(con, parsed, per_rule=not args.skip_per_rule)
    results |= bench_realtime(parsed, rng)
    con.disconnect()

    RESULTS.mkdir(exist_ok=True)
    name = "segments-quick.json" if args.quick else "segments.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    print("| figure | value |\n|---|---|")
    for key, value in results.items():
        if key != "members":
            print(f"| {key} | {value} |")
    share = [round(s / n, 3) for s in results["members"]]
    print(f"\nmembers per rule (share of customers): {share}")


if __name__ == "__main__":
    main()
