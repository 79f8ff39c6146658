"""Run the API under uvicorn in this process."""

from __future__ import annotations

import uvicorn

from shopkeeper.app import create_app
from shopkeeper.application import Shopkeeper
from shopkeeper.ops.logging import configure_logging


def run(shop: Shopkeeper, *, host: str, port: int) -> None:
    configure_logging(shop.settings.log_level, json=shop.settings.log_json)
    uvicorn.run(
        create_app(shop),
        host=host,
        port=port,
        log_level=shop.settings.log_level,
        access_log=False,
        server_header=False,
    )
