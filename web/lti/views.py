"""The LTI routes: ``/lti/login`` (OIDC login initiation), ``/lti/launch`` (the platform's signed
launch), ``/lti/jwks`` (the tool's public keys), ``/lti/config`` (the registration JSON), and
``/lti/pick/<launch>`` (the instructor picks or makes the assignment an activity opens: deep
linking, or an activity made without it).

A launch is verified by pylti1p3 (signature against the platform's JWKS, issuer, audience,
expiry, nonce used once, deployment); then a student lands on their own worksheet (their
variant, their attempts), an instructor on the assignment's page, signed in. Anything refused is
a 400/403 page saying why; nothing a launch sends is trusted before it is verified."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.wrappers import Response
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from .. import access, courses, db, forms
from ..app import page_policy
from ..auth import signed_in, start_session
from ..models import Assignment, Course, LtiPlatform
from ..reports import grade
from ..roster import student_link
from . import keys, links, members, passback, status
from .registry import ToolConf, origin, platform_of
from .storage import DatabaseStorage, OneTimeNonces

bp = Blueprint("lti", __name__, url_prefix="/lti")
DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
#: the services' scopes the tool asks a platform for
SCOPES = (
    *passback.SCOPES,
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
#: how long an instructor's launch is kept for the picker (its id is the picker's credential)
LAUNCH_SECONDS = 3600

#: the roles that make a launch an instructor's (context roles, LIS vocabulary)
STAFF_ROLES = ("Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator")


class Launch(FlaskMessageLaunch):
    """pylti1p3's launch, reading its client id safely from any ``aud`` (a platform's or an
    attacker's: an empty list, a number)."""

    def get_client_id(self) -> str:
        aud = self._get_jwt_body().get("aud")
        first = aud[0] if isinstance(aud, list) and aud else aud
        return first if isinstance(first, str) else ""


#: what pylti1p3 raises on claims of the wrong type (its checks assume well-typed JSON): a launch
#: that makes one is malformed, and refused as such
MALFORMED = (TypeError, KeyError, AttributeError, IndexError)


def _parts() -> tuple[FlaskRequest, ToolConf, OneTimeNonces, DatabaseStorage]:
    """pylti1p3's pieces for this request: the request, the platforms, the one-time nonces and
    the launch data, both in the database."""
    req = FlaskRequest()
    return req, ToolConf(), OneTimeNonces(req), DatabaseStorage()


def _refused(error: Exception, status: int = 403) -> tuple[str, int]:
    return (
        render_template(
            "lti/refused.html",
            why=str(error) or type(error).__name__,
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int]:
    """OIDC login initiation: the platform names itself; we answer with a redirect to its
    authorisation endpoint carrying a fresh state (in a cookie) and nonce (kept here)."""
    access.limit("practice", "lti " + access.client())
    req, conf, nonces, storage = _parts()
    oidc = FlaskOIDCLogin(req, conf, session_service=nonces, launch_data_storage=storage)
    try:
        return oidc.disable_check_cookies().redirect(url_for("lti.launch", _external=True))
    except (OIDCException, LtiException) as e:
        return _refused(e, 400)


def _audience_ok(data: dict[str, Any], platform: LtiPlatform) -> bool:
    """The id_token is for us: our client id among its audiences, and the authorised party when
    there are several (OpenID Connect Core 3.1.3.7)."""
    aud = data.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if platform.client_id not in audiences:
        return False
    return len(audiences) == 1 or data.get("azp") == platform.client_id


def _teaches(data: dict[str, Any]) -> bool:
    roles = data.get(links.CLAIM + "roles") or []
    return any(
        isinstance(r, str) and r.rsplit("#", 1)[-1] in STAFF_ROLES and "/membership" in r
        for r in roles
    )


@bp.post("/launch")
def launch() -> BaseResponse | tuple[str, int]:
    """The platform's launch: verified, then the student's worksheet or the instructor's page
    (or the picker, for deep linking and for an activity without an assignment yet)."""
    access.limit("practice", "lti " + access.client())
    req, conf, nonces, storage = _parts()
    message = Launch(
        req,
        conf,
        session_service=nonces,
        launch_data_storage=storage,
        requests_session=passback.Platforms(),
    )
    message.set_launch_data_lifetime(LAUNCH_SECONDS)
    try:
        data: dict[str, Any] = dict(message.get_launch_data())
    except (LtiException, ValueError) as e:
        return _refused(e)
    except MALFORMED as e:
        return _refused(LtiException(f"a malformed launch ({type(e).__name__}): {e}"[:300]))
    session = db.session()
    platform = platform_of(session, str(data.get("iss")), message.get_client_id())
    if platform is None or not _audience_ok(data, platform):
        return _refused(LtiException("the launch is not addressed to this tool (audience)"))
    sub = data.get("sub")
    if not isinstance(sub, str) or not sub:
        return _refused(LtiException("an anonymous launch: this tool needs to know who you are"))
    context = links.context_of(session, platform, data)
    teaches = _teaches(data)
    if message.is_deep_link_launch() and not teaches:
        return _refused(LtiException("only a course's instructors choose its activities"))
    if teaches:  # signed in to the instructor's pages of the course
        course = session.get(Course, context.course_id)
        assert course is not None
        instructor = links.instructor_of(session, platform, sub, course)
        session.commit()
        start_session(instructor)
    if message.is_deep_link_launch():
        return redirect(url_for("lti.pick", launch_id=message.get_launch_id()), code=303)
    link = links.link_of(session, platform, context, data)
    if teaches:
        if link is None:
            return redirect(url_for("lti.pick", launch_id=message.get_launch_id()), code=303)
        session.commit()  # the link as the launch left it, whatever the roster's fate
        members.sync_quietly(session, link)
        return redirect(url_for("instructor.assignment", assignment_id=link.assignment_id))
    if link is None:
        session.commit()
        return _refused(
            LtiException(
                "your instructor has not chosen the exercise of this activity yet; try again later"
            ),
            409,
        )
    session.commit()  # the course and the link, whatever becomes of the student's row
    student = links.student_of(session, link, sub, links.person_name(data))
    assignment = session.get(Assignment, link.assignment_id)
    assert assignment is not None
    return redirect(student_link(assignment, student), code=303)


# --- the picker -------------------------------------------------------------------------------


def _restored(launch_id: str) -> tuple[FlaskMessageLaunch, dict[str, Any], LtiPlatform]:
    """The instructor's launch kept by ``launch`` (404 once expired, 403 unless staff)."""
    req, conf, nonces, storage = _parts()
    try:
        message = cast(
            FlaskMessageLaunch,
            Launch.from_cache(
                launch_id, req, conf, session_service=nonces, launch_data_storage=storage
            ),
        )
    except LtiException:
        abort(404, "this launch has expired: open the activity from the platform again")
    data = dict(message.get_launch_data())
    platform = platform_of(db.session(), str(data.get("iss")), message.get_client_id())
    if platform is None or not _teaches(data):
        abort(403, "only a course's instructors choose its activities")
    return message, data, platform


@bp.get("/pick/<launch_id>")
def pick(launch_id: str) -> Response:
    """The course's assignments to choose from, and the form of a new one."""
    message, data, platform = _restored(launch_id)
    session = db.session()
    context = links.context_of(session, platform, data)
    rows = session.scalars(
        select(Assignment)
        .where(Assignment.course_id == context.course_id)
        .order_by(Assignment.id.desc())
    ).all()
    kind = forms.kind_of(request.args.get("kind"))
    page = render_template(
        "lti/pick.html",
        launch_id=launch_id,
        deep_link=message.is_deep_link_launch(),
        platform=platform,
        assignments=rows,
        kind=kind,
        kinds=forms.kind_menu(),
        fields=forms.option_fields(kind, {}),
        default_attempts=current_app.config["DEFAULT_MAX_ATTEMPTS"],
    )
    return _framed(make_response(page), data, platform)


@bp.post("/pick/<launch_id>")  # no CSRF token: the launch id is the credential (random, kept
def picked(launch_id: str) -> BaseResponse | tuple[str, int]:  # here, this launch only
    """The chosen (or new) assignment: for deep linking, the signed answer posted back to the
    platform; for an activity without an assignment, the link made and the assignment's page."""
    message, data, platform = _restored(launch_id)
    session = db.session()
    context = links.context_of(session, platform, data)
    raw = request.form.get("assignment", "")
    if raw == "new":
        try:
            row = forms.new_assignment(request.form, context.course_id)
        except Exception as e:  # an input error: the picker again, saying why
            from handcalc import HandcalcError

            if not isinstance(e, HandcalcError):
                raise
            page, status = _refused(e, 400)
            return _framed(make_response(page, status), data, platform)
    else:
        number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0
        found = session.get(Assignment, number) if number else None
        if found is None or found.course_id != context.course_id:
            abort(404, "no such assignment in this course")
        row = found
    if message.is_deep_link_launch():
        return _deep_link_answer(message, data, platform, row)
    resource_id = links.claim(data, "resource_link").get("id")
    link = links.link_of(session, platform, context, data) or links.bind(
        session, platform, context, str(resource_id), row, data
    )
    session.commit()
    return redirect(url_for("instructor.assignment", assignment_id=link.assignment_id), 303)


def max_score(row: Assignment) -> float:
    """The assignment's highest score (every variant has the same cells and weights)."""
    from ..problems import problem_of

    report = grade(problem_of(row.kind, row.spec_json, 0), {"cells": {}}, row.grading)
    return float(report.get("max_score") or 0) or 1.0


def _deep_link_answer(
    message: FlaskMessageLaunch, data: dict[str, Any], platform: LtiPlatform, row: Assignment
) -> Response:
    """The deep-linking answer: an activity opening ``row``, with its gradebook column (the
    platform makes the line item, so the tool never makes one), posted back to the platform by
    a page of ours (pylti1p3's own page has an inline script, which our policy refuses)."""
    item = LineItem()
    item.set_label(row.title).set_score_maximum(max_score(row))
    item.set_resource_id(f"handcalc-assignment-{row.id}")
    resource = DeepLinkResource()
    resource.set_url(url_for("lti.launch", _external=True)).set_title(row.title)
    resource.set_custom_params({links.ASSIGNMENT_PARAM: str(row.id)}).set_lineitem(item)
    jwt = message.get_deep_link().get_response_jwt([resource])
    settings = data.get(DEEP_LINKING, {})
    return_url = settings.get("deep_link_return_url", "") if isinstance(settings, dict) else ""
    page = render_template(
        "lti/return.html", platform=platform, title=row.title, jwt=jwt, return_url=return_url
    )
    return _framed(make_response(page), data, platform)


def _framed(response: Response, data: dict[str, Any], platform: LtiPlatform) -> Response:
    """Let the platform frame the page (its deep-linking dialog is a frame) and take its form:
    the origins of its issuer, login, deep-linking return and launch presentation URLs."""
    settings = data.get(DEEP_LINKING)
    presentation = links.claim(data, "launch_presentation")
    found = {
        origin(u)
        for u in (
            platform.issuer,
            platform.auth_login_url,
            settings.get("deep_link_return_url") if isinstance(settings, dict) else None,
            presentation.get("return_url"),
        )
    }
    origins = " ".join(sorted(o for o in found if o))
    response.headers["Content-Security-Policy"] = page_policy(
        form_action=f"'self' {origins}", frame_ancestors=f"'self' {origins}"
    )
    return response


# --- the instructor's page ------------------------------------------------------------------


@bp.post("/assignments/<int:assignment_id>/send-again")
@signed_in
def send_again(assignment_id: int) -> BaseResponse:
    """The assignment's unsent scores (pending or failed) sent again now."""
    row = courses.assignment(assignment_id)
    count = passback.send_again(db.session(), row)
    passback.soon(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(f"{count} score{'s' * (count != 1)} to be sent again now; reload to see how it went.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id, _anchor="platform"), 303)


@bp.post("/assignments/<int:assignment_id>/roster")
@signed_in
def roster(assignment_id: int) -> BaseResponse:
    """The roster brought from the platform now (NRPS; an instructor's launch does it too)."""
    row = courses.assignment(assignment_id)
    session = db.session()
    found = [members.sync_quietly(session, link) for link in status.links_of(session, row)]
    if any(n is None for n in found):
        flash("The platform did not give its roster; try again later.", "error")
    else:
        added = sum(n or 0 for n in found)
        flash(f"Roster from the platform: {added} new student{'s' * (added != 1)}.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id, _anchor="platform"), 303)


# --- registration -----------------------------------------------------------------------------


@bp.get("/jwks")
def jwks() -> Response:
    """The tool's public keys (platforms check its signed messages with them)."""
    response = jsonify(keys.jwks())
    response.cache_control.max_age = 300
    return response


@bp.get("/config")
def config() -> Response:
    """The tool's registration as JSON (Canvas pastes it; every URL a platform asks for)."""
    launch_url = url_for("lti.launch", _external=True)
    domain = urlsplit(launch_url).netloc
    placements = [
        {
            "placement": "link_selection",
            "text": "handcalc",
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": launch_url,
        },
        {
            "placement": "assignment_selection",
            "text": "handcalc",
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": launch_url,
        },
    ]
    return jsonify(
        {
            "title": "handcalc",
            "description": "Backpropagation by hand: each student's own worksheet, graded cell "
            "by cell with credit carried forward; scores go to the gradebook.",
            "oidc_initiation_url": url_for("lti.login", _external=True),
            "target_link_uri": launch_url,
            "public_jwk_url": url_for("lti.jwks", _external=True),
            "scopes": list(SCOPES),
            "extensions": [
                {
                    "platform": "canvas.instructure.com",
                    "domain": domain,
                    "privacy_level": "name_only",
                    "settings": {"placements": placements},
                }
            ],
            "custom_fields": {},
        }
    )
