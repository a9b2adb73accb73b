"""Benchmark: FHIR R4 records in `evaluate`, and a FHIR Bulk Data export through `batch`.

Run from the repository root:

    python benchmarks/bench_fhir.py                       # one record, 200 resources
    python benchmarks/bench_fhir.py --bulk 100000         # also a 100,000-patient export

One record (made-up data, two records of 200 resources each, made by the synthetic generator):
- "typical": one patient's bound resources (about 8) plus unbound Encounters, Procedures and
  Observations with codes no binding reads: what a real export looks like;
- "all bound": 200 Conditions every one of which a binding reads (so every one is validated
  with fhir.resources): the worst case.
Measured in one process, warm (fhir.resources imported and its models built before the clock
runs), median of several runs: json.loads of the text (baseline), mapping the record to facts,
`policy.evaluate` of those facts, and what mapping adds to evaluating. Then, in fresh processes
(the command line as a clinician runs it): `leukorules evaluate record.json` against
`leukorules evaluate facts.yaml` holding the same facts; the difference is what reading the
record costs a command, including importing fhir.resources (paid once per process).
Target (issue 14): mapping adds under 20 ms to `evaluate`.

Bulk (`--bulk N`): an export of N made-up patients, about 20 resources each (a Patient, their
coded diagnoses and symptoms, causative drugs, and unbound Encounters, Procedures, lab
Observations, other Conditions and medications), written to a temporary folder under the
current directory (deleted afterwards; check free space first: about 300 bytes a resource),
then `leukorules batch export/ --engine duckdb --out results.parquet` timed as a command.
`--python N` also runs the python engine on the first N patients' export.
Target (issue 14): 100,000 patients (about 2 million resources) in under 2 minutes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leukorules import load_policy  # noqa: E402
from leukorules.codesystems import ICD_10_CM, LOINC, RXNORM, SNOMED_CT  # noqa: E402
from leukorules.fhir import map_record_text, synthetic  # noqa: E402
from leukorules.fhir.bindings import Bindings  # noqa: E402

AS_OF = datetime.date(2025, 1, 15)
COMPILED = load_policy()
POLICY = COMPILED.policy
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
LAB = {"system": LOINC, "code": "2951-2", "display": "Sodium [Moles/volume] in Serum or Plasma"}
HYPERTENSION = {"system": ICD_10_CM, "code": "I10", "display": "Essential (primary) hypertension"}
OTHER_DRUG = {"system": RXNORM, "code": "1310525", "display": "teriflunomide 14 MG Oral Tablet"}


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
                "code": {"coding": [LAB]},
                "valueQuantity": {"value": 139, "unit": "mmol/L"},
            }
        record["entry"].append({"resource": resource})
        filler += 1
    return json.dumps(record)


def all_bound() -> str:
    entries = []
    for index in range(SIZE):
        bundle = synthetic.bundle({"seizures": True}, f"p{index}", AS_OF, BINDINGS)
        condition = bundle["entry"][1]
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


def command_ms(args: list[str], runs: int = 7) -> float:
    """Median wall time of a `leukorules` command in a fresh process."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "leukorules", *args],
            capture_output=True,
            check=True,
            cwd=REPO,
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def one_record() -> None:
    print(
        f"{'record (200 resources)':24} {'json.loads':>11} {'map':>9} {'evaluate':>9}"
        f" {'map+evaluate':>13} {'added':>8}"
    )
    for name, text in (("typical", typical()), ("all bound", all_bound())):
        result = map_record_text(text, "bench.json", BINDINGS, as_of=AS_OF)
        assert not result.diagnostics, result.diagnostics
        facts = dict(result.facts)
        base = median_ms(lambda text=text: json.loads(text))
        mapped = median_ms(
            lambda text=text: map_record_text(text, "bench.json", BINDINGS, as_of=AS_OF)
        )
        evaluated = median_ms(lambda facts=facts: COMPILED.evaluate(facts))

        def both(text: str = text) -> object:
            found = map_record_text(text, "bench.json", BINDINGS, as_of=AS_OF)
            return COMPILED.evaluate(dict(found.facts))

        total = median_ms(both)
        print(
            f"{name:24} {base:9.2f}ms {mapped:7.2f}ms {evaluated:7.2f}ms {total:11.2f}ms"
            f" {total - evaluated:6.2f}ms"
        )
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "record.json"
        record.write_text(typical(), encoding="utf-8")
        facts_file = Path(folder) / "facts.json"
        found = map_record_text(record.read_text(), "r", BINDINGS, as_of=AS_OF).facts
        facts_file.write_text(json.dumps(dict(found)), encoding="utf-8")
        as_of = ["--as-of", AS_OF.isoformat()]
        with_record = command_ms(["evaluate", str(record), *as_of])
        with_facts = command_ms(["evaluate", str(facts_file)])
    print(
        f"\ncommand line, fresh processes (median of 7): evaluate record.json {with_record:.0f} ms,"
        f" evaluate facts.json (same facts) {with_facts:.0f} ms:"
        f" reading the record adds {with_record - with_facts:.0f} ms"
    )


# --- a Bulk Data export ------------------------------------------------------------------------


def _patient_resources(rng: random.Random, pid: str) -> list[dict[str, Any]]:
    facts: dict[str, object] = {}
    for fact in BINDINGS.facts:
        if rng.random() < 0.5:
            kind = POLICY.facts[fact].type
            facts[fact] = (
                rng.choice((True, False)) if kind.kind == "bool" else rng.choice(kind.values)
            )
    observe = [f for f in ("seizures", "agitation") if rng.random() < 0.3]
    found = synthetic.resources(facts, pid, AS_OF, BINDINGS, observe)
    subject = {"reference": f"Patient/{pid}"}
    day = (AS_OF - datetime.timedelta(days=rng.randint(0, 400))).isoformat()
    for n in range(5):
        found.append(
            {
                "resourceType": "Encounter",
                "id": f"{pid}-e{n}",
                "status": "finished",
                "subject": subject,
                "period": {"start": day},
            }
        )
    for n in range(2):
        found.append(
            {
                "resourceType": "Procedure",
                "id": f"{pid}-pr{n}",
                "status": "completed",
                "subject": subject,
                "performedDateTime": day,
            }
        )
    for n in range(20 - len(found) - 3):
        found.append(
            {
                "resourceType": "Observation",
                "id": f"{pid}-lab{n}",
                "status": "final",
                "code": {"coding": [LAB]},
                "subject": subject,
                "effectiveDateTime": day,
                "valueQuantity": {"value": 130 + n, "unit": "mmol/L"},
            }
        )
    found.append(
        {
            "resourceType": "Condition",
            "id": f"{pid}-htn",
            "code": {"coding": [HYPERTENSION]},
            "subject": subject,
            "recordedDate": day,
        }
    )
    found.append(
        {
            "resourceType": "MedicationStatement",
            "id": f"{pid}-ms",
            "status": "active",
            "medicationCodeableConcept": {"coding": [OTHER_DRUG]},
            "subject": subject,
        }
    )
    return found


def write_export(folder: Path, patients: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    count = 0
    try:
        for number in range(patients):
            for resource in _patient_resources(rng, f"p{number:07d}"):
                kind = resource["resourceType"]
                if kind not in handles:
                    handles[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
                handles[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
                count += 1
    finally:
        for handle in handles.values():
            handle.close()
    return count


def bulk(patients: int, python_patients: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-fhir-bulk-", dir=Path.cwd()))
    try:
        export = work / "export"
        start = time.perf_counter()
        resources = write_export(export, patients)
        size = sum(p.stat().st_size for p in export.glob("*.ndjson"))
        print(
            f"\nexport: {patients:,} patients, {resources:,} resources, {size / 2**20:,.0f} MiB"
            f" (written in {time.perf_counter() - start:.1f} s)"
        )
        as_of = ["--as-of", AS_OF.isoformat()]
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "leukorules",
                "batch",
                str(export),
                "--engine",
                "duckdb",
                "--out",
                str(work / "duckdb.parquet"),
                *as_of,
            ],
            capture_output=True,
            check=True,
            cwd=REPO,
        )
        took = time.perf_counter() - start
        print(f"batch --engine duckdb: {took:.1f} s ({patients / took:,.0f} patients/s)")
        if python_patients:
            small = work / "small"
            write_export(small, python_patients)
            runs = {}
            for engine in ("python", "duckdb"):
                start = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "leukorules",
                        "batch",
                        str(small),
                        "--engine",
                        engine,
                        "--out",
                        str(work / f"small-{engine}.jsonl"),
                        *as_of,
                    ],
                    capture_output=True,
                    check=True,
                    cwd=REPO,
                )
                runs[engine] = time.perf_counter() - start
            same = (work / "small-python.jsonl").read_bytes() == (
                work / "small-duckdb.jsonl"
            ).read_bytes()
            print(
                f"{python_patients:,} patients: python engine {runs['python']:.1f} s, duckdb"
                f" {runs['duckdb']:.1f} s; identical results: {same}"
            )
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bulk", type=int, default=0, help="patients in a Bulk Data export")
    parser.add_argument("--python", type=int, default=0, help="patients for the python engine")
    args = parser.parse_args()
    one_record()
    if args.bulk:
        bulk(args.bulk, args.python)


if __name__ == "__main__":
    main()
