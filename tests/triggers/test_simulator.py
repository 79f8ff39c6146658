"""Acceptance on the simulator: premium affinity finds the premium-minded, never the budget ones.

The simulator plants personas with known price-tier mixes (premium loyalists view 82% premium
products, deal seekers 4%). Events go through the real ingest path, triggers fire after each
committed chunk, and the firings are scored against the ground truth.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.events.kinds import TRIGGER_FIRED
from shopkeeper.models import Event
from shopkeeper.simulator.commands import simulate_to_store


def test_premium_affinity_on_the_simulator(shop: Shopkeeper, tmp_path: Path) -> None:
    # A replayed history fires as it would have live only with no age limit on arrivals.
    shop = Shopkeeper(
        settings=shop.settings.model_copy(update={"triggers_max_age_days": 0}),
        db=shop.db,
        clock=shop.clock,
    )
    simulate_to_store(shop, 150, 45, 7, tmp_path / "truth")
    truth = [
        json.loads(line)
        for line in (tmp_path / "truth" / "customers.jsonl").read_text().splitlines()
    ]
    persona_of: dict[tuple[str, str], str] = {}
    for customer in truth:
        persona_of[("user_id", customer["user_id"])] = customer["persona"]
        for anonymous_id in customer["anonymous_ids"]:
            persona_of[("anonymous_id", anonymous_id)] = customer["persona"]
    who: dict[str, set[str]] = defaultdict(set)
    evidence_ids: set[int] = set()
    with shop.db.sessions() as session:
        for event in session.scalars(select(Event).where(Event.kind == TRIGGER_FIRED)):
            if event.properties["trigger"] != "premium_affinity":
                continue
            persona = (
                persona_of.get(("user_id", event.user_id or ""))
                or persona_of[("anonymous_id", event.anonymous_id or "")]
            )
            who[persona].add(event.user_id or event.anonymous_id or "")
            items, premium, share = event.properties["evidence"]["measures"]
            assert items["value"] >= 4
            assert premium["value"] >= 2
            assert share["value"] >= 0.5
            evidence_ids.update(items["event_ids"])
        found = session.scalars(select(Event.kind).where(Event.id.in_(evidence_ids))).all()
        assert len(found) == len(evidence_ids)  # the evidence names stored views
        assert set(found) == {"product_viewed"}
    size = defaultdict(int)
    for customer in truth:
        size[customer["persona"]] += 1
    premium = len(who["premium_loyalist"]) / size["premium_loyalist"]
    assert premium >= 0.5, dict(who)  # most premium loyalists are caught within 45 days
    assert who["deal_seeker"] == set()  # budget browsers never
