"""Event ingest (placeholder until the writer lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopkeeper.application import Shopkeeper


class EventService:
    def __init__(self, shop: Shopkeeper) -> None:
        self.shop = shop

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
