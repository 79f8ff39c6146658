"""One ``send`` per response: the coalescing transport on a real loopback connection. (Every
test that starts ``shopkeeper serve`` — the SDKs, the crash test, the workers — runs on it.)"""

from __future__ import annotations

import asyncio
from typing import Any

from shopkeeper.ops.http import CoalescingTransport


class _Counting:
    """A real transport that counts the writes reaching it."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def _serve(action: str) -> tuple[bytes, list[bytes]]:
    loop = asyncio.get_running_loop()
    counted: list[_Counting] = []

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            counting = _Counting(transport)
            counted.append(counting)
            wrapped = CoalescingTransport(counting, loop)  # type: ignore[arg-type]
            wrapped.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
            wrapped.write(b"hello")
            if action == "close":
                wrapped.close()

    server = await loop.create_server(Protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = await reader.readexactly(len(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"))
    if action == "close":
        assert await reader.read() == b""  # closed after the pending bytes went out
    writer.close()
    server.close()
    await server.wait_closed()
    return received, counted[0].writes


def test_a_response_written_in_one_turn_is_sent_once() -> None:
    received, writes = asyncio.run(_serve("keep"))
    assert received == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"
    assert writes == [received]


def test_closing_sends_what_is_pending_first() -> None:
    received, writes = asyncio.run(_serve("close"))
    assert received.endswith(b"hello")
    assert len(writes) == 1
