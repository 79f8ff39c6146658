"""Typed event kinds: Segment's V2 e-commerce and e-mail specs plus our own touchpoints.

Every stored event gets a ``kind`` (the column the rest of Shopkeeper queries). Track calls map
by event name, case- and space-insensitively (``Product Viewed``, ``product_viewed`` and
``productViewed`` are one kind); unknown names are kept as ``custom``.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Segment event name -> kind.
TRACK_KINDS: dict[str, str] = {
    # Browsing
    "Products Searched": "product_searched",
    "Product List Viewed": "product_list_viewed",
    "Product List Filtered": "product_list_filtered",
    # Promotions
    "Promotion Viewed": "promotion_viewed",
    "Promotion Clicked": "promotion_clicked",
    # Ordering
    "Product Clicked": "product_clicked",
    "Product Viewed": "product_viewed",
    "Product Added": "product_added",
    "Product Removed": "product_removed",
    "Cart Viewed": "cart_viewed",
    "Checkout Started": "checkout_started",
    "Checkout Step Viewed": "checkout_step_viewed",
    "Checkout Step Completed": "checkout_step_completed",
    "Payment Info Entered": "payment_info_entered",
    "Order Updated": "order_updated",
    "Order Completed": "order_completed",
    "Order Refunded": "order_refunded",
    "Order Cancelled": "order_cancelled",
    # Coupons
    "Coupon Entered": "coupon_entered",
    "Coupon Applied": "coupon_applied",
    "Coupon Denied": "coupon_denied",
    "Coupon Removed": "coupon_removed",
    # Wishlisting, sharing, reviewing
    "Product Added to Wishlist": "wishlist_product_added",
    "Product Removed from Wishlist": "wishlist_product_removed",
    "Wishlist Product Added to Cart": "wishlist_product_added_to_cart",
    "Product Shared": "product_shared",
    "Cart Shared": "cart_shared",
    "Product Reviewed": "product_reviewed",
    # E-mail (Segment's e-mail spec)
    "Email Delivered": "email_delivered",
    "Email Opened": "email_opened",
    "Email Link Clicked": "email_link_clicked",
    "Email Bounced": "email_bounced",
    "Email Marked as Spam": "email_marked_as_spam",
    "Unsubscribed": "email_unsubscribed",
    # Other touchpoints
    "Store Visited": "store_visited",
    "Social Clicked": "social_clicked",
    "Social Shared": "social_shared",
    "Ad Clicked": "ad_clicked",
    "Referral Sent": "referral_sent",
    "Signed Up": "signed_up",
    "Signed In": "signed_in",
}

#: Written by Shopkeeper itself when a trigger fires (``shopkeeper.triggers``); deliberately
#: not in :data:`TRACK_KINDS`, so a client sending "Trigger Fired" stores a ``custom`` event
#: and cannot fake a firing (nor hold a real one back by its cooldown).
TRIGGER_FIRED = "trigger_fired"

#: Call type -> kind, for calls that are not ``track``.
TYPE_KINDS = {
    "page": "page_viewed",
    "screen": "screen_viewed",
    "identify": "identify",
    "alias": "alias",
    "group": "group",
}

#: Kinds that name one product in ``properties`` (product_id / sku).
PRODUCT_KINDS = frozenset(
    {
        "product_clicked",
        "product_viewed",
        "product_added",
        "product_removed",
        "wishlist_product_added",
        "wishlist_product_removed",
        "wishlist_product_added_to_cart",
        "product_shared",
        "product_reviewed",
    }
)

#: Kinds that carry a whole order (``order_id`` and ``products[]``).
ORDER_KINDS = frozenset(
    {"order_completed", "order_updated", "order_refunded", "order_cancelled", "checkout_started"}
)

#: Advocacy signals: reviews, shares, referrals, social engagement.
ADVOCACY_KINDS = frozenset(
    {"product_reviewed", "product_shared", "cart_shared", "social_shared", "referral_sent"}
)


#: Kinds Shopkeeper itself writes about a customer (segment membership changes), never sent by
#: a shop: they are not visits or activity, and rules and analytics read the shop's events only.
#: Sent as ``type="track"`` with ``event`` "Segment Entered" / "Segment Exited" and the segment
#: in ``properties`` (``segment_id``, ``segment_slug``, ``segment_version``, ``customer_id``).
SEGMENT_KINDS = frozenset({"segment_entered", "segment_exited"})
#: Every kind Shopkeeper writes about people (segment changes, trigger firings), never their
#: own actions: not a visit, not activity, no facts for the projector to apply.
SYSTEM_KINDS = SEGMENT_KINDS | {TRIGGER_FIRED}


def _fold(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return re.sub(r"[\s_\-]+", " ", spaced).strip().lower()


_FOLDED = {_fold(name): kind for name, kind in TRACK_KINDS.items()}


@lru_cache(maxsize=4096)
def kind_of(call_type: str, event: str | None) -> str:
    """The kind for a call: ``kind_of("track", "Product Viewed") == "product_viewed"``."""
    if call_type != "track":
        return TYPE_KINDS.get(call_type, call_type)
    return _FOLDED.get(_fold(event or ""), "custom")
