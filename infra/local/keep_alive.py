"""HTTP keep-alive for the embedded moto server: werkzeug's dev server closes every connection.

werkzeug answers each request with ``Connection: close`` because http.server cannot tell where an
unread request body ends and the next request begins. Every SDK call to moto then paid a TCP connect,
an accept, a new server thread and its teardown, on the interpreter lock the whole local stack shares.
Here the request body is bounded by its Content-Length (or its chunked framing), whatever the
application leaves unread is skipped after the response, and the connection stays open for the next
request. Idle connections end after ``IDLE_SECONDS``.
"""
from __future__ import annotations

import io
from typing import Any

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

IDLE_SECONDS = 120


class _Exhausted(io.RawIOBase):
    """What werkzeug's after-response drain reads: nothing (the next request is not its to read)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0


def keep_alive(handler: type[WSGIRequestHandler]) -> type[WSGIRequestHandler]:
    """A subclass of a werkzeug request handler that keeps HTTP/1.1 connections open."""

    class KeepAliveHandler(handler):  # type: ignore[valid-type, misc]
        timeout = IDLE_SECONDS
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls
        _body: Any = None

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            if not environ.get("wsgi.input_terminated"):  # chunked input already ends at its last chunk
                length = environ.get("CONTENT_LENGTH") or "0"
                environ["wsgi.input"] = LimitedStream(self.rfile, int(length) if length.isdigit() else 0)
            self._body = environ["wsgi.input"]
            self.rfile = io.BufferedReader(_Exhausted())
            return environ

        def handle_one_request(self) -> None:
            rfile = self.rfile
            try:
                super().handle_one_request()
            finally:
                self.rfile = rfile
                body, self._body = self._body, None
                if body is not None:
                    try:
                        while body.read(1 << 20):  # the rest of this request's body, not the next request
                            pass
                    except (OSError, ValueError):
                        self.close_connection = True

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "connection" and value.lower() == "close":
                return  # http.server decided from the request whether to keep the connection
            super().send_header(keyword, value)

        def log_error(self, format: str, *args: Any) -> None:
            if not format.startswith("Request timed out"):  # an idle connection ending is no error
                super().log_error(format, *args)

    KeepAliveHandler.__name__ = KeepAliveHandler.__qualname__ = f"KeepAlive{handler.__name__}"
    return KeepAliveHandler
