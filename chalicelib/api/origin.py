"""Which web page may use the API from a browser: the UI's own origin (PLYNX_UI_URL), no other.

A page on another origin cannot read the API's answers (CORS names only the UI), cannot send the
`Authorization` header every request needs without a preflight that is refused, and a request it
sends anyway (a form post, a no-cors fetch) carries its `Origin` and is refused here before anything
is read or written.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from chalicelib.domain.errors import ForbiddenError
from chalicelib.store.settings import SETTINGS


def ui_origin() -> str:
    """`scheme://host[:port]` of the stage's UI: what browsers send as `Origin` from its pages."""
    parts = urlsplit(SETTINGS.ui_url)
    return f"{parts.scheme}://{parts.netloc}"


def check(origin: str | None) -> None:
    """Refuse a request a page of another origin sent (browsers name it; other clients send none)."""
    if origin is not None and origin != ui_origin():
        raise ForbiddenError(f"Requests from web pages at `{origin}` are refused: this API serves its UI at "
                             f"`{ui_origin()}` (scripts and curl send no Origin header)")
