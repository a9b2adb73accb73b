"""Benchmark: mapping a 200-resource FHIR R4 Bundle to facts, against json.loads of the same text.

Run from the repository root:

    python benchmarks/bench_fhir.py

Two records of 200 resources each, made by the synthetic generator (made-up data):
- "typical": one patient's bound resources (about 8) plus unbound Encounters, Procedures and
  Observations with codes no binding reads: what a real export looks like;
- "all bound": 200 Conditions every one of which a binding reads (so every one is validated
  with fhir.resources): the worst case.
Each timing is warm (fhir.resources imported and its models built before the clock runs) and the
median of several runs; json.loads of the same text, in the same run, is the baseline. The cold
cost (importing fhir.resources and mapping once, in a fresh interpreter) is reported apart: a
`leukorules evaluate record.json` pays it once per process.
Target (issue 14): mapping adds under 20 ms to `evaluate`.
"""

from __future__ import annotations

import datetime
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leukorules import load_policy  # noqa: E402
from leukorules.codesystems import SNOMED_CT  # noqa: E402
from leukorules.fhir import map_record_text, synthetic  # noqa: E402
from leukorules.fhir.bindings import Bindings  # noqa: E402

AS_OF = datetime.date(2025, 1, 15)
POLICY = load_policy().policy
BINDINGS = Bindings.of(POLICY)
SIZE = 200
FACTS = {
    "leukoencephalopathy_type": "drug_induced",
    "causative_drug": "mycophenolic_acid",
    "toxic_exposure_ongoing": False,
    "hiv_positive": False,
    "seizures": True,
    "agitation": False,
    "dysarthria_or_dysphasia": True,
}


def typical() -> str:
    record = synthetic.bundle(FACTS, "p", AS_OF, BINDINGS)
    kinds = ("Encounter", "Procedure", "Observation")
    filler = 0
    while len(record["entry"]) < SIZE:
        kind = kinds[filler % 3]
        resource: dict[str, Any] = {"resourceType": kind, "id": f"f{filler}"}
        if kind == "Observation":
            resource |= {
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]},
                "valueQuantity": {"value": 139, "unit": "mmol/L"},
            }
        record["entry"].append({"resource": resource})
        filler += 1
    return json.dumps(record)


def all_bound() -> str:
    entries = []
    for index in range(SIZE):
        condition = synthetic.bundle({"seizures": True}, f"p{index}", AS_OF, BINDINGS)["entry"][1]
        condition["resource"]["id"] = f"c{index}"
        condition["resource"]["code"]["coding"] = [{"system": SNOMED_CT, "code": "91175000"}]
        entries.append(condition)
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def median_ms(fn: Callable[[], object], repeat: int = 31) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def cold_ms(text_file: Path) -> float:
    code = (
        "import time, datetime; t = time.perf_counter()\n"
        "from leukorules.fhir import map_record_file\n"
        f"map_record_file({str(text_file)!r}, as_of=datetime.date(2025, 1, 15))\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
            ).stdout
        )
        for _ in range(3)
    ]
    return statistics.median(runs)


def main() -> None:
    import tempfile

    rows = []
    for name, text in (("typical", typical()), ("all bound", all_bound())):
        result = map_record_text(text, "bench.json", BINDINGS, as_of=AS_OF)
        assert not result.diagnostics, result.diagnostics
        base = median_ms(lambda text=text: json.loads(text))
        mapped = median_ms(
            lambda text=text: map_record_text(text, "bench.json", BINDINGS, as_of=AS_OF)
        )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "record.json"
            path.write_text(text, encoding="utf-8")
            cold = cold_ms(path)
        rows.append((name, len(text), base, mapped, cold))
    print(
        f"{'record (200 resources)':24} {'bytes':>8} {'json.loads':>11} {'map (warm)':>11}"
        f" {'ratio':>6} {'cold, fresh process':>20}"
    )
    for name, size, base, mapped, cold in rows:
        print(
            f"{name:24} {size:8d} {base:9.2f}ms {mapped:9.2f}ms {mapped / base:5.1f}x"
            f" {cold:18.0f}ms"
        )


if __name__ == "__main__":
    main()
