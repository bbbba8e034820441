"""Static UI server: ``ui/dist`` (a build) or ``ui/`` (no build), SPA fallback, generated ``/config.json``."""
from __future__ import annotations

import functools
import json
import os
import posixpath
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

NO_STORE = "no-store"


class UIRequestHandler(SimpleHTTPRequestHandler):
    """Files from ``directory``; ``/config.json`` computed; unknown extension-less paths get index.html."""

    config_json: bytes = b"{}"
    quiet: bool = True

    def __init__(self, *args: Any, config_json: bytes, quiet: bool, **kwargs: Any) -> None:
        self.config_json = config_json
        self.quiet = quiet
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self._to_localhost() or self._serve_config(head=False):
            return
        self._route()
        super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if self._to_localhost() or self._serve_config(head=True):
            return
        self._route()
        super().do_HEAD()

    def _to_localhost(self) -> bool:
        """http://127.0.0.1:PORT/... moves to http://localhost:PORT/...: the origin the API answers (CORS)."""
        parts = urlsplit(f"//{self.headers.get('Host', '')}")
        if parts.hostname not in ("127.0.0.1", "::1"):
            return False
        self.send_response(302)
        self.send_header("Location", f"http://localhost:{parts.port or 80}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def _serve_config(self, head: bool) -> bool:
        if urlsplit(self.path).path != "/config.json":
            return False
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.config_json)))
        self.send_header("Cache-Control", NO_STORE)
        self.end_headers()
        if not head:
            self.wfile.write(self.config_json)
        return True

    def _route(self) -> None:
        """SPA fallback: a client-side route (no file, no extension) is answered with index.html."""
        path = urlsplit(self.path).path
        local = self.translate_path(path)
        if os.path.exists(local):
            return
        if posixpath.splitext(path)[1]:  # a missing asset stays a 404
            return
        self.path = "/index.html"

    def end_headers(self) -> None:
        if urlsplit(self.path).path in ("/", "/index.html"):
            self.send_header("Cache-Control", NO_STORE)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.quiet:
            super().log_message(format, *args)


class UIServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def ui_directory(repo_root: str) -> str:
    dist = os.path.join(repo_root, "ui", "dist")
    if os.path.isfile(os.path.join(dist, "index.html")):
        return dist
    return os.path.join(repo_root, "ui")


def make_ui_server(host: str, port: int, directory: str, api_url: str, quiet: bool = True) -> UIServer:
    config_json = json.dumps({"api_url": api_url}).encode("utf-8")
    handler = functools.partial(UIRequestHandler, directory=directory, config_json=config_json, quiet=quiet)
    return UIServer((host, port), handler)
