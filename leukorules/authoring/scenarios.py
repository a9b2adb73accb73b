"""Scenario tests: patients with the outcomes a policy must produce for them.

Input: scenario files (YAML) and a policy. Output: for each scenario, the differences between
what it expects and what the evaluator decided, and the rule coverage of all scenarios.

The format is documented for authors in docs/scenarios.md (with which files found in a folder
count as scenario files, and the limits). In short: a scenario file is a list of scenarios, or a
mapping with one key `scenarios` holding that list (the shape `leukorules check` prints for a
conflict's counterexample). One scenario:

    - name: ADEM, no response to steroids       # unique across the files of one run
      description: why this case matters         # optional, not checked
      facts: {leukoencephalopathy_type: post_infectious, corticosteroid_response: not_responding}
      expect:
        fired: [adem.corticosteroids, adem.plasma_exchange]   # each outcome must be `fired`
        not_fired: [adem.ivig]                                 # ... `not_fired`
        overridden: []                                         # ... `overridden`
        undetermined:                                          # ... `undetermined`, and when
          adem.ivig: [plasma_exchange_response]                #  a list is given, exactly
        derived: {response: partial_response}                  #  these facts are missing
        gaps: []          # the exact set of gaps reported; omit to leave gaps unchecked
        undetermined_gaps:                      # gaps whose condition is unknown (they may
          some.gap: [causative_drug]            #  concern the patient), each with exactly
                                                #  the facts that would decide it
        refused: [some.constraint]    # the facts break exactly these constraints: refused,
                                      #  nothing evaluated (then nothing else may be expected)

Only the rules a scenario lists are checked; `derived: {fact: null}` expects the fact to stay
unknown. Facts are validated exactly as `leukorules evaluate` validates a facts file. Every
problem with a file (YAML syntax, unknown keys, unknown rules or facts, invalid values) is a
`ScenarioProblem` with the file and line, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from leukorules import model as m
from leukorules.engine.facts import FactsError

if TYPE_CHECKING:
    from leukorules.result.model import Evaluation

SCENARIO_SUFFIXES = (".yaml", ".yml")
# Scenario files are kilobytes; the byte limit stops a runaway file before YAML reads it.
MAX_SCENARIO_BYTES = 4 * 1024 * 1024
# A scenario nests about six levels (list, scenario, expect, undetermined, facts); the bound keeps
# PyYAML linear on hostile files (see `leukorules.engine.facts_file.MAX_FACTS_DEPTH`).
MAX_SCENARIO_DEPTH = 100
SCENARIO_KEYS = ("name", "description", "facts", "expect")
EXPECT_KEYS = (
    "fired",
    "not_fired",
    "overridden",
    "undetermined",
    "derived",
    "gaps",
    "undetermined_gaps",
    "refused",
)
OUTCOME_KEYS = ("fired", "not_fired", "overridden")


# --- what the runner needs from the evaluator ---------------------------------------------------


class Evaluator(Protocol):
    @property
    def policy(self) -> m.Policy: ...

    def evaluate(self, facts: Mapping[str, m.Value]) -> Evaluation: ...


# --- the data -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """A problem with a scenario file; `line` is 1-based, 0 when there is no line to point at."""

    file: str
    line: int
    message: str
    hint: str | None = None
    code: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        code = f"  [{self.code}]" if self.code else ""
        text = f"{where}: error: {self.message}{code}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(frozen=True)
class Expectation:
    fired: tuple[str, ...] = ()
    not_fired: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()
    undetermined: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    derived: Mapping[str, object] = field(default_factory=dict)
    gaps: tuple[str, ...] | None = None  # None: not checked
    undetermined_gaps: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    refused: tuple[str, ...] = ()  # the constraints the facts break: they are not evaluated

    def is_empty(self) -> bool:
        """True when nothing is checked (empty lists check nothing; `gaps: []` does)."""
        lists = (
            self.fired,
            self.not_fired,
            self.overridden,
            self.undetermined,
            self.derived,
            self.undetermined_gaps,
            self.refused,
        )
        return not any(lists) and self.gaps is None

    def outcome_lists(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        yield "fired", self.fired
        yield "not_fired", self.not_fired
        yield "overridden", self.overridden


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    line: int
    facts: Mapping[str, m.Value]
    expect: Expectation
    description: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    differences: tuple[str, ...]
    fired: frozenset[str] = frozenset()

    @property
    def passed(self) -> bool:
        return not self.differences

    def report(self) -> str:
        lines = [f"FAIL {self.scenario.where}: {self.scenario.name}"]
        lines.extend(f"  {d}" for d in self.differences)
        return "\n".join(lines)


def scenario_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in SCENARIO_SUFFIXES and p.is_file()
    )


def duplicate_names(scenarios: Sequence[Scenario]) -> list[ScenarioProblem]:
    seen: dict[str, Scenario] = {}
    problems: list[ScenarioProblem] = []
    for scenario in scenarios:
        first = seen.setdefault(scenario.name, scenario)
        if first is not scenario:
            problems.append(
                ScenarioProblem(
                    scenario.file,
                    scenario.line,
                    f"scenario name {scenario.name!r} is already used at {first.where}",
                    "give every scenario its own name",
                )
            )
    return problems


# --- running ------------------------------------------------------------------------------------


def _outcome_text(outcome: str | None, missing: Sequence[str] | None) -> str:
    if outcome is None:
        return "not evaluated"
    if outcome == "undetermined" and missing:
        return f"undetermined (missing {', '.join(missing)})"
    return outcome


def _value_text(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same_value(expected: object, actual: object) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, list):
        return isinstance(actual, frozenset | set | list | tuple) and set(expected) == set(actual)
    return expected == actual


def compare(scenario: Scenario, evaluation: Evaluation) -> ScenarioResult:
    """The differences between a scenario's expectations and an evaluation of its facts."""
    outcomes: Mapping[str, str] = evaluation.outcomes
    missing: dict[str, tuple[str, ...]] = {
        entry.rule: tuple(entry.missing) for entry in evaluation.undetermined
    }
    expect = scenario.expect
    differences: list[str] = []
    for wanted, ids in expect.outcome_lists():
        for rule_id in ids:
            actual = outcomes.get(rule_id)
            if actual != wanted:
                shown = _outcome_text(actual, missing.get(rule_id))
                differences.append(f"{rule_id}: expected {wanted}, was {shown}")
    for rule_id, facts in expect.undetermined.items():
        actual = outcomes.get(rule_id)
        if actual != "undetermined":
            differences.append(
                f"{rule_id}: expected undetermined, was {_outcome_text(actual, None)}"
            )
        elif facts is not None and set(facts) != set(missing.get(rule_id, ())):
            differences.append(
                f"{rule_id}: expected undetermined for want of "
                f"[{', '.join(facts)}], was missing [{', '.join(missing.get(rule_id, ()))}]"
            )
    derived = evaluation.derived
    for fact, value in expect.derived.items():
        entry = derived.get(fact)
        actual_value = None if entry is None else entry.value
        if not _same_value(value, actual_value):
            differences.append(
                f"derived {fact}: expected {_value_text(value)}, was {_value_text(actual_value)}"
            )
    if expect.gaps is not None:
        reported = sorted({gap.id for gap in evaluation.gaps})
        if set(expect.gaps) != set(reported):
            differences.append(
                f"gaps: expected [{', '.join(sorted(expect.gaps))}], "
                f"reported [{', '.join(reported)}]"
            )
    open_gaps = {gap.id: gap.missing for gap in evaluation.undetermined_gaps}
    for gap_id, facts in expect.undetermined_gaps.items():
        if gap_id not in open_gaps:
            state = "reported" if any(g.id == gap_id for g in evaluation.gaps) else "not relevant"
            differences.append(f"gap {gap_id}: expected undetermined, was {state}")
        elif facts is not None and set(facts) != set(open_gaps[gap_id]):
            differences.append(
                f"gap {gap_id}: expected undetermined for want of [{', '.join(facts)}], was "
                f"missing [{', '.join(open_gaps[gap_id])}]"
            )
    fired = frozenset(r for r, outcome in outcomes.items() if outcome == "fired")
    return ScenarioResult(scenario, tuple(differences), fired)


def run_scenario(evaluator: Evaluator, scenario: Scenario) -> ScenarioResult:
    expected = scenario.expect.refused
    try:
        evaluation = evaluator.evaluate(scenario.facts)
    except FactsError as error:
        if set(error.contradictions) == set(expected):
            return ScenarioResult(scenario, ())
        reasons = "; ".join(d.message for d in error.diagnostics)
        if expected:
            return ScenarioResult(
                scenario,
                (
                    f"refused: expected the facts to break [{', '.join(expected)}], they break "
                    f"[{', '.join(error.contradictions)}] ({reasons})",
                ),
            )
        return ScenarioResult(scenario, (f"the facts were refused: {reasons}",))
    if expected:
        return ScenarioResult(
            scenario,
            (f"refused: expected the facts to break [{', '.join(expected)}], they break none",),
        )
    return compare(scenario, evaluation)


@dataclass(frozen=True)
class RuleCoverage:
    rules: tuple[str, ...]
    never_fired: tuple[str, ...]

    @property
    def percent(self) -> float:
        if not self.rules:
            return 100.0
        return 100.0 * (len(self.rules) - len(self.never_fired)) / len(self.rules)

    def summary(self, policy_id: str) -> str:
        fired = len(self.rules) - len(self.never_fired)
        return (
            f"rule coverage of {policy_id}: {fired}/{len(self.rules)} rules fired by at least "
            f"one scenario ({self.percent:.1f}%)"
        )


def rule_coverage(policy: m.Policy, results: Iterable[ScenarioResult]) -> RuleCoverage:
    fired: set[str] = set()
    for result in results:
        fired |= result.fired
    ids = tuple(r.id for r in policy.rules)
    return RuleCoverage(ids, tuple(r for r in ids if r not in fired))
