"""Built-in traffic segments are valid rules with unique slugs, and they mean what they say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopkeeper.segments.builtin import BUILTIN_SEGMENTS, BuiltinSegment
from shopkeeper.segments.realtime import ProfileFacts, compile_rule
from shopkeeper.segments.rules import parse_rule
from shopkeeper.segments.traffic import CHANNELS

NOW = datetime(2026, 11, 23, tzinfo=UTC)
BY_SLUG = {s.slug: s for s in BUILTIN_SEGMENTS}


@pytest.mark.parametrize("segment", BUILTIN_SEGMENTS, ids=lambda s: s.slug)
def test_every_builtin_parses(segment: BuiltinSegment) -> None:
    parse_rule(segment.rule)
    assert segment.name
    assert segment.description


def test_slugs_are_unique_and_cover_the_issue() -> None:
    assert len(BY_SLUG) == len(BUILTIN_SEGMENTS)
    for slug in (
        "tenure-newcomer",
        "tenure-returning",
        "tenure-regular",
        "channel-direct",
        "channel-organic",
        "channel-paid-search",
        "channel-paid-social",
        "channel-social",
        "channel-email",
        "channel-referral",
        "channel-affiliate",
        "device-mobile",
        "country-de",
        "from-campaign",
    ):
        assert slug in BY_SLUG
    assert sum(s.slug.startswith("channel-") for s in BUILTIN_SEGMENTS) == len(CHANNELS)


def matches(slug: str, **values: object) -> bool:
    rule = compile_rule(parse_rule(BY_SLUG[slug].rule))
    return rule.matches(ProfileFacts(values), [], NOW)  # type: ignore[arg-type]


def test_first_visit_from_paid_social() -> None:
    assert matches("first-visit-paid-social", first_visit=True, channel="paid_social")
    assert not matches("first-visit-paid-social", first_visit=False, channel="paid_social")
    assert not matches("first-visit-paid-social", first_visit=True, channel="social")


def test_channel_and_acquisition_are_separate() -> None:
    assert matches("acquired-email", first_channel="email", channel="direct")
    assert not matches("channel-email", first_channel="email", channel="direct")
    assert not matches("channel-email")  # missing channel: no segment claims the visitor
