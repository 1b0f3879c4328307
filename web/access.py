"""What a request may use: the sessions and students its tokens name, their problems, its
share of requests and CPU time, and a student's submissions (attempts counted).

Shared by the JSON API and the pages (``auth`` puts the token checks on views); each raises an
``HTTPException`` or a ``HandcalcError`` with a message, which the app turns into JSON or a page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from flask import abort, current_app, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import TooManyRequests

from handcalc import HandcalcError, Problem
from handcalc.api import MAX_SEED

from . import db, limits
from .errors import NoAttemptsLeft
from .limits import Budget
from .models import Assignment, PracticeSession, Student, Submission
from .problems import (
    DEFAULT_KIND,
    canonical,
    check_practice_size,
    problem_for,
    problem_of,
    read_options,
)
from .reports import grade, number
from .tokens import BadToken, read_practice_token, read_student_token, variant_seed


def secret() -> str:
    value: str = current_app.config["SECRET_KEY"]
    return value


def limit(kind: str, key: str) -> None:
    """429 when ``key`` has used up its requests of this minute."""
    allowed, wait = current_app.extensions["handcalc.limits"][kind].allow(key)
    if not allowed:
        raise TooManyRequests(
            f"too many requests this minute; try again in {wait} s", retry_after=wait
        )


#: CPU seconds a minute each address may spend on practice (making and checking problems), per
#: process, unless the configuration's PRACTICE_CPU_SECONDS says otherwise
PRACTICE_CPU_SECONDS = 10


def _cpu_budget() -> Budget:
    found: Budget | None = current_app.extensions.get("handcalc.cpu")
    if found is None:
        seconds = float(current_app.config.get("PRACTICE_CPU_SECONDS") or PRACTICE_CPU_SECONDS)
        made = limits.cpu_budget(seconds, current_app.config.get("REDIS_URL"))
        found = current_app.extensions.setdefault("handcalc.cpu", made)
    assert found is not None
    return found


@contextmanager
def cpu_budget() -> Iterator[None]:
    """Run the block on this client's budget of CPU seconds: 429 while it is spent, and what the
    block took is charged to it afterwards (when it failed too: a spec no draw satisfies costs
    the most). The block's thread's CPU time is measured, so the block must not wait on the
    network or the database (under gevent, other requests would run meanwhile, on our bill)."""
    budget, key = _cpu_budget(), client()
    allowed, wait = budget.allow(key)
    if not allowed:
        raise TooManyRequests(
            f"this address has used its share of the server's time for practice this minute; "
            f"try again in {wait} s",
            retry_after=wait,
        )
    start = time.thread_time()
    try:
        yield
    finally:
        budget.charge(key, time.thread_time() - start)


# --- practice ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Practice:
    id: int
    kind: str
    spec: dict[str, Any]
    seed: int

    @cached_property
    def spec_json(self) -> str:
        return canonical(self.spec)

    @property
    def problem(self) -> Problem:
        return problem_of(self.kind, self.spec_json, self.seed)


def practice(token: str) -> Practice:
    try:
        practice_id = _practice_id(secret(), token)
    except BadToken as e:
        abort(403, str(e))
    found = _practice(current_app.config["DATABASE_URL"], practice_id)
    if found is None:
        abort(404, "practice session not found (was the database reset?)")
    return found


@lru_cache(maxsize=4096)
def _practice_id(secret: str, token: str) -> int:
    """The session a token names: a token checked once is good for as long as the secret is
    (a bad one raises, and is checked again every time)."""
    return read_practice_token(secret, token)


@lru_cache(maxsize=4096)
def _practice_row(url: str, practice_id: int) -> Practice | None:
    row = db.session().get(PracticeSession, practice_id)
    return None if row is None else Practice(row.id, row.kind, row.spec, row.seed)


def _practice(url: str, practice_id: int) -> Practice | None:
    # sessions never change once made, so a found one is kept; a missing one is asked again
    found = _practice_row(url, practice_id)
    if found is None:
        _practice_row.cache_clear()
    return found


def new_practice(spec: dict[str, Any], seed: int, kind: str = DEFAULT_KIND) -> tuple[str, Problem]:
    """A practice session of ``spec`` (small sheets only: ``problems.check_practice_size``), its
    problem made on this client's CPU budget; fails before anything is stored."""
    from .tokens import practice_token

    check_practice_size(kind, read_options(kind, spec))
    with cpu_budget():
        problem = problem_for(kind, spec, seed)
    row = PracticeSession(kind=kind, spec_json=canonical(spec), seed=seed)
    session = db.session()
    session.add(row)
    session.commit()
    return practice_token(secret(), row.id), problem


# --- students ---------------------------------------------------------------------------------


def student(token: str) -> Student:
    try:
        key = read_student_token(secret(), token)
    except BadToken as e:
        abort(403, str(e))
    row = db.session().get(Student, key.student_id)
    if row is None or row.assignment_id != key.assignment_id:
        abort(404, "this link's student is not on the roster any more")
    return row


#: seeds tried after a student's own when it makes no problem (options near what the generator
#: can meet: creating the assignment checked one seed only); the first that makes one is theirs
MORE_SEEDS = 8


def student_problem(row: Student) -> Problem:
    """The student's own problem (409 when the assignment's options make none for them)."""
    assignment = row.assignment
    seed = variant_seed(secret(), assignment.id, row.name)
    found = _working_seed(assignment.kind, assignment.spec_json, seed)
    if found is None:
        abort(
            409,
            f"the options of assignment {assignment.id} make no problem for this student (no "
            f"draw meets the generator's budgets); the instructor may loosen them",
        )
    return problem_of(assignment.kind, assignment.spec_json, found)


def variant_problem(kind: str, spec_json: str, seed: int) -> Problem | None:
    """What ``student_problem`` gives a student whose variant seed is ``seed``, or None when the
    options make none; it needs no request (a streamed download calls it between chunks)."""
    found = _working_seed(kind, spec_json, seed)
    return None if found is None else problem_of(kind, spec_json, found)


@lru_cache(maxsize=4096)
def _working_seed(kind: str, spec_json: str, seed: int) -> int | None:
    """``seed`` if it makes a problem, else the first of the next ``MORE_SEEDS`` that does (each
    seed's outcome never changes, so it is found once per process)."""
    for tried in range(seed, seed + MORE_SEEDS + 1):
        try:
            problem_of(kind, spec_json, tried % (MAX_SEED + 1))
        except HandcalcError:
            continue
        return tried % (MAX_SEED + 1)
    return None


def attempts_used(row: Student) -> int:
    used = db.session().scalar(
        select(func.count()).select_from(Submission).where(Submission.student_id == row.id)
    )
    return int(used or 0)


#: called with each submission once it is stored: where a learning platform's grade passback
#: (``lti.passback``) hears of new scores
SUBMITTED: list[Callable[[Submission], None]] = []


def submit(row: Student, token: str, answers: dict[str, Any]) -> Submission:
    """Grade and store one submission; committed before this returns (409 when none is left);
    then handed to :data:`SUBMITTED`."""
    limit("check", token)
    used = attempts_used(row)
    allowed = row.assignment.max_attempts
    if used >= allowed:
        raise NoAttemptsLeft(f"no attempts left: all {allowed} used")
    report = grade(student_problem(row), answers, row.assignment.grading)
    submission = Submission(
        student_id=row.id,
        attempt=used + 1,
        answers_json=json.dumps(answers, ensure_ascii=False),
        report_json=json.dumps(report, ensure_ascii=False),
        score=number(report.get("score")),
        max_score=number(report.get("max_score")),
    )
    session = db.session()
    session.add(submission)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        abort(
            409,
            "another submission of yours was stored at the same moment; reload and "
            "check how many attempts are left",
        )
    for listener in SUBMITTED:
        listener(submission)
    return submission


# --- clients and assignments ------------------------------------------------------------------


def client() -> str:
    """The client's address: the connection's, or the one the trusted proxies saw (the app wraps
    itself in ProxyFix when ``HANDCALC_TRUSTED_PROXIES`` says how many there are)."""
    return request.remote_addr or "-"


def assignment(assignment_id: int) -> Assignment:
    row = db.session().get(Assignment, assignment_id) if 0 < assignment_id < 2**31 else None
    if row is None:
        abort(404, f"no assignment {assignment_id}")
    return row
