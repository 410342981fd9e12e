"""The court registry API as a real server process on loopback (`misure api serve`), for the
HTTP tests, the schema fuzzing and the load benchmark."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.stack import MISURE, ROOT, free_port


class ApiServer:
    def __init__(
        self,
        database_url: str,
        log: Path,
        env: dict[str, str] | None = None,
        workers: int = 1,
    ) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
            "MISURE_DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ApiServer:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [MISURE, "api", "serve", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.request("GET", "/health")[0] == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the API did not start:\n{self.log.read_text()}")
            time.sleep(0.2)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        key: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        """(status, JSON body) of one HTTP request."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lowercase names, raw body) of one HTTP request."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            return answer_of(connection.getresponse())
        finally:
            connection.close()

    def connect(self, timeout: float = 30) -> socket.socket:
        """A raw connection, for what no HTTP client sends (repeated, oversized, half-sent)."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def exchange(self, data: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of the answer to `data` sent as is on a new connection."""
        with self.connect(timeout) as sock:
            sock.sendall(data)
            return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The next HTTP answer on a raw connection."""
    answer = http.client.HTTPResponse(sock)
    answer.begin()
    return answer_of(answer)


def answer_of(answer: http.client.HTTPResponse) -> tuple[int, dict[str, str], bytes]:
    return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
