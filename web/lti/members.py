"""The roster from the platform (LTI Names and Role Provisioning Services): every active learner
of the platform's course put on the assignment's roster, with their platform identity, so the
gradebook, the class PDFs and the exports have the whole class before anyone has launched."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import requests
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import LtiContext, LtiLink, LtiUser
from .keys import tool_key
from .links import person_name, student_of, usable_sub
from .passback import NOT_UNDERSTOOD, Connector, Platforms
from .registry import registration_of

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
#: the most members read from one course (the roster's own limit is per request; a course
#: bigger than this is read up to here and said so)
MAX_MEMBERS = 5000
#: the most pages of it read (Canvas gives 10 members a page unless asked for more; a platform
#: whose next page never ends is read up to here)
MAX_PAGES = 500
#: the most seconds spent reading it (an instructor's launch waits for it; each request's own
#: timeout lets a platform slow to give every page hold it for as long as it has pages)
ROSTER_SECONDS = 20.0
log = logging.getLogger(__name__)


def _learner(member: dict[str, Any]) -> bool:
    roles = member.get("roles")
    if not isinstance(roles, list):
        return False
    active = member.get("status", "Active") == "Active"
    return active and any(isinstance(r, str) and r.endswith("#Learner") for r in roles)


def sync(session: Session, link: LtiLink, http: requests.Session | None = None) -> int:
    """Put the platform course's active learners on the link's roster; how many were new."""
    context = session.get(LtiContext, link.context_id)
    if context is None or not context.memberships_url:
        return 0
    connector = Connector(registration_of(link.platform, tool_key()), http or Platforms())
    service = NamesRolesProvisioningService(
        connector, {"context_memberships_url": context.memberships_url}
    )
    known = set(
        session.scalars(select(LtiUser.sub).where(LtiUser.assignment_id == link.assignment_id))
    )
    added = 0
    for member in _members(service, context.memberships_url, link.platform.name):
        sub = member.get("user_id")
        if not usable_sub(sub) or sub in known or not _learner(member):
            continue
        student_of(session, link, sub, person_name({**member, "sub": sub}))
        added += 1
        known.add(sub)
    session.commit()
    return added


def _members(
    service: NamesRolesProvisioningService, url: str | None, platform: str
) -> Iterator[dict[str, Any]]:
    """The roster's members that are objects, page by page, within ``MAX_MEMBERS``,
    ``MAX_PAGES`` and ``ROSTER_SECONDS`` (pylti1p3's ``get_members`` reads every page before
    returning: a platform whose next page never ends held the launch forever). ``ValueError``
    for an answer that is no roster."""
    seen = pages = 0
    deadline = time.monotonic() + ROSTER_SECONDS
    while url:
        if pages == MAX_PAGES or seen == MAX_MEMBERS or time.monotonic() > deadline:
            log.warning("the roster from %s stops at %d members, %d pages", platform, seen, pages)
            return
        answer = service.get_nrps_data(url)
        body = answer.get("body")
        found = body.get("members", []) if isinstance(body, dict) else None
        if not isinstance(found, list):
            raise ValueError("the platform's answer is not a roster (no list of members)")
        pages += 1
        for member in found[: MAX_MEMBERS - seen]:
            seen += 1
            if isinstance(member, dict):
                yield member
        url = answer.get("next_page_url")


def sync_quietly(session: Session, link: LtiLink) -> int | None:
    """``sync``, or None (logged) when the platform does not answer, or answers what pylti1p3
    does not understand (a token answer without a token): an instructor's launch never fails
    for it."""
    try:
        return sync(session, link)
    except (LtiException, requests.RequestException, ValueError, *NOT_UNDERSTOOD) as e:
        session.rollback()
        log.warning("the roster from %s could not be read: %s", link.platform.name, e)
        return None
