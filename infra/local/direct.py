"""SDK requests to the embedded moto without HTTP: the stack's WSGI app, called with the request botocore signed.

Every request to moto went through a loopback HTTP round trip: botocore → urllib3 → a socket → werkzeug's dev
server (a thread; http.server parsing the headers through the email package; a WSGI environ) → the Lambda front
(infra/local/lambda_front.py: signature check, journal, tally) → moto. On the stack's one interpreter lock
that plumbing was ~40% of the CPU moto's requests cost (py-spy, a loop of UpdateItems), and the preparation of
a run (11 requests) spent 80 ms, most of it waiting for the server's thread. For requests to the stack's
own moto endpoint:

- in the stack's process (the API, the run preparation, the interpreter's service tasks), botocore's HTTP
  session hands the request to the front on the caller's thread (`install`);
- in a warm runner's worker (infra/local/warm_runner.py), it goes over a Unix socket to the stack (`Channel`,
  `install_client`): the request's head as JSON, its body and the answer's in frames, never pickled.

Either way the front gets the environ werkzeug's server would have built for that request (the same signature
checked, moto's rule for underscored headers, RAW_URI with the query as signed) and does what it always does;
moto cannot tell. Only the transport is swapped, as a different endpoint would swap it: PLYNX_LOCAL_FAST=0
keeps HTTP everywhere (the engine's tests run both ways).
"""
from __future__ import annotations

import io
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.httpsession import URLLib3Session

from .moto_dispatch import DIRECT

LOG = logging.getLogger(__name__)

ADDRESS_VARIABLE = "PLYNX_LOCAL_DIRECT"  # the channel's socket, in a warm runner's environment
CHUNK_BYTES = 1 << 20  # a body travels in frames of at most this size
_DROPPED = frozenset({"content-length", "transfer-encoding", "expect", "connection"})


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def environ_for(method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """The WSGI environ werkzeug's dev server (with moto's request handler) builds for this request."""
    from moto.core.request import (PRESERVED_HEADER_NAMES_ENVIRON_KEY, environ_key_for_header,
                                   should_preserve_original_header_name)

    parts = urlsplit(url)
    # the dev server drops a header with an underscore (X_Foo could pass for X-Foo); moto keeps S3 metadata's
    kept = [(name, value) for name, value in headers if name.lower() not in _DROPPED
            and ("_" not in name or should_preserve_original_header_name(name))]
    environ = _environ(method, parts, kept, body)
    raw_uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    environ.update({"RAW_URI": raw_uri, "REQUEST_URI": raw_uri, "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": 0,
                    "wsgi.multithread": True, DIRECT: True,
                    PRESERVED_HEADER_NAMES_ENVIRON_KEY: {environ_key_for_header(name): name for name, _ in kept
                                                         if should_preserve_original_header_name(name)}})
    return environ


def _environ(method: str, parts: Any, kept: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """werkzeug's EnvironBuilder(...).get_environ() for a request's method, URL, headers and bytes, built at once
    (the builder took a tenth of a millisecond a request, on the lock every request needs). What the builder
    treats otherwise (an empty form's body, a header it refuses) goes through the builder itself."""
    content_type = next((value for name, value in kept if name.lower() == "content-type"), None)
    host = parts.netloc
    server, colon, port = host.partition(":")
    plain_host = host.isascii() and "@" not in host and (not colon or (port.isdigit() and str(int(port)) == port))
    if not plain_host or (not body and content_type is not None) or not all(
            type(name) is str and type(value) is str and "\n" not in value and "\r" not in value
            for name, value in kept):
        from werkzeug.test import EnvironBuilder

        return EnvironBuilder(method=method, base_url=f"{parts.scheme}://{parts.netloc}", path=parts.path or "/",
                              query_string=parts.query, headers=kept, data=body).get_environ()
    from werkzeug.urls import iri_to_uri

    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "",
        "PATH_INFO": unquote(iri_to_uri(urlsplit(parts.path or "/").path)).encode().decode("latin1"),
        "QUERY_STRING": parts.query.encode().decode("latin1"),
        "SERVER_NAME": server,
        "SERVER_PORT": port if colon else ("443" if parts.scheme == "https" else "80"),
        "HTTP_HOST": host, "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": parts.scheme,
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    combined: dict[str, str] = {}  # a header named twice: its values joined, as werkzeug does
    for name, value in kept:
        if name.lower() not in ("content-type", "content-length"):
            key = "HTTP_" + name.upper().replace("-", "_")
            combined[key] = f"{combined[key]}, {value}" if key in combined else value
    environ.update(combined)
    return environ


def respond(app: Callable, method: str, url: str, headers: Iterable[tuple[str, str]],
            body: bytes) -> tuple[int, list[tuple[str, str]], Iterable[bytes]]:
    """Call the WSGI app: (status, headers, body chunks to iterate, then close); a crash is a 500, as the server's."""
    from werkzeug.test import run_wsgi_app

    try:
        chunks, status, answer = run_wsgi_app(app, environ_for(method, url, headers, body))
    except Exception:  # noqa: BLE001 - werkzeug's server answers an application's exception with a 500 too
        LOG.exception("%s %s failed", method, url)
        return 500, [("Content-Type", "text/plain")], [b"Internal Server Error"]
    return int(status.split(" ", 1)[0]), list(answer.items()), chunks


class _Body:
    """A response's body as botocore reads urllib3's (read, stream, close), from an iterator of chunks;
    `done` is called once it has all been read, `abandon` when it is closed before."""

    def __init__(self, chunks: Iterator[bytes], done: Callable[[], None], abandon: Callable[[], None]) -> None:
        self._chunks, self._done, self._abandon = chunks, done, abandon
        self._buffer = b""
        self._ended = False

    def _next(self) -> bytes:
        for chunk in self._chunks:
            if chunk:
                return chunk
        self._end(self._done)
        return b""

    def _end(self, then: Callable[[], None]) -> None:
        if not self._ended:
            self._ended = True
            then()

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        if amt is None:
            parts = [self._buffer, *iter(self._next, b"")]
            self._buffer = b""
            return b"".join(parts)
        while len(self._buffer) < amt and not self._ended:
            self._buffer += self._next()
        data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        return data

    def stream(self, amt: int = 1 << 16, decode_content: bool | None = None) -> Iterator[bytes]:
        while True:
            data = self.read(amt)
            if not data:
                return
            yield data

    def close(self) -> None:
        self._end(self._abandon)

    def release_conn(self) -> None:
        self.close()


def _request_body(body: Any) -> Iterator[bytes]:
    """A prepared request's body (bytes, str, a file, nothing) in chunks."""
    if body is None:
        return
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        for start in range(0, len(body), CHUNK_BYTES):
            yield bytes(body[start:start + CHUNK_BYTES])
        return
    while True:
        chunk = body.read(CHUNK_BYTES)
        if not chunk:
            return
        yield from _request_body(chunk)  # a text file's characters may encode to more than CHUNK_BYTES


def _response(request: Any, status: int, headers: list[tuple[str, str]], body: _Body) -> AWSResponse:
    response = AWSResponse(request.url, status, HeadersDict(headers), body)
    if not request.stream_output:
        response.content  # noqa: B018 - read now, as botocore's own session does
    return response


def _netlocs(endpoint: str) -> frozenset[str]:
    """The stack's moto endpoint, by any name the stack's clients may give it."""
    parts = urlsplit(endpoint)
    return frozenset({parts.netloc, f"localhost:{parts.port}", f"127.0.0.1:{parts.port}"})


# -- in the stack's process -----------------------------------------------------------------------------------


def install(app: Callable, endpoint: str, set_attribute: Callable[[Any, str, Any], None]) -> None:
    """This process's requests to `endpoint` go to `app` on the caller's thread (undone with the patches)."""
    original = URLLib3Session.send
    ours = _netlocs(endpoint)

    def send(self: Any, request: Any) -> AWSResponse:
        if urlsplit(request.url).netloc not in ours:
            return original(self, request)
        headers = [(_text(name), _text(value)) for name, value in request.headers.items()]
        status, answer, chunks = respond(app, request.method, request.url, headers,
                                         b"".join(_request_body(request.body)))
        close = getattr(chunks, "close", None) or (lambda: None)
        return _response(request, status, answer, _Body(iter(chunks), close, close))

    set_attribute(URLLib3Session, "send", send)


class Channel:
    """The stack's end of the warm runners' requests: a Unix socket; a thread per connection, one request at a
    time, each answered by the stack's WSGI app as if it had come over HTTP."""

    def __init__(self, app: Callable, address: str) -> None:
        self.app, self.address = app, address
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is the stack's user's alone (operations of a root runner have others)
        try:
            self._listener.bind(address)
        finally:
            os.umask(old)
        self._listener.listen(512)
        self._stopped = False
        threading.Thread(target=self._accept, name="local-direct", daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(Connection(sock.detach()),), name="local-direct-request",
                             daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        with connection:
            while True:
                try:  # a frame is at most CHUNK_BYTES (a longer one is no worker's: OSError, the connection ends)
                    head = json.loads(connection.recv_bytes(CHUNK_BYTES))
                    body = b"".join(iter(lambda: connection.recv_bytes(CHUNK_BYTES), b""))
                except (EOFError, OSError, ValueError):
                    return
                status, answer, chunks = respond(self.app, str(head["method"]), str(head["url"]),
                                                 [(str(name), str(value)) for name, value in head["headers"]], body)
                try:
                    connection.send_bytes(json.dumps({"status": status, "headers": answer}).encode())
                    for chunk in chunks:
                        for start in range(0, len(chunk), CHUNK_BYTES):
                            connection.send_bytes(chunk[start:start + CHUNK_BYTES])
                    connection.send_bytes(b"")
                except OSError:
                    return  # the worker went away mid-answer
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()

    def stop(self) -> None:
        self._stopped = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        try:
            os.unlink(self.address)
        except OSError:
            pass


# -- in a warm runner's worker ------------------------------------------------------------------------------


class _Pool:
    """Idle connections to the channel, reused as urllib3 reuses keep-alive connections; a fork starts empty."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._lock = threading.Lock()
        self._idle: list[Connection] = []
        self._pid = os.getpid()

    def take(self) -> Connection:
        with self._lock:
            if self._pid != os.getpid():  # a fork's copies belong to its parent's requests
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.address)
        except OSError:
            sock.close()
            raise
        return Connection(sock.detach())

    def give_back(self, connection: Connection) -> None:
        with self._lock:
            if self._pid == os.getpid():
                self._idle.append(connection)
                return
        connection.close()


def _frames(connection: Connection) -> Iterator[bytes]:
    while True:
        chunk = connection.recv_bytes()
        if not chunk:
            return
        yield chunk


def install_client(address: str, endpoint: str) -> None:
    """This process's requests to `endpoint` go over the channel at `address` (a warm runner's, for good)."""
    original = URLLib3Session.send
    ours, pool = _netlocs(endpoint), _Pool(address)

    def send(self: Any, request: Any) -> AWSResponse:
        if urlsplit(request.url).netloc not in ours:
            return original(self, request)
        try:
            connection = pool.take()
        except OSError as exc:
            raise EndpointConnectionError(endpoint_url=request.url, error=exc) from exc
        try:
            connection.send_bytes(json.dumps({
                "method": request.method, "url": request.url,
                "headers": [(_text(name), _text(value)) for name, value in request.headers.items()]}).encode())
            for chunk in _request_body(request.body):
                connection.send_bytes(chunk)
            connection.send_bytes(b"")
            head = json.loads(connection.recv_bytes())
        except (OSError, EOFError) as exc:
            connection.close()
            raise ConnectionClosedError(endpoint_url=request.url, error=exc) from exc
        body = _Body(_frames(connection), lambda: pool.give_back(connection), connection.close)
        try:
            return _response(request, int(head["status"]), [tuple(pair) for pair in head["headers"]], body)
        except (OSError, EOFError) as exc:
            connection.close()
            raise ConnectionClosedError(endpoint_url=request.url, error=exc) from exc

    URLLib3Session.send = send  # type: ignore[method-assign]
