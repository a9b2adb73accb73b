"""The engine's speed paths behave exactly like the plain ones.

Results are immutable records, and the records that repeat between patients come from a
bounded memo of the compiled policy (`leukorules.engine.build.ResultParts`). A result built
from the memo, in any order of patients, must equal the result built from nothing, and must
stay independent of later evaluations. No timing here: see benchmarks/bench_evaluate.py.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import facts_for, policies
from support.policies import every_construct_policy
from support.profiles import examples

from leukorules import model as m
from leukorules.engine import build
from leukorules.engine.build import ResultParts, build_evaluation
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.runtime import Run
from leukorules.result import Evaluation

POLICY = every_construct_policy()

FACTS: list[dict[str, object]] = [
    {},
    {"age": 70},
    {"age": 30},
    {"age": 70, "symptoms": frozenset({"a"})},
    {"age": 70, "symptoms": frozenset({"a"}), "onset": datetime.date(2019, 1, 1)},
]


def _fresh(compiled: CompiledPolicy, facts: dict[str, object], trace: bool) -> Evaluation:
    """The result built with nothing remembered from earlier patients."""
    return build_evaluation(ResultParts(compiled.plan), compiled.run(facts), trace)


@pytest.mark.parametrize("trace", [False, True])
def test_remembered_records_give_the_results_built_from_nothing(trace: bool) -> None:
    for _ in range(2):  # the second round is served from the memo
        for facts in FACTS:
            ev = POLICY.evaluate(facts, trace=trace)
            assert ev == _fresh(POLICY, facts, trace)
            assert ev.to_json(indent=2) == _fresh(POLICY, facts, trace).to_json(indent=2)


def test_values_that_compare_equal_but_differ_in_type_never_share_records() -> None:
    # 70 and 70.0 are equal and hash alike; each result must still show the value it was given
    # (validation keeps one type per fact, but the memo does not rely on it)
    parts = ResultParts(POLICY.plan)

    def age_values(facts: dict[str, object]) -> set[type]:
        run = Run(POLICY.plan, POLICY._core(facts))  # unvalidated: 70.0 is no integer
        ev = build_evaluation(parts, run, False)
        return {type(r.value) for r in ev.derived["band"].because if r.fact == "age"}

    assert age_values({"age": 70}) == {int}
    assert age_values({"age": 70.0}) == {float}
    assert age_values({"age": 70}) == {int}


def test_a_full_memo_still_gives_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "MEMO_SIZE", 0)
    compiled = CompiledPolicy(POLICY.policy)
    for facts in FACTS:
        assert compiled.evaluate(facts, trace=True) == _fresh(POLICY, facts, True)


def test_results_survive_copies_and_pickling() -> None:
    ev = POLICY.evaluate({"age": 70, "symptoms": frozenset({"a"})}, trace=True)
    assert copy.deepcopy(ev) == ev
    assert pickle.loads(pickle.dumps(ev)) == ev
    assert copy.copy(ev) is ev or copy.copy(ev) == ev


@settings(max_examples=examples(60))
@given(st.data())
def test_generated_policies_and_patients_in_any_order(data: st.DataObject) -> None:
    policy: m.Policy = data.draw(policies())
    compiled = compile_policy(policy)
    patients = data.draw(st.lists(facts_for(policy), min_size=1, max_size=6))
    for facts in [*patients, *reversed(patients)]:
        for trace in (False, True):
            assert compiled.evaluate(facts, trace=trace) == _fresh(compiled, facts, trace)


@settings(max_examples=examples(60))
@given(st.data())
def test_remembered_outcomes_are_each_rules_own(data: st.DataObject) -> None:
    # `_core` copies the outcomes of a combination of rule truths from a memo: they must be
    # what each rule's truth (and base truth, for overridden rules) says, in any order
    policy: m.Policy = data.draw(policies())
    compiled = compile_policy(policy)
    patients = data.draw(st.lists(facts_for(policy), min_size=1, max_size=6))
    for facts in [*patients, *reversed(patients)]:
        run = compiled.run(facts)
        assert run.outcomes == {rule: run.outcome(i) for i, rule in enumerate(compiled.rule_ids)}


def test_results_never_share_a_mutable_outcomes_mapping() -> None:
    first, second = (POLICY.evaluate({"age": 70}) for _ in range(2))
    assert first.outcomes == second.outcomes and first.outcomes is not second.outcomes
    rule = next(iter(first.outcomes))
    first.outcomes[rule] = "not_fired" if first.outcomes[rule] == "fired" else "fired"  # type: ignore[index]
    assert POLICY.evaluate({"age": 70}).outcomes == second.outcomes


def test_the_unchecked_constructor_builds_what_the_class_builds() -> None:
    ev = POLICY.evaluate({"age": 70, "symptoms": frozenset({"a"})}, trace=True)
    fields = {f.name: getattr(ev, f.name) for f in dataclasses.fields(ev)}
    made = build.unchecked_constructor(Evaluation)(**fields)
    assert type(made) is Evaluation and made == Evaluation(**fields) == ev
    assert repr(made) == repr(ev) and hash(made.to_json()) == hash(ev.to_json())
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.facts_sha256 = "changed"  # type: ignore[misc]
    without_provenance = {name: value for name, value in fields.items() if name != "provenance"}
    with pytest.raises(TypeError):  # every field is required: none is silently left unset
        build.unchecked_constructor(Evaluation)(**without_provenance)
