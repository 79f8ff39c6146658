"""``shopkeeper keys create|list|revoke``."""

from __future__ import annotations

import typer
from rich.table import Table

from shopkeeper.cli import app, console, open_shop

keys_app = typer.Typer(help="Manage API keys (write: send events; read: profiles; admin: all).")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create(
    scope: str = typer.Option(..., help="write, read or admin."),
    name: str = typer.Option("", help="A label to recognise the key by."),
) -> None:
    """Create a key and print its secret (shown once; only a hash is stored)."""
    key = open_shop().keys.create(scope, name)
    console.print(f"[bold]{key.scope}[/bold] key {key.id} ({key.name})")
    console.print(key.secret, soft_wrap=True)


@keys_app.command("list")
def list_keys() -> None:
    """List keys (never their secrets)."""
    table = Table("id", "name", "scope", "prefix", "created", "revoked")
    for key in open_shop().keys.list():
        table.add_row(
            key.id,
            key.name,
            key.scope,
            key.prefix + "…",
            str(key.created_at),
            str(key.revoked_at or ""),
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key by id."""
    open_shop().keys.revoke(key_id)
    console.print(f"revoked {key_id}")
