"""handcalc as an LTI 1.3 / LTI Advantage tool: an activity in Moodle, Canvas, Blackboard or
Brightspace opens an assignment, students arrive identified and get their own variant, and their
scores go back to the platform's gradebook.

The protocol is pylti1p3's (the ``lms`` extra installs ``pylti1p3next``, the maintained fork):
it verifies launches (the id_token's signature against the platform's JWKS, its issuer, audience,
expiry, nonce and deployment), signs the tool's messages and asks for service tokens. Ours is
the rest, one job a module:

- :mod:`.keys`: the tool's RSA key pair, its public half as ``/lti/jwks``;
- :mod:`.registry`: the platforms registered (``handcalc lti register``), as pylti1p3 asks for
  them;
- :mod:`.storage`: what the OIDC login hands to the launch, in the database (every worker sees
  it), a nonce good for one launch only;
- :mod:`.views`: ``/lti/login``, ``/lti/launch``, ``/lti/jwks``, ``/lti/config``, the deep-linking
  picker;
- :mod:`.links`: a launch's platform course, activity and user as our course, assignment and
  student;
- :mod:`.passback`: scores to the platform (Assignment and Grade Services), queued and retried;
- :mod:`.members`: the roster from the platform (Names and Role Provisioning Services);
- :mod:`.dynamic`: ``/lti/register``, LTI Dynamic Registration (one URL given to the platform).
"""

from __future__ import annotations

import importlib.util

from flask import Flask

#: what the LTI routes need installed (the ``lms`` extra)
AVAILABLE = importlib.util.find_spec("pylti1p3") is not None


def init_app(app: Flask) -> None:
    """The LTI routes (when the ``lms`` extra is installed) and the score sends' retries."""
    if not AVAILABLE:
        return
    from ..app import csrf
    from . import dynamic, passback, views

    app.register_blueprint(views.bp)
    # the platform posts the login and the launch (no CSRF token: the launch's signature is the
    # check), and the picker's form carries the launch's random id, good for that launch only
    # the registration page is opened by the platform and the instructor token is its credential
    for view in (views.login, views.launch, views.picked, dynamic.register):
        csrf.exempt(view)
    passback.init_app(app)
