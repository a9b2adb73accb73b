"""Every public entry point that takes facts refuses invalid ones (issue 11, part 1).

A wrong case, a string for a boolean, a misspelt name, a value outside an enum or a range, a
derived fact supplied: none of them may turn into a clinical "no". `evaluate`, `decide`,
`explain` and `run` raise `FactsError` carrying every diagnostic, and its message names each
offending fact. `validate` returns `ValidatedFacts`, which the entry points take as they are.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import fact_values, facts_for, policies
from support.policies import checked_rules, every_fact_kind_policy, rule
from support.profiles import examples

from leukorules import FactsError, ValidatedFacts, load_policy, logic
from leukorules import model as m
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.facts import validate_facts

BUNDLED = load_policy()
ALL_TYPES = every_fact_kind_policy()
TYPES = compile_policy(ALL_TYPES)

ENTRY_POINTS: dict[str, Callable[[CompiledPolicy, Any], object]] = {
    "evaluate": lambda policy, facts: policy.evaluate(facts),
    "evaluate(trace)": lambda policy, facts: policy.evaluate(facts, trace=True),
    "decide": lambda policy, facts: policy.decide(facts),
    "explain": lambda policy, facts: policy.explain(facts, policy.rule_ids[0]),
    "run": lambda policy, facts: policy.run(facts),
    "validate": lambda policy, facts: policy.validate(facts),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_the_issues_example_is_refused_by_every_entry_point(entry: str) -> None:
    facts = {"leukoencephalopathy_type": "PML", "hiv_positive": "yes", "seizure": True}
    with pytest.raises(FactsError) as raised:
        ENTRY_POINTS[entry](BUNDLED, facts)
    error = raised.value
    assert sorted(d.code for d in error.diagnostics) == ["LR502", "LR503", "LR504"]
    text = str(error)
    for name in ("leukoencephalopathy_type", "hiv_positive", "seizure"):
        assert f"`{name}`" in text or f"of `{name}`" in text, text
    assert "did you mean `pml`" in text  # the same hints as the command line
    assert "did you mean `seizures`" in text


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_derived_fact_supplied_is_refused(entry: str) -> None:
    with pytest.raises(FactsError, match="`response` is a derived fact"):
        ENTRY_POINTS[entry](BUNDLED, {"response": "non_response"})


# Per fact type: values of each invalid class, and the code it must give.
INVALID: dict[str, list[tuple[object, str]]] = {
    "bool": [("yes", "LR503"), (1, "LR503"), ("true", "LR503"), ([True], "LR503")],
    "integer": [("3", "LR503"), (3.5, "LR503"), (True, "LR503"), (10**6, "LR505")],
    "number": [("3", "LR503"), (float("nan"), "LR503"), (-1.0, "LR505"), (True, "LR503")],
    "enum": [("MALE", "LR504"), ("", "LR504"), (1, "LR503"), (True, "LR503")],
    "set": [("headache", "LR503"), (["fits"], "LR504"), ([1], "LR503"), (True, "LR503")],
    "string": [(5, "LR503"), (True, "LR503"), ("\ud800", "LR503"), (["x"], "LR503")],
    "date": [("2024-02-30", "LR503"), ("1/2/2024", "LR503"), (20240101, "LR503")],
}
CASES = [
    (fact.name, value, code)
    for fact in ALL_TYPES.input_facts
    for value, code in INVALID[fact.type.kind]
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("name", "value", "code"), CASES)
def test_every_invalid_value_class_is_refused_and_names_the_fact(
    entry: str, name: str, value: object, code: str
) -> None:
    with pytest.raises(FactsError) as raised:
        ENTRY_POINTS[entry](TYPES, {name: value})
    assert [d.code for d in raised.value.diagnostics] == [code]
    assert f"`{name}`" in str(raised.value)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_unknown_names_are_refused_with_a_suggestion(entry: str) -> None:
    with pytest.raises(FactsError, match="did you mean `fever`"):
        ENTRY_POINTS[entry](TYPES, {"fevr": True})


def test_validated_facts_are_taken_as_they_are_and_are_immutable() -> None:
    raw = {"leukoencephalopathy_type": "pml", "hiv_positive": True}
    facts = BUNDLED.validate(raw)
    assert isinstance(facts, ValidatedFacts)
    assert BUNDLED.validate(facts) is facts
    assert BUNDLED.decide(facts) == BUNDLED.decide(raw)
    assert BUNDLED.evaluate(facts) == BUNDLED.evaluate(raw)
    assert dict(facts) == raw
    with pytest.raises(TypeError):
        facts["hiv_positive"] = False  # type: ignore[index]
    assert "True" not in repr(facts) and "hiv_positive" in repr(facts)  # names, not values


def test_validated_facts_of_another_policy_are_checked_again() -> None:
    facts = TYPES.validate({"fever": True, "age": 30})
    with pytest.raises(FactsError, match="`fever` is not a fact of this policy"):
        BUNDLED.evaluate(facts)


def test_none_is_unknown_and_values_come_back_typed() -> None:
    facts = TYPES.validate(
        {"age": 54, "weight": 70, "symptoms": ("seizure",), "onset": "2024-02-29", "sex": None}
    )
    assert dict(facts) == {
        "age": 54,
        "weight": 70.0,
        "symptoms": frozenset({"seizure"}),
        "onset": datetime.date(2024, 2, 29),
    }


# --- the fast check agrees with the full validation -------------------------------------------

_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["female", "male", "seizure", "headache", "2024-01-01", "2024-02-30"]),
    st.dates(),
    st.datetimes(),
    st.lists(st.sampled_from(["seizure", "headache", "fits", "ataxia"]), max_size=3),
    st.frozensets(st.sampled_from(["seizure", "headache", "ataxia"]), max_size=3),
)


@st.composite
def _raw_facts(draw: st.DrawFn, policy: m.Policy) -> dict[str, object]:
    names = [f.name for f in policy.facts.values()] + ["not_a_fact"]
    raw: dict[str, object] = {}
    for name in draw(st.lists(st.sampled_from(names), max_size=6, unique=True)):
        fact = policy.facts.get(name)
        valid = fact is not None and not fact.derived and draw(st.booleans())
        raw[name] = draw(fact_values(fact)) if valid and fact is not None else draw(_ANY)
    return raw


@settings(max_examples=examples(400))
@given(st.data())
def test_the_fast_check_accepts_only_what_the_full_validation_accepts(data: st.DataObject) -> None:
    raw = data.draw(_raw_facts(ALL_TYPES))
    fast = TYPES.validator._fast(raw)
    values, problems = validate_facts(ALL_TYPES, raw)
    if fast is not None:
        assert problems == []
        assert fast == values
        assert [type(v) for v in fast.values()] == [type(v) for v in values.values()]


@settings(max_examples=examples(60))
@given(st.data())
def test_generated_policies_accept_their_valid_patients_unchanged(data: st.DataObject) -> None:
    policy = data.draw(policies())
    facts = data.draw(facts_for(policy))
    compiled = compile_policy(policy)
    validated = compiled.validate(facts)
    assert dict(validated) == {k: v for k, v in facts.items() if v is not None}
    assert compiled.evaluate(validated) == compiled.evaluate(facts)


# --- facts that contradict each other (constraints) -------------------------------------------

CONTRADICTION = {
    "leukoencephalopathy_type": "pml",
    "pml_medication_induced": False,
    "causative_drug": "rituximab",
    "checkpoint_inhibitor_candidate": True,
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_contradictory_facts_are_refused_by_every_entry_point(entry: str) -> None:
    """The issue's example: today it would recommend checkpoint inhibitors on one of the two."""
    with pytest.raises(FactsError) as raised:
        ENTRY_POINTS[entry](BUNDLED, CONTRADICTION)
    error = raised.value
    assert error.contradictions == ("pml.drug_means_medication_induced",)
    assert [d.code for d in error.diagnostics] == ["LR508"]
    text = str(error)
    for shown in ("`pml_medication_induced` = false", "`causative_drug` = rituximab"):
        assert shown in text


def test_unknown_facts_never_break_a_constraint() -> None:
    facts = dict(CONTRADICTION)
    del facts["pml_medication_induced"]
    assert BUNDLED.evaluate(facts).outcomes["pml.medication_induced.checkpoint_inhibitors"] == (
        "fired"
    )


CONSTRAINED = compile_policy(
    checked_rules(
        "fact a: bool\nfact b: bool\nfact n: integer in 0..10\nfact k: enum {x, y, z}\n"
        "constraint c.one { when a and k == x require b or n > 3 }\n"
        "constraint c.two { when not (a or b) require k in {y, z} and n is known }\n"
        "constraint c.three { require not (k == z and n < 2) }\n" + rule("r", "a or b")
    )
)


@settings(max_examples=examples(300))
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "a": st.booleans(),
            "b": st.booleans(),
            "n": st.integers(0, 10),
            "k": st.sampled_from(["x", "y", "z"]),
        },
    )
)
def test_the_generated_constraint_check_is_kleene_logic(facts: dict[str, object]) -> None:
    expected = tuple(
        c.id
        for c in CONSTRAINED.policy.constraints
        if logic.evaluate(c.when, facts) is True and logic.evaluate(c.require, facts) is False
    )
    checked_facts, problems = CONSTRAINED.check_facts(facts)
    if expected:
        assert checked_facts is None
        with pytest.raises(FactsError) as raised:
            CONSTRAINED.validate(facts)
        assert raised.value.contradictions == expected
        assert [d.code for d in problems] == ["LR508"] * len(expected)
    else:
        assert checked_facts is not None and not problems
