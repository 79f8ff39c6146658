"""Run the API under uvicorn.

With ``workers > 1`` uvicorn starts that many processes, each opening the store from the
environment with its own group-commit writer: parsing and validation then use every core, while
the database still serialises the commits (SQLite's write lock, taken with BEGIN IMMEDIATE, is
waited for, not failed). Prometheus counters are per process in that mode.
"""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI

from shopkeeper.app import create_app
from shopkeeper.application import Shopkeeper
from shopkeeper.ops.logging import configure_logging
from shopkeeper.ops.runtime import tune_gc


def app_from_environment() -> FastAPI:
    """The app factory each worker process calls (settings from the environment)."""
    shop = Shopkeeper.open()
    configure_logging(shop.settings.log_level, json=shop.settings.log_json)
    app = create_app(shop)
    tune_gc()
    return app


def run(shop: Shopkeeper, *, host: str, port: int, workers: int | None = None) -> None:
    workers = workers or shop.settings.workers
    configure_logging(shop.settings.log_level, json=shop.settings.log_json)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": shop.settings.log_level,
        "access_log": False,
        "server_header": False,
    }
    if workers > 1:
        shop.close()
        uvicorn.run(
            "shopkeeper.ops.server:app_from_environment", factory=True, workers=workers, **options
        )
    else:
        uvicorn.run(create_app(shop), **options)
