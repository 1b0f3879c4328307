"""The Flask app factory: ``create_app()`` for gunicorn, ``create_app({...})`` for tests.

Production: ``gunicorn -w 2 -b 0.0.0.0:8000 'handcalc.web.app:create_app()'`` with
``HANDCALC_SECRET_KEY``, ``HANDCALC_INSTRUCTOR_TOKEN`` and (optionally) ``HANDCALC_DATABASE_URL``
set; one machine: ``handcalc serve``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from handcalc import render
from handcalc.cells import field_name

from . import bodies, db, errors, openapi, problems
from .config import from_env
from .limits import request_limiters

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The app: configuration from ``HANDCALC_*`` environment variables (see ``config``), then
    ``test_config`` on top (which may set ``HANDCALC_MODE`` and any Flask setting)."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("HANDCALC_INSTANCE") or None,
        instance_relative_config=True,
    )
    test_config = dict(test_config or {})
    mode = test_config.pop("HANDCALC_MODE", None)
    app.config.from_mapping(from_env(Path(app.instance_path), mode=mode))
    app.config.update(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    # counted in Redis with HANDCALC_REDIS_URL (one limit across instances), else per process
    app.extensions["handcalc.limits"] = request_limiters(
        {
            "check": app.config["CHECKS_PER_MINUTE"],
            "practice": app.config["PRACTICE_PER_MINUTE"],
            "lti": app.config["LTI_PER_MINUTE"],
            "login": app.config["LOGIN_FAILURES_PER_MINUTE"],  # wrong tokens only
        },
        app.config.get("REDIS_URL"),
    )
    db.init_app(app)
    problems.init_app(app)
    openapi.init_app(app)
    bodies.init_app(app)  # before CSRF, which reads the form
    csrf.init_app(app)

    from . import analytics, api, instructor, instructor_api, jobs, plots, practice, student

    app.register_blueprint(api.health)
    app.register_blueprint(api.bp)
    app.register_blueprint(instructor_api.bp)
    for api_bp in (api.health, api.bp, instructor_api.bp):
        csrf.exempt(api_bp)  # the API takes bearer and URL tokens, never cookies
    app.register_blueprint(practice.bp)
    app.register_blueprint(student.bp)
    app.register_blueprint(instructor.bp)
    app.register_blueprint(plots.bp)  # the training pages: figures drawn on the server
    jobs.init_app(app)  # class PDFs as jobs (handcalc.jobs): the API and the pages
    analytics.init_app(app)  # the class's mistakes as a heat map: the page, its PDF, exports
    from . import exports  # an assignment as a quiz engine's question bank; regrade records

    exports.init_app(app)

    # the printed sheet's templates (its grid partial) under "sheet/", next to the app's own
    app.jinja_env.loader = ChoiceLoader(
        [app.jinja_env.loader, PrefixLoader({"sheet": render.template_loader()})]  # type: ignore[list-item]
    )
    app.add_url_rule("/assets/grid.css", "grid_css", _grid_css)
    # a grid's input is named by the one writer of field names (forms reads them back)
    app.jinja_env.globals["field_name"] = field_name

    from . import lti  # LTI 1.3: launches, deep linking, grade passback (the lms extra)

    lti.init_app(app)
    errors.init_app(app)
    app.after_request(_headers)

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # the client is who the nearest trusted proxy saw; entries a client forges further left
        # in X-Forwarded-For are ignored (X-Forwarded-Host is not trusted at all)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    redact_logs(app)
    return app


def _grid_css() -> Response:
    response = Response(render.grid_css(), mimetype="text/css")
    response.cache_control.max_age = 3600
    return response


# --- logs: no credentials, no answers ---------------------------------------------------------

#: a token in a path: /s/<token>, /p/<token>, /api/v1/s/<token>, /api/v1/practice/<token>
TOKEN_IN_PATH = re.compile(r"(/(?:api/v1/)?(?:s|p|practice)/)[^/\s?#\"'<>]+")
#: SQLAlchemy's "[parameters: …]" line (also hidden by the engine; this is the second lock)
SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
#: where the service's requests are logged: ours, the development server, gunicorn, SQLAlchemy
REDACTED_LOGGERS = (
    __name__,
    errors.__name__,
    "werkzeug",
    "gunicorn.access",
    "gunicorn.error",
    "sqlalchemy.engine.Engine",
    "flask_wtf.csrf",
)


def redact(text: str) -> str:
    """``text`` with link tokens and SQL parameters replaced by placeholders."""
    text = TOKEN_IN_PATH.sub(r"\1[token]", text)
    return SQL_PARAMETERS.sub("[parameters: hidden]", text)


class RedactFilter(logging.Filter):
    """Rewrites a record's message (and its traceback) without tokens and SQL parameters.

    A logger's filter sees only the records made by that logger, so it is set on each logger
    that writes requests (``REDACTED_LOGGERS``), not on a parent."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_REDACT = RedactFilter()


def redact_logs(app: Flask) -> None:
    for name in {*REDACTED_LOGGERS, app.name}:  # app.name: app.logger's, without making it
        logging.getLogger(name).addFilter(_REDACT)  # the same filter is added once only


#: where every response is kept by no cache (pages are not kept either, being HTML)
NO_STORE = ("/api/", "/instructor")


def page_policy(form_action: str = "'self'", frame_ancestors: str = "'none'") -> str:
    """The pages' Content-Security-Policy: nothing from elsewhere; forms post and frames are
    allowed as said (by default: to ourselves, by nobody)."""
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        f"script-src 'self'; form-action {form_action}; frame-ancestors {frame_ancestors}"
    )


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # tokens live in page URLs
    if response.mimetype == "text/html":
        if "Content-Security-Policy" not in response.headers:
            # a view that sets its own policy says who may frame it (the LTI picker: the
            # platform); every other page is framed by nobody
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = page_policy()
        response.headers.setdefault("Cache-Control", "no-store")
    # keys, grades, statistics and students' work: kept by no browser or proxy (only the API's
    # description may be, with the static assets)
    if request.path.startswith(NO_STORE) and request.path != "/api/v1/openapi.json":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
