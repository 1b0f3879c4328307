"""Benchmark: what an assignment's question bank costs to make (web/exports.py's bound), measured
in the same run.

    .venv/bin/python bench/bench_exports.py [--students 10]

1. The library, per sheet and format: milliseconds a student to write the bank, the XML written
   (uncompressed), their ratio (ms per MiB: the constant ``EXPORT_MS_PER_MIB`` bounds) and what
   making a problem costs per number on the sheet (``MAKE_*_MS_PER_NUMBER``).
2. The service: an assignment of the default sheet (and of its exact mode) with the largest
   roster one request makes (``students_per_request``) in each format, the API's download timed
   cold (every student's problem made) and warm (kept in memory), against the estimate of
   ``EXPORT_SECONDS``; one student more is refused.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
import zipfile
from typing import Any

from handcalc.web import access, exports
from handcalc.web.app import create_app
from handcalc.web.problems import read_options, sheet_numbers

import handcalc
from handcalc.export import FORMATS, export

SHEETS: dict[str, dict[str, Any]] = {
    "2-2-2": {"sizes": [2, 2, 2]},
    "4-3-4-3 (default)": {},
    "8-8-8 batch 2": {"sizes": [8, 8, 8], "batch": 2, "weight_max": 1, "input_max": 1},
    "6-6-6-6-6 batch 3": {"sizes": [6, 6, 6, 6, 6], "batch": 3, "weight_max": 1, "input_max": 1},
    "2-2-2 exact": {"sizes": [2, 2, 2], "transcendental": "exact"},
    "4-3-4-3 exact": {"transcendental": "exact"},
}
#: the sheets of the service's measurement
SERVED: tuple[dict[str, Any], ...] = ({}, {"transcendental": "exact"})
TOKEN = "bench-instructor-token"


def raw_bytes(data: bytes) -> int:
    if data[:2] == b"PK":
        return sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    return len(data)


def library(students: int) -> None:
    print(f"1. the library, {students} students a bank")
    print(
        f"{'sheet':22} {'numbers':>7} {'make ms/number':>14}  format  ms/student  KiB/student"
        "  ms/MiB"
    )
    ratios = []
    for label, spec in SHEETS.items():
        numbers = sheet_numbers("mlp", read_options("mlp", spec))
        start = time.perf_counter()
        made = [handcalc.generate(seed=s, **spec) for s in range(students)]
        make = (time.perf_counter() - start) / students * 1e3
        for fmt in FORMATS:
            export(made[:1], fmt)  # warm
            start = time.perf_counter()
            data = export(made, fmt)
            took = (time.perf_counter() - start) / students * 1e3
            written = raw_bytes(data) / students
            ratio = took / (written / 2**20)
            ratios.append(ratio)
            print(
                f"{label:22} {numbers:7d} {make / numbers:14.3f}  {fmt:6}  {took:10.1f}"
                f"  {written / 1024:11.0f}  {ratio:6.0f}"
            )
    print(
        f"ms/MiB over all: median {statistics.median(ratios):.0f}, max {max(ratios):.0f} "
        f"(the bound takes {exports.EXPORT_MS_PER_MIB:.0f})"
    )


def service() -> None:
    print(
        "\n2. the service: the default sheet and its exact mode, the largest roster a request "
        f"makes (EXPORT_SECONDS {exports.EXPORT_SECONDS:g})"
    )
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "HANDCALC_MODE": "testing",
                "SECRET_KEY": "b" * 40,
                "INSTRUCTOR_TOKEN": TOKEN,
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            }
        )
        client = app.test_client()
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for spec, fmt in ((spec, fmt) for spec in SERVED for fmt in FORMATS):
            made = client.post(
                "/api/v1/assignments", headers=auth, json={"title": fmt, "spec": spec}
            )
            aid = made.json["id"]
            with app.app_context():
                row = access.assignment(aid)
                per = exports.students_per_request(row, fmt)
                cost = exports.cost(row.kind, row.spec_json, fmt)
            names = [f"student {n:04d}" for n in range(per)]
            client.post(f"/api/v1/assignments/{aid}/roster", headers=auth, json={"students": names})
            times = []
            for _ in ("cold", "warm"):  # every problem made, then kept
                start = time.perf_counter()
                r = client.get(f"/api/v1/assignments/{aid}/export.{fmt}", headers=auth)
                times.append(time.perf_counter() - start)
                assert r.status_code == 200, r.get_data(as_text=True)
            one_more = client.post(
                f"/api/v1/assignments/{aid}/roster", headers=auth, json={"students": ["late"]}
            )
            assert one_more.status_code == 200
            refused = client.get(f"/api/v1/assignments/{aid}/export.{fmt}", headers=auth)
            print(
                f"{json.dumps(spec):30} {fmt:6}: {per} students a request "
                f"(estimate {per * cost.ms / 1000:.1f} s, "
                f"{cost.xml_bytes / 1024:.0f} KiB of XML a student); measured cold "
                f"{times[0]:.2f} s, warm {times[1]:.2f} s, {len(r.data) / 2**20:.1f} MiB sent; "
                f"{per + 1} students: {refused.status_code}"
            )
            print("    " + json.dumps(refused.json["error"]["message"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=10)
    args = parser.parse_args()
    library(args.students)
    service()


if __name__ == "__main__":
    main()
