"""The simulated shop's catalog: a category tree, brands in three price tiers, new arrivals.

Products are grouped into *buckets* (one leaf category x one price tier), ordered by arrival, so a
visitor's product choice is three vectorised draws (category, tier, rank within the bucket's
products available that day) instead of a weighted choice over the whole catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

TIERS = ("budget", "mid", "premium")
TIER_PRICE_FACTOR = (0.45, 1.0, 2.8)
CURRENCY = "EUR"
SHOP_URL = "https://shop.example"

#: Leaf category -> (mid-tier median price, SKU prefix, product nouns, search terms).
CATEGORIES: dict[str, tuple[float, str, tuple[str, ...], tuple[str, ...]]] = {
    "women/dresses": (60, "WDR", ("Wrap Dress", "Midi Dress", "Maxi Dress"), ("dress", "midi")),
    "women/tops": (35, "WTP", ("Blouse", "Knit Top", "Tee"), ("blouse", "top women")),
    "women/shoes": (80, "WSH", ("Ankle Boot", "Loafer", "Sneaker"), ("boots women", "loafers")),
    "men/shirts": (45, "MSH", ("Oxford Shirt", "Linen Shirt", "Polo"), ("shirt men", "polo")),
    "men/trousers": (60, "MTR", ("Chino", "Jeans", "Wool Trouser"), ("chinos", "jeans men")),
    "men/shoes": (90, "MSO", ("Derby", "Runner", "Chelsea Boot"), ("sneakers men", "derby")),
    "kids/clothing": (25, "KCL", ("Hoodie", "Rain Jacket", "Dungarees"), ("kids hoodie",)),
    "kids/shoes": (40, "KSH", ("Trainer", "Sandal", "Wellington"), ("kids shoes",)),
    "toddler/clothing": (20, "TCL", ("Romper", "Leggings", "Cardigan"), ("toddler romper",)),
    "baby/clothing": (18, "BCL", ("Bodysuit", "Sleepsuit", "Knit Hat"), ("baby bodysuit",)),
    "baby/care": (12, "BCA", ("Muslin Set", "Bath Towel", "Soft Toy"), ("muslin", "baby gift")),
    "home/decor": (40, "HDE", ("Vase", "Cushion", "Throw"), ("cushion", "vase")),
    "home/kitchen": (35, "HKI", ("Mug Set", "Carafe", "Linen Apron"), ("mug", "carafe")),
    "beauty/skincare": (30, "BSK", ("Face Cream", "Serum", "Cleanser"), ("serum", "face cream")),
    "beauty/fragrance": (65, "BFR", ("Eau de Parfum", "Candle", "Body Mist"), ("perfume",)),
    "gifts/sets": (40, "GST", ("Gift Box", "Advent Set", "Tasting Set"), ("gift set", "advent")),
    "gifts/gadgets": (50, "GGA", ("Speaker", "Desk Lamp", "Photo Frame"), ("gift for him",)),
}
LEAVES = tuple(CATEGORIES)
TOP_LEVELS = tuple(dict.fromkeys(leaf.split("/")[0] for leaf in LEAVES))

BRANDS: dict[str, tuple[str, ...]] = {
    "budget": ("Basics & Co", "ValueVibe", "Kiddo Mart", "Sunny Home", "PureDaily"),
    "mid": ("Northwind", "Linden & Oak", "Marlowe", "Tiny Steps", "Glow Lab"),
    "premium": ("Maison Aurel", "Vantaggio", "Fjordkind", "Atelier Noor", "Lumière Rare"),
}
COLOURS = ("Navy", "Ivory", "Sage", "Black", "Rust", "Sky", "Sand", "Berry")


def event_category(leaf: str) -> str:
    """``women/dresses`` -> ``Women/Dresses`` (how the shop's front end labels categories)."""
    return "/".join(part.capitalize() for part in leaf.split("/"))


@dataclass(frozen=True)
class Catalog:
    """Products as catalog dicts plus the arrays the generator draws from.

    ``bucket_products[b]`` lists product indices of bucket ``b = leaf * 3 + tier`` in arrival
    order and ``available[d, b]`` how many of them exist on day ``d`` (arrivals before day 0 count
    as day 0), so "a product of bucket b available today" is ``bucket_products[b][k]`` for
    ``k < available[d, b]``.
    """

    products: list[dict[str, Any]]
    leaf: np.ndarray
    tier: np.ndarray
    price: np.ndarray
    arrival_day: np.ndarray
    bucket_offsets: np.ndarray
    bucket_order: np.ndarray
    available: np.ndarray
    #: Segment ``properties`` for Product Viewed / Added / Removed (shared, read-only).
    event_props: list[dict[str, Any]]
    #: Line items for ``products[]`` of orders with quantity 1 (shared, read-only).
    line_items: list[dict[str, Any]]
    mean_bucket_price: np.ndarray

    @property
    def skus(self) -> list[str]:
        return [p["sku"] for p in self.products]

    def pick(self, day: int, leaf: np.ndarray, tier: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Product indices for (leaf, tier) pairs: uniform ``u`` in [0, 1) picks among those
        available on ``day``; new arrivals get their own pull (see :func:`pick_new_bias`)."""
        bucket = leaf * len(TIERS) + tier
        avail = self.available[min(day, len(self.available) - 1), bucket]
        rank = np.minimum((u * avail).astype(np.int64), avail - 1)
        return np.asarray(self.bucket_order[self.bucket_offsets[bucket] + rank])


def pick_new_bias(u: np.ndarray, newness: np.ndarray) -> np.ndarray:
    """Skew uniform draws toward the newest products (arrival order is ascending).

    Planted effect ``new_arrivals``: where ``newness`` is true the draw is squeezed into the
    newest 10% of what is available, so fresh products get more views than their share.
    """
    return np.where(newness, 0.9 + 0.1 * u, u)


def build_catalog(
    rng: np.random.Generator, *, start: date, days: int, products: int = 800
) -> Catalog:
    """A catalog of ``products`` items; about 15% arrive during the simulated period.

    Every bucket gets at least three products on day 0, so no draw can hit an empty bucket.
    """
    n_buckets = len(LEAVES) * len(TIERS)
    floor = 3 * n_buckets
    n = max(products, floor + n_buckets)
    leaf = np.concatenate(
        [np.repeat(np.arange(len(LEAVES)), 3 * len(TIERS)), rng.integers(0, len(LEAVES), n - floor)]
    )
    tier = np.concatenate(
        [
            np.tile(np.repeat(np.arange(len(TIERS)), 3), len(LEAVES)),
            rng.choice(len(TIERS), n - floor, p=[0.4, 0.4, 0.2]),
        ]
    )
    late = rng.random(n) < 0.15
    late[:floor] = False
    arrival_day = np.where(late, rng.integers(1, max(days, 2), n), -rng.integers(0, 720, n))
    base = np.array([CATEGORIES[name][0] for name in LEAVES])[leaf]
    raw = base * np.array(TIER_PRICE_FACTOR)[tier] * rng.lognormal(0.0, 0.25, n)
    price = np.round(np.maximum(np.floor(raw), 2) + 0.99, 2)
    brand_pick = rng.integers(0, 5, n)
    colour_pick = rng.integers(0, len(COLOURS), n)
    noun_pick = rng.integers(0, 3, n)
    in_stock = rng.random(n) >= 0.04

    bucket = leaf * len(TIERS) + tier
    order = np.lexsort((np.arange(n), arrival_day, bucket))
    counts = np.bincount(bucket, minlength=n_buckets)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    horizon = max(days, 1)
    available = np.zeros((horizon, n_buckets), dtype=np.int64)
    for b in range(n_buckets):
        arrivals = np.sort(arrival_day[bucket == b])
        available[:, b] = np.searchsorted(arrivals, np.arange(horizon), side="right")
    mean_price = np.array(
        [price[bucket == b].mean() if counts[b] else 0.0 for b in range(n_buckets)]
    )

    catalog: list[dict[str, Any]] = []
    props: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for i in range(n):
        name = LEAVES[leaf[i]]
        _, prefix, nouns, _ = CATEGORIES[name]
        tier_name = TIERS[tier[i]]
        brand = BRANDS[tier_name][brand_pick[i]]
        sku = f"{prefix}-{i:05d}"
        colour = COLOURS[colour_pick[i]]
        title = f"{brand} {colour} {nouns[noun_pick[i]]}"
        arrived = start + timedelta(days=int(arrival_day[i]))
        p = float(price[i])
        catalog.append(
            {
                "sku": sku,
                "title": title,
                "category_path": name,
                "brand": brand,
                "price": p,
                "currency": CURRENCY,
                "price_tier": tier_name,
                "in_stock": bool(in_stock[i]),
                "attributes": {"arrived_at": arrived.isoformat(), "colour": colour},
            }
        )
        common = {
            "product_id": sku,
            "sku": sku,
            "name": title,
            "price": p,
            "category": event_category(name),
            "brand": brand,
        }
        props.append({**common, "currency": CURRENCY, "url": f"{SHOP_URL}/p/{sku}"})
        lines.append({**common, "quantity": 1})
    return Catalog(
        products=catalog,
        leaf=leaf,
        tier=tier,
        price=price,
        arrival_day=arrival_day,
        bucket_offsets=offsets,
        bucket_order=order,
        available=available,
        event_props=props,
        line_items=lines,
        mean_bucket_price=mean_price,
    )
