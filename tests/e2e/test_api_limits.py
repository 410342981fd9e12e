"""The API's limits over real HTTP, against `misure api serve` on loopback (read timeout 2 s):
what a client sends is bounded (body, head, time), Authorization is one Bearer header, no
redirect is built from Host, HEAD answers every GET, the schema declares the bearer scheme, the
docs load nothing from outside, and every 422 names its field in Italian. Raw sockets send
what HTTP clients refuse to."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.limits import MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS
from machines.calendar import rome_date
from services import engine, registry
from services.clock import FixedClock
from services.context import Context
from services.placements import reallocation
from services.schema import upgrade
from storage.database import make_engine
from tests.support.apiserver import ApiServer
from tests.support.placements import COURT_TO, PLACEMENTS, load_reference, queued

READ_TIMEOUT = 2.0


@dataclass(frozen=True)
class Served:
    server: ApiServer
    ctx: Context
    case: str  # at court before COURT_TO
    token: str  # COURT_TO's registry


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{folder / 'misure.db'}"
    db = make_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = Context.build(db, FixedClock(now), PLACEMENTS)
    upgrade(db, ctx.migration_folders, ctx.table_modules)
    load_reference(ctx, years=(rome_date(now).year - 1, rome_date(now).year))
    case = queued(ctx)
    reallocation.reallocate(ctx)
    token = registry.issue_token(ctx, COURT_TO).token
    env = {"MISURE_API_READ_TIMEOUT": str(READ_TIMEOUT)}
    with ApiServer(url, folder / "api.log", env=env) as server:
        yield Served(server, ctx, case, token)
    db.dispose()


def head(method: str, path: str, *lines: str) -> bytes:
    """A request head as sent on the wire."""
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *lines, "", ""]).encode()


def decision_path(served: Served) -> str:
    return f"/v1/attestations/{served.case}/decision"


def healthy(server: ApiServer) -> bool:
    return server.request("GET", "/health")[0] == 200


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(served: Served, framing: str) -> None:
    """A 100 MB body, declared or streamed, is answered 413 while most of it is still unsent:
    the server never waits for it (it would answer 408 at the read timeout)."""
    sent = b"x" * (MAX_BODY_BYTES + 1024)
    if framing == "content-length":
        declared = head("POST", decision_path(served), "Content-Length: 100000000")
        data = declared + sent
    else:
        data = head("POST", decision_path(served), "Transfer-Encoding: chunked")
        data += b"%x\r\n%s\r\n" % (len(sent), sent)
    started = time.monotonic()
    status, _, body = served.server.exchange(data)
    assert time.monotonic() - started < READ_TIMEOUT
    assert status == 413
    answer = json.loads(body)
    assert answer["error"] == "payload_too_large"
    assert str(MAX_BODY_BYTES) in answer["message"] and "corpo" in answer["message"]
    assert healthy(served.server)


def test_a_body_within_the_limit_reaches_the_app(served: Served) -> None:
    body = json.dumps({"padding": "x" * (MAX_BODY_BYTES - 100)}).encode()
    assert len(body) <= MAX_BODY_BYTES
    data = head("POST", decision_path(served), "Transfer-Encoding: chunked")
    data += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    status, _, answer = served.server.exchange(data)
    assert status == 422  # read whole and judged: the Idempotency-Key is missing
    assert json.loads(answer)["field"] == "idempotency-key"


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (["X-Big: " + "a" * 200_000], f"oltre {MAX_HEAD_BYTES} byte"),
        ([f"X{i}: v" for i in range(1000)], f"più di {MAX_HEADERS} intestazioni"),
        ([f"X-Header-{i}: v" for i in range(MAX_HEADERS)], f"più di {MAX_HEADERS} intestazioni"),
    ],
    ids=["200 KB header", "1000 headers", "101 headers"],
)
def test_an_oversized_head_is_refused_before_the_app(
    served: Served, lines: list[str], reason: str
) -> None:
    status, headers, body = served.server.exchange(head("GET", "/health", *lines))
    assert (status, headers["content-type"]) == (431, "application/json")
    answer = json.loads(body)
    assert answer["error"] == "headers_too_large" and reason in answer["message"]
    assert healthy(served.server)
    # Just under both limits, the same request is served.
    lines = [f"X-Header-{i}: v" for i in range(MAX_HEADERS - 2)] + ["X-Big: " + "a" * 8000]
    assert served.server.exchange(head("GET", "/health", *lines))[0] == 200


def test_half_sent_requests_are_answered_408_and_closed(served: Served) -> None:
    """300 half-sent requests (half their head, half their body) and a connection that sends
    nothing: each is closed at the read timeout, the half-sent ones with a 408; meanwhile the
    server answers."""
    partial = [b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "] * 150
    partial += [head("POST", decision_path(served), "Content-Length: 100") + b'{"out'] * 150
    started = time.monotonic()
    sockets = []
    for data in partial:
        sock = served.server.connect(timeout=READ_TIMEOUT + 20)
        sock.sendall(data)
        sockets.append(sock)
    silent = served.server.connect(timeout=READ_TIMEOUT + 20)
    assert healthy(served.server)
    try:
        answers = [_until_closed(sock) for sock in sockets]
        assert _until_closed(silent) == b""
        elapsed = time.monotonic() - started
    finally:
        for sock in [*sockets, silent]:
            sock.close()
    assert READ_TIMEOUT * 0.9 < elapsed < READ_TIMEOUT + 15
    for answer in answers:
        status_line, _, body = answer.partition(b"\r\n\r\n")
        assert status_line.startswith(b"HTTP/1.1 408 ")
        assert json.loads(body)["error"] == "request_timeout"
    assert healthy(served.server)


def _until_closed(sock: socket.socket) -> bytes:
    """All the server sends until it closes the connection (a socket timeout fails)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(served: Served, scheme: str) -> None:
    path = f"/v1/attestations/{served.case}"
    status, _, _ = served.server.call("GET", path, {"Authorization": f"{scheme} {served.token}"})
    assert status == 200


def test_one_authorization_header_and_one_idempotency_key(served: Served) -> None:
    path = f"/v1/attestations/{served.case}"
    twice = head("GET", path, f"Authorization: Bearer {served.token}", "Authorization: Bearer x")
    status, _, body = served.server.exchange(twice)
    answer = json.loads(body)
    assert (status, answer["error"], answer["field"]) == (400, "invalid_request", "authorization")
    assert "ripetuta" in answer["message"]
    # The same token twice is refused too: which one counts is not for the server to guess.
    same = head("GET", path, *[f"Authorization: Bearer {served.token}"] * 2)
    assert served.server.exchange(same)[0] == 400
    keys = head(
        "POST", decision_path(served), f"Authorization: Bearer {served.token}",
        "Idempotency-Key: a", "Idempotency-Key: b", "Content-Length: 2",
    ) + b"{}"  # fmt: skip
    status, _, body = served.server.exchange(keys)
    assert (status, json.loads(body)["field"]) == (400, "idempotency-key")
    # Another scheme is no bearer token.
    basic = served.server.call("GET", path, {"Authorization": f"Basic {served.token}"})
    assert (basic[0], basic[1]["www-authenticate"]) == (401, "Bearer")
    assert json.loads(basic[2])["message"].startswith("serve il token")
    assert engine.describe(served.ctx, served.case).case.state == "at_court"


@pytest.mark.parametrize(
    "path", ["/health/", "/v1/attestations/ATT-2026-000001/", "/docs/", "/v1/attestations/"]
)
def test_a_trailing_slash_is_a_404_never_a_redirect(served: Served, path: str) -> None:
    status, headers, body = served.server.call(
        "GET", path, {"Host": "evil.example", "Authorization": f"Bearer {served.token}"}
    )
    assert status == 404 and "location" not in headers
    assert json.loads(body) == {"error": "not_found", "message": "percorso inesistente"}


def test_head_answers_every_get_without_the_body(served: Served) -> None:
    """Every GET of the schema and the docs' pages: HEAD gets the same status and headers,
    and no body; with a token and without."""
    schema = json.loads(served.server.call("GET", "/openapi.json")[2])
    paths = [p for p, operations in schema["paths"].items() if "get" in operations]
    paths = [p.replace("{reference}", served.case) for p in paths]
    assert "/health" in paths and f"/v1/attestations/{served.case}" in paths
    for path in [*paths, "/docs", "/redoc", "/openapi.json", "/no-such-path"]:
        for headers in ({"Authorization": f"Bearer {served.token}"}, {}):
            got = served.server.call("GET", path, headers)
            headed = served.server.call("HEAD", path, headers)
            assert headed[0] == got[0], path
            assert headed[2] == b"" and got[2] != b""
            for name in ("content-type", "content-length", "www-authenticate"):
                assert headed[1].get(name) == got[1].get(name), (path, name)


def test_the_schema_declares_the_bearer_scheme_and_every_answer(served: Served) -> None:
    schema = json.loads(served.server.call("GET", "/openapi.json")[2])
    (name,) = schema["components"]["securitySchemes"]
    assert schema["components"]["securitySchemes"][name] | {"description": ""} == {
        "type": "http", "scheme": "bearer", "description": ""
    }  # fmt: skip
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            needs_token = path.startswith("/v1/")
            assert (operation.get("security") == [{name: []}]) == needs_token, (path, method)
            assert {"400", "408", "413", "431"} <= set(operation["responses"]), (path, method)


def test_the_docs_load_nothing_from_outside(served: Served) -> None:
    for page in ("/docs", "/redoc"):
        status, headers, body = served.server.call("GET", page)
        html = body.decode()
        assert status == 200 and headers["content-type"].startswith("text/html")
        assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/") and not asset.startswith("//"), asset
            assert served.server.call("GET", asset)[0] == 200, asset
        assert not re.search(r"https?://|cdn|googleapis", html), page


def _decision(**changes: Any) -> dict[str, Any]:
    today = rome_date(datetime.now(UTC))
    body = {
        "outcome": "granted",
        "decided_on": today.isoformat(),
        "file_number": "SIUS 123/2026",
        "measure_start": today.isoformat(),
    }
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


def _yesterday() -> str:
    return (rome_date(datetime.now(UTC)) - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("request_", "field", "message"),
    [
        ({"body": _decision(measure_start=None)}, "measure_start", "campo obbligatorio mancante"),
        (
            {"body": _decision(measure_start=_yesterday())},
            "measure_start",
            "decorrenza anteriore al provvedimento",
        ),
        (
            {"body": _decision(decided_on="2026-02-30")},
            "decided_on",
            "data non valida (attesa AAAA-MM-GG)",
        ),
        ({"body": _decision(outcome="maybe")}, "outcome", "valore non ammesso"),
        ({"body": _decision(outcome=None)}, "outcome", "campo obbligatorio mancante"),
        ({"body": _decision(extra="x")}, "extra", "campo non previsto"),
        ({"body": _decision(file_number="")}, "file_number", "testo troppo corto"),
        ({"body": _decision(file_number="x" * 61)}, "file_number", "testo troppo lungo"),
        ({"body": ["granted"]}, "body", "atteso un oggetto JSON"),
        ({"raw": b"{not json"}, "body", "corpo della richiesta non leggibile come JSON"),
        ({"key": None}, "idempotency-key", "campo obbligatorio mancante"),
        ({"key": "k" * 201}, "idempotency-key", "formato non valido"),
        ({"reference": "att-1"}, "reference", "formato non valido (atteso: ^ATT-"),
    ],
)
def test_every_422_names_its_field_in_italian(
    served: Served, request_: dict[str, Any], field: str, message: str
) -> None:
    reference = request_.get("reference", served.case)
    status, answer = served.server.request(
        "POST", f"/v1/attestations/{reference}/decision", request_.get("body", _decision()),
        token=served.token, key=request_.get("key", "italian-1"), raw=request_.get("raw"),
    )  # fmt: skip
    assert (status, answer["error"], answer["field"]) == (422, "invalid_input", field)
    assert message in answer["message"]
    english = ("Input should", "Field required", "Value error", "JSON decode", "String should")
    assert not any(word in answer["message"] for word in english), answer["message"]
    assert engine.describe(served.ctx, served.case).case.state == "at_court"


def test_the_answers_outside_the_app_are_in_italian_too(served: Served) -> None:
    status, _, body = served.server.call("DELETE", "/health")
    assert (status, json.loads(body)["error"]) == (405, "method_not_allowed")
    assert json.loads(body)["message"] == "metodo non ammesso su questo percorso"
    status, answer = served.server.request("GET", f"/v1/attestations/{served.case}")
    assert (status, answer["error"]) == (401, "unauthorized")
    assert "token" in answer["message"] and "Bearer" in answer["message"]
