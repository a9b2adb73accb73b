"""Scenario tests: patients with the outcomes a policy must produce for them.

Input: scenario files (YAML) and a policy. Output: for each scenario, the differences between
what it expects and what the evaluator decided, and the rule coverage of all scenarios.

A scenario file is a list of scenarios, or a mapping with one key `scenarios` holding that list
(the shape `leukorules check` prints for a conflict's counterexample). One scenario:

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

Only the rules a scenario lists are checked; `derived: {fact: null}` expects the fact to stay
unknown. Facts are validated exactly as `leukorules evaluate` validates a facts file. Every
problem with a file (YAML syntax, unknown keys, unknown rules or facts, invalid values) is a
`ScenarioProblem` with the file and line, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from leukorules import model as m
from leukorules.diagnostics import did_you_mean
from leukorules.engine.facts import validate_facts
from leukorules.engine.facts_file import FactsDocument
from leukorules.source import Span

if TYPE_CHECKING:
    from leukorules.result.model import Evaluation

SCENARIO_SUFFIXES = (".yaml", ".yml")
MAX_SCENARIO_BYTES = 4 * 1024 * 1024
SCENARIO_KEYS = ("name", "description", "facts", "expect")
EXPECT_KEYS = ("fired", "not_fired", "overridden", "undetermined", "derived", "gaps")
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

    def is_empty(self) -> bool:
        """True when nothing is checked (empty lists check nothing; `gaps: []` does)."""
        lists = (self.fired, self.not_fired, self.overridden, self.undetermined, self.derived)
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


# --- reading ------------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, node: yaml.Node | None, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
        self.hint = hint


def _line(node: yaml.Node | None) -> int:
    return int(node.start_mark.line) + 1 if node is not None and node.start_mark else 0


def _scalar_text(node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
        raise _Invalid(node, f"{what} must be text")
    value = str(node.value)
    if not value.strip():
        raise _Invalid(node, f"{what} is empty")
    return value


def _mapping(
    node: yaml.Node, what: str, hint: str | None = None
) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """A mapping node's entries as (key text, key node, value node); keys must be unique text."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return []
    if not isinstance(node, yaml.MappingNode):
        raise _Invalid(node, f"{what} must be a mapping", hint)
    seen: dict[str, yaml.Node] = {}
    entries: list[tuple[str, yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        key = _scalar_text(key_node, f"a key of {what}")
        if key in seen:
            raise _Invalid(key_node, f"`{key}` is given twice in {what}")
        seen[key] = key_node
        entries.append((key, key_node, value_node))
    return entries


def _names(node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]]:
    """A list of names (a bare name is accepted as a list of one)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return []
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    return [(_scalar_text(item, f"an entry of {what}"), item) for item in items]


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    return loader.construct_object(node, deep=True)


class _Reader:
    def __init__(self, policy: m.Policy, file: str, loader: yaml.SafeLoader) -> None:
        self.policy = policy
        self.file = file
        self.loader = loader
        self.rules = {r.id for r in policy.rules}
        self.gaps = {g.id for g in policy.gaps}
        self.problems: list[ScenarioProblem] = []

    def problem(self, node: yaml.Node | None, message: str, hint: str | None = None) -> None:
        self.problems.append(ScenarioProblem(self.file, _line(node), message, hint))

    def document(self, root: yaml.Node) -> list[Scenario]:
        items: yaml.Node = root
        if isinstance(root, yaml.MappingNode):
            entries = _mapping(root, "the scenario file")
            keys = [k for k, _, _ in entries]
            if keys != ["scenarios"]:
                stray = next((kn for k, kn, _ in entries if k != "scenarios"), root)
                raise _Invalid(
                    stray,
                    "a scenario file is a list of scenarios, or a mapping with the one key "
                    "`scenarios`",
                )
            items = entries[0][2]
        if not isinstance(items, yaml.SequenceNode):
            raise _Invalid(
                items,
                "a scenario file holds a list of scenarios",
                "start each scenario with `- name: ...`",
            )
        scenarios: list[Scenario] = []
        for node in items.value:
            try:
                scenario = self.scenario(node)
            except _Invalid as error:
                self.problem(error.node, error.message, error.hint)
                continue
            if scenario is not None:
                scenarios.append(scenario)
        return scenarios

    def scenario(self, node: yaml.Node) -> Scenario | None:
        entries = _mapping(node, "a scenario", "write `- name: ...` with `facts:` and `expect:`")
        fields = {k: (kn, vn) for k, kn, vn in entries}
        for key, key_node, _ in entries:
            if key not in SCENARIO_KEYS:
                hint = did_you_mean(key, SCENARIO_KEYS) or "keys: " + ", ".join(SCENARIO_KEYS)
                raise _Invalid(key_node, f"unknown key `{key}` in a scenario", hint)
        if "name" not in fields:
            raise _Invalid(node, "a scenario needs a `name`")
        name = _scalar_text(fields["name"][1], "the scenario's `name`")
        description = None
        if "description" in fields:
            description = _scalar_text(fields["description"][1], "`description`")
        if "expect" not in fields:
            raise _Invalid(node, f"scenario {name!r} has no `expect`", "say what must happen")
        facts = self.facts(fields["facts"][1] if "facts" in fields else None, name)
        expect = self.expect(fields["expect"][1], name)  # checked even when the facts are bad
        if expect is None or facts is None:
            return None
        return Scenario(name, self.file, _line(node), facts, expect, description)

    def facts(self, node: yaml.Node | None, name: str) -> dict[str, m.Value] | None:
        if node is None:
            return {}
        entries = _mapping(node, f"the facts of {name!r}", "write `fact_name: value` lines")
        raw: dict[str, object] = {}
        spans: dict[str, Span] = {}
        for key, key_node, value_node in entries:
            raw[key] = _construct(self.loader, value_node)
            spans[key] = Span.point(self.file, _line(key_node), int(key_node.start_mark.column) + 1)
        values, diagnostics = validate_facts(self.policy, FactsDocument(raw, spans, self.file))
        for diagnostic in diagnostics:
            line = diagnostic.span.line if diagnostic.span else 0
            self.problems.append(
                ScenarioProblem(
                    self.file,
                    line,
                    f"scenario {name!r}: {diagnostic.message}",
                    diagnostic.hint,
                    diagnostic.code,
                )
            )
        return None if diagnostics else values

    def rule_ids(self, node: yaml.Node, what: str) -> list[str] | None:
        found: list[str] = []
        ok = True
        for rule_id, item in _names(node, what):
            if rule_id not in self.rules:
                kind = "a gap, not a rule" if rule_id in self.gaps else "not a rule of this policy"
                hint = did_you_mean(rule_id, self.rules)
                if rule_id in self.gaps:
                    hint = "list gaps under `gaps:`"
                self.problem(item, f"`{rule_id}` in `{what}` is {kind}", hint)
                ok = False
            else:
                found.append(rule_id)
        return found if ok else None

    def expect(self, node: yaml.Node, name: str) -> Expectation | None:
        entries = _mapping(node, f"the expectations of {name!r}")
        ok = True
        lists: dict[str, tuple[str, ...]] = {}
        undetermined: dict[str, tuple[str, ...] | None] = {}
        derived: dict[str, object] = {}
        gaps: tuple[str, ...] | None = None
        placed: dict[str, str] = {}
        for key, key_node, value_node in entries:
            if key not in EXPECT_KEYS:
                hint = did_you_mean(key, EXPECT_KEYS) or "keys: " + ", ".join(EXPECT_KEYS)
                self.problem(key_node, f"unknown key `{key}` in `expect` of {name!r}", hint)
                ok = False
            elif key in OUTCOME_KEYS:
                found = self.rule_ids(value_node, key)
                if found is None:
                    ok = False
                else:
                    lists[key] = tuple(found)
            elif key == "undetermined":
                result = self.undetermined(value_node)
                if result is None:
                    ok = False
                else:
                    undetermined = result
            elif key == "derived":
                result_derived = self.derived(value_node)
                if result_derived is None:
                    ok = False
                else:
                    derived = result_derived
            else:
                gap_ids: list[str] = []
                for gap_id, item in _names(value_node, "gaps"):
                    if gap_id not in self.gaps:
                        hint = did_you_mean(gap_id, self.gaps) or (
                            "gaps of this policy: " + ", ".join(sorted(self.gaps))
                            if self.gaps
                            else "this policy declares no gaps"
                        )
                        self.problem(item, f"`{gap_id}` is not a gap of this policy", hint)
                        ok = False
                    gap_ids.append(gap_id)
                gaps = tuple(gap_ids)
        outcome_of = {r: k for k, ids in lists.items() for r in ids}
        for key, ids in lists.items():
            for rule_id in ids:
                first = placed.setdefault(rule_id, key)
                if first != key:
                    self.problem(
                        node,
                        f"scenario {name!r} expects `{rule_id}` both {first} and {key}",
                    )
                    ok = False
        for rule_id in undetermined:
            if rule_id in outcome_of:
                self.problem(
                    node,
                    f"scenario {name!r} expects `{rule_id}` both {outcome_of[rule_id]} and "
                    "undetermined",
                )
                ok = False
        if not ok:
            return None
        expectation = Expectation(
            lists.get("fired", ()),
            lists.get("not_fired", ()),
            lists.get("overridden", ()),
            undetermined,
            derived,
            gaps,
        )
        if expectation.is_empty():
            self.problem(
                node,
                f"scenario {name!r} expects nothing, so it cannot fail",
                "list a rule under one of: " + ", ".join(EXPECT_KEYS),
            )
            return None
        return expectation

    def undetermined(self, node: yaml.Node) -> dict[str, tuple[str, ...] | None] | None:
        result: dict[str, tuple[str, ...] | None] = {}
        ok = True
        pairs: list[tuple[str, yaml.Node, yaml.Node | None]]
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, kn, vn) for k, kn, vn in _mapping(node, "undetermined")]
        else:
            pairs = [(r, item, None) for r, item in _names(node, "undetermined")]
        for rule_id, key_node, value_node in pairs:
            if self.rule_ids(key_node, "undetermined") is None:
                ok = False
                continue
            if value_node is None or (
                isinstance(value_node, yaml.ScalarNode)
                and value_node.tag == "tag:yaml.org,2002:null"
            ):
                result[rule_id] = None
                continue
            missing: list[str] = []
            for fact, item in _names(value_node, f"the missing facts of {rule_id}"):
                if fact not in self.policy.facts:
                    hint = did_you_mean(fact, self.policy.facts)
                    self.problem(item, f"`{fact}` is not a fact of this policy", hint)
                    ok = False
                missing.append(fact)
            result[rule_id] = tuple(missing)
        return result if ok else None

    def derived(self, node: yaml.Node) -> dict[str, object] | None:
        result: dict[str, object] = {}
        ok = True
        derived_facts = {f.name: f for f in self.policy.derived_facts}
        for fact_name, key_node, value_node in _mapping(node, "derived"):
            fact = derived_facts.get(fact_name)
            if fact is None:
                input_fact = fact_name in self.policy.facts
                message = (
                    f"`{fact_name}` is an input fact; `derived` checks derived facts"
                    if input_fact
                    else f"`{fact_name}` is not a derived fact of this policy"
                )
                self.problem(key_node, message, did_you_mean(fact_name, derived_facts))
                ok = False
                continue
            value = _construct(self.loader, value_node)
            if value is not None and not _fits(fact.type, value):
                self.problem(
                    value_node,
                    f"{value!r} is not a value of derived fact `{fact_name}` "
                    f"({fact.type.describe()})",
                    "write null to expect it to stay unknown",
                )
                ok = False
                continue
            result[fact_name] = value
        return result if ok else None


def _fits(fact_type: m.FactType, value: object) -> bool:
    kind = fact_type.kind
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "enum":
        return isinstance(value, str) and value in fact_type.values
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "set":
        return isinstance(value, list) and all(v in fact_type.values for v in value)
    return True


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def load_scenario_text(
    text: str, policy: m.Policy, file: str = "<scenarios>"
) -> tuple[list[Scenario], list[ScenarioProblem]]:
    """Parse and validate scenarios against a policy; every problem is returned, none raised."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                return [], [
                    ScenarioProblem(
                        file,
                        _line_of_mark(event.start_mark),
                        "YAML aliases (`*name`) are not allowed in scenario files",
                        "write every scenario out in full",
                    )
                ]
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return [], [
                    ScenarioProblem(file, 1, "the scenario file is empty", "write `- name: ...`")
                ]
            reader = _Reader(policy, file, loader)
            try:
                scenarios = reader.document(root)
            except _Invalid as error:
                reader.problem(error.node, error.message, error.hint)
                scenarios = []
            return scenarios, reader.problems
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        parts = [p for p in (error.context, error.problem) if p]
        message = "malformed YAML: " + (", ".join(parts) if parts else "cannot be read")
        return [], [ScenarioProblem(file, _line_of_mark(mark), message)]
    except yaml.YAMLError as error:
        return [], [ScenarioProblem(file, 0, f"malformed YAML: {error}")]
    except (RecursionError, ValueError, TypeError) as error:
        # e.g. an unhashable key deep in a fact value, or a date YAML cannot construct
        return [], [ScenarioProblem(file, 0, f"cannot read the scenario file: {error}")]


def _line_of_mark(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 0


def load_scenario_file(
    path: Path, policy: m.Policy
) -> tuple[list[Scenario], list[ScenarioProblem]]:
    name = _display(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        return [], [ScenarioProblem(name, 0, f"cannot read: {error.strerror or error}")]
    if len(raw) > MAX_SCENARIO_BYTES:
        return [], [ScenarioProblem(name, 0, f"larger than {MAX_SCENARIO_BYTES:,} bytes")]
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return [], [ScenarioProblem(name, line, "not UTF-8 text", "save it as UTF-8 YAML")]
    return load_scenario_text(text, policy, name)


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
        return isinstance(actual, frozenset | set | list) and set(expected) == set(actual)
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
    fired = frozenset(r for r, outcome in outcomes.items() if outcome == "fired")
    return ScenarioResult(scenario, tuple(differences), fired)


def run_scenario(evaluator: Evaluator, scenario: Scenario) -> ScenarioResult:
    return compare(scenario, evaluator.evaluate(scenario.facts))


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
