"""Errors as responses, in one place: JSON for the API (and clients that ask for it), the error
page for browsers. Views raise — ``abort(404, "…")``, the library's ``HandcalcError`` (400 with
its message), ``NoAttemptsLeft`` (409) — and never catch these themselves; a form that shows its
error on its own page says so with :func:`shown_on`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from handcalc import HandcalcError

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])


class InputError(HandcalcError):
    """Something in a request is not acceptable; the message says what is (400)."""


class NoAttemptsLeft(HandcalcError):
    """A student's submission after their last attempt (409)."""


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(NoAttemptsLeft, _conflict)
    app.register_error_handler(HandcalcError, _bad_input)
    app.register_error_handler(OperationalError, _database_busy)
    app.register_error_handler(Exception, _unexpected)


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/healthz")) or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
    else:
        response = Response(
            render_template("error.html", code=code, message=message), mimetype="text/html"
        )
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def shown_on(page: Callable[[str], ResponseReturnValue]) -> Callable[[View], View]:
    """A form's view whose input errors are shown by ``page(message)`` (the form again, or a
    flash and a redirect) rather than on the error page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            try:
                return view(*args, **kwargs)
            except NoAttemptsLeft:
                raise
            except HandcalcError as e:
                return page(str(e))

        return wrapped  # type: ignore[return-value]

    return decorate


def http_error(error: HTTPException) -> Response:
    code = error.code or 500
    message = error.description or error.name
    if isinstance(error, CSRFError):
        message = (
            "this form has expired or was not sent from this site; reload the page and "
            "send it again"
        )
    elif code == 413:
        message = (
            f"request body larger than {request.max_content_length} bytes; a worksheet's "
            "answers are far smaller"
        )
    headers = {
        k: v for k, v in error.get_headers() if k.lower() in ("retry-after", "www-authenticate")
    }
    return error_response(code, message, headers)


def _bad_input(error: HandcalcError) -> Response:
    return error_response(400, str(error))


def _conflict(error: NoAttemptsLeft) -> Response:
    return error_response(409, str(error))


def _database_busy(error: OperationalError) -> Response:
    # nothing was acknowledged: the client may send the same request again
    # the error's text would show the statement's parameters (a student's answers): its class only
    reason = type(error.orig).__name__ if error.orig is not None else type(error).__name__
    log.warning("database unavailable on %s %s: %s", request.method, request.path, reason)
    return error_response(
        503,
        "the database is busy or unavailable; nothing was stored, send "
        "the request again in a moment",
        {"Retry-After": "2"},
    )


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):  # pragma: no cover - routed above
        return http_error(error)
    log.exception("internal error on %s %s", request.method, request.path)
    return error_response(500, InternalServerError.description)
