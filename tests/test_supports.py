"""The compiled explanations (`leukorules.engine.supports`, the lists the generated core builds)
agree with the walkers they replace (`leukorules.engine.trace.support`) and with the definitions
of the result's lists, on generated policies and patients."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from strategies import Case, cases
from support.policies import compiled_rules
from support.policies import rule as rule_text
from support.profiles import examples

from leukorules import model as m
from leukorules.engine import supports
from leukorules.engine import trace as tr
from leukorules.engine.compile import CompiledPolicy, Run


def walked_missing(run: Run, i: int) -> tuple[set[str], set[str]]:
    """`missing` as the module docstring of `leukorules.engine.runtime` defines it, walking the
    conditions with `trace.support` only."""
    graph = run.plan.graph
    rule = run.plan.rules[i]
    inputs: set[str] = set()
    unresolved: set[str] = set()
    truth, names = tr.support(rule.when, run.env)
    if truth is None:
        for name in names:
            if name not in graph.derivers:
                inputs.add(name)
                continue
            open_rules = [j for j in graph.derivers[name] if run.effective[j] is None]
            for j in open_rules:
                more, stuck = walked_missing(run, j)
                inputs |= more
                unresolved |= stuck
            if not open_rules:
                unresolved.add(name)
    for j in [graph.index[p] for p in rule.after] + list(graph.overridden_by.get(i, ())):
        if run.effective[j] is None:
            more, stuck = walked_missing(run, j)
            inputs |= more
            unresolved |= stuck
    return inputs, unresolved


def check_run(compiled: CompiledPolicy, facts: dict[str, object]) -> None:
    run = compiled.run(facts)
    plan = compiled.plan
    effective = run.effective
    recommend, notes, every = plan.recommend_order, plan.note_order, plan.every_order
    assert run.recommended == tuple(i for i in recommend if effective[i] is True)
    assert run.noted == tuple(i for i in notes if effective[i] is True)
    assert run.undetermined == tuple(i for i in every if effective[i] is None)
    assert run.overridden == tuple(i for i in every if run.outcome(i) == "overridden")
    assert run.derivations == tuple(
        (name, tuple(run.deriving(name))) for name in plan.derived_names if run.deriving(name)
    )
    reported = {*run.recommended, *run.noted}
    for i, rule in enumerate(plan.rules):
        truth, names = tr.support(rule.when, run.env)
        if effective[i] is True:
            assert truth is True
            assert run.because(i) == names, rule.id
            if i in reported and i not in run.to_explain:  # the policy's table answers for it
                assert plan.static_explained[i] == (names, tuple(run.chain(i))), rule.id
        if effective[i] is None:
            inputs, unresolved = walked_missing(run, i)
            assert run.missing(i) == (inputs, unresolved), rule.id
            if i not in run.to_walk:  # the core's answer is the whole of it
                assert set(run.found.get(i, ())) == inputs and not unresolved, rule.id


def check_case(case: Case) -> None:
    policy, full, partial = case
    compiled = CompiledPolicy(policy)
    for facts in (full, partial):
        check_run(compiled, facts)


@settings(max_examples=examples(80))
@given(cases(small=True))
def test_compiled_explanations_agree_with_the_walkers_on_small_policies(case: Case) -> None:
    check_case(case)


@settings(max_examples=examples(15))
@given(cases(small=False))
def test_compiled_explanations_agree_with_the_walkers_on_larger_policies(case: Case) -> None:
    check_case(case)


@settings(max_examples=examples(25))
@given(cases(small=True))
def test_results_do_not_depend_on_which_rules_have_compiled_explanations(case: Case) -> None:
    """Every rule falling back to the walkers gives byte-identical results."""
    policy, full, partial = case
    compiled = CompiledPolicy(policy)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(supports, "MAX_DEPTH", -1)
        walked = CompiledPolicy(policy)
    assert not walked.plan.generated_supports
    for facts in (full, partial):
        for trace in (False, True):
            expected = walked.evaluate(facts, trace=trace).to_json()
            assert compiled.evaluate(facts, trace=trace).to_json() == expected


def test_static_supports_are_the_walkers_answers_whenever_they_exist() -> None:
    a, b, c = (m.Compare(name, "==", True) for name in "abc")
    assert supports.static_support(m.And((a, b)), True) == ("a", "b")
    assert supports.static_support(m.Or((a, b)), True) is None  # the first true one
    assert supports.static_support(m.Or((a, b)), False) == ("a", "b")
    assert supports.static_support(m.Not(m.Or((a, b))), True) == ("a", "b")
    assert supports.static_support(m.And((a, m.Or((b, c)))), True) is None
    assert supports.static_support(m.And((a, a)), True) == ("a",)


def test_deep_conditions_fall_back_to_the_walkers() -> None:
    when: m.Expr = m.Compare("a", "==", True)
    for _ in range(supports.MAX_DEPTH + 1):
        when = m.Not(when)
    assert not supports.compiled_support(when)
    assert supports.compiled_support(m.Not(m.Compare("a", "==", True)))


def test_a_line_of_therapy_written_before_the_one_it_follows_is_reported_in_line_order() -> None:
    """Recommendations are in line-of-therapy order within a section even when the file has
    the second line first: the generated core then lists them in a pass of their own."""
    policy = compiled_rules(
        "fact a: bool\nfact b: bool\n"
        + rule_text("second", "b", 'recommend "second line"', "  after first\n")
        + rule_text("first", "a", 'recommend "first line"')
        + rule_text("other", "a", 'recommend "other"')
    )
    assert [policy.rule_ids[i] for i in policy.plan.recommend_order] == ["first", "other", "second"]
    run = policy.run({"a": True, "b": True})
    assert [policy.rule_ids[i] for i in run.recommended] == ["first", "other", "second"]
    assert [r.rule for r in policy.evaluate({"a": True, "b": True}).recommendations] == [
        "first",
        "other",
        "second",
    ]
    assert [policy.rule_ids[i] for i in policy.run({"b": True}).undetermined] == [
        "second",
        "first",
        "other",
    ]
