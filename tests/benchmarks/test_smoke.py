"""The benchmarks still run: a seconds-long ``python -m benchmarks --quick`` on SQLite.

Not a performance assertion (the machine is shared); it keeps the harness, the load generator
and the workloads from rotting as the API changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def test_quick_run_reports_every_benchmark():
    completed = _run("benchmarks", "--quick")
    assert "| benchmark | backend | figures |" in completed.stdout
    results = ROOT / "benchmarks" / "results"
    ingest = json.loads((results / "ingest-sqlite-quick.json").read_text())
    assert ingest["statuses"] == {"200": ingest["requests"]}
    assert ingest["events_in_store"] == ingest["events_accepted"] == 3_000
    latency = json.loads((results / "latency-sqlite-quick.json").read_text())
    assert latency["statuses"].get("200") == latency["requests"] == 400
    assert latency["events_in_store"] == 400
    assert latency["p99_ms"] >= latency["p50_ms"] > 0
    profile = json.loads((results / "profile-sqlite-quick.json").read_text())
    assert profile["store_customers"] == 300
    assert profile["statuses"] == {"200": profile["requests"]}
    assert profile["server_disk_read_mb"] >= 0
    assert len(profile["host_speed_ms"]) == 2
    assert min(profile["host_speed_ms"]) > 0


def test_serving_benchmark_measures_each_layer(tmp_path: Path):
    """A small store through the serving benchmark: the service, the ASGI app in-process and
    the real server, for every placement, all answered 200."""
    _run(
        "benchmarks.serving_bench",
        *("--store-dir", str(tmp_path / "store"), "--customers", "400", "--days", "20"),
        *("--calls", "5", "--rates", "50", "--duration", "1", "--label", "smoke"),
    )
    report = json.loads((ROOT / "benchmarks/results/serving-400-smoke.json").read_text())
    assert [row["placement"] for row in report["in_process"]] == [
        "also_bought",
        "bought_together",
        "similar",
        "trending",
        "for_you",
        "cart",
    ]
    assert all(row["app_cpu_ms"] > 0 and row["cpu_ms"] > 0 for row in report["in_process"])
    assert all(row["statuses"] == {"200": 50} for row in report["http"])


def test_open_loop_charges_a_stall_to_the_requests_behind_it():
    """Coordinated omission: latency counts from the intended send time, not the actual one."""
    import asyncio

    from benchmarks.loadgen import Request, open_loop

    async def scenario() -> list[float]:
        calls = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal calls
            try:
                while await reader.readuntil(b"\r\n\r\n"):
                    calls += 1
                    if calls == 1:
                        await asyncio.sleep(0.3)  # the server stalls once
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    await writer.drain()
            except asyncio.IncompleteReadError:
                pass
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        result = await open_loop(
            "127.0.0.1", port, [Request(raw)] * 20, rate=100, max_connections=1, warm_connections=1
        )
        server.close()
        await server.wait_closed()
        return result.latencies

    latencies = asyncio.run(scenario())
    assert len(latencies) == 20
    # requests scheduled during the 300 ms stall waited behind it on the one connection
    assert sum(1 for latency in latencies if latency > 0.1) >= 5
