"""A small, fast HTTP/1.1 load generator on raw asyncio streams, run in its own process.

Python HTTP clients (httpx, requests) spend more CPU per request than the server under test
does on a trivial route, so on a 2-core machine they would measure themselves. This one writes
pre-built request bytes onto keep-alive connections and reads only the status line, the
``Content-Length`` header and the body: a few microseconds of client CPU per request.

Two shapes of load:

* :func:`closed_loop` — N connections each send their next request as soon as the previous
  answer arrives (throughput: "how many events per second can it take").
* :func:`open_loop` — requests are *scheduled* at a constant rate whatever the server does, and
  each latency is measured from the request's **intended** send time, so a stalled server is
  charged for the requests that queued behind the stall (no coordinated omission).

:func:`run` executes a :class:`LoadSpec` in a separate (spawned) process so the load generator
never shares an interpreter, or a GIL, with the server; the spec names a workload that the child
builds itself, so hundreds of megabytes of request bodies are never pickled across processes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson


class HTTPConnection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> HTTPConnection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one pre-built request, return (status, body)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
                break
        else:
            if b"transfer-encoding: chunked" in head.lower():
                raise RuntimeError("chunked responses are not supported by this load generator")
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def basic_auth(key: str) -> str:
    """HTTP Basic with the key as user name and an empty password (as Segment does)."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def build_request(
    method: str, path: str, *, host: str, auth: str, body: bytes | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Authorization: {auth}"]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


@dataclass
class Request:
    """A pre-built request; ``weight`` is how many events it carries (1 for a read)."""

    raw: bytes
    weight: int = 1


@dataclass
class LoadResult:
    """What one load run observed, all times in seconds."""

    mode: str
    elapsed: float
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    accepted: int = 0
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0
    setup_seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def percentiles(self) -> dict[str, float]:
        """p50/p90/p95/p99/p99.9/max in milliseconds (nearest-rank)."""
        if not self.latencies:
            return {}
        ordered = sorted(self.latencies)

        def rank(q: float) -> float:
            index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
            return ordered[index] * 1000

        return {
            "p50_ms": rank(0.50),
            "p90_ms": rank(0.90),
            "p95_ms": rank(0.95),
            "p99_ms": rank(0.99),
            "p999_ms": rank(0.999),
            "max_ms": ordered[-1] * 1000,
            "mean_ms": sum(ordered) / len(ordered) * 1000,
        }


def _accepted(status: int, body: bytes, weight: int) -> int:
    """Events the server says it stored (duplicates excluded); weight when it does not say."""
    if status != 200:
        return 0
    if body.startswith(b"{") and b'"accepted"' in body:
        return int(orjson.loads(body).get("accepted", weight))
    return weight


async def closed_loop(
    host: str, port: int, requests: Iterable[Request], *, connections: int, duration: float
) -> LoadResult:
    """Each connection sends back-to-back until the requests run out or ``duration`` passes."""
    source: Iterator[Request] = iter(requests)
    result = LoadResult(mode="closed", elapsed=0.0)
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    deadline = started + duration

    async def worker() -> None:
        connection = await HTTPConnection.open(host, port)
        try:
            while time.perf_counter() < deadline:
                item = next(source, None)
                if item is None:
                    return
                sent_at = time.perf_counter()
                result.sent += 1
                try:
                    status, body = await connection.request(item.raw)
                except (OSError, asyncio.IncompleteReadError):
                    # the server may close a keep-alive connection that sat idle (uvicorn: 5 s);
                    # resend once on a new one — messageIds make a resent batch harmless
                    connection.close()
                    connection = await HTTPConnection.open(host, port)
                    try:
                        status, body = await connection.request(item.raw)
                    except (OSError, asyncio.IncompleteReadError):
                        result.errors += 1
                        connection.close()
                        connection = await HTTPConnection.open(host, port)
                        continue
                result.latencies.append(time.perf_counter() - sent_at)
                statuses[status] += 1
                result.accepted += _accepted(status, body, item.weight)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    result.statuses = dict(statuses)
    return result


async def open_loop(
    host: str,
    port: int,
    requests: list[Request],
    *,
    rate: float,
    max_connections: int = 256,
    warm_connections: int = 16,
) -> LoadResult:
    """Schedule ``requests`` at ``rate`` per second; latency counts from the intended send time.

    A request that finds every connection busy waits for one (or for a new one, up to
    ``max_connections``), and that wait is part of its latency, as it would be for a real client.
    """
    result = LoadResult(mode="open", elapsed=0.0)
    statuses: Counter[int] = Counter()
    idle: asyncio.Queue[HTTPConnection] = asyncio.Queue()
    opened = 0
    for _ in range(warm_connections):
        idle.put_nowait(await HTTPConnection.open(host, port))
        opened += 1

    async def acquire() -> HTTPConnection:
        nonlocal opened
        if idle.empty() and opened < max_connections:
            opened += 1
            return await HTTPConnection.open(host, port)
        return await idle.get()

    async def send(item: Request, intended: float) -> None:
        connection = await acquire()
        try:
            status, body = await connection.request(item.raw)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            connection.close()
            idle.put_nowait(await HTTPConnection.open(host, port))
            return
        result.latencies.append(time.perf_counter() - intended)
        statuses[status] += 1
        result.accepted += _accepted(status, body, item.weight)
        idle.put_nowait(connection)

    tasks: set[asyncio.Task[None]] = set()
    interval = 1.0 / rate
    started = time.perf_counter()
    index = 0
    while index < len(requests):
        now = time.perf_counter()
        intended = started + index * interval
        if intended > now:
            await asyncio.sleep(intended - now)
            continue
        while index < len(requests) and started + index * interval <= now:
            task = asyncio.create_task(send(requests[index], started + index * interval))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
            result.sent += 1
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    result.elapsed = time.perf_counter() - started
    result.statuses = dict(statuses)
    result.notes["connections_opened"] = opened
    while not idle.empty():
        await idle.get_nowait().aclose()
    return result


@dataclass
class LoadSpec:
    """What the child process should do: a workload factory (picklable) and a load shape."""

    host: str
    port: int
    workload: Callable[..., Iterable[Request]]
    workload_args: dict[str, Any]
    mode: str = "closed"  # "closed" or "open"
    connections: int = 8
    duration: float = 10.0
    rate: float = 1000.0
    pregenerate: bool = True


async def _execute(spec: LoadSpec) -> LoadResult:
    setup = time.perf_counter()
    requests = spec.workload(**spec.workload_args)
    if spec.pregenerate or spec.mode == "open":
        requests = list(requests)
    setup_seconds = time.perf_counter() - setup
    cpu = time.process_time()
    if spec.mode == "open":
        result = await open_loop(spec.host, spec.port, list(requests), rate=spec.rate)
    else:
        result = await closed_loop(
            spec.host, spec.port, requests, connections=spec.connections, duration=spec.duration
        )
    result.client_cpu = time.process_time() - cpu
    result.setup_seconds = setup_seconds
    return result


def _child(spec: LoadSpec, connection: Any) -> None:
    try:
        import uvloop

        runner: Callable[..., LoadResult] = uvloop.run
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        runner = asyncio.run
    try:
        connection.send(("ok", runner(_execute(spec))))
    except BaseException as exc:
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        connection.close()


def run(spec: LoadSpec, timeout: float | None = None) -> LoadResult:
    """Run the load in a freshly spawned process and return what it measured."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(spec, child), name="loadgen")
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError("the load generator did not finish in time")
        outcome, payload = parent.recv()
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
    if outcome != "ok":
        raise RuntimeError(f"load generator failed: {payload}")
    return payload  # type: ignore[no-any-return]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (e.g. the server) has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def process_read_bytes(pid: int) -> int:
    """Bytes a process has read from storage so far, page-cache hits not counted (Linux /proc)."""
    with open(f"/proc/{pid}/io") as handle:
        for line in handle:
            if line.startswith("read_bytes:"):
                return int(line.split()[1])
    return 0


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's worker processes)."""
    return _tree_sum(pid, process_cpu_seconds)


def tree_read_bytes(pid: int) -> int:
    """Storage bytes read by a process and its children: reads the page cache did not serve."""
    return _tree_sum(pid, process_read_bytes)


#: What :func:`_tree_sum` adds up: CPU seconds or bytes.
N = TypeVar("N", int, float)


def _tree_sum(pid: int, measure: Callable[[int], N]) -> N:
    total = measure(pid)
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            children = handle.read().split()
        total += sum(_tree_sum(int(child), measure) for child in children)
    return total
