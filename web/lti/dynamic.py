"""LTI Dynamic Registration 1.0: a platform's administrator gives the platform one URL,
``https://HOST/lti/register``, and the tool and the platform register with each other (Moodle 4.1
on, Canvas, Brightspace) — no client id or key URLs copied by hand, no ``handcalc lti register``.

The platform opens that URL (in a dialog or a window) with its OpenID configuration's URL and a
registration token. Nothing is fetched from a URL a request names until the administrator has
typed the instructor token (``HANDCALC_INSTRUCTOR_TOKEN``) on the page: the URL is anyone's to
write. Then pylti1p3's ``DynamicRegistration`` reads the configuration, sends the tool's
registration (our login, launch, keys, scopes, deep linking) to the platform's registration
endpoint, and the platform it answers with is registered here (``registry.register``). The
configuration's issuer must be the origin of the URL it came from (the specification's rule), so
a configuration cannot name another platform."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from flask import make_response, render_template, request, url_for
from flask.wrappers import Response
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException

from .. import auth, db
from ..app import page_policy
from ..errors import InputError
from . import registry
from .passback import Platforms, reason
from .registry import origin
from .views import SCOPES, bp

PLATFORM_SPEC = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_SPEC = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class Registration(DynamicRegistration):
    """The tool as it registers itself, and the platform kept once it has answered."""

    client_name = "handcalc"
    description = (
        "Backpropagation by hand: each student's own worksheet, graded cell by cell with credit "
        "carried forward; scores go to the gradebook."
    )

    def __init__(self, configuration_url: str, token: str | None) -> None:
        self.configuration_url = configuration_url
        self.token = token
        self.platform: Any = None

    def get_request_session(self) -> requests.Session:
        return Platforms()  # every request with a timeout

    def get_initiate_login_uri(self) -> str:
        return url_for("lti.login", _external=True)

    def get_jwks_uri(self) -> str:
        return url_for("lti.jwks", _external=True)

    def get_redirect_uris(self) -> list[str]:
        return [url_for("lti.launch", _external=True)]

    def get_target_link_uri(self) -> str:
        return url_for("lti.launch", _external=True)

    def get_domain(self) -> str:
        return urlsplit(self.get_target_link_uri()).netloc

    def get_scopes(self) -> list[str]:
        return list(SCOPES)

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": self.get_target_link_uri(),
                "label": "handcalc",
            }
        ]

    def get_logo_uri(self) -> str:
        return url_for("static", filename="favicon.svg", _external=True)

    def get_openid_configuration_endpoint(self) -> str:
        return self.configuration_url

    def get_registration_token(self) -> str:
        return self.token  # type: ignore[return-value]

    def get_openid_configuration(self) -> dict[str, Any]:
        """The platform's configuration, refused before anything is sent to it unless it is an
        object whose issuer is the origin of the URL it came from."""
        config = super().get_openid_configuration()
        issuer = config.get("issuer") if isinstance(config, dict) else None
        if not isinstance(issuer, str) or origin(issuer) != origin(self.configuration_url):
            raise InputError(
                f"the configuration's issuer {str(issuer)[:80]!r} is not the origin of "
                f"{self.configuration_url[:80]!r}, where it came from"
            )
        return dict(config)

    def complete_registration(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> Any:
        config, answer = openid_configuration, openid_registration
        issuer = str(config["issuer"])  # checked when it was read
        if not isinstance(answer, dict):
            raise InputError("the platform's registration answer is not a JSON object")
        tool = answer.get(TOOL_SPEC)
        deployment = tool.get("deployment_id") if isinstance(tool, dict) else None
        platform = config.get(PLATFORM_SPEC)
        family = platform.get("product_family_code") if isinstance(platform, dict) else None
        self.platform = registry.register(
            db.session(),
            name=str(family or urlsplit(issuer).netloc)[:200],
            issuer=issuer,
            client_id=str(answer.get("client_id") or ""),
            auth_login_url=str(config.get("authorization_endpoint") or ""),
            auth_token_url=str(config.get("token_endpoint") or ""),
            key_set_url=str(config.get("jwks_uri") or ""),
            deployments=[str(deployment)] if deployment else [],
        )
        return self.platform


def _asked() -> tuple[str, str | None]:
    url = (request.values.get("openid_configuration") or "").strip()
    if not url or len(url) > 2000 or origin(url) is None:
        raise InputError(
            "openid_configuration: the platform's OpenID configuration URL (http or https) is "
            "needed; open this page from the platform's tool registration"
        )
    token = request.values.get("registration_token") or None
    return url, token[:4000] if token else None


def _framed(page: str, status: int, url: str) -> Response:
    """The platform opens this page in its dialog: framed by the platform's origin only."""
    response = make_response(page, status)
    platform = origin(url) or ""
    response.headers["Content-Security-Policy"] = page_policy(
        form_action="'self'", frame_ancestors=f"'self' {platform}"
    )
    return response


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response:
    """The platform's registration: the page asking for the instructor token, then the
    registration itself, and the page that tells the platform it is done."""
    url, token = _asked()
    shown = {"configuration_url": url, "origin": origin(url), "token": token}
    if request.method == "GET":
        return _framed(render_template("lti/register.html", **shown), 200, url)
    given = (request.form.get("instructor_token") or "").strip()
    if not auth.instructor_token_ok(given):
        if given:
            auth.wrong_instructor_token()
        error = "That is not the instructor token (HANDCALC_INSTRUCTOR_TOKEN)."
        return _framed(render_template("lti/register.html", error=error, **shown), 401, url)
    registration = Registration(url, token)
    try:
        registration.register()
    except (LtiException, requests.RequestException, InputError, AssertionError, ValueError) as e:
        why = reason(e) if isinstance(e, (LtiException, requests.RequestException)) else str(e)
        error = f"The platform's registration did not go through: {why}"
        db.session().rollback()
        return _framed(render_template("lti/register.html", error=error, **shown), 400, url)
    page = render_template("lti/registered.html", platform=registration.platform)
    return _framed(page, 200, url)
