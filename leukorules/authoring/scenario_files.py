"""Scenario files -> `Scenario`s: YAML read with every problem located, never an exception.

Input: a scenario file (or text) and the policy it is checked against. Output: the scenarios,
and a `ScenarioProblem` (file, line, message, hint) for everything wrong with the file: YAML
syntax, unknown keys, unknown rules, gaps or facts, invalid fact values (an impossible date is
kept as its text, so validation names the fact and its line). The format is described in
docs/scenarios.md; a file found in a folder whose document is a mapping without a `scenarios`
key (a patient's facts file) is passed over (`ScenarioFile.not_scenarios`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leukorules import model as m
from leukorules.authoring.scenarios import (
    EXPECT_KEYS,
    MAX_SCENARIO_BYTES,
    MAX_SCENARIO_DEPTH,
    OUTCOME_KEYS,
    SCENARIO_KEYS,
    Expectation,
    Scenario,
    ScenarioProblem,
)
from leukorules.diagnostics import did_you_mean
from leukorules.engine.facts import validate_facts
from leukorules.engine.facts_file import (
    FactsDocument,
    Unreadable,
    YamlHazard,
    construct_value,
    guarded_loader,
    yaml_tag_text,
)
from leukorules.reading import FileTooLarge, NotARegularFile, read_regular_file
from leukorules.source import Span

# --- reading ------------------------------------------------------------------------------------

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


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


def _untagged(node: yaml.Node, what: str, default: str) -> None:
    """Refuse a YAML tag on a collection this reader walks itself (a tag on a value is
    refused, or honoured, by the safe constructor; here it would be silently ignored)."""
    if node.tag != default:
        tag = yaml_tag_text(node.tag)
        raise _Invalid(node, f"a YAML tag (`{tag}`) on {what} is not allowed", "remove the tag")


def _mapping(
    node: yaml.Node, what: str, hint: str | None = None
) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """A mapping node's entries as (key text, key node, value node); keys must be unique text."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return []
    if not isinstance(node, yaml.MappingNode):
        raise _Invalid(node, f"{what} must be a mapping", hint)
    _untagged(node, what, _MAP)
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
    if isinstance(node, yaml.SequenceNode):
        _untagged(node, what, _SEQ)
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    return [(_scalar_text(item, f"an entry of {what}"), item) for item in items]


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
        _untagged(items, "the list of scenarios", _SEQ)
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
        unreadable = False
        for key, key_node, value_node in entries:
            # An impossible date (2025-02-30) comes back as its text, so validation names the
            # fact and its line; a value the safe constructor cannot build at all is reported.
            value = construct_value(self.loader, value_node)
            if isinstance(value, Unreadable):
                self.problem(
                    value_node, f"scenario {name!r}: the value of `{key}` cannot be read: {value}"
                )
                unreadable = True
                continue
            raw[key] = value
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
        return None if diagnostics or unreadable else values

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

    def constraint_ids(self, node: yaml.Node) -> list[str] | None:
        known = {c.id for c in self.policy.constraints}
        found: list[str] = []
        ok = True
        for constraint_id, item in _names(node, "refused"):
            if constraint_id not in known:
                hint = did_you_mean(constraint_id, known) or (
                    "constraints of this policy: " + ", ".join(sorted(known))
                    if known
                    else "this policy declares no constraints"
                )
                self.problem(item, f"`{constraint_id}` is not a constraint of this policy", hint)
                ok = False
            found.append(constraint_id)
        return found if ok else None

    def gap_ids(self, node: yaml.Node, what: str) -> list[str] | None:
        found: list[str] = []
        ok = True
        for gap_id, item in _names(node, what):
            if gap_id not in self.gaps:
                hint = did_you_mean(gap_id, self.gaps) or (
                    "gaps of this policy: " + ", ".join(sorted(self.gaps))
                    if self.gaps
                    else "this policy declares no gaps"
                )
                self.problem(item, f"`{gap_id}` is not a gap of this policy", hint)
                ok = False
            found.append(gap_id)
        return found if ok else None

    def expect(self, node: yaml.Node, name: str) -> Expectation | None:
        entries = _mapping(node, f"the expectations of {name!r}")
        ok = True
        lists: dict[str, tuple[str, ...]] = {}
        undetermined: dict[str, tuple[str, ...] | None] = {}
        derived: dict[str, object] = {}
        gaps: tuple[str, ...] | None = None
        undetermined_gaps: dict[str, tuple[str, ...] | None] = {}
        refused: tuple[str, ...] = ()
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
            elif key == "undetermined_gaps":
                result = self.undetermined(value_node, gaps=True)
                if result is None:
                    ok = False
                else:
                    undetermined_gaps = result
            elif key == "refused":
                found_constraints = self.constraint_ids(value_node)
                if found_constraints is None:
                    ok = False
                else:
                    refused = tuple(found_constraints)
            else:
                found_gaps = self.gap_ids(value_node, "gaps")
                if found_gaps is None:
                    ok = False
                else:
                    gaps = tuple(found_gaps)
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
        if refused and (lists or undetermined or derived or gaps is not None or undetermined_gaps):
            self.problem(
                node,
                f"scenario {name!r} expects its facts to be refused and evaluated",
                "refused facts are not evaluated: expect `refused` alone",
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
            undetermined_gaps,
            refused,
        )
        if expectation.is_empty():
            self.problem(
                node,
                f"scenario {name!r} expects nothing, so it cannot fail",
                "list a rule under one of: " + ", ".join(EXPECT_KEYS),
            )
            return None
        return expectation

    def undetermined(
        self, node: yaml.Node, gaps: bool = False
    ) -> dict[str, tuple[str, ...] | None] | None:
        """Rule ids (gap ids: `gaps`), each with the facts expected missing or null."""
        what = "undetermined_gaps" if gaps else "undetermined"
        known = self.gap_ids if gaps else self.rule_ids
        result: dict[str, tuple[str, ...] | None] = {}
        ok = True
        pairs: list[tuple[str, yaml.Node, yaml.Node | None]]
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, kn, vn) for k, kn, vn in _mapping(node, what)]
        else:
            pairs = [(r, item, None) for r, item in _names(node, what)]
        for rule_id, key_node, value_node in pairs:
            if known(key_node, what) is None:
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
            value = construct_value(self.loader, value_node)
            if isinstance(value, Unreadable):
                self.problem(value_node, f"the value of derived fact `{fact_name}`: {value}")
                ok = False
                continue
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
    if kind == "date":  # an impossible date (2025-02-30) is kept as its text: not a date
        return isinstance(value, datetime.date)
    return True


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


@dataclass(frozen=True)
class ScenarioFile:
    """What one file held: its scenarios and problems, or why it is not a scenario file."""

    scenarios: list[Scenario] = field(default_factory=list)
    problems: list[ScenarioProblem] = field(default_factory=list)
    not_scenarios: str | None = None  # set when a file found in a folder was passed over


# Why a YAML file found in a policy folder is passed over (see docs/scenarios.md).
NOT_SCENARIOS = (
    "a mapping without a `scenarios` key, as a patient's facts file is, not a scenario file "
    "(a list of scenarios, `- name: ...`)"
)


def load_scenario_text(
    text: str, policy: m.Policy, file: str = "<scenarios>"
) -> tuple[list[Scenario], list[ScenarioProblem]]:
    """Parse and validate scenarios against a policy; every problem is returned, none raised."""
    read = read_scenario_text(text, policy, file, explicit=True)
    return read.scenarios, read.problems


def read_scenario_text(
    text: str, policy: m.Policy, file: str = "<scenarios>", explicit: bool = True
) -> ScenarioFile:
    """`load_scenario_text`, and for a file not named explicitly (found in a folder) the shape
    test: a top-level mapping without a `scenarios` key is not a scenario file."""
    try:
        loader = guarded_loader(text, MAX_SCENARIO_DEPTH)
        try:
            try:
                root = loader.get_single_node()
            except YamlHazard as hazard:
                line = _line_of_mark(hazard.mark)
                if hazard.kind == "alias":
                    message = "YAML aliases (`*name`) are not allowed in scenario files"
                    hint = "write every scenario out in full"
                else:
                    message = f"nested more than {MAX_SCENARIO_DEPTH} levels deep"
                    hint = "a scenario is a mapping of name, facts and expect, a few levels deep"
                return ScenarioFile(problems=[ScenarioProblem(file, line, message, hint)])
            if root is None:
                hint = "write `- name: ...`"
                return ScenarioFile(
                    problems=[ScenarioProblem(file, 1, "the scenario file is empty", hint)]
                )
            if not explicit and _holds_no_scenarios(root):
                return ScenarioFile(not_scenarios=NOT_SCENARIOS)
            reader = _Reader(policy, file, loader)
            try:
                scenarios = reader.document(root)
            except _Invalid as error:
                reader.problem(error.node, error.message, error.hint)
                scenarios = []
            return ScenarioFile(scenarios, reader.problems)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        parts = [p for p in (error.context, error.problem) if p]
        message = "malformed YAML: " + (", ".join(parts) if parts else "cannot be read")
        return ScenarioFile(problems=[ScenarioProblem(file, _line_of_mark(mark), message)])
    except yaml.YAMLError as error:
        return ScenarioFile(problems=[ScenarioProblem(file, 0, f"malformed YAML: {error}")])
    except (RecursionError, ValueError, TypeError) as error:
        # a backstop: values are built one at a time, and their problems located, above
        problem = ScenarioProblem(file, 0, f"cannot read the scenario file: {error}")
        return ScenarioFile(problems=[problem])


def _holds_no_scenarios(root: yaml.Node) -> bool:
    """A top-level mapping none of whose keys is `scenarios`: a facts file, say."""
    return isinstance(root, yaml.MappingNode) and not any(
        isinstance(key, yaml.ScalarNode) and key.value == "scenarios" for key, _ in root.value
    )


def _line_of_mark(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 0


def load_scenario_file(
    path: Path, policy: m.Policy
) -> tuple[list[Scenario], list[ScenarioProblem]]:
    """A scenario file named explicitly: whatever it holds is read as scenarios."""
    read = read_scenario_file(path, policy, explicit=True)
    return read.scenarios, read.problems


def read_scenario_file(path: Path, policy: m.Policy, explicit: bool = True) -> ScenarioFile:
    """A scenario file; with `explicit` False (a file found in a folder), one shaped like a
    facts file is passed over (`ScenarioFile.not_scenarios` says why)."""
    name = _display(path)

    def problem(line: int, message: str, hint: str | None = None) -> ScenarioFile:
        return ScenarioFile(problems=[ScenarioProblem(name, line, message, hint)])

    try:
        raw = read_regular_file(path, MAX_SCENARIO_BYTES)
    except NotARegularFile as refused:
        return problem(0, f"it is {refused.kind}, not a scenario file")
    except FileTooLarge:
        return problem(0, f"larger than {MAX_SCENARIO_BYTES:,} bytes")
    except OSError as error:
        return problem(0, f"cannot read: {error.strerror or error}")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return problem(line, "not UTF-8 text", "save it as UTF-8 YAML")
    return read_scenario_text(text, policy, name, explicit)
