"""`leukorules evaluate` (and `explain`) on a FHIR health record: recognised by its content,
facts added with `--with`, disagreements refused, provenance in every rendering, located
diagnostics for invalid FHIR, and one line when the fhir extra is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from leukorules.cli import main
from leukorules.codesystems import ICD_10_CM, SNOMED_CT
from leukorules.fhir.bindings import CONDITION_CLINICAL, CONDITION_VERIFICATION
from leukorules.result.schema import parse_evaluation

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "fhir"
POLICY = ROOT / "policies" / "leukoencephalopathy"  # given, so stderr holds only the error
SCHEMA = json.loads((ROOT / "docs" / "result.schema.json").read_text("utf-8"))
PLAIN: dict[str, str | None] = {"NO_COLOR": "1", "FORCE_COLOR": None}
AS_OF = ("--as-of", "2025-01-15")


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, env=PLAIN)


def condition(rid: str, system: str, code: str, verification: str = "confirmed") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": CONDITION_VERIFICATION, "code": verification}]
        },
        "code": {"coding": [{"system": system, "code": code, "display": "Shown"}]},
        "subject": {"reference": "Patient/p"},
        "recordedDate": "2025-01-10",
    }


def write_record(folder: Path, *resources: dict[str, Any]) -> Path:
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    path = folder / "record.json"
    path.write_text(json.dumps(bundle, indent=2), encoding="utf-8")
    return path


def test_a_bundle_is_recognised_without_a_flag_and_the_report_names_each_facts_source() -> None:
    result = run("evaluate", str(EXAMPLES / "hiv-associated-pml.json"), *AS_OF)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("policy folder: ") and result.stderr.count("\n") == 1
    report = result.stdout
    assert "FACTS FROM THE RECORD" in report
    assert "leukoencephalopathy_type = pml" in report
    assert "from: Condition/hiv-associated-pml-leukoencephalopathy-type (SNOMED CT 22255007" in (
        report.replace("\n            ", " ")
    )
    assert "2025-01-15" in report


def test_the_markdown_and_html_reports_name_each_facts_source_too() -> None:
    source = "Condition/hiv-associated-pml-leukoencephalopathy-type"
    markdown = run(
        "evaluate", str(EXAMPLES / "hiv-associated-pml.json"), *AS_OF, "--format", "markdown"
    )
    assert markdown.exit_code == 0, markdown.output
    section = markdown.stdout.split("## Facts from the record\n", 1)[1].split("\n## ", 1)[0]
    row = next(
        line for line in section.splitlines() if line.startswith("| `leukoencephalopathy_type`")
    )
    assert "| pml |" in row and f"{source} \\(SNOMED CT 22255007" in row
    html = run("evaluate", str(EXAMPLES / "hiv-associated-pml.json"), *AS_OF, "--format", "html")
    assert html.exit_code == 0, html.output
    assert "<th>From the record</th>" in html.stdout
    assert f"{source} (SNOMED CT 22255007" in html.stdout
    sparse = run(
        "evaluate", str(EXAMPLES / "almost-nothing-known.json"), *AS_OF, "--format", "markdown"
    )
    assert "| `hiv_positive` | unknown | no resource of the record carries it |" in sparse.stdout
    sparse_html = run(
        "evaluate", str(EXAMPLES / "almost-nothing-known.json"), *AS_OF, "--format", "html"
    )
    assert "Unknown from the record, and why" in sparse_html.stdout


def test_facts_files_get_no_record_section_in_any_rendering(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text("leukoencephalopathy_type: pml\n", encoding="utf-8")
    for form, marker in (
        ("text", "FACTS FROM THE RECORD"),
        ("markdown", "Facts from the record"),
        ("html", "From the record"),
    ):
        result = run("evaluate", str(facts), "--policy", str(POLICY), "--format", form)
        assert result.exit_code == 0 and marker not in result.stdout, form


def test_the_json_result_carries_the_provenance_and_fits_the_published_schema() -> None:
    result = run("evaluate", str(EXAMPLES / "hiv-associated-pml.json"), *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    found = document["provenance"]["hiv_positive"]
    assert found["value"] is True and found["reason"] is None
    assert {e["source"]["resource_type"] for e in found["evidence"]} == {"Condition"}
    # the first ICD-10-CM and SNOMED CT codes of value set hiv (fhir.rules)
    assert {e["source"]["code"] for e in found["evidence"]} == {"B20", "86406008"}
    assert document["provenance"]["pres"] == {
        "value": None,
        "reason": "no resource of the record carries it",
        "evidence": [],
    }
    parsed = parse_evaluation(result.stdout)
    assert parsed.provenance is not None and parsed.to_json(indent=2) + "\n" == result.stdout


def test_facts_files_never_get_a_provenance_key(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text("leukoencephalopathy_type: pml\n", encoding="utf-8")
    result = run("evaluate", str(facts), "--format", "json")
    assert result.exit_code == 0 and "provenance" not in json.loads(result.stdout)


def test_one_resource_is_a_record_too(tmp_path: Path) -> None:
    path = tmp_path / "condition.json"
    path.write_text(json.dumps(condition("c1", SNOMED_CT, "22255007")), encoding="utf-8")
    result = run("evaluate", str(path), *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    provenance = json.loads(result.stdout)["provenance"]
    assert provenance["leukoencephalopathy_type"]["value"] == "pml"
    assert provenance["leukoencephalopathy_type"]["evidence"][0]["source"]["location"] == (
        "Condition"
    )


def test_a_record_is_read_from_stdin() -> None:
    text = (EXAMPLES / "hiv-associated-pml.json").read_text(encoding="utf-8")
    result = run("evaluate", "-", *AS_OF, "--format", "json", stdin=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["provenance"]["hiv_positive"]["value"] is True


def test_with_adds_the_clinicians_judgement_and_names_the_file(tmp_path: Path) -> None:
    judgement = tmp_path / "judgement.yaml"
    judgement.write_text("immune_restoration_possible: true\n", encoding="utf-8")
    record = str(EXAMPLES / "hiv-associated-pml.json")
    result = run("evaluate", record, *AS_OF, "--with", str(judgement), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    added = document["provenance"]["immune_restoration_possible"]
    assert added["value"] is True
    assert added["evidence"][0]["source"]["resource_type"] == "facts file"
    assert added["evidence"][0]["source"]["location"] == str(judgement)
    text = run("evaluate", record, *AS_OF, "--with", str(judgement)).stdout
    assert f"immune_restoration_possible = true\n      from: {judgement}" in text


def test_two_sources_that_disagree_stop_the_evaluation_and_are_both_named(tmp_path: Path) -> None:
    judgement = tmp_path / "judgement.yaml"
    judgement.write_text("hiv_positive: false\n", encoding="utf-8")
    record = str(EXAMPLES / "hiv-associated-pml.json")
    result = run("evaluate", record, *AS_OF, "--with", str(judgement))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "[LR521]" in result.stderr
    assert "Condition/hiv-associated-pml-hiv-positive" in result.stderr
    assert str(judgement) in result.stderr
    assert "nothing was evaluated" in result.stderr


def test_two_facts_files_that_disagree_are_refused_too(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text("seizures: true\n", encoding="utf-8")
    second = tmp_path / "b.yaml"
    second.write_text("seizures: false\nagitation: true\n", encoding="utf-8")
    result = run("evaluate", str(first), "--with", str(second))
    assert result.exit_code == 1 and result.stdout == ""
    assert "[LR521]" in result.stderr and "a.yaml" in result.stderr and "b.yaml" in result.stderr
    agreeing = tmp_path / "c.yaml"
    agreeing.write_text("seizures: true\nagitation: true\n", encoding="utf-8")
    assert run("evaluate", str(first), "--with", str(agreeing)).exit_code == 0


def test_a_with_file_value_the_policy_refuses_is_reported_like_any_bad_fact(tmp_path: Path) -> None:
    judgement = tmp_path / "judgement.yaml"
    judgement.write_text("corticosteroid_response: maybe\n", encoding="utf-8")
    record = str(EXAMPLES / "hiv-associated-pml.json")
    result = run("evaluate", record, *AS_OF, "--with", str(judgement))
    assert result.exit_code == 1 and "[LR504]" in result.stderr


def test_invalid_fhir_is_reported_at_its_path_and_line_and_nothing_is_evaluated(
    tmp_path: Path,
) -> None:
    bad = condition("c1", SNOMED_CT, "22255007")
    bad["code"]["coding"][0]["display"] = 3
    path = write_record(tmp_path, condition("c0", ICD_10_CM, "R56.9"), bad)
    result = run("evaluate", str(path), *AS_OF)
    assert result.exit_code == 1 and result.stdout == ""
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if '"display": 3' in t)
    assert f"{path}:{line}:" in result.stderr
    assert "`Bundle.entry[1].resource.code.coding[0].display`" in result.stderr
    assert "[LR520]" in result.stderr
    assert '"display": 3' not in result.stderr  # no code frame of the patient's record


def test_a_record_that_is_not_json_is_read_as_a_facts_file_and_refused_as_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "record.json"
    path.write_text('{"resourceType": "Bundle", ', encoding="utf-8")
    result = run("evaluate", str(path))
    assert result.exit_code == 1 and "[LR507]" in result.stderr


def test_explain_reads_a_record_too() -> None:
    record = str(EXAMPLES / "hiv-associated-pml.json")
    result = run("explain", record, "pml.hiv_antiretroviral_therapy", *AS_OF)
    assert result.exit_code == 0, result.output
    assert "Outcome: FIRED" in result.stdout


def test_a_logged_decision_from_a_record_replays(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    record = str(EXAMPLES / "hiv-associated-pml.json")
    result = run("evaluate", record, *AS_OF, "--log", str(db))
    assert result.exit_code == 0, result.output
    replayed = run("audit", "replay", "1", "--db", str(db))
    assert replayed.exit_code == 0, replayed.output


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", str(EXAMPLES / "hiv-associated-pml.json"), "--policy", str(POLICY)],
        ["facts", str(EXAMPLES / "hiv-associated-pml.json"), "--policy", str(POLICY)],
        ["batch", str(EXAMPLES / "bulk"), "--engine", "python", "--out", "{out}"],
    ],
    ids=["evaluate", "facts", "batch"],
)
def test_without_the_fhir_extra_one_line_names_the_install_command_and_exit_is_2(
    command: list[str], tmp_path: Path
) -> None:
    argv = ["leukorules", *(a.format(out=tmp_path / "results.jsonl") for a in command)]
    code = (
        "import sys\n"
        "sys.modules['fhir.resources'] = None\n"
        "sys.modules['fhir.resources.R4B'] = None\n"
        "from leukorules.cli import main\n"
        f"sys.argv = {argv!r}\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "leukorules: error: reading FHIR records needs the fhir extra: "
        "pip install 'leukorules[fhir]'\n"
    )


# --- leukorules facts --------------------------------------------------------------------------


def test_facts_prints_a_facts_file_with_the_source_of_each_fact_as_a_comment() -> None:
    import yaml

    record = EXAMPLES / "mycophenolate-no-pml-signs.json"
    result = run("facts", str(record), *AS_OF)
    assert result.exit_code == 0, result.output
    text = result.stdout
    document = yaml.safe_load(text)
    from leukorules import load_policy

    policy = load_policy().policy
    assert set(document) == {f.name for f in policy.facts.values() if not f.derived}
    assert document["leukoencephalopathy_type"] == "drug_induced"
    assert document["causative_drug"] == "mycophenolic_acid"
    assert document["pml_signs"] is None
    above = text.split("\nleukoencephalopathy_type: drug_induced")[0].splitlines()[-2:]
    assert "ICD-10-CM R90.82" in " ".join(above)
    assert "# unknown: no resource of the record carries it\npres: null" in text


def test_a_completed_facts_file_goes_back_to_evaluate(tmp_path: Path) -> None:
    record = EXAMPLES / "mycophenolate-no-pml-signs.json"
    printed = run("facts", str(record), *AS_OF).stdout
    completed = tmp_path / "facts.yaml"
    completed.write_text(printed.replace("pml_signs: null", "pml_signs: true"), encoding="utf-8")
    alone = run("evaluate", str(completed), "--format", "json")
    assert alone.exit_code == 0, alone.output
    beside = run("evaluate", str(record), *AS_OF, "--with", str(completed), "--format", "json")
    assert beside.exit_code == 0, beside.output
    first, second = json.loads(alone.stdout), json.loads(beside.stdout)
    assert second.pop("provenance")["pml_signs"]["value"] is True
    assert first == second
    assert first["outcomes"]["drug_induced.mycophenolic_acid.cessation"] == "fired"


def test_facts_as_json_has_the_facts_and_their_provenance() -> None:
    result = run("facts", str(EXAMPLES / "hiv-associated-pml.json"), *AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["facts"]["hiv_positive"] is True
    assert document["provenance"]["hiv_positive"]["evidence"][0]["source"]["code"] == "B20"


def test_facts_of_a_facts_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("seizures: true\n", encoding="utf-8")
    result = run("facts", str(path))
    assert result.exit_code == 0, result.output
    import yaml

    assert yaml.safe_load(result.stdout)["seizures"] is True
    above = result.stdout.split("\nseizures: true")[0].splitlines()[-2:]
    assert f"given in {path}" in " ".join(line.removeprefix("#").strip() for line in above)


def test_facts_refuses_what_evaluate_refuses(tmp_path: Path) -> None:
    bad = condition("c1", SNOMED_CT, "22255007")
    bad["verificationStatus"]["coding"][0]["code"] = "sure"
    path = write_record(tmp_path, bad)
    result = run("facts", str(path), *AS_OF)
    assert result.exit_code == 1 and result.stdout == ""
    assert "[LR520]" in result.stderr
    judgement = tmp_path / "j.yaml"
    judgement.write_text("hiv_positive: false\n", encoding="utf-8")
    record = str(EXAMPLES / "hiv-associated-pml.json")
    clash = run("facts", record, *AS_OF, "--with", str(judgement))
    assert clash.exit_code == 1 and clash.stdout == "" and "[LR521]" in clash.stderr
