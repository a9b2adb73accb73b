"""`leukorules diff`: rule-level edits, and the patients whose outcomes change, proven.

The semantic diff is held to brute force on generated pairs of policies (a policy and a
mutation of it): over every combination of the classes of `leukorules.prove.space` (one
representative patient each), the engine's outcomes under OLD and NEW change for exactly as many
patients as the diff counts, and the conditions it prints are true for exactly those patients.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from itertools import product
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import conditions, policies
from support.cli import leukorules
from support.profiles import RELAXED, examples

from leukorules import model as m
from leukorules.check import check_text
from leukorules.diagnostics import Severity
from leukorules.engine.compile import compile_policy
from leukorules.engine.facts import FactsError
from leukorules.logic import evaluate
from leukorules.prove.diff import policy_diff
from leukorules.prove.semantic_diff import ABSENT, JointSpace, semantic_diff
from leukorules.syntax.render import render_policy

OLD = """\
policy demo.diff { title "Diff" version "1.0" }
evidence 1 { citation "Example guideline, 2024" }
evidence 2 { citation "Another guideline, 2025" }
fact kind: enum { adem, pml, other } "Type"
fact response: enum { responding, not_responding } "Response to plasma exchange"
fact age: integer in 0..120 "Age"
rule steroids { statement "Steroids in ADEM." evidence 1 when kind == adem recommend "Steroids" }
rule ivig {
  statement "IVIG after plasma exchange."
  evidence 1
  when kind == adem and response == not_responding
  recommend "IVIG"
  strength may_be_considered
}
rule elderly { statement "Elderly." evidence 1 when age > 80 note }
"""
NEW = (
    OLD.replace(
        "when kind == adem and response == not_responding",
        "when kind == adem and (response == not_responding or age > 60)",
    )
    .replace("strength may_be_considered", "strength recommended")
    .replace('rule elderly { statement "Elderly." evidence 1 when age > 80 note }\n', "")
    .replace(
        'evidence 1 when kind == adem recommend "Steroids"',
        'evidence 1, 2 when kind == adem recommend "Steroids"',
    )
    + 'rule young { statement "Young." evidence 2 when age < 18 note }\n'
)


def checked(text: str) -> m.Policy:
    policy = check_text(text).policy
    assert policy is not None
    return policy


def test_rule_edits_are_named_with_their_old_and_new_text() -> None:
    diff = policy_diff(checked(OLD), checked(NEW))
    edits = {(e.id, e.status): [c.what for c in e.changes] for e in diff.of("rule")}
    assert edits == {
        ("steroids", "changed"): ["evidence changed"],
        ("ivig", "changed"): ["condition changed", "strength changed"],
        ("elderly", "removed"): ["declared"],
        ("young", "added"): ["declared"],
    }
    (young,) = [e for e in diff.edits if e.id == "young"]
    assert young.changes[0].new == "when age < 18: note"
    (ivig,) = [e for e in diff.edits if e.id == "ivig"]
    assert ivig.changes[0].new == ("kind == adem and (response == not_responding or age > 60)")


def test_the_semantic_diff_names_the_patients_whose_outcome_changes() -> None:
    found = semantic_diff(checked(OLD), checked(NEW))
    by_rule = {change.rule: change for change in found.rules}
    assert set(by_rule) == {"ivig", "elderly", "young"}  # steroids: only its evidence changed
    ivig = {(t.old, t.new): t for t in by_rule["ivig"].transitions}
    fired = ivig[("not_fired", "fired")]
    assert fired.example == {"kind": "adem", "response": "responding", "age": 80}
    elderly = {(t.old, t.new) for t in by_rule["elderly"].transitions}
    assert elderly == {("fired", ABSENT), ("not_fired", ABSENT), ("undetermined", ABSENT)}


def test_a_policy_compared_with_itself_changes_nothing() -> None:
    policy = checked(OLD)
    assert policy_diff(policy, policy).edits == []
    found = semantic_diff(policy, policy)
    assert found.rules == [] and found.refused == []


# --- brute force on generated pairs ---------------------------------------------------------


@st.composite
def pairs(draw: st.DrawFn) -> tuple[m.Policy, m.Policy]:
    old = draw(
        policies(max_input_facts=3, max_derived_facts=1, max_rules=4, max_gaps=0, max_constraints=1)
    )
    inputs = {f.name: f for f in old.input_facts}
    rules = list(old.rules)
    referenced = {t for r in rules for t in (*r.after, *r.overrides)}
    kind = draw(st.sampled_from(["condition", "remove", "constraint"]))
    constraints = old.constraints
    if kind == "condition":
        index = draw(st.integers(0, len(rules) - 1))
        rules[index] = dataclasses.replace(
            rules[index], when=draw(conditions(inputs, max_leaves=3))
        )
    elif kind == "remove":
        removable = [i for i, r in enumerate(rules) if r.id not in referenced]
        assume(removable)
        del rules[draw(st.sampled_from(removable))]
    else:
        constraint = m.Constraint(
            "added.c",
            draw(conditions(inputs, max_leaves=2)),
            draw(conditions(inputs, max_leaves=2)),
        )
        constraints = (*constraints, constraint)
    new = dataclasses.replace(old, rules=tuple(rules), constraints=constraints)
    result = check_text(render_policy(new))
    assume(not any(d.severity is Severity.ERROR for d in result.diagnostics))
    assert result.policy is not None
    return old, result.policy


def _outcomes(policy: m.Policy, patient: dict[str, m.Value]) -> dict[str, str] | None:
    try:
        run = compile_policy(policy).run(patient)
    except FactsError:
        return None
    return {r.id: run.outcome(i) for i, r in enumerate(policy.rules)}


@settings(max_examples=examples(60), suppress_health_check=[*RELAXED, HealthCheck.filter_too_much])
@given(pairs())
def test_counts_and_conditions_match_brute_force_over_every_class(
    pair: tuple[m.Policy, m.Policy],
) -> None:
    old, new = pair
    space = JointSpace(old, new)
    assume(space.exact and space.total <= 5000)
    found = semantic_diff(old, new)
    names = list(space.classes)
    expected: Counter[tuple[str, str, str]] = Counter()
    patients: list[tuple[dict[str, m.Value], dict[str, str], dict[str, str]]] = []
    for combo in product(*(sorted(space.admissible[n]) for n in names)):
        patient = {
            n: v
            for n, i in zip(names, combo, strict=True)
            if (v := space.classes[n].representative(i)) is not None
        }
        before, after = _outcomes(old, patient), _outcomes(new, patient)
        if before is None or after is None:
            continue
        patients.append((patient, before, after))
        for rule in dict.fromkeys([*before, *after]):
            a, b = before.get(rule, ABSENT), after.get(rule, ABSENT)
            if a != b:
                expected[(rule, a, b)] += 1
    counted = Counter({(c.rule, t.old, t.new): t.count for c in found.rules for t in c.transitions})
    assert counted == expected
    for change in found.rules:
        for transition in change.transitions:
            if not transition.complete:
                continue
            for patient, before, after in patients:
                inside = (before.get(change.rule, ABSENT), after.get(change.rule, ABSENT)) == (
                    transition.old,
                    transition.new,
                )
                described = any(evaluate(c, patient) is True for c in transition.conditions)
                assert described == inside, (change.rule, transition, patient)


# --- the command ------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_command_prints_edits_and_patients(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.rules", OLD), write(tmp_path, "new.rules", NEW)
    result = leukorules("diff", old, new)
    assert result.exit_code == 0, result.output
    assert "Rules: 1 added, 1 removed, 2 changed" in result.stdout
    assert "  changed  ivig: condition changed, strength changed" in result.stdout
    assert "  ivig: " in result.stdout and "not_fired -> fired: " in result.stdout
    assert "      when kind == adem and response == responding and age > 60\n" in result.stdout
    rules_only = leukorules("diff", old, new, "--rules-only")
    assert "Patients whose outcomes change" not in rules_only.stdout


def test_json_and_the_patients_of_a_cohort(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.rules", OLD), write(tmp_path, "new.rules", NEW)
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text(
        '{"id": "a", "kind": "adem", "response": "responding", "age": 70}\n'
        '{"id": "b", "kind": "pml", "age": 10}\n'
        '{"id": "c", "kind": "other", "age": 40}\n',
        encoding="utf-8",
    )
    result = leukorules(
        "diff", old, new, "--format", "json", "--cohort", str(cohort), "--jobs", "1"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["cohort"]["records"] == 3
    changes = {c["id"]: c for c in document["cohort"]["changes"]}
    assert set(changes) == {"a", "b"}
    assert changes["a"]["fired"] == ["ivig"]
    assert changes["b"]["fired"] == ["young"]
    rules = {r["rule"] for r in document["patients"]["rules"]}
    assert rules == {"ivig", "elderly", "young"}


def test_the_cohort_engines_list_the_same_patients(tmp_path: Path) -> None:
    """`--cohort` runs on any cohort engine, and every engine lists the same changes (a record
    NEW refuses, for a constraint OLD lacks, included)."""
    constraint = (
        "constraint young.adult {\n  when age < 18\n  require kind != pml\n"
        '  message "PML is not seen before 18 here"\n}\n'
    )
    old, new = write(tmp_path, "old.rules", OLD), write(tmp_path, "new.rules", NEW + constraint)
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text(
        '{"id": "a", "kind": "adem", "response": "responding", "age": 70}\n'
        '{"id": "b", "kind": "pml", "age": 10}\n'
        '{"id": "c", "kind": "other", "age": 40}\n'
        '{"id": "d", "kind": "adem", "age": 12}\n',
        encoding="utf-8",
    )
    found = {}
    for engine in ("python", "duckdb"):
        args = ["diff", old, new, "--rules-only", "--format", "json", "--cohort", str(cohort)]
        result = leukorules(*args, "--engine", engine, "--jobs", "1")
        assert result.exit_code == 0, result.output
        found[engine] = json.loads(result.stdout)["cohort"]
    assert found["python"] == found["duckdb"]
    changes = {c["id"]: c for c in found["python"]["changes"]}
    assert set(changes) == {"a", "b", "d"}
    assert changes["b"]["refused_new"] and not changes["b"]["refused_old"]
    assert changes["d"]["fired"] == ["young"]
