"""Realistic Segment traffic for the benchmarks, seeded and built from module-level functions.

The mix is what a shop's browser and server SDKs send: page views, ``Product Viewed``,
``Products Searched``, ``Product Added``, ``Order Completed`` with ``products[]``, and
``identify`` calls with traits, each with the ``context`` a browser SDK attaches (ip,
userAgent, page, locale, campaign on some). Visitors have distinct ``anonymousId`` values and
about 60% of them also a ``userId``, so the identity graph does real work.

Every factory yields :class:`~benchmarks.loadgen.Request` objects and is a plain top-level
function so a :class:`~benchmarks.loadgen.LoadSpec` can name it across a process boundary.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from benchmarks.loadgen import Request, basic_auth, build_request

CATEGORIES = (
    "Women > Dresses",
    "Women > Shoes > Sneakers",
    "Men > Jackets",
    "Men > Shoes > Boots",
    "Kids > Toys > Lego",
    "Home > Kitchen > Coffee",
    "Home > Living > Lamps",
    "Beauty > Skin",
    "Sports > Running",
    "Electronics > Audio > Headphones",
)
BRANDS = ("Nordlicht", "Acme", "Vellum", "Kobold", "Lumen", "Fjord", "Trailhead", "Maison Roux")
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
)
LOCALES = ("de-DE", "de-AT", "fr-FR", "nl-NL", "en-GB")
QUERIES = ("red dress", "running shoes", "espresso machine", "lego city", "winter jacket")
#: (call, weight) — the share of each call in the traffic.
MIX = (("page", 34), ("viewed", 28), ("searched", 8), ("added", 14), ("order", 6), ("identify", 10))
_CALLS = [name for name, weight in MIX for _ in range(weight)]
EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _product(rng: random.Random) -> dict[str, Any]:
    number = rng.randrange(20_000)
    category = CATEGORIES[number % len(CATEGORIES)]
    return {
        "product_id": f"sku-{number:05d}",
        "sku": f"sku-{number:05d}",
        "name": f"{BRANDS[number % len(BRANDS)]} item {number}",
        "category": category,
        "brand": BRANDS[number % len(BRANDS)],
        "price": round(5 + (number % 400) * 0.75, 2),
        "currency": "EUR",
    }


def _context(rng: random.Random, person: int, path: str) -> dict[str, Any]:
    context: dict[str, Any] = {
        "ip": f"10.{person % 250}.{(person // 250) % 250}.{person % 200 + 1}",
        "userAgent": USER_AGENTS[person % len(USER_AGENTS)],
        "locale": LOCALES[person % len(LOCALES)],
        "library": {"name": "analytics.js", "version": "5.2.0"},
        "page": {
            "path": path,
            "url": f"https://shop.example{path}",
            "referrer": "https://www.google.com/" if rng.random() < 0.3 else "",
            "title": "Shop",
        },
    }
    if rng.random() < 0.2:
        context["campaign"] = {"source": "newsletter", "medium": "email", "name": "spring-sale"}
    return context


def event(
    rng: random.Random,
    person: int,
    message_id: str,
    at: datetime,
    call: str | None = None,
    identified: bool | None = None,
) -> dict[str, Any]:
    """One Segment message from visitor ``person`` (deterministic ids per person)."""
    call = call or rng.choice(_CALLS)
    if identified is None:
        identified = person % 5 < 3  # ~60% of visitors are (or become) known customers
    message: dict[str, Any] = {
        "messageId": message_id,
        "anonymousId": f"anon-{person:08d}",
        "timestamp": at.isoformat(),
    }
    if identified:
        message["userId"] = f"user-{person:08d}"
    if call == "identify":
        message["userId"] = f"user-{person:08d}"
        message["type"] = "identify"
        message["traits"] = {
            "email": f"customer{person}@mail.example",
            "firstName": "Anna" if person % 2 else "Lukas",
            "lastName": "Weber",
            "locale": LOCALES[person % len(LOCALES)],
            "address": {"city": "Berlin", "country": "DE"},
        }
        message["context"] = _context(rng, person, "/account")
        return message
    if call == "page":
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        path = "/c/" + category.lower().replace(" > ", "/").replace(" ", "-")
        message["type"] = "page"
        message["name"] = category
        message["properties"] = {"path": path, "title": category}
        message["context"] = _context(rng, person, path)
        return message
    message["type"] = "track"
    if call == "searched":
        message["event"] = "Products Searched"
        message["properties"] = {"query": rng.choice(QUERIES)}
        message["context"] = _context(rng, person, "/search")
    elif call in {"viewed", "added"}:
        product = _product(rng)
        message["event"] = "Product Viewed" if call == "viewed" else "Product Added"
        message["properties"] = {**product, "quantity": 1} if call == "added" else product
        message["context"] = _context(rng, person, f"/p/{product['sku']}")
    else:
        products = [
            {**_product(rng), "quantity": rng.randint(1, 3)} for _ in range(rng.randint(1, 4))
        ]
        revenue = round(sum(p["price"] * p["quantity"] for p in products), 2)
        message["event"] = "Order Completed"
        message["properties"] = {
            "order_id": f"ord-{message_id}",
            "total": round(revenue + 4.95, 2),
            "revenue": revenue,
            "shipping": 4.95,
            "tax": round(revenue * 0.19, 2),
            "currency": "EUR",
            "products": products,
        }
        message["context"] = _context(rng, person, "/checkout/complete")
    return message


def message_id(rng: random.Random, run: str) -> str:
    """A messageId as the SDKs make them: a random UUID (here from ``rng``, so a run's requests
    are the same each time), after the run's prefix.

    Random, not sequential, because that is what the store's unique index gets from real
    traffic: each new id lands on a random page of it, which costs an append about half again
    what a sequential id does (BENCHMARKS.md, benchmark 1)."""
    return f"{run}-{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def batches(
    *,
    host: str,
    key: str,
    events: int,
    batch_min: int = 100,
    batch_max: int = 500,
    population: int = 200_000,
    seed: int = 1,
    run: str = "r",
    sequential_ids: bool = False,
) -> Iterator[Request]:
    """``POST /v1/batch`` requests totalling ``events`` events from random visitors
    (messageIds random UUIDs as the SDKs send, or numbered with ``sequential_ids``).

    Live traffic: the events happened in the last ``events`` seconds, so the triggers (which
    ignore history older than ``SHOPKEEPER_TRIGGERS_MAX_AGE_DAYS``) evaluate every batch."""
    rng = random.Random(seed)
    auth = basic_auth(key)
    start = datetime.now(UTC) - timedelta(seconds=events)
    made = 0
    while made < events:
        size = min(events - made, rng.randint(batch_min, batch_max))
        items = [
            event(
                rng,
                rng.randrange(population),
                f"{run}-{made + i}" if sequential_ids else message_id(rng, run),
                start + timedelta(seconds=made + i),
            )
            for i in range(size)
        ]
        made += size
        body = orjson.dumps({"batch": items, "sentAt": datetime.now(UTC).isoformat()})
        yield Request(build_request("POST", "/v1/batch", host=host, auth=auth, body=body), size)


def tracks(
    *,
    host: str,
    key: str,
    requests: int,
    population: int = 200_000,
    seed: int = 2,
    run: str = "t",
) -> Iterator[Request]:
    """Single-event ``POST /v1/track`` requests (a server-side SDK without batching)."""
    rng = random.Random(seed)
    auth = basic_auth(key)
    for n in range(requests):
        message = event(
            rng,
            rng.randrange(population),
            message_id(rng, run),
            EPOCH + timedelta(seconds=n),
            call="viewed",
        )
        body = orjson.dumps(message)
        yield Request(build_request("POST", "/v1/track", host=host, auth=auth, body=body))


def customer_histories(
    *,
    host: str,
    key: str,
    customers: int,
    events_per_customer: int,
    batch_size: int = 250,
    seed: int = 3,
    run: str = "h",
) -> Iterator[Request]:
    """A store of ``customers`` known customers with ``events_per_customer`` events each.

    Customers are loaded in blocks: each block starts with every member's ``identify`` (userId
    + anonymousId + traits), then their other events in shuffled order, cut into batches, so
    each visitor becomes exactly one customer and profiles have a realistic history.
    """
    rng = random.Random(seed)
    auth = basic_auth(key)
    block = max(1, 5000 // max(1, events_per_customer))
    for first in range(0, customers, block):
        members = range(first, min(customers, first + block))
        items = [
            event(rng, person, f"{run}-{person}-0", EPOCH, call="identify", identified=True)
            for person in members
        ]
        rest = [
            event(
                rng,
                person,
                f"{run}-{person}-{n}",
                EPOCH + timedelta(minutes=n * 7),
                identified=True,
                call=rng.choice(_CALLS[: -MIX[-1][1]]),
            )
            for person in members
            for n in range(1, events_per_customer)
        ]
        rng.shuffle(rest)
        items += rest
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            body = orjson.dumps({"batch": chunk})
            yield Request(
                build_request("POST", "/v1/batch", host=host, auth=auth, body=body), len(chunk)
            )


def profile_reads(
    *, host: str, key: str, requests: int, customers: int, seed: int = 4
) -> Iterator[Request]:
    """``GET /v1/customers/{userId}`` for customers drawn uniformly at random."""
    rng = random.Random(seed)
    auth = basic_auth(key)
    for _ in range(requests):
        path = f"/v1/customers/user-{rng.randrange(customers):08d}"
        yield Request(build_request("GET", path, host=host, auth=auth))
