"""FHIR Bulk Data exports as cohorts: the python mapping (`leukorules.fhir.bulk`) and the SQL
mapping (`leukorules.fhir.bulk_sql`) give the same rows on random exports that exercise every
status, date and reference case; each row equals what the patient's resources give as one
Bundle; `leukorules batch export/` writes the same results and errors on both engines, and each
result equals `evaluate` of that patient's Bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fhir_cohorts import AS_OF, patient_bundle, random_export, write_export

from leukorules.api import load_policy
from leukorules.cli import main
from leukorules.fhir import map_record_text
from leukorules.fhir.bindings import Bindings
from leukorules.fhir.bulk import BulkExport, PatientFacts, export_files
from leukorules.fhir.bulk_sql import BulkSQL, mapping_query

COMPILED = load_policy()
POLICY = COMPILED.policy
BINDINGS = Bindings.of(POLICY)
KINDS = {name: POLICY.facts[name].type.kind for name in BINDINGS.facts}
PLAIN: dict[str, str | None] = {"NO_COLOR": "1", "FORCE_COLOR": None}


def both(folder: Path) -> tuple[list[PatientFacts], list[PatientFacts], BulkExport, BulkSQL]:
    python = BulkExport(folder, BINDINGS, AS_OF)
    sql = BulkSQL(export_files(folder), BINDINGS, KINDS, AS_OF)
    return list(python.patients()), list(sql.patients()), python, sql


@pytest.mark.parametrize("seed", range(6))
def test_the_sql_mapping_gives_the_python_mappings_rows(seed: int, tmp_path: Path) -> None:
    export = random_export(seed, POLICY, 60)
    write_export(export, tmp_path)
    python_rows, sql_rows, python, sql = both(tmp_path)
    assert sql_rows == python_rows
    assert sql.problems.lines() == python.problems.lines()
    assert any(row.problems for row in python_rows)  # the exports do exercise rejection


@pytest.mark.parametrize("seed", range(3))
def test_each_row_is_what_the_patients_resources_give_as_one_bundle(
    seed: int, tmp_path: Path
) -> None:
    export = random_export(seed, POLICY, 60)
    write_export(export, tmp_path)
    for row in BulkExport(tmp_path, BINDINGS, AS_OF).patients():
        bundle = json.dumps(patient_bundle(export, row.patient))
        record = map_record_text(bundle, "bundle.json", BINDINGS, AS_OF)
        codes = {str(d.code) for d in record.diagnostics}
        assert {code for code, _ in row.problems} == codes
        if not codes:
            assert row.facts == dict(record.facts)


def test_a_partitioned_export_gives_the_same_rows_as_one_read_whole(tmp_path: Path) -> None:
    write_export(random_export(7, POLICY, 120), tmp_path)
    whole = list(BulkExport(tmp_path, BINDINGS, AS_OF).patients())
    parts = BulkExport(tmp_path, BINDINGS, AS_OF, partition_bytes=4096)
    assert parts.partitions > 3
    assert list(parts.patients()) == whole


def test_the_mapping_query_is_pure(tmp_path: Path) -> None:
    files = [tmp_path / "Condition.ndjson"]
    assert mapping_query(files, BINDINGS, AS_OF, KINDS) == mapping_query(
        files, BINDINGS, AS_OF, KINDS
    )


def test_files_of_resource_types_no_binding_reads_are_not_opened(tmp_path: Path) -> None:
    for name in ("Encounter.ndjson", "Procedure.001.ndjson", "Condition.ndjson", "export.ndjson"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert [p.name for p in export_files(tmp_path)] == ["Condition.ndjson", "export.ndjson"]


def batch(folder: Path, out: Path, engine: str) -> str:
    args = ["batch", str(folder), "--out", str(out), "--engine", engine, "--jobs", "1"]
    result = CliRunner().invoke(main, [*args, "--as-of", AS_OF.isoformat()], env=PLAIN)
    assert result.exit_code == 0, result.output
    return result.stderr


def test_batch_on_an_export_folder_gives_the_same_results_on_both_engines_and_as_evaluate(
    tmp_path: Path,
) -> None:
    export = random_export(11, POLICY, 80)
    folder = tmp_path / "export"
    write_export(export, folder)
    warnings = {
        engine: batch(folder, tmp_path / f"{engine}.jsonl", engine)
        for engine in ("python", "duckdb")
    }
    assert warnings["python"] == warnings["duckdb"]
    results = (tmp_path / "python.jsonl").read_text(encoding="utf-8")
    assert results == (tmp_path / "duckdb.jsonl").read_text(encoding="utf-8")
    errors = (tmp_path / "python.errors.jsonl").read_text(encoding="utf-8")
    assert errors == (tmp_path / "duckdb.errors.jsonl").read_text(encoding="utf-8")
    rejected = {json.loads(line)["id"] for line in errors.splitlines()}
    assert rejected
    rows = [json.loads(line) for line in results.splitlines()]
    patients = [row.patient for row in BulkExport(folder, BINDINGS, AS_OF).patients()]
    assert (
        sorted(r["id"] for r in rows) + sorted(rejected) != []
        and sorted([r["id"] for r in rows] + list(rejected)) == patients
    )
    for row in rows:
        bundle = json.dumps(patient_bundle(export, row["id"]))
        record = map_record_text(bundle, "bundle.json", POLICY, AS_OF)
        evaluation = COMPILED.evaluate(dict(record.facts))
        fired = [rule for rule, outcome in evaluation.outcomes.items() if outcome == "fired"]
        open_rules = [u for u, o in evaluation.outcomes.items() if o == "undetermined"]
        assert (row["fired"], row["undetermined"]) == (fired, open_rules), row["id"]


def test_batch_warns_about_lines_it_could_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "p1"}\n', "utf-8")
    (folder / "Condition.ndjson").write_text('{not json\n{"resourceType": "Condition"}\n', "utf-8")
    for engine in ("python", "duckdb"):
        stderr = batch(folder, tmp_path / f"{engine}.jsonl", engine)
        assert stderr == (
            "leukorules: warning: Condition.ndjson: 1 lines are not JSON; they were not read\n"
            "leukorules: warning: Condition.ndjson: 1 resources name no patient (subject or "
            "patient: Patient/<id>); they were not read\n"
        )
        (row,) = (tmp_path / f"{engine}.jsonl").read_text(encoding="utf-8").splitlines()
        assert json.loads(row)["id"] == "p1"
