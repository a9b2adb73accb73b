"""The solver's formula is the engine's semantics: outcomes, derived facts, refusals.

`leukorules.prove.encoding` restates `leukorules.engine.runtime` for the solver; these tests hold
them together on generated policies (with constraints): a patient pinned in the solver gets the
engine's outcomes, a patient the solver finds for an outcome gets that outcome from the engine,
and where the solver finds none, exhaustive enumeration of the patient space finds none either.
`leukorules.prove.reference` (the checker's quick evaluation) is held to the engine too.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import facts_for, policies
from support.profiles import examples

from leukorules import model as m
from leukorules.engine.compile import compile_policy
from leukorules.engine.facts import FactsError
from leukorules.prove.enumerate import PatientSpace
from leukorules.prove.reference import outcomes, refused
from leukorules.prove.session import Session, policy_conditions
from leukorules.prove.solver import SolverUndecided, satisfiable
from leukorules.rulegraph import PolicyGraph

SETTINGS = settings(max_examples=examples(60))
SMALL = policies(max_input_facts=3, max_derived_facts=1, max_rules=4, max_gaps=0, max_constraints=1)


def _engine(policy: m.Policy, patient: dict[str, Any]) -> Any:
    try:
        return compile_policy(policy).run(patient)
    except FactsError:
        return None


@SETTINGS
@given(st.data(), policies(max_constraints=2))
def test_a_pinned_patient_gets_the_engines_outcomes(data: st.DataObject, policy: m.Policy) -> None:
    patient = data.draw(facts_for(policy))
    session = Session(policy)
    formula = session.formula
    solver = session.solver(formula.everything())
    pinned = session.pinned(patient)
    run = _engine(policy, patient)
    if run is None:  # refused: the solver admits no such patient
        assert not solver.possible(pinned)
        return
    assert solver.possible(pinned)
    solver.solver.add(pinned)
    solver.solver.check()
    model = solver.solver.model()
    for i, rule in enumerate(policy.rules):
        for outcome in m.OUTCOME_NAMES:
            holds = bool(session.z3.is_true(model.eval(formula.outcome(i, outcome), True)))
            assert holds == (run.outcome(i) == outcome), (rule.id, outcome, run.outcome(i))
    for fact in policy.derived_facts:
        value = formula.terms[fact.name].value_of(model)
        assert value == run.derived.get(fact.name), fact.name


@SETTINGS
@given(st.data(), SMALL)
def test_the_solver_finds_a_patient_for_an_outcome_exactly_when_one_exists(
    data: st.DataObject, policy: m.Policy
) -> None:
    space = PatientSpace(policy, policy_conditions(policy))
    assume(space.exact and space.size <= 3000)
    index = data.draw(st.integers(0, len(policy.rules) - 1))
    outcome = data.draw(st.sampled_from(m.OUTCOME_NAMES))
    session = Session(policy)
    patient = session.witness(session.formula.outcome(index, outcome), [index])
    if patient is not None:
        run = _engine(policy, patient)
        assert run is not None, "the solver's patient is refused"
        assert run.outcome(index) == outcome
        return
    for candidate in space.patients():
        run = _engine(policy, candidate)
        assert run is None or run.outcome(index) != outcome, candidate


@SETTINGS
@given(st.data(), policies(max_constraints=2))
def test_the_reference_evaluation_is_the_engines(data: st.DataObject, policy: m.Policy) -> None:
    patient = data.draw(facts_for(policy))
    run = _engine(policy, patient)
    assert refused(policy.constraints, patient) == (run is None)
    if run is None:
        return
    found = outcomes(PolicyGraph.of(policy), policy.rules, patient)
    assert [found.effective[i] for i in range(len(policy.rules))] == list(run.effective)
    for fact in policy.derived_facts:
        assert found.values[fact.name] == run.derived.get(fact.name)


def test_canonical_patients_are_reproducible_and_readable() -> None:
    from leukorules.check import check_text

    text = (
        'policy p { title "t" version "1" }\nevidence 1 { citation unknown }\n'
        'fact age: integer in 0..120 "Age"\nfact kind: enum { a, b, c } "Kind"\n'
        'fact flag: bool "Flag"\nfact dose: number in 0..20 "Dose"\n'
        'rule r { statement "s" evidence 1 when age > 60 and kind != a and dose < 2.5 note }\n'
    )
    policy = check_text(text).policy
    assert policy is not None
    found = []
    for _ in range(2):
        session = Session(policy)
        found.append(session.witness(session.formula.fired(0), [0]))
    # only the facts that matter, each at the first readable value that works
    assert found[0] == found[1] == {"age": 61, "kind": "b", "dose": 1.5}


def test_an_answer_the_solver_cannot_give_is_an_error_never_a_no() -> None:
    import z3

    class Undecided:
        def check(self, *terms: object) -> object:
            return z3.unknown

        def reason_unknown(self) -> str:
            return "canceled"

    with pytest.raises(SolverUndecided, match="could not decide: canceled"):
        satisfiable(Undecided())
    solver = z3.Solver()
    assert satisfiable(solver, z3.Bool("a")) and not satisfiable(solver, z3.BoolVal(False))
