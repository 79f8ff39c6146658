"""``shopkeeper serve``, ``migrate`` and ``demo``."""

from __future__ import annotations

import typer

from shopkeeper.cli import app, console, open_shop


@app.command()
def migrate() -> None:
    """Create or upgrade the store's schema (idempotent)."""
    shop = open_shop()
    shop.close()
    console.print(f"[green]store is up to date[/green] ({shop.db.dialect})")


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default SHOPKEEPER_HOST)."),
    port: int = typer.Option(None, help="Port (default SHOPKEEPER_PORT)."),
    workers: int = typer.Option(None, min=1, help="Processes (default SHOPKEEPER_WORKERS)."),
) -> None:
    """Serve the API (and dashboard) with uvicorn."""
    from shopkeeper.ops.server import run

    shop = open_shop()
    run(shop, host=host or shop.settings.host, port=port or shop.settings.port, workers=workers)


@app.command()
def demo(
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Serve after loading."),
    host: str = typer.Option(None, help="Bind address (default SHOPKEEPER_HOST)."),
    port: int = typer.Option(None, help="Port (default SHOPKEEPER_PORT)."),
    customers: int = typer.Option(5000, "--customers", min=1, help="Simulated customers."),
    days: int = typer.Option(365, "--days", min=1, help="Simulated days, ending yesterday."),
) -> None:
    """Load a demo shop (once per data directory), create demo keys, print the URLs, serve."""
    from shopkeeper.ops.demo import prepare_demo

    shop = open_shop()
    host = host or shop.settings.host
    port = port or shop.settings.port
    try:
        prepare_demo(
            shop, console, base_url=f"http://{host}:{port}", customers=customers, days=days
        )
    finally:
        if not serve_after:
            shop.close()
    if serve_after:
        from shopkeeper.ops.server import run

        run(shop, host=host, port=port)
