"""The API's OpenAPI document: ``openapi.json`` as written by hand (paths, responses, the
exchange format's outline), with what the kinds declare filled in when the app starts — the
``Kind`` menu and the ``Spec`` schema, made from each kind's options (their types, ranges,
choices, help and defaults), so the options are described in one place only."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from flask import Flask, current_app

from handcalc import kinds
from handcalc.options import CHOICE, FRACTION, WHOLE, WHOLES, Option, Options

from .problems import DEFAULT_KIND

EXTENSION = "handcalc.openapi"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = json.dumps(build(), ensure_ascii=False, indent=1)


def document(app: Flask | None = None) -> str:
    """The document the app serves (built when it started)."""
    found: str = (app or current_app).extensions[EXTENSION]
    return found


def build() -> dict[str, Any]:
    """The document: the file, and the schemas generated from the registered kinds."""
    doc: dict[str, Any] = json.loads(
        files("handcalc.web").joinpath("openapi.json").read_text(encoding="utf-8")
    )
    schemas = doc["components"]["schemas"]
    schemas["Kind"] = kind_schema()
    schemas["Spec"] = spec_schema()
    return doc


def kind_schema() -> dict[str, Any]:
    names = list(kinds.KINDS)
    said = "; ".join(f"{name}: {kind.description}" for name, kind in kinds.KINDS.items())
    return {
        "type": "string",
        "enum": names,
        "default": DEFAULT_KIND if DEFAULT_KIND in names else names[0],
        "description": f"The kind of exercise ({said})",
    }


def spec_schema() -> dict[str, Any]:
    """The ``spec`` of a request: the options of its kind (of any kind, with several)."""
    found = {name: options_schema(kind.Options) for name, kind in kinds.KINDS.items()}
    if len(found) == 1:
        return next(iter(found.values()))
    return {
        "description": "The options of the request's kind: "
        + "; ".join(f"{name}: {', '.join(schema['properties'])}" for name, schema in found.items()),
        "anyOf": list(found.values()),
    }


def options_schema(options: type[Options]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"Options of a {options.title} problem (every one may be left out: its "
        "default is used); unknown ones are refused with the list of known ones",
        "properties": {
            name: option_schema(option, default) for name, option, default in options.declared()
        },
        "additionalProperties": False,
    }


def option_schema(option: Option, default: Any) -> dict[str, Any]:
    """One option's schema: its JSON type and what it accepts, its help and its default."""
    schema: dict[str, Any]
    if option.type == CHOICE:
        schema = {"type": "string", "enum": list(option.choices)}
    elif option.type == WHOLE:
        schema = {"type": "integer", "minimum": option.low, "maximum": option.high}
    elif option.type == WHOLES:
        items = {"type": "integer", "minimum": option.low, "maximum": option.high}
        schema = {"type": "array", "items": items}
        if not option.allow_empty:
            schema["minItems"] = 1
    elif option.type == FRACTION:
        schema = {"type": "string", "example": option.text(default)}
    else:  # pragma: no cover - a type the options module added since
        schema = {}
    accepted = f" (accepted: {option.accepted})" if option.accepted else ""
    schema["description"] = option.help + accepted
    schema["default"] = option.text(default)
    return schema
