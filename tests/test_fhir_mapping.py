"""FHIR R4 records -> facts with provenance: what counts as evidence, located diagnostics,
disagreeing sources, Bulk Data folders, and the example records being up to date."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from leukorules.api import load_policy
from leukorules.codesystems import ICD_10_CM, RXNORM, SNOMED_CT
from leukorules.fhir import map_bulk_export, map_record_file, map_record_text, synthetic, with_facts
from leukorules.fhir.bindings import CONDITION_CLINICAL, CONDITION_VERIFICATION, DUE_TO
from leukorules.fhir.reading import is_fhir_text

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime.date(2025, 1, 15)
POLICY = load_policy().policy


def condition(
    rid: str,
    system: str,
    code: str,
    clinical: str | None = "active",
    verification: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p"},
        **extra,
    }
    if clinical is not None:
        resource["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": clinical}]}
    if verification is not None:
        resource["verificationStatus"] = {
            "coding": [{"system": CONDITION_VERIFICATION, "code": verification}]
        }
    return resource


def record(*resources: dict[str, Any]) -> str:
    entries = [{"resource": r} for r in resources]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=2)


def mapped(*resources: dict[str, Any]) -> Any:
    return map_record_text(record(*resources), "record.json", POLICY, as_of=AS_OF)


def test_an_active_confirmed_condition_gives_its_fact_with_its_provenance() -> None:
    result = mapped(condition("c1", SNOMED_CT, "22255007", verification="confirmed"))
    assert result.facts == {"leukoencephalopathy_type": "pml"}
    (source,) = result.provenance["leukoencephalopathy_type"].sources
    assert (source.resource_type, source.resource_id, source.code) == (
        "Condition",
        "c1",
        "22255007",
    )
    assert source.location == "Bundle.entry[0].resource"
    assert result.diagnostics == ()


def test_absence_of_a_code_is_unknown_never_false() -> None:
    result = mapped(condition("c1", SNOMED_CT, "22255007"))
    assert "seizures" not in result.facts and "hiv_positive" not in result.facts
    assert result.provenance["seizures"].value is None
    assert result.provenance["seizures"].reason == "no resource of the record carries it"


def test_a_refuted_condition_is_positive_evidence_of_false() -> None:
    result = mapped(condition("c1", ICD_10_CM, "R56.9", clinical=None, verification="refuted"))
    assert result.facts == {"seizures": False}


def test_refuting_one_type_says_nothing_of_the_others() -> None:
    result = mapped(condition("c1", ICD_10_CM, "A81.2", clinical=None, verification="refuted"))
    assert result.facts == {}
    assert "refuted" in (result.provenance["leukoencephalopathy_type"].reason or "")


def test_entered_in_error_is_ignored() -> None:
    result = mapped(condition("c1", ICD_10_CM, "B20", verification="entered-in-error"))
    assert result.facts == {}
    assert result.provenance["hiv_positive"].evidence == ()


@pytest.mark.parametrize("status", ["provisional", "unconfirmed", "differential"])
def test_an_unconfirmed_condition_leaves_the_fact_unknown_with_the_reason(status: str) -> None:
    result = mapped(condition("c1", ICD_10_CM, "R56.9", verification=status))
    assert result.facts == {}
    assert f"verification status {status}" in (result.provenance["seizures"].reason or "")


def test_a_resolved_symptom_says_nothing_of_now_but_a_resolved_diagnosis_stands() -> None:
    result = mapped(
        condition("c1", ICD_10_CM, "R56.9", clinical="resolved"),
        condition("c2", ICD_10_CM, "B20", clinical="remission"),
    )
    assert result.facts == {"hiv_positive": True}
    assert "says nothing of now" in (result.provenance["seizures"].reason or "")


def test_an_active_symptom_with_an_abatement_is_ambiguous() -> None:
    result = mapped(condition("c1", ICD_10_CM, "R45.1", abatementDateTime="2024-12-01"))
    assert result.facts == {}
    assert "abatement" in (result.provenance["agitation"].reason or "")


def test_an_observation_gives_an_explicit_yes_or_no_when_recent_and_final() -> None:
    def observation(rid: str, value: bool, day: str, status: str = "final") -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": status,
            "code": {"coding": [{"system": SNOMED_CT, "code": "91175000"}]},
            "effectiveDateTime": day,
            "valueBoolean": value,
        }

    assert mapped(observation("o1", False, "2025-01-10")).facts == {"seizures": False}
    old = mapped(observation("o1", False, "2024-06-01"))
    assert old.facts == {} and "more than 30 days" in (old.provenance["seizures"].reason or "")
    early = mapped(observation("o1", True, "2025-01-10", status="preliminary"))
    assert early.facts == {} and "preliminary" in (early.provenance["seizures"].reason or "")


def test_white_matter_disease_due_to_a_drug_is_drug_induced_and_names_the_drug() -> None:
    due = {
        "url": DUE_TO,
        "valueCodeableConcept": {"coding": [{"system": RXNORM, "code": "200060"}]},
    }
    result = mapped(condition("c1", ICD_10_CM, "R90.82", extension=[due]))
    assert result.facts == {
        "leukoencephalopathy_type": "drug_induced",
        "causative_drug": "mycophenolic_acid",
    }
    alone = mapped(condition("c1", ICD_10_CM, "R90.82"))
    assert alone.facts == {}


@pytest.mark.parametrize(
    ("status", "period_end", "expected"),
    [
        ("active", None, {"toxic_exposure_ongoing": True}),
        ("stopped", None, {"toxic_exposure_ongoing": False}),
        ("completed", None, {"toxic_exposure_ongoing": False}),
        ("on-hold", None, {}),
        ("active", "2024-12-31", {}),
    ],
)
def test_the_causative_medication_status_and_period_say_whether_exposure_goes_on(
    status: str, period_end: str | None, expected: dict[str, bool]
) -> None:
    statement: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": "m1",
        "status": status,
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1310525"}]},
    }
    if period_end:
        statement["effectivePeriod"] = {"start": "2024-01-01", "end": period_end}
    due = {"url": DUE_TO, "valueReference": {"reference": "MedicationStatement/m1"}}
    result = mapped(condition("c1", SNOMED_CT, "722602003", extension=[due]), statement)
    assert result.facts == {
        "leukoencephalopathy_type": "toxic",
        "causative_drug": "other",
        **expected,
    }


def test_two_resources_giving_two_values_leave_the_fact_unknown_and_name_both() -> None:
    result = mapped(
        condition("c1", SNOMED_CT, "91175000"),
        condition("c2", ICD_10_CM, "R56.9", clinical=None, verification="refuted"),
    )
    assert "seizures" not in result.facts
    (problem,) = result.diagnostics
    assert problem.code == "LR521"
    assert "Condition/c1" in problem.message and "Condition/c2" in problem.message
    assert problem.span is not None and problem.related


def test_an_invalid_resource_is_reported_at_its_fhir_path_and_line() -> None:
    bad = condition("c1", SNOMED_CT, "22255007")
    bad["code"]["coding"][0]["display"] = 3
    result = mapped(bad)
    assert result.facts == {}
    (problem,) = result.diagnostics
    assert problem.code == "LR520"
    assert problem.message.startswith("`Bundle.entry[0].resource.code.coding[0].display`")
    text = record(bad).splitlines()
    assert problem.span is not None
    assert '"display": 3' in text[problem.span.line - 1]


def test_a_status_code_outside_fhirs_value_set_is_reported() -> None:
    result = mapped(condition("c1", ICD_10_CM, "R56.9", clinical="actve"))
    assert [d.code for d in result.diagnostics] == ["LR520"]
    assert "`actve` is not a code of" in result.diagnostics[0].message


def test_a_resource_no_binding_reads_is_not_validated() -> None:
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "nonsense"}
    assert mapped(encounter).diagnostics == ()


def test_not_json_and_not_a_resource_are_reported() -> None:
    assert map_record_text("{", "r.json", POLICY).diagnostics[0].code == "LR507"
    assert map_record_text('{"a": 1}', "r.json", POLICY).diagnostics[0].code == "LR507"
    assert is_fhir_text('{"resourceType": "Bundle"}')
    assert not is_fhir_text("seizures: true\n")


def test_a_facts_file_that_disagrees_with_the_record_leaves_the_fact_unknown() -> None:
    result = mapped(condition("c1", ICD_10_CM, "R56.9"))
    merged = with_facts(result, "judgement.yaml", {"seizures": False, "pml_signs": True})
    assert merged.facts == {"pml_signs": True}
    assert [d.code for d in merged.diagnostics] == ["LR521"]
    assert "judgement.yaml" in merged.diagnostics[0].message


def test_a_missing_extra_names_the_install_command() -> None:
    code = (
        "import sys\n"
        "sys.modules['fhir.resources'] = None\n"
        "sys.modules['fhir.resources.R4B'] = None\n"
        "from leukorules.fhir.reading import resource_model, FhirExtraMissing\n"
        "try:\n    resource_model('Condition')\nexcept FhirExtraMissing as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        out.stdout.strip()
        == "reading FHIR records needs the fhir extra: pip install 'leukorules[fhir]'"
    )


def test_importing_leukorules_fhir_does_not_import_fhir_resources() -> None:
    code = "import sys, leukorules.fhir; print('fhir.resources' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _example_facts() -> dict[str, dict[str, object]]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "examples" / "patients").glob("*.yaml"))
    }


@pytest.mark.parametrize("name", sorted(_example_facts()))
def test_each_example_record_is_the_generators_and_maps_back_to_its_coded_facts(name: str) -> None:
    facts = _example_facts()[name]
    path = ROOT / "examples" / "fhir" / f"{name}.json"
    expected = synthetic.bundle(facts, name, synthetic.EXAMPLES_DATE, POLICY)
    assert json.loads(path.read_text(encoding="utf-8")) == expected, (
        "regenerate: python examples/fhir/regenerate.py"
    )
    result = map_record_file(path, POLICY, as_of=synthetic.EXAMPLES_DATE)
    assert result.diagnostics == ()
    assert dict(result.facts) == synthetic.carried(facts, POLICY)


def test_the_bulk_export_gives_each_patient_what_their_bundle_gives(tmp_path: Path) -> None:
    cohort = _example_facts()
    synthetic.write_bulk_export(cohort, tmp_path, AS_OF, POLICY)
    results, problems = map_bulk_export(tmp_path, POLICY, as_of=AS_OF)
    assert not problems.counts
    assert [r.patient for r in results] == sorted(cohort)
    for result in results:
        bundle = json.dumps(
            synthetic.bundle(cohort[result.patient or ""], result.patient or "", AS_OF, POLICY)
        )
        assert result.facts == map_record_text(bundle, "b.json", POLICY, as_of=AS_OF).facts


def test_bulk_lines_that_cannot_be_read_are_counted_per_file(tmp_path: Path) -> None:
    line = json.dumps(condition("c1", ICD_10_CM, "R56.9") | {"subject": {"display": "?"}})
    (tmp_path / "Condition.ndjson").write_text(line + "\n", encoding="utf-8")
    (tmp_path / "Observation.ndjson").write_text('{"a": 1}\n{not json\n\n', encoding="utf-8")
    results, problems = map_bulk_export(tmp_path, POLICY, as_of=AS_OF)
    assert results == []
    assert problems.lines() == [
        "Condition.ndjson: 1 resources name no patient (subject or patient: Patient/<id>)",
        "Observation.ndjson: 1 lines are not FHIR resources (no resourceType)",
        "Observation.ndjson: 1 lines are not JSON",
    ]


def test_the_example_bulk_export_is_the_generators(tmp_path: Path) -> None:
    synthetic.write_bulk_export(_example_facts(), tmp_path, synthetic.EXAMPLES_DATE, POLICY)
    folder = ROOT / "examples" / "fhir" / "bulk"
    assert sorted(p.name for p in folder.glob("*.ndjson")) == sorted(
        p.name for p in tmp_path.glob("*.ndjson")
    )
    for path in tmp_path.glob("*.ndjson"):
        assert (folder / path.name).read_text(encoding="utf-8") == path.read_text(
            encoding="utf-8"
        ), "regenerate: python examples/fhir/regenerate.py"
