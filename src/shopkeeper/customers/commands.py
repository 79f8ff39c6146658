"""``shopkeeper customers show ID``: the 360° profile as tables, or ``--json``."""

from __future__ import annotations

import typer
from rich.table import Table

from shopkeeper.cli import app, console, open_shop
from shopkeeper.customers.schemas import Profile

customers_app = typer.Typer(help="Look up customers (360° profile).")
app.add_typer(customers_app, name="customers")


@customers_app.command("show")
def show(
    identifier: str = typer.Argument(..., help="Customer id, userId, anonymousId or e-mail."),
    as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
) -> None:
    """Show a customer's profile: identities, traits, consent, activity, affinities."""
    shop = open_shop()
    try:
        profile = shop.customers.profile(identifier)
    finally:
        shop.close()
    if as_json:
        typer.echo(profile.model_dump_json(indent=2))
        return
    for table in profile_tables(profile):
        console.print(table)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def profile_tables(profile: Profile) -> list[Table]:
    """The profile as Rich tables, one per section."""
    act = profile.activity
    summary = Table("field", "value", title=f"Customer {profile.id}", title_justify="left")
    for field, value in (
        ("tenure", profile.tenure),
        ("first seen", act.first_seen),
        ("last seen", act.last_seen),
        ("sessions", act.sessions),
        ("orders", act.orders),
        ("revenue", act.revenue),
        ("average order", act.average_order_value),
        ("refunds", act.refunds),
        (
            "last order",
            f"{act.last_order.id} {act.last_order.placed_at:%Y-%m-%d} "
            f"{act.last_order.total} {act.last_order.status} {act.last_order.channel}"
            if act.last_order
            else None,
        ),
        ("merged from", ", ".join(profile.merged_from) or None),
    ):
        summary.add_row(field, _text(value))
    for name, value in profile.traits.model_dump().items():
        if value is not None:
            summary.add_row(name, _text(value))

    identities = Table("kind", "value", "first seen", title="Identities", title_justify="left")
    for identity in profile.identities:
        identities.add_row(identity.kind, identity.value, _text(identity.first_seen))

    consent = Table(
        "purpose", "granted", "source", "recorded", title="Consent", title_justify="left"
    )
    for purpose, state in profile.consent.items():
        granted = "unknown" if state.granted is None else ("yes" if state.granted else "no")
        consent.add_row(purpose, granted, _text(state.source), _text(state.recorded_at))

    affinity = Table("dimension", "value", "share", title="Affinities", title_justify="left")
    for dimension, shares in profile.affinities.model_dump().items():
        for share in shares:
            affinity.add_row(dimension, share["value"], f"{share['share']:.1%}")

    recent = Table("kind", "what", "at", title="Recent", title_justify="left")
    for view in profile.recent.product_views:
        recent.add_row("viewed", f"{view.sku} {view.title or ''}".strip(), _text(view.at))
    for search in profile.recent.searches:
        recent.add_row("searched", search.query, _text(search.at))

    where = Table(
        "dimension",
        "value",
        "count",
        title="Channels, devices, places, sources",
        title_justify="left",
    )
    for channel, n in profile.channels.orders.items():
        where.add_row("order channel", channel, str(n))
    for channel, n in profile.channels.events.items():
        where.add_row("event channel", channel, str(n))
    for device, n in profile.devices.items():
        where.add_row("device", device, str(n))
    for place in profile.locations:
        where.add_row(
            "location", ", ".join(p for p in (place.city, place.country) if p), str(place.count)
        )
    for src in profile.traffic_sources:
        where.add_row(
            "source", " / ".join(p for p in (src.source, src.medium) if p), str(src.count)
        )
    for channel, n in profile.traffic.sessions_by_channel.items():
        marks = [
            label
            for label, value in (
                ("current", profile.traffic.channel),
                ("first", profile.traffic.first_channel),
            )
            if value == channel
        ]
        shown = f"{channel} ({', '.join(marks)})" if marks else channel
        where.add_row("traffic channel (sessions)", shown, str(n))
    return [summary, identities, consent, affinity, recent, where]
