"""Scenario tests: the bundled scenarios (one pytest item each) and the runner itself."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from support.cli import leukorules
from support.policies import checked

from leukorules import model as m
from leukorules.authoring.scenario_files import load_scenario_file, load_scenario_text
from leukorules.authoring.scenarios import Scenario, rule_coverage, run_scenario, scenario_files
from leukorules.check import check_paths
from leukorules.check.analysis import scenario_yaml
from leukorules.engine.compile import CompiledPolicy, compile_policy

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "policies" / "leukoencephalopathy"


@cache
def bundled() -> CompiledPolicy:
    result = check_paths([POLICY_DIR])
    assert result.policy is not None, [d.message for d in result.diagnostics]
    return compile_policy(result.policy, result.sources)


@cache
def bundled_scenarios() -> tuple[Scenario, ...]:
    found: list[Scenario] = []
    for file in scenario_files(POLICY_DIR):
        scenarios, problems = load_scenario_file(file, bundled().policy)
        assert not problems, "\n".join(p.render() for p in problems)
        found.extend(scenarios)
    return tuple(found)


def _ids() -> list[str]:
    return [f"{Path(s.file).stem}: {s.name}" for s in bundled_scenarios()]


@pytest.mark.parametrize("scenario", bundled_scenarios(), ids=_ids())
def test_bundled_scenario(scenario: Scenario) -> None:
    result = run_scenario(bundled(), scenario)
    if not result.passed:
        pytest.fail(result.report(), pytrace=False)


def test_bundled_scenarios_fire_every_rule_and_report_every_gap() -> None:
    policy = bundled().policy
    results = [run_scenario(bundled(), s) for s in bundled_scenarios()]
    coverage = rule_coverage(policy, results)
    assert coverage.never_fired == ()
    assert coverage.percent == 100.0
    expected_gaps = {g for s in bundled_scenarios() for g in (s.expect.gaps or ())}
    assert expected_gaps == {g.id for g in policy.gaps}


def test_every_guideline_line_has_a_scenario_both_ways() -> None:
    """Each rule is expected to fire somewhere; each conditional rule also not to fire."""
    scenarios = bundled_scenarios()
    for rule in bundled().policy.rules:
        assert any(rule.id in s.expect.fired for s in scenarios), rule.id
        unconditional = rule.when == m.Const(True) and not rule.after
        if not unconditional:
            assert any(
                rule.id in (*s.expect.not_fired, *s.expect.overridden, *s.expect.undetermined)
                for s in scenarios
            ), rule.id


# --- the runner, on a small policy ----------------------------------------------------------

POLICY = """\
policy demo { title "Demo" version "1" }
evidence 1 { citation unknown }
fact kind: enum {a, b}
fact flag: bool
derived level: enum {low, high}
rule r.first { statement "First" evidence 1 when kind == a recommend "Do" }
rule r.second { statement "Second" evidence 1 after r.first when flag recommend "Then" }
rule r.low { statement "Low" evidence 1 when kind == b derive level = low }
rule r.high { statement "High" evidence 1 when kind == b and flag derive level = high
  overrides r.low }
gap g.empty { when kind == b note "nothing" }
"""


@pytest.fixture(scope="module")
def demo() -> CompiledPolicy:
    return compile_policy(checked(POLICY, "demo.rules"))


def _load(text: str, demo: CompiledPolicy) -> tuple[list[Scenario], list[str]]:
    scenarios, problems = load_scenario_text(text, demo.policy, "s.yaml")
    return scenarios, [p.render() for p in problems]


def test_passing_scenario_with_every_kind_of_expectation(demo: CompiledPolicy) -> None:
    scenarios, problems = _load(
        """
scenarios:
  - name: high
    facts: {kind: b, flag: true}
    expect:
      fired: [r.high]
      not_fired: [r.first, r.second]
      overridden: [r.low]
      derived: {level: high}
      gaps: [g.empty]
  - name: open
    facts: {kind: a}
    expect:
      fired: r.first
      undetermined: {r.second: [flag]}
      derived: {level: null}
      gaps: []
""",
        demo,
    )
    assert problems == []
    assert [s.line for s in scenarios] == [3, 11]
    results = [run_scenario(demo, s) for s in scenarios]
    assert [r.differences for r in results] == [(), ()]


def test_failing_scenario_reports_each_difference(demo: CompiledPolicy) -> None:
    (scenario,), problems = _load(
        """
- name: wrong
  facts: {kind: a}
  expect:
    fired: [r.high]
    not_fired: [r.first]
    overridden: [r.low]
    undetermined: {r.second: [kind]}
    derived: {level: low}
    gaps: [g.empty]
""",
        demo,
    )
    assert problems == []
    result = run_scenario(demo, scenario)
    assert not result.passed
    assert result.differences == (
        "r.high: expected fired, was not_fired",
        "r.first: expected not_fired, was fired",
        "r.low: expected overridden, was not_fired",
        "r.second: expected undetermined for want of [kind], was missing [flag]",
        "derived level: expected low, was unknown",
        "gaps: expected [g.empty], reported []",
    )
    assert result.report().splitlines()[0] == "FAIL s.yaml:2: wrong"


def test_counterexample_printed_by_the_checker_loads(demo: CompiledPolicy) -> None:
    text = scenario_yaml("both", {"kind": "b", "flag": True}, ["r.high"])
    (scenario,), problems = _load(text, demo)
    assert problems == []
    assert run_scenario(demo, scenario).passed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "s.yaml:1: error: the scenario file is empty"),
        ("- name: [unclosed\n", "s.yaml:2: error: malformed YAML"),
        ("name: x\n", "s.yaml:1: error: a scenario file is a list of scenarios, or a mapping"),
        ("scenarios: 3\n", "s.yaml:1: error: a scenario file holds a list of scenarios"),
        ("- just text\n", "s.yaml:1: error: a scenario must be a mapping"),
        ("- facts: {}\n  expect: {fired: [r.first]}\n", "s.yaml:1: error: a scenario needs a"),
        ("- name: x\n  facts: {}\n", "s.yaml:1: error: scenario 'x' has no `expect`"),
        ("- name: x\n  expect: {}\n", "s.yaml:2: error: scenario 'x' expects nothing"),
        ("- name: x\n  expect: {fired: []}\n", "s.yaml:2: error: scenario 'x' expects nothing"),
        ("- name: x\n  fact: {}\n", "s.yaml:2: error: unknown key `fact` in a scenario"),
        ("- name: x\n  expect: {fird: [r.first]}\n", "unknown key `fird` in `expect`"),
        ("- name: x\n  expect:\n    fired: [r.frist]\n", "s.yaml:3: error: `r.frist` in"),
        ("- name: x\n  expect: {fired: [g.empty]}\n", "`g.empty` in `fired` is a gap"),
        ("- name: x\n  expect: {gaps: [g.none]}\n", "`g.none` is not a gap of this policy"),
        ("- name: x\n  expect: {derived: {flag: true}}\n", "`flag` is an input fact"),
        ("- name: x\n  expect: {derived: {level: mid}}\n", "'mid' is not a value of derived"),
        (
            "- name: x\n  expect: {undetermined: {r.first: [nope]}}\n",
            "`nope` is not a fact of this policy",
        ),
        (
            "- name: x\n  expect: {fired: [r.first], not_fired: [r.first]}\n",
            "expects `r.first` both fired and not_fired",
        ),
        (
            "- name: x\n  facts:\n    kind: c\n  expect: {fired: [r.first]}\n",
            "s.yaml:3: error: scenario 'x': `c` is not an allowed value of `kind`",
        ),
        (
            "- name: x\n  facts:\n    level: low\n  expect: {fired: [r.first]}\n",
            "s.yaml:3: error: scenario 'x': `level` is a derived fact",
        ),
        (
            "- &a {name: x, expect: {fired: [r.first]}}\n- *a\n",
            "s.yaml:2: error: YAML aliases",
        ),
        (
            "- name: x\n  name: y\n  expect: {fired: [r.first]}\n",
            "s.yaml:2: error: `name` is given twice",
        ),
    ],
)
def test_bad_scenario_files_are_located_errors(
    demo: CompiledPolicy, text: str, expected: str
) -> None:
    scenarios, problems = _load(text, demo)
    assert scenarios == []
    assert any(expected in p for p in problems), problems


def test_one_bad_scenario_does_not_hide_the_others(demo: CompiledPolicy) -> None:
    scenarios, problems = _load(
        "- name: bad\n  expect: {fired: [nope]}\n- name: good\n  expect: {fired: [r.first]}\n",
        demo,
    )
    assert [s.name for s in scenarios] == ["good"]
    assert len(problems) == 1


# --- the command ------------------------------------------------------------------------------


def _project(tmp_path: Path, scenarios: str) -> Path:
    folder = tmp_path / "demo"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "demo.rules").write_text(POLICY, encoding="utf-8")
    (folder / "scenarios" / "s.yaml").write_text(scenarios, encoding="utf-8")
    return folder


GOOD = """\
- name: first
  facts: {kind: a, flag: true}
  expect: {fired: [r.first, r.second]}
"""


def test_cli_bundled_policy_passes_with_full_rule_coverage() -> None:
    result = leukorules("test", "--fail-under", "100")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    count = len(bundled_scenarios())
    assert f"{count} passed, 0 failed" in lines
    assert any("(100.0%)" in line for line in lines)


def test_cli_summary_coverage_and_fail_under(tmp_path: Path) -> None:
    folder = _project(tmp_path, GOOD)
    result = leukorules("test", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output.splitlines()
    assert "2/4 rules fired by at least one scenario (50.0%)" in result.output
    assert "rules never fired: r.low, r.high" in result.output
    below = leukorules("test", "--fail-under", "60", str(folder))
    assert below.exit_code == 1
    assert "rule coverage below 60%" in below.output
    # a scenario file alone: the policy is found in the folder above it
    alone = leukorules("test", str(folder / "scenarios" / "s.yaml"))
    assert alone.exit_code == 0, alone.output


def test_cli_failure_prints_a_diff_and_exits_1(tmp_path: Path) -> None:
    folder = _project(
        tmp_path, GOOD + "- name: wrong\n  facts: {kind: b}\n  expect:\n    fired: [r.first]\n"
    )
    result = leukorules("test", "-v", str(folder))
    assert result.exit_code == 1
    assert "PASS " in result.output
    assert "s.yaml:4: wrong" in result.output
    assert "  r.first: expected fired, was not_fired" in result.output
    assert "1 passed, 1 failed" in result.output.splitlines()


def test_cli_bad_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    folder = _project(tmp_path, "- name: x\n  facts: {kind: z}\n  expect: {fired: [r.first]}\n")
    result = leukorules("test", str(folder))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "s.yaml:2: error: scenario 'x': `z` is not an allowed value of `kind`" in result.output
    assert "0 passed, 0 failed" in result.output.splitlines()


def test_cli_scenario_without_a_policy_says_so(tmp_path: Path) -> None:
    lone = tmp_path / "lone.yaml"
    lone.write_text(GOOD, encoding="utf-8")
    result = leukorules("test", str(lone))
    assert result.exit_code == 1
    assert (
        "no policy found beside it or in the folder above; say which with --policy" in result.output
    )
    policy = _project(tmp_path, GOOD) / "demo.rules"
    assert leukorules("test", "--policy", str(policy), str(lone)).exit_code == 0
    missing = leukorules("test", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1
    assert "no such file or folder" in missing.output


def test_cli_policy_without_scenarios(tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    (folder / "demo.rules").write_text(POLICY, encoding="utf-8")
    result = leukorules("test", str(folder))
    assert result.exit_code == 1
    assert "no scenario files" in result.output


def test_cli_policy_with_errors(tmp_path: Path) -> None:
    folder = _project(tmp_path, GOOD)
    (folder / "demo.rules").write_text(POLICY.replace("kind == a", "kind == c"), encoding="utf-8")
    result = leukorules("test", str(folder))
    assert result.exit_code == 1
    assert "LR301" in result.output
