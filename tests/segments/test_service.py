"""The segment service on both stores: definitions, evaluation into intervals and events,
size history, the audience export, erasure, crossing and priorities."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.errors import Conflict, NotFound
from shopkeeper.models import Customer, Event, Order, SegmentMembership
from shopkeeper.segments.rules import RuleError
from tests.customers import factories as f
from tests.segments.store import BIG_SPENDERS, BUYERS, T0, TODDLER, Shop, build


@pytest.fixture
def people(shop: Shopkeeper) -> Shop:
    return build(shop)


def create(shop: Shopkeeper, name: str, rule: object, **kw: str) -> str:
    with shop.db.transaction() as s:
        return shop.segments.create(s, name, rule, **kw).slug


def evaluate(shop: Shopkeeper, key: str | None = None) -> dict[str, tuple[int, int, int]]:
    with shop.db.transaction() as s:
        report = shop.segments.evaluate(s, key)
    return {e.slug: (e.size, e.entered, e.exited) for e in report.segments}


def segment_events(shop: Shopkeeper) -> list[tuple[str, str, str]]:
    """(kind, customer id, segment slug) of every segment event, in insert order."""
    with shop.db.sessions() as s:
        rows = s.scalars(
            select(Event).where(Event.kind.in_(["segment_entered", "segment_exited"]))
        ).all()
        return sorted(
            (e.kind, e.properties["customer_id"], e.properties["segment_slug"]) for e in rows
        )


def intervals(
    shop: Shopkeeper, customer_id: str, slug: str | None = None
) -> list[tuple[object, object]]:
    """(entered_at, exited_at) of the customer's memberships (of one segment), oldest first."""
    with shop.db.sessions() as s:
        query = select(SegmentMembership).where(SegmentMembership.customer_id == customer_id)
        if slug is not None:
            query = query.where(SegmentMembership.segment_id == shop.segments.get(s, slug).id)
        rows = s.scalars(query.order_by(SegmentMembership.id))
        return [(m.entered_at, m.exited_at) for m in rows]


def test_create_validates_and_stores_the_dumped_rule(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        segment = shop.segments.create(
            s, "Toddler premium", TODDLER, description="premium-minded parents", kind="persona"
        )
        assert (segment.slug, segment.version, segment.kind) == ("toddler-premium", 1, "persona")
    with shop.db.sessions() as s:
        detail = shop.segments.show(s, "toddler-premium")
    assert detail.rule["all"][0]["count"]["within"] == {"days": 14}
    assert detail.size is None
    assert detail.history == []
    assert "count of events where" in detail.rule_text


def test_invalid_rules_name_the_offending_part(shop: Shopkeeper) -> None:
    bad = {"all": [BUYERS, {"field": "categroy", "op": "=", "value": "kids"}]}
    with pytest.raises(RuleError) as caught, shop.db.transaction() as s:
        shop.segments.create(s, "Bad", bad)
    assert caught.value.status_code == 422
    assert caught.value.detail["errors"][0]["path"] == "rule.all[1].field"
    with pytest.raises(RuleError, match="not valid JSON"), shop.db.transaction() as s:
        shop.segments.create(s, "Text", '{"field": ')
    with shop.db.sessions() as s:
        assert shop.segments.list(s) == []


def test_rules_from_yaml_and_json_text(shop: Shopkeeper) -> None:
    with shop.db.transaction() as s:
        a = shop.segments.create(s, "From YAML", "field: orders\nop: '>='\nvalue: 2\n")
        b = shop.segments.create(s, "From JSON", '{"field": "orders", "op": ">=", "value": 2}')
        assert a.rule == b.rule == {"field": "orders", "op": ">=", "value": 2}


def test_slugs_are_unique_update_versions_and_delete(shop: Shopkeeper) -> None:
    create(shop, "Buyers", BUYERS)
    with pytest.raises(Conflict), shop.db.transaction() as s:
        shop.segments.create(s, "Buyers", BIG_SPENDERS)
    with shop.db.transaction() as s:
        same = shop.segments.update(s, "buyers", rule=dict(BUYERS), description="anyone")
        assert same.version == 1  # an equal rule is not a new version
        changed = shop.segments.update(s, "buyers", rule=BIG_SPENDERS, name="Big buyers")
        assert (changed.version, changed.name, changed.slug) == (2, "Big buyers", "buyers")
    with shop.db.transaction() as s:
        shop.segments.delete(s, "buyers")
    with pytest.raises(NotFound), shop.db.sessions() as s:
        shop.segments.show(s, "buyers")


def test_evaluation_finds_the_known_members_and_is_idempotent(
    shop: Shopkeeper, people: Shop
) -> None:
    for name, rule in (("Toddler", TODDLER), ("Buyers", BUYERS), ("Big", BIG_SPENDERS)):
        create(shop, name, rule)
    assert evaluate(shop) == {"big": (1, 1, 0), "buyers": (2, 2, 0), "toddler": (1, 1, 0)}
    first = segment_events(shop)
    assert first == sorted(
        [
            ("segment_entered", people.ann, "toddler"),
            ("segment_entered", people.ann, "buyers"),
            ("segment_entered", people.bob, "buyers"),
            ("segment_entered", people.ann, "big"),
        ]
    )
    # nothing changed: no entries, no exits, no new events, one more size point each
    assert evaluate(shop) == {"big": (1, 0, 0), "buyers": (2, 0, 0), "toddler": (1, 0, 0)}
    assert segment_events(shop) == first
    with shop.db.sessions() as s:
        page = shop.segments.members(s, "buyers", limit=1)
        assert len(page.members) == 1
        assert page.next_after == page.members[0].customer_id
        rest = shop.segments.members(s, "buyers", limit=1, after=page.next_after)
        both = {page.members[0].customer_id, rest.members[0].customer_id}
        assert both == {people.ann, people.bob}
        assert rest.next_after is None
        history = shop.segments.show(s, "buyers").history
    assert [(p.size, p.entered, p.exited) for p in history] == [(2, 2, 0), (2, 0, 0)]


def test_segment_events_resolve_to_the_customer(shop: Shopkeeper, people: Shop) -> None:
    create(shop, "Buyers", BUYERS)
    evaluate(shop)
    with shop.db.sessions() as s:
        rows = s.scalars(select(Event).where(Event.kind == "segment_entered")).all()
    by_user = {e.user_id: e for e in rows}
    assert set(by_user) == {"ann", "bob"}  # sent under the customer's userId
    assert by_user["ann"].properties["segment_slug"] == "buyers"
    assert by_user["ann"].timestamp == T0
    # and they are not the customer's activity: the profile's last visit is unchanged
    assert shop.customers.profile(people.ann).activity.last_seen == T0 - timedelta(days=1)


def test_a_change_in_data_gives_exactly_the_right_entries_exits_and_intervals(
    shop: Shopkeeper, people: Shop, clock: FixedClock
) -> None:
    create(shop, "Big", BIG_SPENDERS)
    create(shop, "Buyers", BUYERS)
    evaluate(shop)
    clock.advance(days=1)
    later = clock.now()
    with shop.db.transaction() as s:
        bob = s.get(Customer, people.bob)
        f.order(s, bob, later - timedelta(hours=1), total="75.00")  # bob: 40 -> 115
        first = s.scalars(
            select(Order).where(Order.customer_id == people.ann, Order.total == 100)
        ).one()
        first.status = "cancelled"  # ann: 150 -> 50
    before = set(segment_events(shop))
    assert evaluate(shop) == {"big": (1, 1, 1), "buyers": (2, 0, 0)}
    new = sorted(set(segment_events(shop)) - before)
    assert new == [
        ("segment_entered", people.bob, "big"),
        ("segment_exited", people.ann, "big"),
    ]
    assert intervals(shop, people.ann, "big") == [(T0, later)]
    assert intervals(shop, people.ann, "buyers") == [(T0, None)]
    with shop.db.sessions() as s:
        open_big = shop.segments.members(s, "big").members
        history = shop.segments.show(s, "big").history
    assert [(m.customer_id, m.entered_at) for m in open_big] == [(people.bob, later)]
    assert [(p.evaluated_at, p.size, p.entered, p.exited) for p in history] == [
        (T0, 1, 1, 0),
        (later, 1, 1, 1),
    ]
    # back in: a second interval, the first stays closed
    clock.advance(days=1)
    with shop.db.transaction() as s:
        f.order(s, s.get(Customer, people.ann), clock.now() - timedelta(hours=1), total="80")
    assert evaluate(shop, "big") == {"big": (2, 1, 0)}
    assert intervals(shop, people.ann, "big") == [(T0, later), (clock.now(), None)]


def test_export_holds_only_consenting_customers_hashed_emails(
    shop: Shopkeeper, people: Shop
) -> None:
    create(shop, "Buyers", BUYERS)
    evaluate(shop)
    with shop.db.sessions() as s:
        audience = "".join(shop.segments.export_csv(s, "buyers"))
        ids = "".join(shop.segments.export_csv(s, "buyers", hashed=False))
    known = hashlib.sha256(b"test@example.com").hexdigest()  # ann's " Test@Example.com "
    assert audience == f"Email\r\n{known}\r\n"  # bob refused advertising: not exported
    assert ids.splitlines() == ["customer_id", *sorted([people.ann, people.bob])]


def test_customer_segments_are_real_time_with_reasons(shop: Shopkeeper, people: Shop) -> None:
    create(shop, "Toddler", TODDLER)
    create(shop, "Buyers", BUYERS)
    with shop.db.sessions() as s:
        ann = shop.segments.segments_of(s, "ann")  # any identifier
    assert ann.customer_id == people.ann
    found = {seg.slug: seg for seg in ann.segments}
    assert set(found) == {"buyers", "toddler"}
    assert found["buyers"].reasons == ["rule: orders >= 1 (was 2)"]
    assert found["buyers"].member_since is None  # not evaluated yet
    assert any("rule.all[1]: share" in r and "(was 0.8)" in r for r in found["toddler"].reasons)
    evaluate(shop)
    with shop.db.sessions() as s:
        bob = shop.segments.segments_of(s, people.bob)
    assert [(seg.slug, seg.member_since) for seg in bob.segments] == [("buyers", T0)]


def test_memberships_are_exported_and_erased(shop: Shopkeeper, people: Shop) -> None:
    create(shop, "Buyers", BUYERS)
    evaluate(shop)
    with shop.db.transaction() as s:
        exported = shop.privacy.export(s, "ann", actor="test")
    assert [m["customer_id"] for m in exported["segment_memberships"]] == [people.ann]
    with shop.db.transaction() as s:
        counts = shop.privacy.erase(s, "ann", actor="test").counts
    assert counts["segment_memberships"] == 1
    assert intervals(shop, people.ann) == []
    assert [e for e in segment_events(shop) if e[1] == people.ann] == []
    with shop.db.sessions() as s:
        assert [m.customer_id for m in shop.segments.members(s, "buyers").members] == [people.bob]


def test_cross_and_priorities(shop: Shopkeeper, people: Shop) -> None:
    create(shop, "Buyers", BUYERS)
    create(shop, "Big", BIG_SPENDERS)
    create(shop, "Toddler", TODDLER)
    evaluate(shop)
    with shop.db.sessions() as s:
        crossed = shop.segments.cross(s, ["buyers", "big"])
        ranked = shop.segments.priorities(s)
    assert crossed.customers == 3
    assert [(c.inside, c.customers) for c in crossed.cells] == [
        (["buyers", "big"], 1),
        (["buyers"], 1),
        ([], 1),
    ]
    by_slug = {p.slug: p for p in ranked.segments}
    # buyers: 2 members, both bought in 90 days, 3 orders worth 190 -> 2 x 1.0 x 63.33
    assert by_slug["buyers"].expected_value == pytest.approx(126.67)
    assert (by_slug["buyers"].reach, by_slug["buyers"].effort) == (0.5, 1)
    assert by_slug["big"].expected_value == pytest.approx(75.0)
    assert [p.rank for p in ranked.segments] == [1, 2, 3]
    assert ranked.segments[0].slug == "buyers"
    assert ranked.basis == "orders"


def test_a_segment_changed_between_decide_and_record_is_skipped(
    shop: Shopkeeper, people: Shop
) -> None:
    create(shop, "Buyers", BUYERS)
    create(shop, "Big", BIG_SPENDERS)
    with shop.db.sessions() as s:
        decision = shop.segments.decide(s)
    with shop.db.transaction() as s:
        shop.segments.update(s, "big", rule={"field": "revenue", "op": ">=", "value": 10})
    with shop.db.transaction() as s:
        report = shop.segments.record(s, decision)
    assert [(e.slug, e.size) for e in report.segments] == [("buyers", 2)]
    assert evaluate(shop, "big") == {"big": (2, 2, 0)}  # the next evaluation covers it


def test_builtin_segments_install_once(shop: Shopkeeper) -> None:
    from shopkeeper.segments.builtin import BUILTIN_SEGMENTS

    with shop.db.transaction() as session:
        assert shop.segments.install_builtin(session) == len(BUILTIN_SEGMENTS)
    with shop.db.transaction() as session:
        assert shop.segments.install_builtin(session) == 0
        kinds = {s.kind for s in shop.segments.list(session)}
    assert kinds == {"builtin"}
