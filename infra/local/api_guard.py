"""What the local API server refuses before the app sees a request: web pages that are not the UI.

- A CORS preflight from any origin but the UI's is answered 403 with no CORS header (chalice's local
  gateway would answer every preflight with the UI's origin and let the browser refuse it; here it is
  refused outright, as a reviewer can see with curl).
- A `Host` that is a name other than localhost (DNS rebinding: a page at evil.example whose name now
  points at 127.0.0.1 is same-origin with the API in the browser's eyes) is refused; IP literals and
  the address the stack was bound to are fine, since a page cannot rebind them.
The app itself refuses requests that carry a foreign `Origin` and requests without `Authorization`
(chalicelib/api/origin.py, users.authenticate), on Lambda as here.
"""
from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, as a browser names it in `Origin`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_allowed(host_header: str | None, bound_host: str) -> bool:
    """A Host a browser sends only to this machine: localhost, an IP literal, or the bound name."""
    if host_header is None:
        return True  # not a browser (browsers always send Host)
    hostname = urlsplit(f"//{host_header}").hostname or ""
    if hostname in LOOPBACK_NAMES or hostname == bound_host.lower():
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def guarded(handler_cls: type, ui_origin: str, bound_host: str) -> type:
    """A ChaliceRequestHandler subclass that refuses foreign preflights and rebound Host names."""

    class GuardedHandler(handler_cls):  # type: ignore[misc, valid-type]
        def _generic_handle(self) -> None:
            origin = self.headers.get("Origin")
            if not host_allowed(self.headers.get("Host"), bound_host):
                self._refuse(f"Host `{self.headers.get('Host')}` is not this machine's name; use "
                             f"http://localhost (a page whose name was pointed at 127.0.0.1 is refused)")
            elif self.command == "OPTIONS" and origin is not None and origin != ui_origin:
                self._refuse(f"Cross-origin requests from `{origin}` are refused; the UI is at `{ui_origin}`")
            else:
                super()._generic_handle()

        # the base class bound its do_* names to its own _generic_handle
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def _refuse(self, message: str) -> None:
            body = json.dumps({"Code": "ForbiddenError", "Message": message}).encode()
            self.close_connection = True  # the body (if any) is not read: this connection is done
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return GuardedHandler


__all__ = ["guarded", "host_allowed", "origin_of"]
