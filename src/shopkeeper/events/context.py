"""Reading the spec's ``context`` object: device class, traffic source, location, consent.

Pure functions over plain dicts, so the ingest path and the segment rules share one reading.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

PURPOSES = ("analytics", "personalization", "email", "advertising")

#: Names consent managers use for our purposes (Segment consent spec ``categoryPreferences``).
_PURPOSE_ALIASES = {
    "analytics": "analytics",
    "performance": "analytics",
    "statistics": "analytics",
    "personalization": "personalization",
    "personalisation": "personalization",
    "functional": "personalization",
    "email": "email",
    "email_marketing": "email",
    "marketing": "email",
    "advertising": "advertising",
    "ads": "advertising",
    "targeting": "advertising",
}

_MOBILE = re.compile(r"Mobi|iPhone|Android.*Mobile|Windows Phone", re.IGNORECASE)
_TABLET = re.compile(r"iPad|Tablet|Android(?!.*Mobile)|Kindle|Silk", re.IGNORECASE)
_BOT = re.compile(r"bot|crawler|spider|HeadlessChrome", re.IGNORECASE)


def device_class(device: Any, user_agent: str | None) -> str | None:
    """``mobile``, ``tablet``, ``desktop`` or ``bot`` from ``context.device.type`` or the UA."""
    kind = str(device.get("type") or "").lower() if isinstance(device, dict) else ""
    if kind in {"mobile", "tablet", "desktop"}:
        return kind
    if kind in {"ios", "android", "phone", "smartphone"}:
        return "mobile"
    if not user_agent:
        return None
    return _user_agent_class(user_agent)


@lru_cache(maxsize=4096)
def _user_agent_class(user_agent: str) -> str:
    """Cached: a shop's traffic repeats a few hundred user agents, and the three regexes were
    half of ``prepare``'s time in the ingest profile (see BENCHMARKS.md)."""
    if _BOT.search(user_agent):
        return "bot"
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


def campaign_of(context: dict[str, Any]) -> dict[str, str]:
    """UTM fields from ``context.campaign`` or, failing that, the page URL's query string."""
    campaign = context.get("campaign")
    found: dict[str, str] = {}
    if isinstance(campaign, dict):
        for key in ("source", "medium", "name", "term", "content"):
            value = campaign.get(key) or campaign.get(f"utm_{key}")
            if value:
                found[key] = str(value)[:200]
    if found:
        return found
    page = context.get("page")
    url = page.get("url") if isinstance(page, dict) else None
    if isinstance(url, str) and "utm_" in url:
        query = parse_qs(urlsplit(url).query)
        for key, target in (
            ("utm_source", "source"),
            ("utm_medium", "medium"),
            ("utm_campaign", "name"),
            ("utm_term", "term"),
            ("utm_content", "content"),
        ):
            if query.get(key):
                found[target] = query[key][0][:200]
    return found


def consent_of(context: dict[str, Any], traits: dict[str, Any] | None) -> dict[str, bool]:
    """Consent per purpose from ``context.consent`` (flat or ``categoryPreferences``) or traits."""
    found: dict[str, bool] = {}
    for source in (
        (traits or {}).get("consent"),
        context.get("consent"),
    ):
        if not isinstance(source, dict):
            continue
        prefs = source.get("categoryPreferences", source)
        if not isinstance(prefs, dict):
            continue
        for key, value in prefs.items():
            if value is not True and value is not False:
                continue
            purpose = _PURPOSE_ALIASES.get(key) or _PURPOSE_ALIASES.get(
                str(key).strip().lower().replace(" ", "_")
            )
            if purpose:
                found[purpose] = value
    return found


def text(value: Any, limit: int) -> str | None:
    """A value as bounded text, or None."""
    if value is None or value == "":
        return None
    return str(value)[:limit]
