"""Properties proven by the solver agree with exhaustive enumeration, and every counterexample
printed really violates its property when the engine evaluates it.

Policies and properties are generated (`tests/strategies.py`, `tests/prove_strategies.py`); on
those whose patient space is small and exactly represented, `prove(..., method="solver")` and
`prove(..., method="enumeration")` must give the same verdicts (and vacuity), and on every
generated policy each counterexample is a patient the constraints admit for whom the engine
makes the claim false or unknown, written as a scenario file that `leukorules test` passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from prove_strategies import with_properties
from strategies import policies
from support.policies import PROVE_DEMO_POLICY
from support.profiles import examples

from leukorules import model as m
from leukorules.authoring.scenario_files import load_scenario_file
from leukorules.authoring.scenarios import run_scenario
from leukorules.check import check_text
from leukorules.engine.compile import compile_policy
from leukorules.prove.claims import claim_truth
from leukorules.prove.enumerate import PatientSpace
from leukorules.prove.properties import CannotProve, prove
from leukorules.prove.session import policy_conditions

SETTINGS = settings(max_examples=examples(80))
SMALL = with_properties(
    policies(max_input_facts=3, max_derived_facts=1, max_rules=4, max_gaps=0, max_constraints=1)
)


def _violates(policy: m.Policy, prop: m.Property, facts: dict[str, m.Value]) -> bool:
    compiled = compile_policy(policy)
    run = compiled.run(facts)  # FactsError if refused: a counterexample must be admissible
    values = {**facts, **run.derived}
    index = compiled.plan.graph.index
    return claim_truth(prop.claim, values, lambda r: run.outcome(index[r])) is not True


@SETTINGS
@given(SMALL)
def test_the_solver_and_exhaustive_enumeration_agree(policy: m.Policy) -> None:
    claims = [c for p in policy.properties for c in _conditions(p)]
    space = PatientSpace(policy, [*policy_conditions(policy), *claims])
    assume(space.exact and space.size <= 3000)
    by_solver = prove(policy, method="solver")
    by_enumeration = prove(policy, method="enumeration")
    for solved, enumerated in zip(by_solver, by_enumeration, strict=True):
        assert solved.holds == enumerated.holds, solved.prop
        assert solved.vacuous == enumerated.vacuous, solved.prop


@SETTINGS
@given(with_properties(policies(max_constraints=2)))
def test_every_counterexample_violates_its_property(policy: m.Policy) -> None:
    for result in prove(policy, method="solver"):
        example = result.counterexample
        if example is None:
            continue
        assert _violates(policy, result.prop, example.facts)
        assert example.truth is not True


def _conditions(prop: m.Property) -> list[m.Expr]:
    from leukorules.prove.patients import claim_conditions

    return list(claim_conditions(prop.claim))


POLICY = PROVE_DEMO_POLICY


def test_a_counterexample_is_a_scenario_file_that_leukorules_test_passes(tmp_path: Path) -> None:
    policy = check_text(POLICY).policy
    assert policy is not None
    failing, holding = prove(policy)
    assert holding.holds and not holding.vacuous
    example = failing.counterexample
    assert example is not None
    assert example.facts == {"kind": "adem", "age": 61}
    assert example.outcomes == (("ivig", "fired"),)
    assert example.truth is False  # fired, and the response is unknown: false, not unknown
    path = tmp_path / "counterexample.yaml"
    path.write_text(example.scenario(failing.prop), encoding="utf-8")
    (scenario,), problems = load_scenario_file(path, policy)
    assert problems == []
    outcome = run_scenario(compile_policy(policy), scenario)
    assert outcome.passed, outcome.report()


def test_without_the_solver_small_policies_are_enumerated_and_large_ones_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = check_text(POLICY).policy
    assert policy is not None
    monkeypatch.setattr("leukorules.prove.properties.solver_installed", lambda: False)
    results = prove(policy)
    assert [(r.holds, r.method) for r in results] == [(False, "enumeration"), (True, "enumeration")]
    with pytest.raises(CannotProve, match="leukorules\\[prove\\]"):
        prove(policy, limit=10)
