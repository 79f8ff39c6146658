"""Traffic channels: which marketing channel brought a visit, from UTM tags, click ids and referrer.

The rule set is **Google Analytics 4's default channel group** ("[GA4] Default channel group",
support.google.com/analytics/answer/9756891), the grouping marketers already read in their
reports. GA4 first reduces a hit to a *source / medium / campaign* triple and then tests the
channel definitions **in order, first match wins**; :func:`classify` does both steps.

Step 1, the triple (GA4's traffic-source attribution):

* UTM tags (``utm_source`` / ``utm_medium`` / ``utm_campaign``, from ``context.campaign`` or the
  page URL) are used as given, lower-cased.
* Auto-tagging click ids stand in for missing tags: ``gclid`` / ``gbraid`` / ``wbraid`` /
  ``dclid`` → ``google / cpc``, ``msclkid`` → ``bing / cpc``. Social click ids (``fbclid``,
  ``ttclid``, ``twclid``, ``li_fat_id``, ``ScCid``, ``epik``) only name the *source*
  (facebook, tiktok, ...): Meta adds ``fbclid`` to organic links too, so without a paid
  medium they make *social*, with one (``utm_medium=paid_social``, ``cpc``...) *paid social*.
* Without tags, an external referrer gives ``<host> / organic`` for a known search engine and
  ``<host> / referral`` otherwise. A **same-site referrer does not count** (internal
  navigation: GA4 ignores self-referrals) and nor does an unparseable one.
* Nothing at all is ``(direct) / (none)``.

Step 2, the channel definitions in GA4's order (``paid`` below is GA4's paid-medium pattern
``^(.*cp.*|ppc|retargeting|paid.*)$``):

======================  =====================================================================
``direct``              source ``(direct)`` and medium ``(none)`` / ``(not set)``
``cross_network``       campaign contains ``cross-network``
``paid_shopping``       (shopping site, or campaign matches ``shop``/``shopping``) and paid
``paid_search``         search-engine source and paid
``paid_social``         social-network source and paid
``paid_video``          video-site source and paid
``display``             medium ``display`` / ``banner`` / ``expandable`` / ``interstitial`` /
                        ``cpm``
``paid_other``          paid
``organic_shopping``    shopping site, or campaign matches shopping
``social``              social-network source, or medium ``social`` / ``social-network`` /
                        ``social-media`` / ``sm`` / ``social network`` / ``social media``
``organic_video``       video-site source, or medium contains ``video``
``organic``             search-engine source, or medium ``organic``
``email``               source or medium ``email`` / ``e-mail`` / ``e_mail`` / ``e mail``
``affiliate``           medium ``affiliate``
``referral``            medium ``referral`` / ``app`` / ``link``
``audio``               medium ``audio``
``sms``                 source or medium ``sms``
``push``                medium ends with ``push`` or contains ``mobile`` / ``notification``,
                        or source ``firebase``
``unassigned``          anything else
======================  =====================================================================

GA4 names: *Organic Search* is ``organic``, *Organic Social* is ``social``, *Affiliates* is
``affiliate``, *Mobile Push Notifications* is ``push``. Deliberate extensions, each because
shops send these tags and GA4 would leave the visit *Unassigned*: medium ``newsletter`` counts
as e-mail, and medium ``affiliates`` / ``partner`` / ``partners`` as affiliate. The site lists
are GA4's published lists cut to the hosts that matter for shops; a host matches when it or a
parent domain is listed (``lnkd.in``) or when one of its labels but the last is a listed name
(``www.google.de`` → ``google``, ``l.facebook.com`` → ``facebook``). Pure module: no web or
database imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

#: Every channel, in GA4's evaluation order (``unassigned`` last).
CHANNELS: tuple[str, ...] = (
    "direct",
    "cross_network",
    "paid_shopping",
    "paid_search",
    "paid_social",
    "paid_video",
    "display",
    "paid_other",
    "organic_shopping",
    "social",
    "organic_video",
    "organic",
    "email",
    "affiliate",
    "referral",
    "audio",
    "sms",
    "push",
    "unassigned",
)

#: Search engines (GA4's "search sites" list, shortened): first label or registered domain.
SEARCH_SITES = frozenset(
    {
        "google", "bing", "yahoo", "duckduckgo", "baidu", "yandex", "ecosia", "qwant", "ask",
        "aol", "naver", "seznam", "startpage", "brave", "search.brave.com", "msn", "sogou",
        "so.com", "daum", "onet", "wp", "t-online", "web.de", "gmx", "mail.ru", "rambler",
        "search-results", "avg", "lycos", "dogpile", "ekoru", "kvasir",
    }
)  # fmt: skip
#: Social networks (GA4's "social sites" list, shortened).
SOCIAL_SITES = frozenset(
    {
        "facebook", "fb", "instagram", "ig", "linkedin", "lnkd.in", "pinterest", "twitter",
        "t.co", "x.com", "tiktok", "snapchat", "reddit", "tumblr", "vk", "weibo", "whatsapp",
        "messenger", "threads", "threads.net", "quora", "discord", "telegram", "line",
        "wechat", "xing", "meetup", "flickr", "mastodon", "bsky", "bsky.app",
    }
)  # fmt: skip
#: Video sites (GA4's "video sites" list, shortened).
VIDEO_SITES = frozenset({"youtube", "youtu.be", "vimeo", "twitch", "dailymotion", "wistia"})
#: Shopping sites (GA4's "shopping sites" list, shortened).
SHOPPING_SITES = frozenset(
    {
        "shopping.google.com", "google shopping", "amazon", "ebay", "etsy", "shopify",
        "shopzilla", "idealo", "pricerunner", "kelkoo", "walmart", "zalando", "otto",
        "rakuten", "aliexpress", "igshopping",
    }
)  # fmt: skip

#: Click id -> (source, medium) it implies when the visit carries no UTM tags. A medium of
#: None means the id says only where the click came from, not that it was paid.
CLICK_IDS: dict[str, tuple[str, str | None]] = {
    "gclid": ("google", "cpc"),
    "gbraid": ("google", "cpc"),
    "wbraid": ("google", "cpc"),
    "dclid": ("google", "cpc"),
    "msclkid": ("bing", "cpc"),
    "fbclid": ("facebook", None),
    "ttclid": ("tiktok", None),
    "twclid": ("twitter", None),
    "li_fat_id": ("linkedin", None),
    "sccid": ("snapchat", None),
    "epik": ("pinterest", None),
}

_PAID = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOPPING_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_EMAIL = frozenset({"email", "e-mail", "e_mail", "e mail"})
_DISPLAY = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIUMS = frozenset(
    {"social", "social-network", "social-media", "sm", "social network", "social media"}
)
_REFERRAL = frozenset({"referral", "app", "link"})
_AFFILIATE = frozenset({"affiliate", "affiliates", "partner", "partners"})  # GA4: "affiliate"
_NEWSLETTER = frozenset({"newsletter"})  # extension: GA4 would call it unassigned
DIRECT_SOURCE = "(direct)"
NO_MEDIUM = frozenset({"(none)", "(not set)", ""})


@dataclass(frozen=True, slots=True)
class Attribution:
    """The source / medium / campaign a touch reduces to, and the channel they make."""

    source: str
    medium: str
    campaign: str
    channel: str


def classify(
    *,
    source: str | None = None,
    medium: str | None = None,
    campaign: str | None = None,
    referrer: str | None = None,
    url: str | None = None,
) -> str:
    """The channel of one touch (a landing page view, an event carrying campaign context).

    Args:
        source, medium, campaign: UTM values (``utm_source`` ...), if any.
        referrer: The page's referrer URL (``context.page.referrer``).
        url: The page URL, read for click ids (and for the site's own host, so a same-site
            referrer is ignored).

    Example::

        >>> classify(url="https://shop.example/?gclid=abc")
        'paid_search'
        >>> classify(referrer="https://www.google.de/search?q=boots")
        'organic'
        >>> classify(referrer="https://shop.example/cart", url="https://shop.example/p/1")
        'direct'
    """
    return attribute(
        source=source, medium=medium, campaign=campaign, referrer=referrer, url=url
    ).channel


def attribute(
    *,
    source: str | None = None,
    medium: str | None = None,
    campaign: str | None = None,
    referrer: str | None = None,
    url: str | None = None,
) -> Attribution:
    """Step 1 (reduce the touch to source / medium / campaign) and step 2 (:func:`channel_of`)."""
    src = (source or "").strip().lower()
    med = (medium or "").strip().lower()
    name = (campaign or "").strip().lower()
    if not src and url and "?" in url:
        clicked, implied = _from_click_ids(url)
        src, med = clicked, med or implied
    if not src and not med:
        host = external_host(referrer, url)
        if host is not None:
            src, med = host, _referred_medium(host)
    if not src and not med:
        src, med = DIRECT_SOURCE, "(none)"
    return Attribution(src, med, name, channel_of(src, med, name))


def _referred_medium(host: str) -> str:
    """The medium of a visit referred by ``host`` (an external site): a search engine's is
    ``organic``, any other's ``referral``."""
    return "organic" if _listed(host, SEARCH_SITES) else "referral"


@lru_cache(maxsize=4096)
def channel_of(source: str, medium: str, campaign: str = "") -> str:
    """Step 2: GA4's channel definitions in order over a lower-cased source / medium / campaign.

    Cached: ingest asks it for every event, and a shop's traffic repeats a few hundred
    combinations."""
    if source == DIRECT_SOURCE and medium in NO_MEDIUM:
        return "direct"
    if "cross-network" in campaign:
        return "cross_network"
    paid = bool(_PAID.match(medium))
    shopping = _listed(source, SHOPPING_SITES) or bool(_SHOPPING_CAMPAIGN.match(campaign))
    if paid:
        if shopping:
            return "paid_shopping"
        if _listed(source, SEARCH_SITES):
            return "paid_search"
        if _listed(source, SOCIAL_SITES):
            return "paid_social"
        if _listed(source, VIDEO_SITES):
            return "paid_video"
    if medium in _DISPLAY:
        return "display"
    if paid:
        return "paid_other"
    if shopping:
        return "organic_shopping"
    if _listed(source, SOCIAL_SITES) or medium in _SOCIAL_MEDIUMS:
        return "social"
    if _listed(source, VIDEO_SITES) or "video" in medium:
        return "organic_video"
    if _listed(source, SEARCH_SITES) or medium == "organic":
        return "organic"
    if source in _EMAIL or medium in _EMAIL or medium in _NEWSLETTER:
        return "email"
    if medium in _AFFILIATE:
        return "affiliate"
    if medium in _REFERRAL:
        return "referral"
    if medium == "audio":
        return "audio"
    if source == "sms" or medium == "sms":
        return "sms"
    if medium.endswith("push") or "mobile" in medium or "notification" in medium:
        return "push"
    if source == "firebase":
        return "push"
    return "unassigned"


def external_host(referrer: str | None, url: str | None = None) -> str | None:
    """The referrer's host (lower case, no ``www.``) unless empty, unparseable or same-site."""
    if not referrer:
        return None
    host = _host(referrer)
    if host is None:
        return None
    if url and _host(url) == host:
        return None
    return host


@lru_cache(maxsize=4096)
def _host(address: str) -> str | None:
    try:
        host = urlsplit(address if "//" in address else f"//{address}").hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


def _from_click_ids(url: str) -> tuple[str, str]:
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return "", ""
    keys = {key.lower() for key in query}
    for key, (src, med) in CLICK_IDS.items():
        if key in keys:
            return src, med or ""
    return "", ""


@lru_cache(maxsize=4096)
def _listed(source: str, sites: frozenset[str]) -> bool:
    """``source`` is a listed site: exactly, by a parent domain, or by its first label."""
    if not source:
        return False
    if source in sites:
        return True
    labels = source.split(".")
    if any(label in sites for label in labels[:-1]):
        return True
    return any(".".join(labels[i:]) in sites for i in range(1, len(labels) - 1))


def event_channel(
    utm: dict[str, str], url: str | None, referrer: str | None, *, has_page: bool
) -> str | None:
    """The channel one stored event shows, or None when it shows none.

    An event shows a channel when it carries UTM tags, a click id or an external referrer;
    a page context with no referrer at all is ``direct``. Internal navigation (a same-site
    referrer) and server-side events without page context show nothing: they belong to
    whatever channel opened their session (see :func:`session_channel`).
    """
    source, medium = utm.get("source"), utm.get("medium")
    if source or medium or (url and "?" in url and _from_click_ids(url)[0]):
        return classify(
            source=source, medium=medium, campaign=utm.get("name"), referrer=referrer, url=url
        )
    if referrer:
        host = external_host(referrer, url)
        if host is None:
            return None
        # what classify(referrer=referrer, url=url) gives, without reading the URLs again
        return channel_of(host, _referred_medium(host))
    return "direct" if has_page else None


def session_channel(channels: list[str | None]) -> str | None:
    """A session's channel: the first channel its events show, in time order (GA4 takes the
    session's first event; we skip events that show none, e.g. server-side ones)."""
    return next((c for c in channels if c is not None), None)
