"""Turn a day's plan into Segment payloads: web sessions, e-mails, store visits, after-sales.

This is the hot loop of the generator, so payloads are plain dicts built from prebuilt parts
(product properties, page and device dicts), and no random number is drawn here except the
e-mail campaign's handful of vectorised draws.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopkeeper.simulator.catalog import CURRENCY, LEAVES, SHOP_URL, Catalog, event_category
from shopkeeper.simulator.personas import PERSONA_NAMES, SOURCES, PersonaTable
from shopkeeper.simulator.population import USER_AGENTS, Population
from shopkeeper.simulator.sessions import SEARCH_PROPS, Calendar, SessionPlan, StorePlan

DAY_MS = 86_400_000
VAT_RATE = 0.19  # prices include VAT
FREE_SHIPPING_FROM = 50.0
SHIPPING = 4.95
STORES = (
    ("store-berlin-01", "DE", "Berlin"),
    ("store-hamburg-01", "DE", "Hamburg"),
    ("store-munich-01", "DE", "Munich"),
    ("store-vienna-01", "AT", "Vienna"),
    ("store-amsterdam-01", "NL", "Amsterdam"),
    ("store-paris-01", "FR", "Paris"),
)
SHARE_VIA = ("instagram", "pinterest", "whatsapp", "facebook")
REFERRERS = (
    "",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.instagram.com/",
    "",
    "https://www.modeblog.example/",
)
CAMPAIGNS: tuple[dict[str, str] | None, ...] = (
    None,
    None,
    {"source": "google", "medium": "cpc", "name": "brand-search"},
    {"source": "instagram", "medium": "social", "name": "new-season-looks"},
    None,  # e-mail: the day's campaign
    {"source": "modeblog", "medium": "referral", "name": "partner-blog"},
)
DEVICE_DICTS = {name: {"type": name} for name in ("mobile", "tablet", "desktop")}
USER_AGENT_BY_DEVICE = dict(zip(("mobile", "tablet", "desktop"), USER_AGENTS, strict=True))
ONE_OFF = PERSONA_NAMES.index("one_off")


def _landing(source: int, leaf: int) -> tuple[dict[str, Any], dict[str, str], str]:
    """Page-call properties, ``context.page`` and the page name for a session's first page."""
    ref = REFERRERS[source]
    if SOURCES[source] == "direct":
        path, title = "/", "Home"
    else:
        path, title = f"/c/{LEAVES[leaf]}", event_category(LEAVES[leaf])
    url = SHOP_URL + path
    return (
        {"path": path, "url": url, "title": title, "referrer": ref},
        {"url": url, "referrer": ref},
        title,
    )


LANDINGS = [[_landing(s, leaf) for leaf in range(len(LEAVES))] for s in range(len(SOURCES))]


@dataclass
class DayState:
    """What the walk changes as it goes, and the outcomes the ground truth reports."""

    gone: np.ndarray  # one-off buyers after their purchase
    rate_factor: np.ndarray
    registered: np.ndarray
    logged_in: list[list[bool]]
    store_known: np.ndarray
    orders: np.ndarray
    revenue: np.ndarray
    coupon_orders: np.ndarray
    first_order_day: np.ndarray
    last_active_day: np.ndarray

    @classmethod
    def start(cls, pop: Population, days: int) -> DayState:
        n = len(pop)
        return cls(
            gone=np.zeros(n, dtype=bool),
            rate_factor=np.ones(n),
            registered=pop.registered.copy(),
            logged_in=[[False] * len(ids) for ids in pop.anonymous_ids],
            store_known=np.zeros(n, dtype=bool),
            orders=np.zeros(n, dtype=np.int64),
            revenue=np.zeros(n),
            coupon_orders=np.zeros(n, dtype=np.int64),
            first_order_day=np.full(n, -1, dtype=np.int64),
            last_active_day=np.full(n, -1, dtype=np.int64),
        )


def _track(event: str, anon: str | None, uid: str | None, props: Any, ctx: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": "track", "event": event, "messageId": "", "timestamp": ""}
    if anon:
        d["anonymousId"] = anon
    if uid:
        d["userId"] = uid
    d["properties"] = props
    d["context"] = ctx
    return d


def _identify(anon: str | None, uid: str, traits: Any, ctx: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"type": "identify", "messageId": "", "timestamp": ""}
    if anon:
        d["anonymousId"] = anon
    d["userId"] = uid
    d["traits"] = traits
    d["context"] = ctx
    return d


def money(lines: list[dict[str, Any]], rate: float) -> dict[str, float]:
    """Order amounts as Segment names them; prices include VAT, ``revenue`` excludes it and
    shipping, ``total`` is what the customer paid."""
    gross = sum(line["price"] * line["quantity"] for line in lines)
    discount = round(gross * rate, 2)
    subtotal = round(gross - discount, 2)
    shipping = 0.0 if subtotal >= FREE_SHIPPING_FROM else SHIPPING
    tax = round(subtotal * VAT_RATE / (1 + VAT_RATE), 2)
    return {
        "total": round(subtotal + shipping, 2),
        "revenue": round(subtotal - tax, 2),
        "subtotal": subtotal,
        "shipping": shipping,
        "tax": tax,
        "discount": discount,
    }


class WebWalker:
    """Walks day plans in order and collects ``(ms, seq, payload)`` tuples for sorting."""

    def __init__(
        self,
        pop: Population,
        catalog: Catalog,
        cal: Calendar,
        state: DayState,
        *,
        table: PersonaTable,
    ) -> None:
        self.pop, self.catalog, self.cal, self.state, self.table = pop, catalog, cal, state, table
        self.seq = 0
        self.order_no = 0
        self.pending: defaultdict[int, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        self.batch: list[tuple[int, int, dict[str, Any]]] = []
        self.day = 0
        self.day_ms = 0
        self.locations = [{"country": c, "city": city} for c, city, _ in pop.locations]
        self.days = len(cal.traffic)

    def begin_day(self, day: int, day_ms: int) -> None:
        self.day, self.day_ms = day, day_ms
        self.batch = self.pending.pop(day, [])

    def end_day(self) -> list[tuple[int, int, dict[str, Any]]]:
        """The day's events in time order; any that ran past midnight move to the next day."""
        batch = self.batch
        batch.sort()  # (ms, seq, payload): seq is unique, so payloads never compare
        end = self.day_ms + DAY_MS
        if batch and batch[-1][0] >= end:
            cut = bisect.bisect_left(batch, (end,))
            self.pending[self.day + 1].extend(batch[cut:])
            del batch[cut:]
        self.batch = []
        return batch

    def _later(self, days: int, ms: int, payload: dict[str, Any]) -> None:
        day = self.day + days
        if day < self.days:
            self.pending[day].append((ms + days * DAY_MS, self.seq, payload))
            self.seq += 1

    def _light_context(self, c: int, slot: int) -> dict[str, Any]:
        pop = self.pop
        device = pop.device_types[c][slot]
        return {
            "ip": pop.ips[c][slot],
            "userAgent": USER_AGENT_BY_DEVICE[device],
            "device": DEVICE_DICTS[device],
            "location": self.locations[c],
            "locale": pop.locations[c][2],
            "consent": pop.consents[c],
        }

    def email_campaign(
        self, rng: np.random.Generator, active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Send the day's campaign (if any); return who clicked through and when."""
        name = self.cal.campaigns[self.day]
        empty = np.zeros(0, dtype=np.int64)
        if name is None:
            return empty, empty
        pop, table = self.pop, self.table
        to = np.flatnonzero(self.state.registered & pop.consent_email & (pop.join_day <= self.day))
        p = pop.persona[to]
        opened = rng.random(len(to)) < table.email_open[p] * active[to]
        clicked = opened & (rng.random(len(to)) < table.email_click[p])
        at = np.minimum(7 * 3600 + rng.exponential(3 * 3600, len(to)), 86_000).astype(np.int64)
        email_id = f"{name}-1"
        link = f"{SHOP_URL}/?utm_source=newsletter&utm_medium=email&utm_campaign={name}"
        opened_props = {"campaign_name": name, "email_id": email_id, "email_subject": name}
        clicked_props = {"campaign_name": name, "email_id": email_id, "link_url": link}
        append = self.batch.append
        for c, o, k, s in zip(
            to.tolist(), opened.tolist(), clicked.tolist(), at.tolist(), strict=True
        ):
            if not o:
                continue
            ctx = {"traits": {"email": pop.traits[c]["email"]}}
            uid = pop.user_ids[c]
            ms = self.day_ms + s * 1000
            append((ms, self.seq, _track("Email Opened", None, uid, opened_props, ctx)))
            self.seq += 1
            if k:
                append(
                    (
                        ms + 20_000,
                        self.seq,
                        _track("Email Link Clicked", None, uid, clicked_props, ctx),
                    )
                )
                self.seq += 1
        return to[clicked], at[clicked] + 40

    def web_sessions(self, plan: SessionPlan) -> None:
        pop, st, cal = self.pop, self.state, self.cal
        props, lines = self.catalog.event_props, self.catalog.line_items
        append = self.batch.append
        seq = self.seq
        day, day_ms = self.day, self.day_ms
        email_campaign = {
            "source": "newsletter",
            "medium": "email",
            "name": cal.campaigns[day] or "newsletter",
        }
        coupon_factor = cal.coupon[day]
        gone = st.gone
        for i, c in enumerate(plan.cust):
            if gone[c]:  # a one-off buyer who already bought earlier today
                continue
            slot = plan.slot[i]
            anon = pop.anonymous_ids[c][slot]
            logged = st.logged_in[c][slot]
            st.last_active_day[c] = day
            uid = pop.user_ids[c] if logged else None
            source, leaf = plan.source[i], plan.leaf[i]
            page_props, page_ctx, page_name = LANDINGS[source][leaf]
            ctx = self._light_context(c, slot)
            ctx["page"] = page_ctx
            campaign = email_campaign if source == 4 else CAMPAIGNS[source]
            if campaign is not None:
                ctx["campaign"] = campaign
            t = day_ms + plan.start[i] * 1000
            step = plan.gap[i] * 1000
            page: dict[str, Any] = {
                "type": "page",
                "name": page_name,
                "messageId": "",
                "timestamp": "",
                "anonymousId": anon,
            }
            if uid:
                page["userId"] = uid
            page["properties"] = page_props
            page["context"] = ctx
            append((t, seq, page))
            seq += 1
            buy = plan.buy[i]
            registered = bool(st.registered[c])
            if not logged and (buy or plan.u_login[i] < 0.35) and registered:
                t += step
                uid = pop.user_ids[c]
                append((t, seq, _identify(anon, uid, pop.traits[c], ctx)))
                append((t + 1, seq + 1, _track("Signed In", anon, uid, {"username": uid}, ctx)))
                seq += 2
                logged = st.logged_in[c][slot] = True
            k = plan.search[i]
            if k >= 0:
                t += step
                append((t, seq, _track("Products Searched", anon, uid, SEARCH_PROPS[leaf][k], ctx)))
                seq += 1
            views = plan.views[i]
            for prod in views:
                t += step
                append((t, seq, _track("Product Viewed", anon, uid, props[prod], ctx)))
                seq += 1
            n_add = plan.n_add[i]
            if not n_add:
                continue
            added = list(dict.fromkeys(views[-n_add:]))
            qty = 2 if plan.u_qty[i] < 0.1 else 1
            for j, prod in enumerate(added):
                t += step
                line = {**props[prod], "quantity": qty if j == 0 else 1}
                append((t, seq, _track("Product Added", anon, uid, line, ctx)))
                seq += 1
            n_remove = min(plan.n_remove[i], len(added) - 1)
            for prod in added[:n_remove]:
                t += step
                append((t, seq, _track("Product Removed", anon, uid, props[prod], ctx)))
                seq += 1
            if not buy:
                continue
            if not logged:  # first purchase: the visitor signs up
                t += step
                uid = pop.user_ids[c]
                append((t, seq, _track("Signed Up", anon, uid, {"type": "checkout"}, ctx)))
                append((t + 1, seq + 1, _identify(anon, uid, pop.traits[c], ctx)))
                seq += 2
                st.registered[c] = True
                st.logged_in[c][slot] = True
            uid = pop.user_ids[c]  # logged in or just signed up: checkout is identified
            kept = added[n_remove:]
            basket = [
                lines[p] if j or qty == 1 else {**lines[p], "quantity": qty}
                for j, p in enumerate(kept)
            ]
            self.order_no += 1
            order_id = f"W{self.order_no:08d}"
            code, rate = None, 0.0
            if plan.coupon[i]:
                code, rate = _coupon(source, coupon_factor, st.orders[c] == 0)
            amounts = money(basket, rate)
            t += step
            append(
                (
                    t,
                    seq,
                    _track(
                        "Checkout Started",
                        anon,
                        uid,
                        {
                            "order_id": order_id,
                            "value": amounts["subtotal"],
                            "revenue": amounts["revenue"],
                            "currency": CURRENCY,
                            "products": basket,
                        },
                        ctx,
                    ),
                )
            )
            seq += 1
            order: dict[str, Any] = {"order_id": order_id, "channel": "web", **amounts}
            if code:
                t += step
                append(
                    (
                        t,
                        seq,
                        _track(
                            "Coupon Applied",
                            anon,
                            uid,
                            {
                                "order_id": order_id,
                                "coupon_id": code,
                                "coupon_name": code,
                                "discount": amounts["discount"],
                            },
                            ctx,
                        ),
                    )
                )
                seq += 1
                order["coupon"] = code
                st.coupon_orders[c] += 1
            order["currency"] = CURRENCY
            order["products"] = basket
            t += step
            append((t, seq, _track("Order Completed", anon, uid, order, ctx)))
            seq += 1
            self.seq = seq
            self._after_sales(plan, i, c, slot, uid, order_id, amounts["total"], basket, t)
            seq = self.seq
            st.orders[c] += 1
            st.revenue[c] += amounts["total"]
            if st.first_order_day[c] < 0:
                st.first_order_day[c] = day
            if pop.persona[c] == ONE_OFF:
                st.gone[c] = True
        self.seq = seq

    def _after_sales(
        self,
        plan: SessionPlan,
        i: int,
        c: int,
        slot: int,
        uid: str,
        order_id: str,
        total: float,
        basket: list[dict[str, Any]],
        t: int,
    ) -> None:
        """Schedule the order's refund, review and shares on later days."""
        later = plan.later[i]
        anon = self.pop.anonymous_ids[c][slot]
        item = basket[-1]
        if plan.returned[i]:
            self._later(
                later + 4,
                t,
                _track(
                    "Order Refunded",
                    anon,
                    uid,
                    {
                        "order_id": order_id,
                        "total": total,
                        "currency": CURRENCY,
                        "products": basket,
                    },
                    self._light_context(c, slot),
                ),
            )
        if plan.review[i]:
            self._later(
                later,
                t,
                _track(
                    "Product Reviewed",
                    anon,
                    uid,
                    {
                        "product_id": item["product_id"],
                        "review_id": f"R{order_id}",
                        "rating": plan.rating[i],
                    },
                    self._light_context(c, slot),
                ),
            )
        if plan.share[i]:
            via = SHARE_VIA[int(plan.u_qty[i] * 97) % len(SHARE_VIA)]
            url = f"{SHOP_URL}/p/{item['sku']}"
            ctx = self._light_context(c, slot)
            self._later(
                max(later - 2, 1),
                t,
                _track(
                    "Product Shared",
                    anon,
                    uid,
                    {
                        "share_via": via,
                        "product_id": item["product_id"],
                        "sku": item["sku"],
                        "name": item["name"],
                        "url": url,
                    },
                    ctx,
                ),
            )
            if self.pop.influencer[c]:
                self._later(
                    max(later - 2, 1),
                    t + 60_000,
                    _track("Social Shared", anon, uid, {"share_via": via, "url": url}, ctx),
                )

    def store_visits(self, plan: StorePlan) -> None:
        """Purchases in physical stores, identified by the loyalty card only."""
        pop, st = self.pop, self.state
        lines = self.catalog.line_items
        append = self.batch.append
        for i, c in enumerate(plan.cust):
            if st.gone[c]:
                continue
            loyalty = pop.loyalty_ids[c]
            assert loyalty is not None
            store_id, country, city = STORES[plan.store[i]]
            ctx = {
                "location": {"country": country, "city": city},
                "traits": {"loyalty_id": loyalty},
                "consent": pop.consents[c],
            }
            t = self.day_ms + plan.start[i] * 1000
            if not st.store_known[c]:
                append((t - 1000, self.seq, _identify(None, loyalty, {"loyalty_id": loyalty}, ctx)))
                self.seq += 1
                st.store_known[c] = True
            append(
                (t, self.seq, _track("Store Visited", None, loyalty, {"store_id": store_id}, ctx))
            )
            self.seq += 1
            st.last_active_day[c] = self.day
            if not plan.buy[i]:
                continue
            basket = [lines[p] for p in dict.fromkeys(plan.items[i])]
            amounts = money(basket, 0.0)
            self.order_no += 1
            order = {
                "order_id": f"S{self.order_no:08d}",
                "channel": "store",
                "store_id": store_id,
                **amounts,
                "currency": CURRENCY,
                "products": basket,
            }
            append((t + 600_000, self.seq, _track("Order Completed", None, loyalty, order, ctx)))
            self.seq += 1
            st.orders[c] += 1
            st.revenue[c] += amounts["total"]
            if st.first_order_day[c] < 0:
                st.first_order_day[c] = self.day
            if pop.persona[c] == ONE_OFF:
                st.gone[c] = True


def _coupon(source: int, coupon_factor: float, first_order: bool) -> tuple[str, float]:
    if coupon_factor > 1.2:
        return "SALE20", 0.20
    if SOURCES[source] == "email":
        return "NEWS15", 0.15
    if first_order:
        return "WELCOME10", 0.10
    return "SAVE10", 0.10
