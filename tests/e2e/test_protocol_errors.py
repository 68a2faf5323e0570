"""Requests aiohttp cannot parse are still answered in Duo's envelope (400 / 40002, the
connection closed), and each costs one WARNING line without a traceback, never the bytes sent."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.harness import ServiceProcess

LONG = "A" * 9000
CASES = {
    "request line over 8,190 bytes": f"GET /activate/{LONG} HTTP/1.1\r\nHost: x\r\n\r\n",
    "header over 8,190 bytes": f"GET /auth/v2/ping HTTP/1.1\r\nHost: x\r\nX-Big: {LONG}\r\n\r\n",
    "header without a colon": "GET /auth/v2/ping HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    "control character in a header": "GET /auth/v2/ping HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    "too many headers": "GET /auth/v2/ping HTTP/1.1\r\n"
                        + "".join(f"X-{n}: {n}\r\n" for n in range(200)) + "\r\n",
    "bad method": "G(T /auth/v2/ping HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad version": "GET /auth/v2/ping HTTP/A.B\r\nHost: x\r\n\r\n",
    "TLS to the plain port": "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + "\x00" * 40,
    "two content lengths": "POST /auth/v2/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                           "Content-Length: 2\r\n\r\nab",
    "bad chunk size": "POST /auth/v2/preauth HTTP/1.1\r\nHost: x\r\n"
                      "Transfer-Encoding: chunked\r\n\r\nZZ\r\nab\r\n0\r\n\r\n",
}


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            received += chunk
        return received


@pytest.mark.parametrize("raw", CASES.values(), ids=CASES.keys())
def test_a_malformed_request_gets_a_duo_envelope_and_one_warning_line(
        service: ServiceProcess, raw: str) -> None:
    assert service.log_path is not None
    before = service.log_path.read_text()
    received = _exchange(service.port, raw.encode("latin-1"))
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and head.split(b" ")[1] == b"400", received[:300]
    assert b"application/json" in head
    data = json.loads(body)
    assert data["stat"] == "FAIL" and data["code"] == 40002, data
    assert data["message_detail"].startswith("malformed HTTP request")
    new = service.log_path.read_text()[len(before):]
    assert new.count("\n") == 1 and "WARNING" in new and "bad request from 127.0.0.1" in new, new
    assert "Traceback" not in new and LONG[:100] not in new


def test_the_log_never_holds_a_traceback_from_aiohttp_parsing(service: ServiceProcess) -> None:
    assert service.log_path is not None
    _exchange(service.port, f"GET /x{LONG} HTTP/1.1\r\n\r\n".encode())
    log = Path(service.log_path).read_text()
    assert "Error handling request" not in log and "Traceback" not in log
