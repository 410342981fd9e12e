"""The API's limits, so that no client holds the server's memory or connections: a request's
head (request line and headers) at most MAX_HEAD_BYTES in at most MAX_HEADERS lines (431), its
body at most MAX_BODY_BYTES (413: refused from its Content-Length before any of it is read, or
as soon as a chunked body passes it), the whole request received within the read timeout
(408), one Authorization and one Idempotency-Key header (400), and HEAD answered as GET
without the body.

The head and the read timeout are the server's: `BoundedHttpTools`, the protocol `misure api
serve` runs (uvicorn's httptools protocol has no header limit and uvicorn no request-read
timeout). The rest is the app's: `Limits`, a pure ASGI middleware."""

import asyncio
import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_BODY_BYTES = 64 * 1024  # a decision is a few hundred bytes
MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100
READ_TIMEOUT = 10.0  # seconds; `misure api serve --read-timeout` (MISURE_API_READ_TIMEOUT)
LINGER = 2.0  # seconds a refused connection drops what the client still sends, then closes
SINGLE = (b"authorization", b"idempotency-key")  # headers a request carries at most once

TOO_LARGE = f"corpo della richiesta oltre {MAX_BODY_BYTES} byte"
HEAD_TOO_LARGE = f"intestazioni della richiesta oltre {MAX_HEAD_BYTES} byte"
TOO_MANY_HEADERS = f"più di {MAX_HEADERS} intestazioni nella richiesta"


def repeated(name: str) -> str:
    return f"intestazione {name} ripetuta: ne è ammessa una sola"


def timed_out(seconds: float) -> str:
    return f"richiesta non ricevuta per intero entro {seconds:g} secondi"


class Limits:
    """Refuses a repeated Authorization or Idempotency-Key header (400) and a body over
    MAX_BODY_BYTES (413), reading the body (bounded) before the app; runs HEAD as GET and
    drops the body of its answer. What a refused request still sends, the server reads and
    drops without keeping it (uvicorn does), for at most the read timeout."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = [name for name, _ in scope["headers"]]
        for name in SINGLE:
            if names.count(name) > 1:
                field = name.decode()
                refusal = _refusal(400, "invalid_request", repeated(field.title()), field)
                await refusal(scope, receive, send)
                return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await _refusal(413, "payload_too_large", TOO_LARGE)(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await _refusal(413, "payload_too_large", TOO_LARGE)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        if scope["method"] == "HEAD":
            scope, send = {**scope, "method": "GET"}, _without_body(send)
        await self.app(scope, _replay(bytes(body), receive), send)


def _refusal(status: int, error: str, message: str, field: str | None = None) -> JSONResponse:
    content: dict[str, Any] = {"error": error, "message": message}
    if field is not None:
        content["field"] = field
    return JSONResponse(content, status)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then what the server says next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _without_body(send: Send) -> Send:
    async def headless(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return headless


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded head and a read deadline: a request must
    arrive whole within `read_timeout` seconds of its first byte, otherwise 408 and the
    connection is closed; a new connection that sends nothing for as long is closed too.
    Time the server itself does not read (a pipelined request waiting its turn) is not
    counted. A head over MAX_HEAD_BYTES or MAX_HEADERS lines is answered 431 before the
    app sees the request; memory holds at most MAX_HEAD_BYTES and one read of it. A refused
    connection is closed for writing at once and for reading after LINGER seconds, so that
    the client, still sending, reads the answer rather than a reset."""

    def __init__(self, *args: Any, read_timeout: float = READ_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = read_timeout
        self._head: int | None = 0  # bytes of the head received so far; None once complete
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._head is not None:
            if self._head == 0:
                self._arm()  # a request begins: it has read_timeout to arrive whole
            self._head += len(data)
        super().data_received(data)
        if not self._refused and self._head is not None and self._head > MAX_HEAD_BYTES:
            self._refuse(431, "headers_too_large", HEAD_TOO_LARGE)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > MAX_HEAD_BYTES:
            self._refuse(431, "headers_too_large", HEAD_TOO_LARGE)
        elif len(self.headers) > MAX_HEADERS:
            self._refuse(431, "headers_too_large", TOO_MANY_HEADERS)
        else:
            self._head = None
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._disarm()
        self._head = 0
        super().on_message_complete()
        if self.cycle.response_complete:  # answered before its body ended: no keep-alive timer
            self._arm()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # what follows a refused head in the same read is not answered
            super().send_400_response(msg)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the server is not reading: not the client's delay
            self._arm()
            return
        cycle = self.cycle if self._head is None else None  # the request whose body is due
        if cycle is not None and cycle.response_started:
            self.transport.close()  # already answered: the rest of its body never came
        elif cycle is not None or self._head:
            if cycle is not None:  # the app reading the body is told the client is gone
                cycle.disconnected = True
                cycle.message_event.set()
            self._refuse(408, "request_timeout", timed_out(self.read_timeout))
        else:
            self.transport.close()  # a connection that sent nothing

    def _refuse(self, status: int, error: str, message: str) -> None:
        """Answers `status` with the JSON error body and closes the connection."""
        self._refused = True
        self._disarm()
        content = {"error": error, "message": message}
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        lines = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        self.transport.write(STATUS_LINE[status] + lines + b"\r\n" + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self._deadline = self.loop.call_later(LINGER, self.transport.close)
        else:
            self.transport.close()
        client = "{}:{} - ".format(*self.client) if self.client else ""
        self.logger.info("%srequest refused: %d %s", client, status, error)
