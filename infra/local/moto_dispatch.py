"""moto's answer to an SDK request that came without HTTP (infra/local/direct.py), without Flask's request cycle.

moto serves each service from a Flask app whose routes call its response classes (``convert_to_flask_response``:
the callback with a normalized request, then a Response). For a request of the direct transport, Flask's own
cycle around that call (contexts pushed and popped, signals, sessions, the CORS extension's after-request
pass) cost 0.3 ms of the stack's CPU per request, a tenth of an UpdateItem's. Here the route is matched the way
Flask matches it (the app's own URL map), and the route's callback is called and answered as
``convert_to_flask_response`` does. A request the map does not route plainly (a redirect, no route) goes to
Flask as before, and so does every request that came over HTTP: a browser's presigned upload needs the CORS
headers, which SDK clients never read.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

DIRECT = "plynx.direct"  # set in the environ of a request of the direct transport (direct.environ_for)


class Dispatcher:
    """A WSGI app around moto's DomainDispatcherApplication (`moto_app`)."""

    def __init__(self, moto_app: Any) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not environ.get(DIRECT):
            return self.moto_app(environ, start_response)
        from botocore.exceptions import ClientError
        from flask import Response
        from moto.moto_api import recorder
        from werkzeug.exceptions import HTTPException

        app = self.moto_app.get_application(environ)
        try:
            endpoint, _ = app.url_map.bind_to_environ(environ).match()
        except HTTPException:  # (a RequestRedirect too) Flask answers it as it would have
            return app(environ, start_response)
        callback = getattr(app.view_functions.get(endpoint), "callback", None)
        if callback is None:
            return app(environ, start_response)
        request = app.request_class(environ)
        recorder._record_request(request)  # noqa: SLF001 - as convert_to_flask_response does
        try:
            result = callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        except HTTPException as exc:  # Flask answers a view's HTTP exception with it
            return exc(environ, start_response)
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        return response(environ, start_response)
