"""Ground truth of a simulation, written apart from the shop data and never into events.

Later work (segments, recommendations, CLV) is scored against it: who has which persona, what
each customer truly prefers, when lapsing regulars stopped, and what each one is worth.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from shopkeeper.simulator.catalog import LEAVES, TIERS
from shopkeeper.simulator.personas import PERSONA_NAMES, PERSONAS

if TYPE_CHECKING:
    from shopkeeper.simulator.shop import ShopSimulation


def expected_annual_value(sim: ShopSimulation) -> np.ndarray:
    """Expected revenue per customer over a coming year, under the simulator's own model.

    Web: sessions (the persona's visit rate times the customer's own frequency multiplier, plus
    the sessions newsletter clicks start for subscribers with an account) x P(cart not empty) x
    P(checkout) x items x preference-weighted mean price, less the average coupon discount; plus
    store purchases for loyalty-card holders (also times the frequency multiplier). Zero for
    customers who are gone (one-off buyers after their order, lapsed regulars).
    """
    pop, t, cal = sim.population, sim.table, sim.calendar
    p = pop.persona
    season = np.where(cal.gift_season, 1, 0).mean()
    mix = season * t.gift_season[p] + (1 - season) * t.off_season[p]
    registered = pop.registered if sim.outcome is None else sim.outcome.registered
    campaigns = 365 * np.mean([name is not None for name in cal.campaigns])
    mailed = campaigns * t.email_open[p] * t.email_click[p] * (registered & pop.consent_email)
    sessions = 365 * t.visit_rate[p] * mix * cal.traffic.mean() * pop.frequency + mailed
    p_cart = 1 - (1 - t.p_add[p]) * np.exp(-t.views_mean[p] * t.p_add[p])
    items = np.maximum(1.0, (1 + t.views_mean[p]) * t.p_add[p] / p_cart) * 0.9
    bucket_price = sim.catalog.mean_bucket_price.reshape(len(LEAVES), len(TIERS))
    price = np.einsum("nl,lt,nt->n", pop.cat_weights, bucket_price, pop.tier_weights)
    web = sessions * p_cart * t.p_buy[p] * items * price * (1 - 0.13 * t.p_coupon[p])
    store = 365 * t.store_rate[p] * pop.frequency * 0.75 * (1 + t.basket_mean[p]) * price
    alive = pop.churn_day >= sim.config.days
    if sim.outcome is not None:
        alive &= ~sim.outcome.gone
    return np.asarray(np.round((web + store * pop.has_loyalty) * alive, 2))


def build_truth(sim: ShopSimulation) -> dict[str, Any]:
    """Per-customer truth plus planted effects, seed and parameters (a JSON-ready dict)."""
    pop, cfg, out = sim.population, sim.config, sim.outcome
    value = expected_annual_value(sim)
    start = cfg.start

    def on(day: int) -> str | None:
        return (start + timedelta(days=int(day))).isoformat() if 0 <= day < cfg.days else None

    customers = []
    for i in range(len(pop)):
        persona = PERSONA_NAMES[pop.persona[i]]
        churn = None
        if persona == "lapsing_regular":  # may fall after the period: they lapse later
            churn = (start + timedelta(days=int(pop.churn_day[i]))).isoformat()
        if out is not None and out.gone[i]:
            churn = on(int(out.first_order_day[i]))
        row: dict[str, Any] = {
            "user_id": pop.user_ids[i],
            "anonymous_ids": pop.anonymous_ids[i],
            "loyalty_id": pop.loyalty_ids[i],
            "email": pop.traits[i]["email"],
            "persona": persona,
            "influencer": bool(pop.influencer[i]),
            "frequency": round(float(pop.frequency[i]), 4),
            "joined": (start + timedelta(days=int(pop.join_day[i]))).isoformat(),
            "churn_date": churn,
            "salutation": pop.salutations[i],
            "preferences": {
                "categories": dict(
                    zip(LEAVES, np.round(pop.cat_weights[i], 4).tolist(), strict=True)
                ),
                "tiers": dict(zip(TIERS, np.round(pop.tier_weights[i], 4).tolist(), strict=True)),
            },
            "expected_future_value": float(value[i]),
        }
        if out is not None:
            row["observed"] = {
                "orders": int(out.orders[i]),
                "revenue": round(float(out.revenue[i]), 2),
                "coupon_orders": int(out.coupon_orders[i]),
                "first_order_date": on(int(out.first_order_day[i])),
                "last_active_date": on(int(out.last_active_day[i])),
            }
        customers.append(row)
    return {
        "seed": cfg.seed,
        "parameters": cfg.to_dict(),
        "personas": [dataclasses.asdict(p) for p in PERSONAS],
        "planted_effects": sim.calendar.effects,
        "customers": customers,
    }


def write_truth(truth: dict[str, Any], path: Path) -> list[Path]:
    """Write ``truth`` to ``path``: one JSON file if it ends in ``.json``, else a directory
    with ``truth.json`` (everything but the customers) and ``customers.jsonl``."""
    if path.suffix == ".json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2))
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    meta = {k: v for k, v in truth.items() if k != "customers"}
    meta_path = path / "truth.json"
    meta_path.write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    rows_path = path / "customers.jsonl"
    with rows_path.open("wb") as fh:
        for row in truth["customers"]:
            fh.write(orjson.dumps(row) + b"\n")
    return [meta_path, rows_path]
