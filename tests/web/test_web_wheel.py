"""The service ships in the wheel: installed into a fresh venv, it serves its pages, static files,
OpenAPI document and the printed sheet's grid from any directory (as ``handcalc.web``).

The wheel is built once per session and installed without downloading (tests/built_wheel.py).
"""

from __future__ import annotations

from pathlib import Path

from built_wheel import InstalledWheel, run

SCRIPT = """
import json, pathlib, handcalc, handcalc.web.app as web
assert pathlib.Path(web.__file__).is_relative_to(pathlib.Path(r'{venv}')), web.__file__
app = web.create_app({{"HANDCALC_MODE": "testing", "DATABASE_URL": "sqlite:///here.sqlite3",
                       "WTF_CSRF_ENABLED": False}})
c = app.test_client()
assert c.get("/healthz").json == {{"status": "ok"}}
assert c.get("/api/v1/openapi.json").json["openapi"].startswith("3.")
assert c.get("/static/style.css").status_code == 200
assert "stroke" in c.get("/assets/grid.css").get_data(as_text=True)
assert 'name="sizes"' in c.get("/").get_data(as_text=True)
token = c.post("/api/v1/practice", json={{"spec": {{"sizes": [2, 2, 2]}}, "seed": 1}}).json["token"]
page = c.post("/p/" + token, data={{"Z1[0][0]": "1"}}).get_data(as_text=True)
assert 'name="dW2[1][1]"' in page and 'id="mark-Z1"' in page, page[:500]
print("ok")
"""


def test_wheel_serves_the_app_from_another_directory(
    installed_wheel: InstalledWheel, tmp_path: Path
) -> None:
    for name in (
        "openapi.json",
        "static/style.css",
        "static/app.js",
        "templates/base.html",
        "templates/worksheet.html",
        "templates/instructor/assignment.html",
    ):
        assert f"handcalc/web/{name}" in installed_wheel.names
    assert not any(n.startswith("web/") for n in installed_wheel.names)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert (
        run(
            installed_wheel.python, "-c", SCRIPT.format(venv=installed_wheel.venv), cwd=elsewhere
        ).strip()
        == "ok"
    )
