"""Request bodies are read whole, within a deadline, before any view runs.

Under gunicorn's gevent worker (``gunicorn_config``) a client that sends its body a byte every few
seconds holds only its own greenlet; the deadline gives even that back: a body not received within
``BODY_SECONDS`` gets 408 and the connection is closed. Elsewhere (Flask's test client, a sync
worker) reading cannot be interrupted and the body is read as it comes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, abort, current_app, request

#: methods whose bodies are read here; others' bodies are ignored by every view
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def init_app(app: Flask) -> None:
    app.before_request(read_body)
    app.after_request(_close_after_timeout)


def read_body() -> None:
    """Read the body into the request's cache (views and forms read it from there)."""
    if request.method not in WITH_BODY:
        return
    seconds = current_app.config["BODY_SECONDS"]
    timeout = _deadline(seconds)
    if timeout is None:
        request.get_data(cache=True)
        return
    with timeout:
        request.get_data(cache=True)
        return
    request.environ["handcalc.body_timeout"] = True  # reached only when the deadline passed
    abort(408, f"the request body did not arrive within {seconds} s; send it again")


def _close_after_timeout(response: Response) -> Response:
    # the half-read body leaves nothing to parse a next request from
    if request.environ.get("handcalc.body_timeout"):
        response.headers["Connection"] = "close"
    return response


def _deadline(seconds: float) -> Any:
    """A ``gevent.Timeout`` that ends the ``with`` block quietly, when sockets are gevent's."""
    try:
        from gevent import Timeout, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return None
    if not monkey.is_module_patched("socket"):
        return None
    return Timeout(seconds, False)
