"""The ``shopkeeper`` command line. Each domain adds its commands from its ``commands.py``."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from shopkeeper.errors import ShopkeeperError

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper


class _Commands(TyperGroup):
    """Commands listed by name, whatever order their modules happened to be imported in."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(self.commands)


app = typer.Typer(
    cls=_Commands,
    name="shopkeeper",
    help="Shopkeeper: self-hosted personalization engine for online shops.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

#: Modules that register commands on :data:`app` when imported.
COMMAND_MODULES = (
    "shopkeeper.ops.commands",
    "shopkeeper.auth.commands",
    "shopkeeper.customers.commands",
    "shopkeeper.privacy.commands",
    "shopkeeper.identities.commands",
    "shopkeeper.simulator.commands",
    "shopkeeper.imports.commands",
    "shopkeeper.quality.commands",
    "shopkeeper.analytics.commands",
    "shopkeeper.recommendations.commands",
    "shopkeeper.segments.commands",
    "shopkeeper.triggers.commands",
    "shopkeeper.personas.commands",
)


def _load() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def main() -> None:
    from shopkeeper.ops.logging import configure_logging
    from shopkeeper.ops.runtime import tune_gc
    from shopkeeper.settings import Settings

    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a malformed SHOPKEEPER_* variable: say which, no traceback
        err_console.print(f"[red]error:[/red] invalid configuration: {exc}")
        sys.exit(2)
    configure_logging(settings.log_level, json=settings.log_json)
    _load()
    tune_gc()
    try:
        app()
    except ShopkeeperError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        sys.exit(2)


def open_shop(*, migrate: bool = True) -> Shopkeeper:
    """Open the store named by the environment (and bring its schema up to date)."""
    from shopkeeper.application import Shopkeeper

    shop = Shopkeeper.open()
    if migrate:
        shop.migrate()
    return shop
