"""The application factory: what its lifespan sets up."""

from __future__ import annotations

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from shopkeeper.app import create_app
from shopkeeper.application import Shopkeeper
from shopkeeper.settings import Settings


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_blocking_work_runs_on_the_configured_number_of_threads(settings: Settings) -> None:
    async def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    shop = Shopkeeper.open(settings.model_copy(update={"threads": 3}))
    shop.migrate()
    try:
        with TestClient(create_app(shop)) as client:
            assert client.portal is not None
            assert client.portal.call(tokens) == 3
    finally:
        shop.close()
