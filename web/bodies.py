"""Request bodies are read whole, within a deadline, before any view runs; the API's JSON is read
from them by the library's one strict reader, and checked here field by field.

Under gunicorn's gevent worker (``gunicorn_config``) a client that sends its body a byte every few
seconds holds only its own greenlet; the deadline gives even that back: a body not received within
``BODY_SECONDS`` gets 408 and the connection is closed. Elsewhere (Flask's test client, a sync
worker) reading cannot be interrupted and the body is read as it comes.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, abort, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream

from handcalc.jsondoc import loads

from .errors import InputError
from .inputs import check_unicode

#: methods whose bodies are read here; others' bodies are ignored by every view
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def init_app(app: Flask) -> None:
    app.before_request(read_body)
    app.before_request(whole_body)
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


def whole_body() -> None:
    """413 for a body of unknown length (chunked) that reached the size limit: werkzeug reads
    such a body up to ``MAX_CONTENT_LENGTH`` and stops there without a word, so the request went
    on with a truncated body (``Content-Length`` bodies over the limit are refused before they
    are read). Runs after the body was read (``read_body``)."""
    stream = request.stream
    if (
        request.method in WITH_BODY
        and request.content_length is None
        and isinstance(stream, LimitedStream)
        and stream.is_exhausted
    ):
        raise RequestEntityTooLarge()


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


# --- the API's JSON ---------------------------------------------------------------------------


def json_body() -> Any:
    """The request's JSON (400 with what is wrong, NaN and Infinity included; 413 past the size
    limit), read by the library's one strict reader."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InputError("body: empty; expected a JSON object")
    return loads(raw, "body")


def json_object(accepted: tuple[str, ...]) -> dict[str, Any]:
    """The request's JSON object, of the ``accepted`` fields only."""
    body = json_body()
    if not isinstance(body, dict):
        raise InputError(f"body: expected a JSON object with {', '.join(accepted)}")
    extra = sorted(set(body) - set(accepted))
    if extra:
        raise InputError(f"body: unknown field {extra[0]!r}; accepted: {', '.join(accepted)}")
    check_unicode(body)
    return body


def whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(
            f"{name}: {json.dumps(value)[:40]} is not accepted; accepted: a whole number "
            f"from {low} to {high}"
        )
    return int(value)


def text(value: Any, name: str, most: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise InputError(f"{name}: expected text of 1 to {most} characters")
    check_unicode(value, name)
    return value.strip()
