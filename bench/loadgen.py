"""An open-loop HTTP/1.1 load generator, lean enough to share two cores with the server it
measures: requests are written as prepared bytes on keep-alive connections, answers read by
their Content-Length. A request is sent when it is due whatever the answers' pace; its latency
runs from the instant it was due, so time spent waiting for a free connection behind a slow
server counts (no coordinated omission)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None

    def encode(self, host: str) -> bytes:
        payload = b"" if self.body is None else json.dumps(self.body).encode()
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _run(
    host: str, port: int, requests: list[Request], rate: float, in_flight: int
) -> Result:
    result = Result()
    prepared = [request.encode(f"{host}:{port}") for request in requests]
    due: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    connections = [await asyncio.open_connection(host, port) for _ in range(in_flight)]
    start = time.perf_counter()

    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (item := await due.get()) is not None:
            at, request = item
            try:
                status, body = await _exchange(reader, writer, request)
                if status != 200:
                    result.errors[f"{status} {json.loads(body or b'{}').get('error')}"] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                result.errors[type(error).__name__] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            result.latencies_ms.append((time.perf_counter() - start - at) * 1000)
        writer.close()

    senders = [asyncio.create_task(send(*connection)) for connection in connections]
    for n, request in enumerate(prepared):
        at = n / rate
        await asyncio.sleep(max(0.0, at - (time.perf_counter() - start)))
        due.put_nowait((at, request))
    for _ in senders:
        due.put_nowait(None)
    await asyncio.gather(*senders)
    result.elapsed_s = time.perf_counter() - start
    return result


def run(host: str, port: int, requests: list[Request], rate: float, in_flight: int = 32) -> Result:
    """Send `requests` at `rate` per second on `in_flight` connections (uvloop's event loop)."""
    import uvloop

    return uvloop.run(_run(host, port, requests, rate, in_flight))
