"""The practice pages: anyone picks options, gets a problem, fills the grid and checks it."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from handcalc import HandcalcError, Spec
from handcalc.api import MAX_SEED
from handcalc.values import parse_whole

from . import access, forms, service

bp = Blueprint("practice", __name__)

CHOICES = {
    "activation": ("relu", "leaky_relu", "identity", "sigmoid", "tanh"),
    "loss": ("softmax_ce", "sigmoid_bce", "mse"),
    "reduction": ("sum", "mean"),
    "transcendental": ("table", "base", "exact"),
}


def options_page(
    values: dict[str, str], error: str | None = None, code: int = 200
) -> tuple[str, int]:
    return render_template(
        "index.html", choices=CHOICES, values=values, error=error, defaults=Spec().to_dict()
    ), code


@bp.get("/")
def index() -> tuple[str, int]:
    return options_page({})


@bp.post("/practice")
def start() -> Response | tuple[str, int]:
    access.limit("practice", access.client())
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    raw_seed = values.get("seed", "").strip()
    try:
        spec = Spec.from_options(forms.spec_from_form(values)).to_dict()
        seed = parse_whole(raw_seed, "seed", 0, MAX_SEED) if raw_seed else secrets.randbelow(10**9)
        token, _ = access.new_practice(spec, seed)
    except (HandcalcError, service.InputError) as e:
        return options_page(values, str(e), 400)
    return redirect(url_for("practice.sheet", token=token))


@bp.route("/p/<token>", methods=["GET", "POST"])
def sheet(token: str) -> str:
    found = access.practice(token)
    if request.method == "POST":
        access.limit("check", token)
    answers = report = None
    with access.cpu_budget():
        problem = found.problem
        if request.method == "POST":
            answers = forms.answers_from_form(request.form, problem)
            try:
                report = service.public_report(service.grade(problem, answers))
            except HandcalcError as e:
                abort(400, str(e))
        page = forms.sheet(problem, "Practice problem", answers, report)
    return render_template(
        "worksheet.html",
        mode="practice",
        token=token,
        seed=found.seed,
        sheet=page,
        report=report,
    )
