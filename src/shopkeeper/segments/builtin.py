"""Built-in traffic segments (maturity level 1): definitions as data, ready to install.

Each entry is a named rule in the segment rule language (:mod:`shopkeeper.segments.rules`):
tenure (newcomer / returning / regular), the current session's traffic channel and the
acquisition channel (:mod:`shopkeeper.segments.traffic`), device class, country and campaign.
Nothing here evaluates or stores anything; the segment service installs these with
``kind="builtin"`` and both evaluators run them like any stored rule. Pure module.

Example::

    for segment in BUILTIN_SEGMENTS:
        rule = parse_rule(segment.rule)   # every definition is valid (tests/segments)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopkeeper.segments.traffic import CHANNELS


@dataclass(frozen=True, slots=True)
class BuiltinSegment:
    """A segment definition: a stable slug, a display name, what it means, and the rule."""

    slug: str
    name: str
    description: str
    rule: dict[str, Any]


#: Channels the issue names, with the words a marketer reads; other GA4 channels still get
#: a segment each (named from the slug) so every visit lands in exactly one channel segment.
CHANNEL_NAMES: dict[str, str] = {
    "direct": "Direct",
    "organic": "Organic search",
    "paid_search": "Paid search",
    "paid_social": "Paid social",
    "social": "Organic social",
    "email": "E-mail",
    "referral": "Referral",
    "affiliate": "Affiliate",
}
DEVICE_CLASSES = ("mobile", "tablet", "desktop")
#: Countries that get a ready-made segment; any other is one rule away (``country = "XX"``).
COUNTRIES = ("DE", "AT", "CH", "NL", "FR", "GB", "US")


def _channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel) or channel.replace("_", " ").capitalize()


def _tenure() -> list[BuiltinSegment]:
    words = {
        "newcomer": "First seen under 30 days ago, at most one session, no earlier order.",
        "returning": "Known before, neither a newcomer nor a regular.",
        "regular": "3+ completed orders or 5+ sessions in the last 90 days.",
    }
    return [
        BuiltinSegment(
            f"tenure-{tenure}",
            tenure.capitalize() + "s",
            text,
            {"field": "tenure", "op": "=", "value": tenure},
        )
        for tenure, text in words.items()
    ]


def _channels() -> list[BuiltinSegment]:
    found = []
    for channel in CHANNELS:
        name = _channel_name(channel)
        found.append(
            BuiltinSegment(
                f"channel-{channel.replace('_', '-')}",
                f"Visiting from {name.lower()}",
                f"The current session came from {name.lower()} (GA4 default channel group).",
                {"field": "channel", "op": "=", "value": channel},
            )
        )
        found.append(
            BuiltinSegment(
                f"acquired-{channel.replace('_', '-')}",
                f"Acquired through {name.lower()}",
                f"The first visit came from {name.lower()}.",
                {"field": "first_channel", "op": "=", "value": channel},
            )
        )
    return found


def _first_visits() -> list[BuiltinSegment]:
    """First visits from the paid channels: who the ad money brought in today."""
    return [
        BuiltinSegment(
            f"first-visit-{channel.replace('_', '-')}",
            f"First visit from {_channel_name(channel).lower()}",
            f"In their first session, which came from {_channel_name(channel).lower()}.",
            {
                "all": [
                    {"field": "first_visit", "op": "=", "value": True},
                    {"field": "channel", "op": "=", "value": channel},
                ]
            },
        )
        for channel in ("paid_search", "paid_social", "email", "affiliate")
    ]


def _devices() -> list[BuiltinSegment]:
    return [
        BuiltinSegment(
            f"device-{device}",
            f"On {device}",
            f"The current session is on a {device} device.",
            {"field": "device_type", "op": "=", "value": device},
        )
        for device in DEVICE_CLASSES
    ]


def _places_and_campaigns() -> list[BuiltinSegment]:
    found = [
        BuiltinSegment(
            f"country-{country.lower()}",
            f"In {country}",
            f"The current session is located in {country}.",
            {"field": "country", "op": "=", "value": country},
        )
        for country in COUNTRIES
    ]
    found.append(
        BuiltinSegment(
            "from-campaign",
            "From a campaign",
            "The current session carries a campaign name (utm_campaign).",
            {"field": "campaign", "op": "is set"},
        )
    )
    return found


#: Every built-in segment, slugs unique.
BUILTIN_SEGMENTS: tuple[BuiltinSegment, ...] = (
    *_tenure(),
    *_channels(),
    *_first_visits(),
    *_devices(),
    *_places_and_campaigns(),
)
