"""Known answers for the traffic-channel classifier (GA4 default channel group, in order)."""

from __future__ import annotations

from typing import Any

import pytest

from shopkeeper.segments.traffic import CHANNELS, attribute, channel_of, classify, external_host

SHOP = "https://shop.example/p/boots"

#: (touch, expected channel, why)
CASES: list[tuple[dict[str, Any], str, str]] = [
    ({}, "direct", "nothing at all"),
    ({"url": SHOP}, "direct", "a landing page without referrer or tags"),
    ({"referrer": "", "url": SHOP}, "direct", "empty referrer"),
    ({"referrer": "https://shop.example/cart", "url": SHOP}, "direct", "same-site referrer"),
    ({"referrer": "https://www.shop.example/", "url": SHOP}, "direct", "www. of the same site"),
    ({"referrer": "not a url at all://", "url": SHOP}, "direct", "an unparseable referrer"),
    ({"referrer": "android-app://com.example.reader"}, "referral", "an app referrer"),
    # paid search
    ({"url": SHOP + "?gclid=abc"}, "paid_search", "Google Ads auto-tagging"),
    ({"url": SHOP + "?gbraid=x"}, "paid_search", "gbraid"),
    ({"url": SHOP + "?wbraid=x"}, "paid_search", "wbraid"),
    ({"url": SHOP + "?msclkid=x"}, "paid_search", "Microsoft Ads auto-tagging"),
    ({"url": SHOP + "?GCLID=x"}, "paid_search", "click id names are case-insensitive"),
    (
        {"url": SHOP + "?gclid=x", "referrer": "https://www.google.com/"},
        "paid_search",
        "a paid click beats the organic referrer",
    ),
    ({"source": "google", "medium": "cpc"}, "paid_search", "UTM google / cpc"),
    ({"source": "Google", "medium": "CPC"}, "paid_search", "UTM values are case-insensitive"),
    ({"source": "bing", "medium": "ppc"}, "paid_search", "ppc"),
    ({"source": "google.de", "medium": "paid"}, "paid_search", "paid.* medium"),
    ({"source": "yahoo", "medium": "retargeting"}, "paid_search", "retargeting is paid"),
    (
        {"source": "duckduckgo", "medium": "cpm"},
        "paid_search",
        "cpm is paid; search before display",
    ),
    # paid social
    ({"source": "facebook", "medium": "cpc"}, "paid_social", "facebook / cpc"),
    ({"source": "instagram", "medium": "paid_social"}, "paid_social", "paid_social medium"),
    ({"source": "tiktok", "medium": "paid"}, "paid_social", "tiktok / paid"),
    ({"source": "linkedin", "medium": "cpc"}, "paid_social", "linkedin"),
    (
        {"medium": "paid_social", "url": SHOP + "?fbclid=x"},
        "paid_social",
        "fbclid names the source, the medium says paid",
    ),
    ({"medium": "cpc", "url": SHOP + "?ttclid=x"}, "paid_social", "ttclid with a paid medium"),
    ({"url": SHOP + "?fbclid=x"}, "social", "fbclid alone: Meta tags organic links too"),
    ({"url": SHOP + "?epik=x"}, "social", "pinterest click id alone"),
    # social
    ({"referrer": "https://www.instagram.com/"}, "social", "instagram referrer"),
    ({"referrer": "https://l.facebook.com/l.php?u=x"}, "social", "facebook link shim"),
    ({"referrer": "https://t.co/abc"}, "social", "twitter's t.co"),
    ({"referrer": "https://lnkd.in/abc"}, "social", "linkedin short links"),
    ({"source": "instagram", "medium": "social"}, "social", "UTM social"),
    ({"source": "newsletter-x", "medium": "social-media"}, "social", "social medium"),
    ({"source": "pinterest", "medium": "referral"}, "social", "social site before referral"),
    # organic search
    ({"referrer": "https://www.google.com/"}, "organic", "google referrer"),
    ({"referrer": "https://www.google.co.uk/search?q=x"}, "organic", "country google"),
    ({"referrer": "https://www.bing.com/search?q=x"}, "organic", "bing referrer"),
    ({"referrer": "https://duckduckgo.com/"}, "organic", "duckduckgo referrer"),
    ({"referrer": "https://search.yahoo.com/"}, "organic", "yahoo subdomain"),
    ({"referrer": "https://www.ecosia.org/"}, "organic", "ecosia"),
    ({"source": "google", "medium": "organic"}, "organic", "UTM google / organic"),
    ({"source": "myblog", "medium": "organic"}, "organic", "medium organic"),
    # e-mail
    ({"source": "newsletter", "medium": "email"}, "email", "newsletter / email"),
    ({"source": "crm", "medium": "e-mail"}, "email", "e-mail spelling"),
    ({"source": "email", "medium": "blast"}, "email", "source email"),
    ({"source": "mailchimp", "medium": "newsletter"}, "email", "medium newsletter (extension)"),
    ({"medium": "email"}, "email", "medium only"),
    # affiliate
    ({"source": "awin", "medium": "affiliate"}, "affiliate", "GA4 affiliate"),
    ({"source": "partnerize", "medium": "affiliates"}, "affiliate", "plural (extension)"),
    ({"source": "coupons.example", "medium": "partner"}, "affiliate", "partner (extension)"),
    # referral
    ({"referrer": "https://www.modeblog.example/post"}, "referral", "other site"),
    ({"source": "modeblog", "medium": "referral"}, "referral", "UTM referral"),
    ({"source": "app-x", "medium": "app"}, "referral", "medium app"),
    ({"source": "x", "medium": "link"}, "referral", "medium link"),
    # the rest of GA4's definitions, in order
    ({"source": "x", "medium": "cpc", "campaign": "cross-network-q4"}, "cross_network", "cross"),
    ({"source": "google", "medium": "cpc", "campaign": "shopping-boots"}, "paid_shopping", "shop"),
    ({"source": "amazon", "medium": "cpc"}, "paid_shopping", "shopping site, paid"),
    ({"source": "youtube", "medium": "cpc"}, "paid_video", "paid video"),
    ({"source": "criteo", "medium": "banner"}, "display", "banner"),
    ({"source": "criteo", "medium": "display"}, "display", "display"),
    ({"source": "criteo", "medium": "cpv"}, "paid_other", "unknown source, paid medium"),
    ({"referrer": "https://www.idealo.de/"}, "organic_shopping", "shopping site referrer"),
    ({"source": "x", "medium": "y", "campaign": "summer-shop"}, "organic_shopping", "shop name"),
    ({"referrer": "https://www.youtube.com/watch"}, "organic_video", "youtube referrer"),
    ({"source": "x", "medium": "video"}, "organic_video", "video medium"),
    ({"source": "spotify", "medium": "audio"}, "audio", "audio"),
    ({"source": "sms", "medium": "text"}, "sms", "sms source"),
    ({"source": "firebase", "medium": "x"}, "push", "firebase"),
    ({"source": "app", "medium": "web-push"}, "push", "medium ends with push"),
    ({"source": "x", "medium": "y"}, "unassigned", "unknown tags"),
    ({"campaign": "spring"}, "direct", "a campaign name alone says nothing"),
]


@pytest.mark.parametrize(("touch", "expected", "why"), CASES, ids=[c[2] for c in CASES])
def test_classify(touch: dict[str, Any], expected: str, why: str) -> None:
    assert classify(**touch) == expected, why


def test_every_answer_is_a_known_channel() -> None:
    assert {expected for _, expected, _ in CASES} <= set(CHANNELS)


def test_attribution_explains_the_triple() -> None:
    found = attribute(referrer="https://www.google.de/search?q=x")
    assert (found.source, found.medium, found.channel) == ("google.de", "organic", "organic")
    assert attribute().source == "(direct)"
    assert attribute(url=SHOP + "?msclkid=1").medium == "cpc"


def test_utm_tags_beat_the_referrer() -> None:
    assert classify(source="newsletter", medium="email", referrer="https://www.google.com/") == (
        "email"
    )


@pytest.mark.parametrize(
    ("referrer", "url", "host"),
    [
        ("https://www.google.com/", SHOP, "google.com"),
        ("https://shop.example/x", SHOP, None),
        ("", SHOP, None),
        (None, None, None),
        ("https://[::1", SHOP, None),
    ],
)
def test_external_host(referrer: str | None, url: str | None, host: str | None) -> None:
    assert external_host(referrer, url) == host


def test_channel_of_direct_needs_no_medium() -> None:
    assert channel_of("(direct)", "(none)") == "direct"
    assert channel_of("(direct)", "email") == "email"
