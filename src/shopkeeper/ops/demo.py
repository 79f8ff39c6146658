"""``shopkeeper demo``: a populated shop, demo keys and the URLs to try, on one command.

The demo keys are kept in ``<data dir>/demo-keys.json`` (mode 0600) so that running the demo
again prints the same keys instead of piling up new ones.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Customer

DEMO_CUSTOMERS = 5000
DEMO_DAYS = 365
DEMO_SEED = 7


def demo_keys(shop: Shopkeeper) -> dict[str, str]:
    """The demo's write/read/admin secrets, created once per data directory."""
    path: Path = shop.settings.data_dir / "demo-keys.json"
    if path.exists():
        keys: dict[str, str] = json.loads(path.read_text())
        if all(_valid(shop, scope, secret) for scope, secret in keys.items()):
            return keys
    keys = {
        scope: shop.keys.create(scope, f"demo {scope}").secret
        for scope in ("write", "read", "admin")
    }
    shop.settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2))
    os.chmod(path, 0o600)
    return keys


def _valid(shop: Shopkeeper, scope: str, secret: str) -> bool:
    from shopkeeper.errors import ShopkeeperError

    try:
        shop.keys.authenticate(secret, scope)
    except ShopkeeperError:
        return False
    return True


def load_demo_shop(
    shop: Shopkeeper, console: Console, *, customers: int = DEMO_CUSTOMERS, days: int = DEMO_DAYS
) -> int:
    """Simulate a year of a ~5,000-customer shop into an empty store; returns customers.

    The simulated period ends yesterday, so the demo looks like a live shop: recent
    activity, trending products, and triggers that fired in the last days (older history
    wakes no trigger, as with any import)."""
    with shop.db.sessions() as session:
        existing = int(session.scalar(select(func.count()).select_from(Customer)) or 0)
    if existing:
        console.print(f"store already holds {existing:,} customers: not loading again")
        return existing
    from shopkeeper.simulator.commands import progress_display, simulate_to_store

    progress, tick = progress_display(days)
    with progress:
        summary = simulate_to_store(
            shop,
            customers,
            days,
            DEMO_SEED,
            shop.settings.data_dir / "simulation-truth",
            start=shop.clock.now().date() - timedelta(days=days),
            on_progress=tick,
            parallel=True,
        )
    console.print(
        f"loaded {summary.events:,} events and {summary.products:,} products "
        f"in {summary.seconds:.0f}s"
    )
    with shop.db.transaction() as session:
        added = shop.segments.install_builtin(session)
    console.print(
        f"installed {added} built-in segments (`shopkeeper segments evaluate` fills them)"
    )
    with shop.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


def prepare_demo(
    shop: Shopkeeper,
    console: Console,
    *,
    base_url: str,
    customers: int = DEMO_CUSTOMERS,
    days: int = DEMO_DAYS,
) -> dict[str, str]:
    customers = load_demo_shop(shop, console, customers=customers, days=days)
    keys = demo_keys(shop)
    console.rule("Shopkeeper demo")
    console.print(f"store      {shop.db.url} ({customers:,} customers)")
    console.print(f"API docs   {base_url}/docs")
    console.print(f"health     {base_url}/healthz")
    console.print(f"metrics    {base_url}/metrics")
    for scope, secret in keys.items():
        console.print(f"{scope:<10} key  {secret}", soft_wrap=True)
    console.print(f"try:  curl -u {keys['read']}: {base_url}/v1/customers/<id>", soft_wrap=True)
    return keys
