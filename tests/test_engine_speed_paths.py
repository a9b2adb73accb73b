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
from support.policies import HEADER, checked, every_construct_policy, rule
from support.profiles import examples

from leukorules import model as m
from leukorules.engine import build
from leukorules.engine.build import ResultParts, build_evaluation
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.facts import FactsError
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


def test_memo_keys_can_rely_on_one_type_per_fact() -> None:
    # 70, 70.0 and True are equal and hash alike, so records keyed by a fact's value alone are
    # right only while each fact holds one type: validation (the only way into the engine)
    # makes a number a float, keeps an integer an int and refuses the rest
    policy = compile_policy(
        checked(
            HEADER
            + "fact weight: number [kg] in 1..400\nfact age: integer in 0..120\n"
            + "derived build: enum {heavy, light}\n"
            + rule("build.heavy", "weight >= 65", "derive build = heavy")
            + rule("build.light", "weight < 65", "derive build = light")
            + rule("uses", "build == heavy and age > 3", "note")
        )
    )

    def value_types(raw: dict[str, object]) -> dict[str, set[type]]:
        ev = policy.evaluate(policy.validate(raw))
        reasons = [*ev.derived["build"].because, *ev.notes[0].because]
        return {name: {type(r.value) for r in reasons if r.fact == name} for name in raw}

    for raw in ({"weight": 70, "age": 5}, {"weight": 70.0, "age": 5}, {"weight": 70, "age": 5}):
        assert value_types(raw) == {"weight": {float}, "age": {int}}
    for refused in ({"age": 5.0}, {"age": True}, {"weight": True}):
        with pytest.raises(FactsError):
            policy.validate(refused)


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
        # `_core` takes the outcomes of a combination of rule truths from a memo: they must be
        # what each rule's truth (and base truth, for overridden rules) says
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
