"""A small LTI 1.3 platform for the tests: what Moodle or Canvas does for a tool, on loopback.

It has a real RSA key pair and serves its JWKS; it answers the tool's OIDC login redirect with an
id_token it signs (the claims the test asks for), grants service tokens only to a client
assertion signed with the tool's key (checked against the tool's ``/lti/jwks``), and keeps what
the tool sends: line items made, scores posted (with the bearer token's scopes checked), deep
linking answers (checked against the tool's keys too). ``fail_scores`` makes the next score
posts fail with 503, as a platform that is down does.

Tests drive a browser's part with ``requests``: :meth:`Platform.launch` goes login → platform →
launch and returns the tool's answer.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, request
from jwcrypto.jwk import JWK
from markupsafe import escape
from web_support import served

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
CLIENT_ID = "handcalc-test-client"
DEPLOYMENT = "deployment-1"


def rsa_key() -> tuple[str, dict[str, Any], str]:
    """A new key pair: the private PEM, the public JWK, its kid."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = JWK.from_pem(pem.encode()).export_public(as_dict=True)
    kid = uuid.uuid4().hex
    return pem, {**public, "kid": kid, "alg": "RS256", "use": "sig"}, kid


@dataclass
class Platform:
    """The platform's state; ``url`` once started."""

    tool_url: str
    url: str = ""
    context_id: str = "course-101"
    pem: str = ""
    jwk: dict[str, Any] = field(default_factory=dict)
    kid: str = ""
    #: login_hint → the claims of the launch it stands for
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, set[str]] = field(default_factory=dict)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)
    deep_links: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    #: dynamic registration: the token the platform hands out, what tools sent, configs read
    registration_token: str = "reg-token-1"
    tool_registrations: list[dict[str, Any]] = field(default_factory=list)
    config_reads: int = 0
    #: the issuer its configuration names (None: its own URL)
    claimed_issuer: str | None = None
    fail_scores: int = 0
    failed: int = 0
    #: how often the tool fetched the platform's key set
    jwks_reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pem, self.jwk, self.kid = rsa_key()

    # --- what the tool is told at registration ----------------------------------------------

    def registration(self) -> dict[str, Any]:
        return {
            "name": "Test platform",
            "issuer": self.url,
            "client_id": CLIENT_ID,
            "auth_login_url": self.url + "/auth",
            "auth_token_url": self.url + "/token",
            "key_set_url": self.url + "/jwks",
            "deployments": [DEPLOYMENT],
        }

    # --- launches ----------------------------------------------------------------------------

    def claims(
        self,
        sub: str,
        *,
        name: str = "",
        roles: tuple[str, ...] = (LEARNER,),
        resource_link: str | None = "activity-1",
        custom: dict[str, str] | None = None,
        message_type: str = "LtiResourceLinkRequest",
        lineitem: str | None = None,
    ) -> dict[str, Any]:
        """A launch's claims (nonce, times and audience are added when it is signed)."""
        data: dict[str, Any] = {
            "iss": self.url,
            "sub": sub,
            "name": name,
            CLAIM + "message_type": message_type,
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": DEPLOYMENT,
            CLAIM + "target_link_uri": self.tool_url + "/lti/launch",
            CLAIM + "roles": list(roles),
            CLAIM + "context": {"id": self.context_id, "title": "Deep Learning 101"},
            CLAIM + "custom": custom or {},
            AGS: {
                "scope": [SCORE_SCOPE, "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"],
                "lineitems": f"{self.url}/{self.context_id}/lineitems",
                **({"lineitem": lineitem} if lineitem else {}),
            },
            NRPS: {
                "context_memberships_url": f"{self.url}/{self.context_id}/memberships",
                "service_versions": ["2.0"],
            },
        }
        if message_type == "LtiResourceLinkRequest" and resource_link:
            data[CLAIM + "resource_link"] = {"id": resource_link, "title": "Backprop by hand"}
        if message_type == "LtiDeepLinkingRequest":
            data[DL + "deep_linking_settings"] = {
                "deep_link_return_url": self.url + "/deep_link_return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["window", "iframe"],
            }
        return data

    def sign(
        self, claims: dict[str, Any], *, key: str | None = None, kid: str | None = None
    ) -> str:
        return jwt.encode(
            claims, key or self.pem, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def launch(
        self, browser: requests.Session, claims: dict[str, Any], **changes: Any
    ) -> tuple[requests.Response, dict[str, str]]:
        """A browser's launch: the tool's login, the platform's answer, the post to the tool.
        ``changes`` alter the signed token (``aud``, ``exp``, ``nonce``, ``key``/``kid`` to
        forge it). The tool's answer (not followed) and the form posted (to replay it)."""
        hint = secrets.token_hex(8)
        self.pending[hint] = claims
        r = browser.get(
            self.tool_url + "/lti/login", params=self.login(hint), allow_redirects=False
        )
        assert r.status_code == 302, r.text
        auth = urlsplit(r.headers["Location"])
        assert auth.netloc == urlsplit(self.url).netloc
        asked = {k: v[0] for k, v in parse_qs(auth.query).items()}
        assert asked["redirect_uri"] == self.tool_url + "/lti/launch"
        assert asked["response_type"] == "id_token" and asked["scope"] == "openid"
        form = self.signed_launch(asked, **changes)
        answer = browser.post(asked["redirect_uri"], data=form, allow_redirects=False)
        return answer, form

    def login(self, hint: str) -> dict[str, str]:
        """The parameters of the OIDC login the platform starts at the tool."""
        return {
            "iss": self.url,
            "login_hint": hint,
            "target_link_uri": self.tool_url + "/lti/launch",
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT,
        }

    def signed_launch(self, asked: dict[str, str], **changes: Any) -> dict[str, str]:
        """The form the platform posts to the tool for its login request ``asked``: the signed
        id_token of the claims waiting under its login hint, and the state."""
        body = {
            **self.pending.pop(asked["login_hint"]),
            "aud": asked["client_id"],
            "nonce": asked["nonce"],
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
        }
        key = changes.pop("key", None)
        kid = changes.pop("kid", None)
        body.update(changes)
        return {"id_token": self.sign(body, key=key, kid=kid), "state": asked["state"]}

    def course_page(self, claims: dict[str, Any]) -> str:
        """A page of the course with the activity in a frame (as Moodle embeds one): the frame
        starts the tool's login for ``claims``."""
        hint = secrets.token_hex(8)
        self.pending[hint] = claims
        return f"{self.url}/course?hint={hint}"

    # --- the services the tool calls --------------------------------------------------------

    def tool_key_set(self) -> dict[str, Any]:
        found: dict[str, Any] = requests.get(self.tool_url + "/lti/jwks", timeout=10).json()
        return found

    def verified(self, token: str, audience: str) -> dict[str, Any]:
        """A JWT of the tool's, checked with the tool's published keys (403 if it is not)."""
        header = jwt.get_unverified_header(token)
        for k in self.tool_key_set()["keys"]:
            if k["kid"] == header.get("kid"):
                key = jwt.PyJWK(k).key
                try:
                    out: dict[str, Any] = jwt.decode(
                        token, key, algorithms=["RS256"], audience=audience
                    )
                except jwt.InvalidTokenError as e:
                    abort(403, str(e))
                return out
        abort(403, "no tool key has this kid")

    def scopes(self) -> set[str]:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if token not in self.tokens:
            abort(401, "no such access token")
        return self.tokens[token]

    def app(self) -> Flask:
        app = Flask("lti_platform")

        @app.get("/jwks")
        def jwks() -> Any:
            self.jwks_reads += 1
            return jsonify({"keys": [self.jwk]})

        @app.post("/token")
        def token() -> Any:
            form = request.form
            assert form["grant_type"] == "client_credentials"
            claims = self.verified(form["client_assertion"], self.url + "/token")
            if claims["iss"] != CLIENT_ID or claims["sub"] != CLIENT_ID:
                abort(403, "client assertion from another client")
            value = secrets.token_hex(16)
            self.tokens[value] = set(form["scope"].split())
            return jsonify(
                {
                    "access_token": value,
                    "token_type": "bearer",
                    "expires_in": 3600,
                    "scope": form["scope"],
                }
            )

        @app.route("/<context>/lineitems", methods=["GET", "POST"])
        def lineitems(context: str) -> Any:
            self.scopes()
            if request.method == "GET":
                return jsonify([i for i in self.lineitems.values() if i["context"] == context])
            item = request.get_json(force=True)
            with self.lock:
                item_id = f"{self.url}/{context}/lineitems/{len(self.lineitems) + 1}"
                self.lineitems[item_id] = {**item, "id": item_id, "context": context}
            return jsonify(self.lineitems[item_id]), 201

        @app.get("/<context>/lineitems/<int:n>")
        def lineitem(context: str, n: int) -> Any:
            self.scopes()
            return jsonify(self.lineitems[f"{self.url}/{context}/lineitems/{n}"])

        @app.post("/<context>/lineitems/<int:n>/scores")
        def scores(context: str, n: int) -> Any:
            if SCORE_SCOPE not in self.scopes():
                abort(403, "the token has no score scope")
            with self.lock:
                if self.fail_scores > 0:
                    self.fail_scores -= 1
                    self.failed += 1
                    return "platform down for maintenance", 503
                self.scores.append(
                    {
                        **request.get_json(force=True),
                        "lineitem": f"{self.url}/{context}/lineitems/{n}",
                    }
                )
            return "", 204

        @app.get("/<context>/memberships")
        def memberships(context: str) -> Any:
            self.scopes()
            return jsonify({"id": request.url, "context": {"id": context}, "members": self.members})

        @app.get("/.well-known/openid-configuration")
        def openid_configuration() -> Any:
            self.config_reads += 1
            return jsonify(
                {
                    "issuer": self.claimed_issuer or self.url,
                    "authorization_endpoint": self.url + "/auth",
                    "token_endpoint": self.url + "/token",
                    "jwks_uri": self.url + "/jwks",
                    "registration_endpoint": self.url + "/register",
                    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                        "product_family_code": "testplatform",
                        "version": "1.0",
                        "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                               {"type": "LtiDeepLinkingRequest"}],
                    },
                }
            )  # fmt: skip

        @app.post("/register")
        def register_tool() -> Any:
            if request.headers.get("Authorization") != f"Bearer {self.registration_token}":
                abort(401, "registration token")
            tool = request.get_json(force=True)
            self.tool_registrations.append(tool)
            return jsonify(
                {
                    **tool,
                    "client_id": CLIENT_ID,
                    "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                        **tool["https://purl.imsglobal.org/spec/lti-tool-configuration"],
                        "deployment_id": DEPLOYMENT,
                    },
                }
            )

        @app.get("/course")
        def course() -> Any:
            login = f"{self.tool_url}/lti/login?" + urlencode(self.login(request.args["hint"]))
            return (
                "<!doctype html><title>Deep Learning 101</title><h1>Deep Learning 101</h1>"
                f'<iframe src="{escape(login)}" width="760" height="420"></iframe>'
            )

        @app.get("/auth")
        def authorize() -> Any:
            """The OIDC authorisation endpoint: the signed launch, posted by a script."""
            asked = {k: request.args[k] for k in request.args}
            assert asked["response_type"] == "id_token" and asked["scope"] == "openid"
            form = self.signed_launch(asked)
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in form.items()
            )
            action = escape(asked["redirect_uri"])
            return (
                f'<!doctype html><form id="f" method="post" action="{action}">'
                f"{fields}</form><script>document.getElementById('f').submit()</script>"
            )

        @app.post("/deep_link_return")
        def deep_link_return() -> Any:
            claims = self.verified(request.form["JWT"], self.url)
            self.deep_links.append(claims)
            return "deep link received"

        return app


@contextmanager
def running(tool_url: str) -> Iterator[Platform]:
    """A platform served on a loopback port by a thread while the block runs."""
    platform = Platform(tool_url)
    with served(platform.app()) as url:
        platform.url = url
        yield platform
