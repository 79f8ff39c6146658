"""``shopkeeper serve`` with several workers: the server process deals the connections it accepts
to the workers in turn, and no worker outlives it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Event
from shopkeeper.settings import Settings
from tests.live_server import LiveServer, serve_command

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def _children(pid: int, name: str | None = None) -> list[int]:
    """A process's children (named ``name``, if given), not multiprocessing's resource tracker."""
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            found += [int(child) for child in handle.read().split()]
    return [
        c
        for c in found
        if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()
        and (name is None or Path(f"/proc/{c}/comm").read_text().strip() == name)
    ]


def _workers(pid: int) -> list[int]:
    return _children(pid, "sk-worker")


def _writer(pid: int) -> int:
    (writer,) = _children(pid, "sk-writer")
    return writer


def _stored(shop: Shopkeeper) -> int:
    with shop.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pids: list[int], timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.fixture
def server(tmp_path: Path) -> LiveServer:
    settings = Settings(data_dir=tmp_path / "data", log_json=False)
    shop = Shopkeeper.open(settings)
    shop.migrate()
    shop.close()
    env = {"SHOPKEEPER_DATA_DIR": str(settings.data_dir), "SHOPKEEPER_WORKERS": "2"}
    env.pop("SHOPKEEPER_DATABASE_URL", None)
    return LiveServer(env, tmp_path / "server.log")


def test_workers_each_take_half_of_the_connections(server: LiveServer) -> None:
    live = server.start()
    try:
        assert live.process is not None
        workers = _workers(live.process.pid)
        assert len(workers) == 2
        clients = [httpx.Client(base_url=live.url) for _ in range(32)]
        for client in clients:  # one keep-alive connection each, opened in a burst
            assert client.get("/healthz").status_code == 200
        listing = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{live.port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        owners = re.findall(r"pid=(\d+)", listing)
        for client in clients:
            client.close()
        shares = [owners.count(str(pid)) for pid in workers]
        assert shares == [16, 16]  # dealt in turn, not hashed
    finally:
        live.stop()
    assert _wait_gone(workers) == []


def test_dealt_connections_leave_no_descriptors_behind(server: LiveServer) -> None:
    live = server.start()
    try:
        assert live.process is not None
        parent = live.process.pid
        workers = _workers(parent)

        def connect(times: int) -> list[int]:
            for _ in range(times):  # a new connection per request, closed by the client
                with httpx.Client(base_url=live.url) as client:
                    assert client.get("/healthz").status_code == 200
            time.sleep(0.5)
            return [len(os.listdir(f"/proc/{pid}/fd")) for pid in (parent, *workers)]

        before = connect(20)  # each worker has opened its database connections by now
        after = connect(200)
        # a descriptor kept per connection would show as ~100 per worker
        assert all(a <= b + 10 for a, b in zip(after, before, strict=True)), (before, after)
    finally:
        live.stop()


def test_the_writer_process_commits_for_all_workers_and_runs_the_projector(
    tmp_path: Path,
) -> None:
    """Both workers' events are committed by the writer process before the 2xx; its projector
    (in a process of its own here) applies them all, and does not outlive the writer."""
    settings = Settings(data_dir=tmp_path / "data", log_json=False)
    shop = Shopkeeper.open(settings)
    shop.migrate()
    key = shop.keys.create("write").secret
    env = {
        "SHOPKEEPER_DATA_DIR": str(settings.data_dir),
        "SHOPKEEPER_WORKERS": "2",
        "SHOPKEEPER_PROJECTION": "background",
        "SHOPKEEPER_PROJECTOR": "process",
    }
    live = LiveServer(env, tmp_path / "server.log").start()
    try:
        assert live.process is not None
        workers, writer = _workers(live.process.pid), _writer(live.process.pid)
        assert len(workers) == 2
        clients = [httpx.Client(base_url=live.url, auth=(key, "")) for _ in range(4)]
        for n, client in enumerate(clients):  # dealt in turn: two connections per worker
            batch = [
                {"type": "identify", "userId": f"u-{n}-{i}", "messageId": f"m-{n}-{i}"}
                for i in range(5)
            ]
            response = client.post("/v1/batch", json={"batch": batch})
            assert response.status_code == 200
            assert _stored(shop) == 5 * (n + 1)  # committed before the 2xx
            client.close()
        assert [len(_children(pid)) for pid in workers] == [0, 0]
        (projector,) = _children(writer)
        deadline = time.monotonic() + 30
        while shop.events.projector.lag() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert shop.events.projector.lag() == 0
        os.kill(writer, signal.SIGKILL)  # a writer killed without a word...
        assert _wait_gone([projector]) == []  # ...leaves no projector process behind
        assert live.process.wait(timeout=30) != 0  # and the server stops with an error
        assert _wait_gone(workers) == []
        assert "a server worker exited with -9" in live.log_path.read_text()
    finally:
        live.stop()
        shop.close()


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_metrics_sum_every_process_of_the_server(tmp_path: Path) -> None:
    """Whichever worker answers the scrape, it counts both workers' requests and events and
    the writer process's commits; the metrics files go with the server."""
    settings = Settings(data_dir=tmp_path / "data", log_json=False)
    shop = Shopkeeper.open(settings)
    shop.migrate()
    key = shop.keys.create("write").secret
    shop.close()
    env = {"SHOPKEEPER_DATA_DIR": str(settings.data_dir), "SHOPKEEPER_WORKERS": "2"}
    env.pop("SHOPKEEPER_DATABASE_URL", None)
    live = LiveServer(env, tmp_path / "server.log").start()
    try:
        assert live.process is not None
        files = Path(f"/proc/{_writer(live.process.pid)}/environ").read_bytes()
        directory = re.search(rb"PROMETHEUS_MULTIPROC_DIR=([^\0]+)", files)
        assert directory is not None
        for n in range(4):  # a connection each: dealt in turn, two per worker
            with httpx.Client(base_url=live.url, auth=(key, "")) as client:
                batch = [
                    {"type": "track", "event": "Viewed", "userId": f"u-{n}-{i}"} for i in range(3)
                ]
                assert client.post("/v1/batch", json={"batch": batch}).status_code == 200
        scrapes = []
        for _ in range(2):  # one scrape from each worker
            with httpx.Client(base_url=live.url) as client:
                scrapes.append(client.get("/metrics").text)
        for text in scrapes:
            assert _metric(text, 'shopkeeper_events_total{outcome="accepted"}') == 12
            assert _metric(text, "shopkeeper_ingest_commit_seconds_count") >= 1
            assert _metric(text, "shopkeeper_log_end") == 12
    finally:
        live.stop()
    assert not Path(directory.group(1).decode()).exists()


def test_workers_die_with_a_killed_server(server: LiveServer) -> None:
    live = server.start()
    assert live.process is not None
    workers = _workers(live.process.pid)
    live.kill()  # SIGKILL: the parent cannot stop them itself
    assert _wait_gone(workers) == []


def test_a_crashed_worker_stops_the_server_with_an_error(server: LiveServer) -> None:
    live = server.start()
    assert live.process is not None
    workers = _workers(live.process.pid)
    os.kill(workers[0], signal.SIGKILL)
    assert live.process.wait(timeout=30) != 0
    assert _wait_gone(workers) == []
    assert "a server worker exited with -9" in server.log_path.read_text()


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "SHOPKEEPER_DATA_DIR": str(tmp_path), "SHOPKEEPER_WORKERS": "2"}
        env.pop("SHOPKEEPER_DATABASE_URL", None)
        done = subprocess.run(
            serve_command(port),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
