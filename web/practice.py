"""The practice pages: anyone picks a kind and its options, gets a problem, fills the grid and
checks it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from handcalc import kinds
from handcalc.api import MAX_SEED
from handcalc.values import parse_whole

from . import access, forms
from .access import Practice
from .auth import practice_link
from .errors import shown_on
from .reports import grade, public_report

bp = Blueprint("practice", __name__)


def options_page(
    values: Mapping[str, str], error: str | None = None, code: int = 200
) -> tuple[str, int]:
    """The options form of the kind ``values`` name (the default one if it names none), showing
    ``values`` (400 for a kind that is not known)."""
    kind = forms.kind_of(values.get("kind"))
    return render_template(
        "index.html",
        kind=kind,
        kinds=forms.kind_menu() if len(kinds.KINDS) > 1 else [],
        fields=forms.option_fields(kind, values, practice=True),
        values=values,
        error=error,
    ), code


def _form() -> dict[str, str]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


@bp.get("/")
def index() -> tuple[str, int]:
    return options_page({"kind": request.args.get("kind", "")})


@bp.post("/practice")
@shown_on(lambda message: options_page(_form(), message, 400))
def start() -> Response:
    access.limit("practice", access.client())
    values = _form()
    kind = forms.kind_of(values.get("kind"))
    spec = forms.spec_from_form(values, kind, practice=True)
    spec = kinds.get(kind).Options.from_options(spec).to_dict()
    raw_seed = values.get("seed", "").strip()
    seed = parse_whole(raw_seed, "seed", 0, MAX_SEED) if raw_seed else secrets.randbelow(10**9)
    token, _ = access.new_practice(spec, seed, kind)
    return redirect(url_for("practice.sheet", token=token))


@bp.route("/p/<token>", methods=["GET", "POST"])
@practice_link
def sheet(found: Practice, token: str) -> str:
    if request.method == "POST":
        access.limit("check", token)
    answers = report = None
    with access.cpu_budget():
        problem = found.problem
        if request.method == "POST":
            answers = forms.answers_from_form(request.form, problem)
            report = public_report(grade(problem, answers))
        page = forms.sheet(problem, "Practice problem", answers, report)
    return render_template(
        "worksheet.html", mode="practice", token=token, seed=found.seed, sheet=page, report=report
    )
