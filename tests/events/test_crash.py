"""Crash safety: every event answered with a 2xx survives a SIGKILL of the server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Event
from shopkeeper.settings import Settings
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


def test_acknowledged_events_survive_sigkill(settings: Settings, tmp_path: Path):
    durable = settings.model_copy(update={"sqlite_synchronous": "FULL"})
    shop = Shopkeeper.open(durable)
    shop.migrate()
    key = shop.keys.create("write").secret
    shop.close()
    env = {"SHOPKEEPER_DATA_DIR": str(settings.data_dir), "SHOPKEEPER_SQLITE_SYNCHRONOUS": "FULL"}
    if settings.database_url:
        env["SHOPKEEPER_DATABASE_URL"] = settings.database_url
    live = LiveServer(env, tmp_path / "server.log").start()

    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(base_url=live.url, auth=(key, ""), timeout=5) as http:
            n = 0
            while not stop.is_set():
                ids = [f"w{worker}-{n}-{i}" for i in range(20)]
                n += 1
                batch = {
                    "batch": [
                        {
                            "type": "track",
                            "event": "Product Viewed",
                            "anonymousId": f"crash-{worker}",
                            "messageId": m,
                            "properties": {"product_id": "p1"},
                        }
                        for m in ids
                    ]
                }
                try:
                    response = http.post("/v1/batch", json=batch)
                except httpx.HTTPError:
                    return  # the server died mid-request: not acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged.extend(ids)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    live.kill()  # SIGKILL in the middle of sustained ingest
    stop.set()
    for thread in threads:
        thread.join(10)
    assert len(acknowledged) >= 2000, "ingest too slow to exercise the crash"

    restarted = LiveServer(env, tmp_path / "server2.log").start()  # recovery on restart
    restarted.stop()
    shop = Shopkeeper.open(durable)
    with shop.db.sessions() as session:
        stored = set(session.scalars(select(Event.message_id)))
    shop.close()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged events lost"
