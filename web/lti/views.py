"""The LTI routes: ``/lti/login`` (OIDC login initiation), ``/lti/launch`` (the platform's signed
launch), ``/lti/jwks`` (the tool's public keys), ``/lti/config`` (the registration JSON), and
``/lti/pick/<launch>`` (the instructor picks or makes the assignment an activity opens: deep
linking, or an activity made without it).

A launch is verified by pylti1p3 (signature against the platform's JWKS, issuer, audience,
expiry, nonce used once, deployment); then a student lands on their own worksheet (their
variant, their attempts), an instructor on the assignment's page, signed in. Anything refused is
a 400/403 page saying why; nothing a launch sends is trusted before it is verified."""

from __future__ import annotations

import hashlib
import secrets
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

from handcalc import HandcalcError

from .. import access, courses, db, forms
from ..app import page_policy
from ..auth import signed_in, start_session
from ..models import Assignment, Course, Instructor, LtiPlatform
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
#: how pylti1p3's launch ids begin (the picker's address is one)
LAUNCH_ID_PREFIX = "lti1p3-launch-"
#: how long a platform's key set is kept (fetched again sooner for a key it does not hold), and
#: how long after a fetch it is not fetched again whatever key a launch names
KEY_SET_SECONDS, KEY_SET_AGAIN = 3600, 10
#: what a browser (``Sec-Fetch-Dest``) or a platform (``document_target``) calls a frame
FRAMES = ("iframe", "frame")
#: a framed instructor's button to their page (it signs them in, once): its key, how long
TAB_KEY, TAB_SECONDS = "tab-", 600

#: the roles that make a launch an instructor's (context roles, LIS vocabulary)
STAFF_ROLES = ("Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator")


class Launch(FlaskMessageLaunch):
    """pylti1p3's launch, reading its client id safely from any ``aud`` (a platform's or an
    attacker's: an empty list, a number)."""

    def get_client_id(self) -> str:
        aud = self._get_jwt_body().get("aud")
        first = aud[0] if isinstance(aud, list) and aud else aud
        return first if isinstance(first, str) else ""

    def fetch_public_key(self, key_set_url: str) -> Any:
        """The platform's key set, kept ``KEY_SET_SECONDS`` while it holds the key the launch
        names (its ``kid``), fetched again when it does not (a platform that changed its key)
        but not sooner than ``KEY_SET_AGAIN`` after the last fetch (forged launches naming
        keys nobody has would make us ask the platform as often as they come): a class
        launching at once asks its platform once, not once a student."""
        storage = DatabaseStorage()
        name = "key-set-" + hashlib.sha256(key_set_url.encode()).hexdigest()
        kept = storage.get_value(name)
        kid = self._jwt.get("header", {}).get("kid")
        keys = kept.get("keys") if isinstance(kept, dict) else None
        held = isinstance(keys, list) and any(
            isinstance(k, dict) and k.get("kid") == kid for k in keys
        )
        if held or (keys is not None and storage.check_value(name + "-fresh")):
            return kept
        found = super().fetch_public_key(key_set_url)  # (pylti1p3's own cache is not set)
        if isinstance(found, dict) and isinstance(found.get("keys"), list):
            storage.set_value(name, found, exp=KEY_SET_SECONDS)
            storage.set_value(name + "-fresh", True, exp=KEY_SET_AGAIN)
        return found


#: what pylti1p3 raises on claims of the wrong type (its checks assume well-typed JSON): a launch
#: that makes one is malformed, and refused as such
MALFORMED = (TypeError, KeyError, AttributeError, IndexError)


def _parts() -> tuple[FlaskRequest, ToolConf, OneTimeNonces, DatabaseStorage]:
    """pylti1p3's pieces for this request: the request, the platforms, the one-time nonces and
    the launch data, both in the database."""
    req = FlaskRequest()
    return req, ToolConf(), OneTimeNonces(req), DatabaseStorage()


def _refused(error: Exception, status: int = 403) -> Response:
    """The page saying why a launch was refused: framable by any site (a launch refused in the
    platform's frame shows its reason there, not the browser's error; the page has no form)."""
    page = render_template("lti/refused.html", why=str(error) or type(error).__name__)
    response = make_response(page, status)
    response.headers["Content-Security-Policy"] = page_policy(frame_ancestors="*")
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    """OIDC login initiation: the platform names itself; we answer with a redirect to its
    authorisation endpoint carrying a fresh state (in a cookie) and nonce (kept here)."""
    access.limit("lti", access.client())
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
def launch() -> BaseResponse:
    """The platform's launch: verified, then the student's worksheet or the instructor's page
    (or the picker, for deep linking and for an activity without an assignment yet)."""
    access.limit("lti", access.client())
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
        return _refused(LtiException(_lost_cookie()) if str(e) == "State not found" else e)
    except MALFORMED as e:
        return _refused(LtiException(f"a malformed launch ({type(e).__name__}): {e}"[:300]))
    session = db.session()
    platform = platform_of(session, str(data.get("iss")), message.get_client_id())
    if platform is None or not _audience_ok(data, platform):
        return _refused(LtiException("the launch is not addressed to this tool (audience)"))
    sub = data.get("sub")
    if not isinstance(sub, str) or not sub:
        return _refused(LtiException("an anonymous launch: this tool needs to know who you are"))
    if not links.usable_sub(sub):
        return _refused(
            LtiException(
                f"the platform's user id (sub) is not what LTI allows: at most {links.MAX_SUB} "
                "characters, no NUL"
            )
        )
    context = links.context_of(session, platform, data)
    teaches = _teaches(data)
    if message.is_deep_link_launch() and not teaches:
        return _refused(LtiException("only a course's instructors choose its activities"))
    if not message.is_deep_link_launch() and not links.resource_link_id(data):
        return _refused(LtiException("the launch names no activity (resource link id) to open"))
    if teaches:  # the instructor's pages of the course
        course = session.get(Course, context.course_id)
        assert course is not None
        instructor = links.instructor_of(session, platform, sub, course)
        session.commit()
        deep = message.is_deep_link_launch()
        link = None if deep else links.link_of(session, platform, context, data)
        if link is None:  # deep linking, or an activity without an assignment yet: the picker
            start_session(instructor)  # (framable; it needs no sign-in: the launch id is enough)
            return redirect(url_for("lti.pick", launch_id=message.get_launch_id()), code=303)
        session.commit()  # the link as the launch left it, whatever the roster's fate
        members.sync_quietly(session, link)
        mine = url_for("instructor.assignment", assignment_id=link.assignment_id)
        return _arrive(data, platform, mine, instructor)
    link = links.link_of(session, platform, context, data)
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
    return _arrive(data, platform, student_link(assignment, student), None)


def _lost_cookie() -> str:
    """Why a launch came back without the login's cookie (pylti1p3's "State not found"), and
    what to do: in a frame, the browser keeps a frame's cookies from the tool (Safari does,
    and other browsers set so)."""
    if request.headers.get("Sec-Fetch-Dest") in FRAMES:
        return (
            "your browser keeps the learning platform's frame from holding this tool's cookie, "
            "which the launch needs: open the activity in a new window (your instructor can set "
            "it to open in one), or allow the platform's frames their cookies"
        )
    return (
        "the launch came back without the cookie its login left in your browser (it expires "
        "after 5 minutes, and a private window or another browser has none): open the "
        "activity again from your course"
    )


def _in_frame(data: dict[str, Any]) -> bool:
    """Whether the launch's answer shows in a frame: as the browser says (``Sec-Fetch-Dest``),
    or, from a browser that does not say, as the platform's launch presentation says."""
    destination = request.headers.get("Sec-Fetch-Dest")
    if destination:
        return destination in FRAMES
    return links.claim(data, "launch_presentation").get("document_target") in FRAMES


def _arrive(
    data: dict[str, Any], platform: LtiPlatform, destination: str, instructor: Instructor | None
) -> BaseResponse:
    """Where a launch ends: ``destination`` at once in a window of its own; in the platform's
    frame, a page whose button opens it in a tab of its own. Our pages refuse frames, and a
    framed page's cookies are a third party's, which browsers drop: the student's link is their
    own (it needs no cookie); an instructor's button signs them in once, for a few minutes."""
    if not _in_frame(data):
        if instructor is not None:
            start_session(instructor)
        return redirect(destination, code=303)
    if instructor is None:
        href = destination
    else:
        key = secrets.token_urlsafe(32)
        DatabaseStorage().set_value(
            TAB_KEY + key, {"instructor": instructor.id, "to": destination}, exp=TAB_SECONDS
        )
        href = url_for("lti.tab", key=key)
    page = render_template(
        "lti/open.html",
        platform=platform,
        href=href,
        once=instructor is not None,
        title=links.claim(data, "resource_link").get("title") or "handcalc",
        what="The assignment's page" if instructor else "Your worksheet",
        label="Open the assignment's page" if instructor else "Open your worksheet",
    )
    return _framed(make_response(page), data, platform)


@bp.get("/tab/<key>")
def tab(key: str) -> BaseResponse:
    """A framed instructor's button: their page in a tab of its own, signed in (once)."""
    storage = DatabaseStorage()
    kept = storage.get_value(TAB_KEY + key) if len(key) < 100 else None
    instructor = db.session().get(Instructor, kept["instructor"]) if kept else None
    if kept is None or instructor is None or not storage.take(TAB_KEY + key):
        abort(404, "this button has been used or is too old: open the activity again")
    start_session(instructor)
    return redirect(str(kept["to"]), code=303)


# --- the picker -------------------------------------------------------------------------------


def _restored(launch_id: str) -> tuple[FlaskMessageLaunch, dict[str, Any], LtiPlatform]:
    """The instructor's launch kept by ``launch`` (404 once expired, 403 unless staff). Only a
    launch's id names one: the table keeping launches keeps the logins' nonces and states too,
    which anyone gets from ``/lti/login`` (pylti1p3 read one of those as a launch: a 500)."""
    if not launch_id.startswith(LAUNCH_ID_PREFIX) or len(launch_id) > 100:
        abort(404, "this launch has expired: open the activity from the platform again")
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
    return _picker(launch_id, message, data, platform, request.args)


def _picker(
    launch_id: str,
    message: FlaskMessageLaunch,
    data: dict[str, Any],
    platform: LtiPlatform,
    values: Any,
    error: str = "",
) -> Response:
    """The picker, its new-assignment form showing ``values`` (as typed) and ``error``."""
    session = db.session()
    context = links.context_of(session, platform, data)
    rows = session.scalars(
        select(Assignment)
        .where(Assignment.course_id == context.course_id)
        .order_by(Assignment.id.desc())
    ).all()
    kind = forms.kind_as_typed(values) if error else forms.kind_of(values.get("kind"))
    page = render_template(
        "lti/pick.html",
        launch_id=launch_id,
        deep_link=message.is_deep_link_launch(),
        platform=platform,
        assignments=rows,
        kind=kind,
        kinds=forms.kind_menu(),
        fields=forms.option_fields(kind, values if error else {}),
        typed=values if error else {},
        default_attempts=current_app.config["DEFAULT_MAX_ATTEMPTS"],
        error=error,
    )
    return _framed(make_response(page, 400 if error else 200), data, platform)


@bp.post("/pick/<launch_id>")  # no CSRF token: the launch id is the credential (random, kept
def picked(launch_id: str) -> BaseResponse:  # here, this launch only
    """The chosen (or new) assignment: for deep linking, the signed answer posted back to the
    platform; for an activity without an assignment, the link made and the assignment's page."""
    message, data, platform = _restored(launch_id)
    session = db.session()
    context = links.context_of(session, platform, data)
    raw = request.form.get("assignment", "")
    if raw == "new":
        try:
            row = forms.new_assignment(request.form, context.course_id)
        except HandcalcError as e:  # an input error: the picker again, as typed, saying why
            return _picker(launch_id, message, data, platform, request.form, str(e))
    else:
        number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0
        found = session.get(Assignment, number) if number else None
        if found is None or found.course_id != context.course_id:
            abort(404, "no such assignment in this course")
        row = found
    if message.is_deep_link_launch():
        return _deep_link_answer(message, data, platform, row)
    resource_id = links.resource_link_id(data)  # as launches look it up (it was bound as sent)
    link = links.link_of(session, platform, context, data) or links.bind(
        session, platform, context, resource_id, row, data
    )
    session.commit()  # the link, whatever becomes of the account (made once: it may roll back)
    course = session.get(Course, context.course_id)
    assert course is not None
    instructor = links.instructor_of(session, platform, str(data["sub"]), course)
    session.commit()
    mine = url_for("instructor.assignment", assignment_id=link.assignment_id)
    return _arrive(data, platform, mine, instructor)


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
