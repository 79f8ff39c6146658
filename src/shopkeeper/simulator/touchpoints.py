"""Turn a day's plan into Segment payloads: web sessions, e-mails, store visits, after-sales.

This is the hot loop of the generator, so payloads are plain dicts built from prebuilt parts
(:mod:`shopkeeper.simulator.payloads`), and no random number is drawn here except the e-mail
campaign's handful of vectorised draws.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

import numpy as np

from shopkeeper.simulator.catalog import CURRENCY, SHOP_URL, Catalog
from shopkeeper.simulator.payloads import (
    CAMPAIGNS,
    DAY_MS,
    DEVICE_DICTS,
    LANDINGS,
    ONE_OFF,
    REFERRAL_VIA,
    SHARE_VIA,
    STORES,
    USER_AGENT_BY_DEVICE,
    DayState,
    coupon_for,
    identify,
    money,
    track,
)
from shopkeeper.simulator.personas import PersonaTable
from shopkeeper.simulator.population import Population
from shopkeeper.simulator.sessions import (
    SEARCH_PROPS,
    AdvocacyPlan,
    Calendar,
    SessionPlan,
    StorePlan,
)


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
            append((ms, self.seq, track("Email Opened", None, uid, opened_props, ctx)))
            self.seq += 1
            if k:
                append(
                    (
                        ms + 20_000,
                        self.seq,
                        track("Email Link Clicked", None, uid, clicked_props, ctx),
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
                append((t, seq, identify(anon, uid, pop.traits[c], ctx)))
                append((t + 1, seq + 1, track("Signed In", anon, uid, {"username": uid}, ctx)))
                seq += 2
                logged = st.logged_in[c][slot] = True
            k = plan.search[i]
            if k >= 0:
                t += step
                append((t, seq, track("Products Searched", anon, uid, SEARCH_PROPS[leaf][k], ctx)))
                seq += 1
            views = plan.views[i]
            for prod in views:
                t += step
                append((t, seq, track("Product Viewed", anon, uid, props[prod], ctx)))
                seq += 1
            if plan.browse_share[i]:
                via = SHARE_VIA[int(plan.u_login[i] * 89) % len(SHARE_VIA)]
                for shared in self._shares(c, anon, uid, props[views[-1]], via, ctx):
                    t += step
                    append((t, seq, shared))
                    seq += 1
            n_add = plan.n_add[i]
            if not n_add:
                continue
            added = list(dict.fromkeys(views[-n_add:]))
            qty = 2 if plan.u_qty[i] < 0.1 else 1
            for j, prod in enumerate(added):
                t += step
                line = {**props[prod], "quantity": qty if j == 0 else 1}
                append((t, seq, track("Product Added", anon, uid, line, ctx)))
                seq += 1
            n_remove = min(plan.n_remove[i], len(added) - 1)
            for prod in added[:n_remove]:
                t += step
                append((t, seq, track("Product Removed", anon, uid, props[prod], ctx)))
                seq += 1
            if not buy:
                continue
            if not logged:  # first purchase: the visitor signs up
                t += step
                uid = pop.user_ids[c]
                append((t, seq, track("Signed Up", anon, uid, {"type": "checkout"}, ctx)))
                append((t + 1, seq + 1, identify(anon, uid, pop.traits[c], ctx)))
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
                code, rate = coupon_for(source, coupon_factor, st.orders[c] == 0)
            amounts = money(basket, rate)
            t += step
            append(
                (
                    t,
                    seq,
                    track(
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
                        track(
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
            append((t, seq, track("Order Completed", anon, uid, order, ctx)))
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
                track(
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
                track(
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
            ctx = self._light_context(c, slot)
            for k, shared in enumerate(self._shares(c, anon, uid, item, via, ctx)):
                self._later(max(later - 2, 1), t + k * 60_000, shared)

    def _shares(
        self,
        c: int,
        anon: str | None,
        uid: str | None,
        item: dict[str, Any],
        via: str,
        ctx: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """A product share, and for an influencer the post to their audience that follows."""
        url = f"{SHOP_URL}/p/{item['sku']}"
        shared = {
            "share_via": via,
            "product_id": item["product_id"],
            "sku": item["sku"],
            "name": item["name"],
            "url": url,
        }
        out = [track("Product Shared", anon, uid, shared, ctx)]
        if self.pop.influencer[c]:
            out.append(track("Social Shared", anon, uid, {"share_via": via, "url": url}, ctx))
        return out

    def advocacy(self, plan: AdvocacyPlan) -> None:
        """Posts and referrals made away from the site, reported from the customer's account
        (social listening matches the tag, the referral programme knows who invited)."""
        pop = self.pop
        props = self.catalog.event_props
        append = self.batch.append
        for c, start, referral, prod, u in zip(
            plan.cust, plan.start, plan.referral, plan.product, plan.u, strict=True
        ):
            uid = pop.user_ids[c]
            ctx = {"consent": pop.consents[c]}
            if referral:
                via = REFERRAL_VIA[int(u * 97) % len(REFERRAL_VIA)]
                body = {"share_via": via, "url": f"{SHOP_URL}/?ref={uid}"}
                payload = track("Referral Sent", None, uid, body, ctx)
            else:
                via = SHARE_VIA[int(u * 97) % len(SHARE_VIA)]
                url = props[prod]["url"]
                payload = track("Social Shared", None, uid, {"share_via": via, "url": url}, ctx)
            append((self.day_ms + start * 1000, self.seq, payload))
            self.seq += 1

    def store_visits(self, plan: StorePlan) -> None:
        """Purchases in physical stores, identified through the loyalty card.

        The card is the member's account once they have one (the loyalty programme links them,
        as the account's ``loyalty_id`` trait says): the till then reports the account's userId.
        Before that the card number itself is the userId, and what was bought on it stays on a
        profile of its own (the store cannot join two userIds).
        """
        pop, st = self.pop, self.state
        lines = self.catalog.line_items
        append = self.batch.append
        for i, c in enumerate(plan.cust):
            if st.gone[c]:
                continue
            loyalty = pop.loyalty_ids[c]
            assert loyalty is not None
            member = pop.user_ids[c] if st.registered[c] else loyalty
            store_id, country, city = STORES[plan.store[i]]
            ctx = {
                "location": {"country": country, "city": city},
                "traits": {"loyalty_id": loyalty},
                "consent": pop.consents[c],
            }
            t = self.day_ms + plan.start[i] * 1000
            if st.store_identified[c] != member:
                append((t - 1000, self.seq, identify(None, member, {"loyalty_id": loyalty}, ctx)))
                self.seq += 1
                st.store_identified[c] = member
            append((t, self.seq, track("Store Visited", None, member, {"store_id": store_id}, ctx)))
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
            append((t + 600_000, self.seq, track("Order Completed", None, member, order, ctx)))
            self.seq += 1
            st.orders[c] += 1
            st.revenue[c] += amounts["total"]
            if st.first_order_day[c] < 0:
                st.first_order_day[c] = self.day
            if pop.persona[c] == ONE_OFF:
                st.gone[c] = True
