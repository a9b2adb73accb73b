"""Guideline coverage: splitting the source, matching rules to statements, and the command."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support.cli import leukorules
from support.policies import checked

from leukorules import model as m
from leukorules.authoring.coverage import (
    compare,
    default_source,
    render_markdown,
    render_text,
    split_source,
)
from leukorules.check import check_paths, check_text

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "policies" / "leukoencephalopathy"
SOURCE = POLICY_DIR / "source" / "leukoencephalopathy-treatment.txt"
# The bundled copy must stay the guideline text byte for byte (it is what auditors compare).
SOURCE_SHA256 = "f364026ce9631ffe5bee2040f6724144b4c79c47b545b0bb86ccbb5110e6469b"

TYPES = "Types of Leukoencephalopathy and Specific Treatments"
DRUG = "Drug-Induced Leukoencephalopathy"
MONITORING = "Monitoring Response to Treatment"


@pytest.fixture(scope="module")
def bundled() -> m.Policy:
    result = check_paths([POLICY_DIR])
    assert result.policy is not None, [d.message for d in result.diagnostics]
    return result.policy


def test_bundled_source_is_the_guideline_verbatim() -> None:
    assert hashlib.sha256(SOURCE.read_bytes()).hexdigest() == SOURCE_SHA256


def test_split_bundled_source() -> None:
    doc = split_source(SOURCE.read_text(encoding="utf-8"), "guideline.txt")
    assert doc.title == "Treatment Approach for Leukoencephalopathy"
    assert len(doc.statements) == 31
    assert {r for s in doc.statements for r in s.evidence} == {"1", "2", "3", "4", "6"}
    by_line = {s.line: s for s in doc.statements}
    assert by_line[2].section == ()
    assert by_line[2].text.endswith("causative treatments available.")
    assert by_line[9].section == (
        TYPES,
        "Progressive Multifocal Leukoencephalopathy (PML)",
        "For medication-induced PML",
    )
    assert by_line[13].section == (
        TYPES,
        DRUG,
        "For mycophenolic acid-induced leukoencephalopathy",
    )
    # The rituximab bullet heading closes the mycophenolate one; the next plain heading closes it.
    assert by_line[16].section == (
        TYPES,
        "Post-Infectious/Post-Immunization Leukoencephalopathy (Acute Disseminated "
        "Encephalomyelitis)",
    )
    assert by_line[25].section == (
        "Supportive Management for All Types",
        "Neurological Symptom Management",
    )
    assert by_line[25].text.startswith("For neuropathic pain: duloxetine")  # a colon mid-line
    assert by_line[31].evidence == ("6",)
    assert by_line[48].section == (MONITORING, "Important Considerations")
    (empty,) = doc.empty_headings()
    assert empty.path == (TYPES, DRUG, "For rituximab-associated leukoencephalopathy")
    assert empty.line == 14


def test_heading_runs_nest_and_replace_levels() -> None:
    text = "\n".join(
        [
            "Title",
            "A",
            "B",
            "- one 1",
            "C",  # one heading after statements: sibling of B
            "*   two   words  2, 3",
            "",
            "D",
            "E",  # two headings after statements: replace A > C
            "- Sub one:",
            "- three 4",
            "- Sub two:",
            "- four 4",
            "F",  # closes the bullet sub-heading
            "- five 5",
        ]
    )
    doc = split_source(text)
    assert doc.title == "Title"
    got = [(s.text, s.evidence, s.section) for s in doc.statements]
    assert got == [
        ("one", ("1",), ("A", "B")),
        ("two   words", ("2", "3"), ("A", "C")),
        ("three", ("4",), ("D", "E", "Sub one")),
        ("four", ("4",), ("D", "E", "Sub two")),
        ("five", ("5",), ("D", "F")),
    ]
    assert [h.path for h in doc.headings] == [
        ("A",),
        ("A", "B"),
        ("A", "C"),
        ("D",),
        ("D", "E"),
        ("D", "E", "Sub one"),
        ("D", "E", "Sub two"),
        ("D", "F"),
    ]
    assert doc.empty_headings() == ()


def test_a_number_alone_or_a_heading_without_letters_is_not_a_statement() -> None:
    doc = split_source("Title\nSection\n2024 100\nreal statement 1\n")
    assert [s.text for s in doc.statements] == ["real statement"]
    assert [h.path for h in doc.headings] == [("Section",), ("Section", "2024 100")]


def test_bundled_policy_covers_every_statement(bundled: m.Policy) -> None:
    doc = split_source(SOURCE.read_text(encoding="utf-8"), str(SOURCE))
    report = compare(bundled, doc)
    assert [s.status for s in report.statements] == ["covered"] * 31
    assert report.percent == 100.0
    assert report.extra_rules == ()
    assert report.stray_gaps == ()
    (heading,) = report.empty_headings
    assert heading.gaps == ("drug_induced.rituximab.no_statement",)
    assert report.passes(100.0)
    assert default_source(bundled) is not None
    assert default_source(bundled).resolve() == SOURCE.resolve()  # type: ignore[union-attr]


SYNTHETIC_SOURCE = """\
Guide
Alpha
- First statement here 1
- Second statement here 2
Beta
- Third statement here 3
- Fourth statement here 4
"""

SYNTHETIC_POLICY = """\
policy demo { title "Guide" version "1" source "guide.txt" }
evidence 1 { citation unknown }
evidence 2 { citation unknown }
evidence 3 { citation unknown }
fact x: bool
section "Alpha" {
  rule a.first { statement " First   statement  here" evidence 1 when x note }
  rule a.second { statement "Second statement here" evidence 3 when x note }
}
section "Gamma" {
  rule b.third { statement "Third statement here" evidence 3 when x note }
  rule b.extra { statement "A statement the guideline never made" evidence 1 when x note }
}
"""


def _synthetic() -> m.Policy:
    return checked(SYNTHETIC_POLICY, "demo.rules")


def test_mismatch_statuses() -> None:
    report = compare(_synthetic(), split_source(SYNTHETIC_SOURCE, "guide.txt"))
    statuses = {s.statement.text: (s.status, s.rules) for s in report.statements}
    assert statuses == {
        "First statement here": ("covered", ("a.first",)),  # white space differs only
        "Second statement here": ("evidence mismatch", ("a.second",)),
        "Third statement here": ("section mismatch", ("b.third",)),
        "Fourth statement here": ("missing", ()),
    }
    second = next(s for s in report.statements if s.rules == ("a.second",))
    (problem,) = second.problems
    assert (problem.source, problem.policy) == ("2", "3")
    third = next(s for s in report.statements if s.rules == ("b.third",))
    assert (third.problems[0].source, third.problems[0].policy) == ("Beta", "Gamma")
    assert [r.id for r in report.extra_rules] == ["b.extra"]
    assert report.percent == 25.0
    assert not report.passes(25.0)  # a rule quotes text the source does not contain

    text = render_text(report)
    assert "! a.second: evidence is 3; the source says 2" in text
    assert "! b.third: section is Gamma; the source says Beta" in text
    assert "b.extra" in text.split("does not occur in the source")[1]
    assert "coverage: 1/4 statements covered (25.0%), 1 missing, 1 evidence mismatch" in text
    markdown = render_markdown(report)
    assert (
        "| 4 | Alpha | Second statement here | 2 | `a.second` "
        "| evidence mismatch: a.second has 3, source 2 |" in markdown
    )


def test_statement_with_both_mismatches_reports_evidence_first() -> None:
    policy = check_text(
        'policy p { title "t" version "1" }\nevidence 9 { citation unknown }\n'
        'rule r { statement "Only statement" evidence 9 note }\n'
    ).policy
    assert policy is not None
    report = compare(policy, split_source("Guide\nHeading\n- Only statement 1\n"))
    (item,) = report.statements
    assert item.status == "evidence mismatch"
    assert [p.kind for p in item.problems] == ["evidence mismatch", "section mismatch"]


# --- the command ------------------------------------------------------------------------------


def _write_synthetic(tmp_path: Path, policy: str = SYNTHETIC_POLICY) -> Path:
    (tmp_path / "demo.rules").write_text(policy, encoding="utf-8")
    (tmp_path / "guide.txt").write_text(SYNTHETIC_SOURCE, encoding="utf-8")
    return tmp_path / "demo.rules"


def test_cli_bundled_policy_reaches_100_percent() -> None:
    result = leukorules("coverage")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(
        "coverage: 31/31 statements covered (100.0%), 0 missing, 0 evidence mismatch, "
        "0 section mismatch, 0 rule(s) quoting text not in the source"
    )


def test_cli_json_and_markdown() -> None:
    result = leukorules("coverage", "--format", "json", str(POLICY_DIR))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["summary"]["percent"] == 100.0
    assert data["summary"]["statements"] == 31
    assert data["headings_without_statements"][0]["gaps"] == ["drug_induced.rituximab.no_statement"]
    result = leukorules("coverage", "--format", "markdown", "--source", str(SOURCE))
    assert result.exit_code == 0
    assert "| line | section | statement | evidence | rule(s) | status |" in result.output


def test_cli_exit_status_follows_fail_under(tmp_path: Path) -> None:
    extra = [line for line in SYNTHETIC_POLICY.splitlines(True) if "b.extra" in line]
    fixed = SYNTHETIC_POLICY.replace(extra[0], "")
    rules = _write_synthetic(tmp_path, fixed)
    result = leukorules("coverage", str(rules))  # source found beside the policy
    assert result.exit_code == 1
    assert "(25.0%)" in result.output
    assert leukorules("coverage", "--fail-under", "25", str(rules)).exit_code == 0
    assert leukorules("coverage", "--fail-under", "26", str(rules)).exit_code == 1


def test_cli_fails_on_a_rule_quoting_text_not_in_the_source(tmp_path: Path) -> None:
    rules = _write_synthetic(tmp_path)
    result = leukorules("coverage", "--fail-under", "0", str(rules))
    assert result.exit_code == 1
    assert "b.extra" in result.output


def test_cli_bad_sources_are_errors_not_tracebacks(tmp_path: Path) -> None:
    rules = _write_synthetic(tmp_path)
    missing = leukorules("coverage", "--source", str(tmp_path / "nope.txt"), str(rules))
    assert missing.exit_code == 1
    assert "cannot read the source" in missing.output
    assert missing.exception is None or isinstance(missing.exception, SystemExit)

    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"Title\n\xff\xfe statement 1\n")
    result = leukorules("coverage", "--source", str(binary), str(rules))
    assert result.exit_code == 1
    assert "not valid UTF-8" in result.output

    empty = tmp_path / "empty.txt"
    empty.write_text("Only a heading\n", encoding="utf-8")
    result = leukorules("coverage", "--source", str(empty), str(rules))
    assert result.exit_code == 1
    assert "no statements found" in result.output

    (tmp_path / "guide.txt").unlink()
    result = leukorules("coverage", str(rules))
    assert result.exit_code == 1
    assert "give --source" in result.output
