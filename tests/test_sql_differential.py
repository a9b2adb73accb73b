"""The SQL backend decides exactly as the python engine: outcomes, derived values, missing facts.

Hypothesis generates valid policies (every fact kind, derived facts, `after`, `overrides`) and
patients with unknowns; each patient is evaluated by the compiled python evaluator and by DuckDB
running the policy compiled to SQL, and every rule's outcome, every derived value and the missing
facts of every undetermined rule must be equal.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.profiles import examples

from leukorules import model as m
from leukorules.engine.compile import CompiledPolicy

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

from strategies import facts_for, policies

from leukorules.cohort.duckdb import connect, evaluate_table, patients_table

_CONNECTION: list[object] = []


def shared_connection() -> object:
    if not _CONNECTION:
        _CONNECTION.append(connect(threads=1))
    return _CONNECTION[0]


def python_decisions(policy: m.Policy, patient: dict[str, m.Value]) -> dict[str, object]:
    compiled = CompiledPolicy(policy)
    run = compiled.run(patient)
    outcomes = {rule.id: run.outcome(i) for i, rule in enumerate(policy.rules)}
    missing = set()
    for i, rule in enumerate(policy.rules):
        if run.effective[i] is None:
            missing |= {(rule.id, fact) for fact in run.missing(i)[0]}
    derived = {f.name: run.derived.get(f.name) for f in policy.derived_facts}
    return {"outcomes": outcomes, "derived": derived, "missing": missing}


def same_value(a: object, b: object) -> bool:
    if isinstance(a, datetime.date) or isinstance(b, datetime.date):
        return a == b
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


@st.composite
def policy_and_patients(draw: st.DrawFn) -> tuple[m.Policy, list[dict[str, m.Value]]]:
    policy = draw(policies(max_rules=8, max_derived_facts=2))
    patients = draw(st.lists(facts_for(policy), min_size=1, max_size=10))
    return policy, patients


@settings(max_examples=examples(30))
@given(policy_and_patients())
def test_sql_backend_agrees_with_python_engine(
    case: tuple[m.Policy, list[dict[str, m.Value]]],
) -> None:
    policy, patients = case
    got = evaluate_table(policy, patients_table(policy, patients), shared_connection())  # type: ignore[arg-type]
    for patient, sql in zip(patients, got, strict=True):
        expected = python_decisions(policy, patient)
        assert sql["outcomes"] == expected["outcomes"], patient
        for name, value in expected["derived"].items():  # type: ignore[attr-defined]
            assert same_value(sql["derived"][name], value), (name, patient)
        assert sql["missing"] == expected["missing"], patient


def _rule(rule_id: str, when: m.Expr, conclusion: m.Conclusion, **kw: object) -> m.Rule:
    return m.Rule(rule_id, "s", ("1",), when, conclusion, **kw)  # type: ignore[arg-type]


def test_after_overrides_and_conflicting_derivations() -> None:
    """Hand-made: an overridden rule, a rule after it, and two derivations of one fact."""
    a = m.Compare("a", "==", True)
    b = m.Compare("b", "==", True)
    policy = m.Policy(
        id="p",
        title="t",
        version="1",
        facts={
            "a": m.Fact("a", m.FactType("bool")),
            "b": m.Fact("b", m.FactType("bool")),
            "level": m.Fact("level", m.FactType("enum", ("low", "high")), derived=True),
        },
        rules=(
            _rule("base", a, m.Recommend("do A")),
            _rule("winner", b, m.Recommend("do B"), overrides=("base",)),
            _rule("next", m.Const(True), m.Recommend("then C"), after=("base",)),
            _rule("low", a, m.Derive("level", "low")),
            _rule("high", b, m.Derive("level", "high"), overrides=("low",)),
        ),
    )
    patients: list[dict[str, m.Value]] = [
        {"a": True, "b": True},
        {"a": True, "b": False},
        {"a": True},
        {"b": True},
        {},
    ]
    got = evaluate_table(policy, patients_table(policy, patients), shared_connection())  # type: ignore[arg-type]
    outcomes = [g["outcomes"] for g in got]
    assert outcomes[0] == {
        "base": "overridden",
        "winner": "fired",
        "next": "not_fired",
        "low": "overridden",
        "high": "fired",
    }
    assert outcomes[1]["base"] == "fired" and outcomes[1]["next"] == "fired"
    assert outcomes[2]["base"] == "undetermined" and outcomes[2]["next"] == "undetermined"
    assert [g["derived"]["level"] for g in got] == ["high", "low", None, "high", None]
    assert got[2]["missing"] == {
        ("base", "b"),
        ("winner", "b"),
        ("next", "b"),
        ("low", "b"),
        ("high", "b"),
    }
    assert outcomes[3]["base"] == "not_fired"  # unknown condition, but the overrider fired
    for patient, sql in zip(patients, got, strict=True):
        assert sql == python_decisions(policy, patient) | {"derived": sql["derived"]}
