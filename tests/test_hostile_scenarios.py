"""Hostile and careless scenario files: impossible values, files that are not scenario files,
and fuzzing of the scenario reader.

- An impossible date (2025-02-30) in a scenario's facts or `derived` expectation is a problem
  naming the file, the line and the fact; the other scenarios of the file are still read (it
  once discarded the whole file with no line).
- A YAML file found in a policy folder is a scenario file when it holds a list (or a mapping with
  a `scenarios` key); a patient's facts file placed beside the policy is passed over with a note,
  not reported as a broken scenario file. Named on the command line, a file is always read.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.cli import leukorules
from support.profiles import examples
from support.watchdog import watchdog

from leukorules import load_policy
from leukorules import model as m
from leukorules.authoring.scenario_files import (
    NOT_SCENARIOS,
    load_scenario_text,
    read_scenario_text,
)
from leukorules.check import check_text

POLICY = """\
policy demo.dates { title "Dates" version "1.0" }
evidence 1 { citation "c" }
fact onset: date "Onset"
fact age: integer in 0..120 "Age"
derived since: date "Since"
rule r.recent {
  statement "Recent onset."
  evidence 1
  when onset >= 2025-01-01 and age >= 0
  recommend "Review"
}
rule r.since {
  statement "Since onset."
  evidence 1
  when onset is known
  derive since = 2025-01-01
}
"""

GOOD = """\
- name: recent
  facts: {onset: 2025-03-01, age: 40}
  expect: {fired: [r.recent]}
"""


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with watchdog(120):
        yield


@cache
def policy() -> m.Policy:
    result = check_text(POLICY, "demo.rules")
    assert result.policy is not None, [d.message for d in result.diagnostics]
    return result.policy


def problems(text: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in load_scenario_text(text, policy(), "s.yaml")[1]]


# --- impossible values --------------------------------------------------------------------------


def test_an_impossible_date_names_its_line_and_fact_and_keeps_the_other_scenarios() -> None:
    text = (
        GOOD
        + "- name: impossible\n  facts:\n    age: 40\n    onset: 2025-02-30\n"
        + "  expect: {fired: [r.recent]}\n"
    )
    scenarios, found = load_scenario_text(text, policy(), "s.yaml")
    assert [s.name for s in scenarios] == ["recent"]
    assert [(p.line, p.message, p.code) for p in found] == [
        (7, "scenario 'impossible': `onset` is not a calendar date", "LR503")
    ]


@pytest.mark.parametrize("date", ["2025-13-01", "2023-02-29", "2025-04-31"])
def test_other_impossible_dates_are_named_too(date: str) -> None:
    text = f"- name: x\n  facts: {{onset: {date}}}\n  expect: {{fired: [r.recent]}}\n"
    assert problems(text) == [(2, "scenario 'x': `onset` is not a calendar date")]


def test_an_impossible_date_in_a_derived_expectation_is_named() -> None:
    text = "- name: x\n  facts: {onset: 2025-03-01}\n  expect:\n    derived: {since: 2025-02-30}\n"
    [(line, message)] = problems(text)
    assert line == 4 and "derived fact `since`" in message


# --- what is a scenario file --------------------------------------------------------------------


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo.rules").write_text(POLICY)
    (folder / "scenarios.yaml").write_text(GOOD)
    (folder / "patient.yaml").write_text("onset: 2025-03-01\nage: 40\n")
    return folder


def test_a_patient_facts_file_beside_the_policy_is_passed_over_with_a_note(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    result = leukorules("test", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output.splitlines()
    assert (
        f"leukorules: note: passed over {folder / 'patient.yaml'}: {NOT_SCENARIOS}" in result.output
    )


def test_a_facts_file_named_explicitly_is_read_as_a_scenario_file(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    result = leukorules("test", str(folder / "patient.yaml"))
    assert result.exit_code == 1
    assert "a scenario file is a list of scenarios" in result.output


def test_a_folder_of_facts_files_only_has_no_scenario_files(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    (folder / "scenarios.yaml").unlink()
    result = leukorules("test", str(folder))
    assert result.exit_code == 1
    assert "no scenario files (*.yaml)" in result.output and "passed over" in result.output


@pytest.mark.parametrize(
    ("text", "is_scenario_file"),
    [
        (GOOD, True),  # a list
        ("scenarios:\n" + "".join("  " + line + "\n" for line in GOOD.splitlines()), True),
        ("scenarios: []\nextra: 1\n", True),  # a broken scenario file is still reported
        ("onset: 2025-03-01\n", False),  # a facts file
        ("{}\n", False),
        ("just text\n", True),  # not a facts file either: reported as a broken scenario file
        ("", True),  # empty: reported
    ],
)
def test_the_shape_decides(text: str, is_scenario_file: bool) -> None:
    read = read_scenario_text(text, policy(), "s.yaml", explicit=False)
    assert (read.not_scenarios is None) == is_scenario_file


def test_the_bundled_scenarios_are_all_recognised() -> None:
    from leukorules.authoring.scenario_files import read_scenario_file
    from leukorules.authoring.scenarios import scenario_files

    bundled = load_policy()
    folder = Path(str(bundled.policy.span.file if bundled.policy.span else "")).parent
    files = scenario_files(folder)
    assert files
    for file in files:
        read = read_scenario_file(file, bundled.policy, explicit=False)
        assert read.not_scenarios is None and read.problems == [], file


# --- fuzzing the scenario reader ----------------------------------------------------------------

_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["2025-02-30", "2025-03-01", "r.recent", "r.since", "onset", "age"]),
)
_KEY = st.sampled_from(
    [
        "name",
        "facts",
        "expect",
        "fired",
        "not_fired",
        "derived",
        "undetermined",
        "gaps",
        "refused",
        "onset",
        "age",
        "since",
        "x",
    ]
)
_NODE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEY, inner, max_size=4)),
    max_leaves=25,
)
_RAW = st.one_of(
    st.text(st.sampled_from("-:{}[], \n\t'\"&*!|>#@%abc0129"), max_size=60),
    st.sampled_from(["- " * 5000, "[" * 50_000, "a: &x [1]\nb: *x\n", "!!python/object:os.system"]),
)


@settings(max_examples=examples(150))
@given(st.one_of(_NODE.map(lambda node: yaml.safe_dump(node, allow_unicode=True)), _RAW))
@example("- name: x\n  facts: {onset: 2025-02-30}\n  expect: {fired: [r.recent]}\n")
@example("- name: x\n  facts: {onset: [[[[]]]]}\n  expect: {fired: [r.recent]}\n")
def test_any_yaml_gives_scenarios_or_located_problems_never_an_exception(text: str) -> None:
    for explicit in (True, False):
        read = read_scenario_text(text, policy(), "s.yaml", explicit)
        for problem in read.problems:
            assert problem.file == "s.yaml" and problem.line >= 0
            problem.render()
        assert not (read.scenarios and read.not_scenarios)
