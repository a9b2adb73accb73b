"""Properties of the evaluator on generated policies and patients (`tests/strategies.py`).

1. Knowing more never changes a decision (for rules whose conditions, upstream included, do not
   ask `is known`/`is unknown`, the one deliberately non-monotone test).
2. With every input fact known, nothing is undetermined except rules blocked by derived facts
   that no rule derived (those report no missing facts and name the derived fact).
3. Every evidence id in a result is declared.
4. `decide(facts)` equals the ids of `recommendations + notes`.
5. The compiled evaluator agrees with the naive reference interpreter.
And: `because` suffices to make a fired rule's condition true; `missing` names unknown input
facts only; results are deterministic and independent of the facts' order.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from reference_interpreter import interpret
from strategies import Case, cases
from support.profiles import examples

from leukorules import logic
from leukorules import model as m
from leukorules.engine.compile import compile_policy
from leukorules.engine.values import result_value
from leukorules.result import Evaluation
from leukorules.result.schema import parse_evaluation

# Generating a valid policy costs far more than evaluating it, so every property is checked on
# each generated case rather than each property drawing its own cases.


def _has_known(expr: m.Expr) -> bool:
    return any(isinstance(node, m.Known) for node in _nodes(expr))


def _nodes(expr: m.Expr) -> list[m.Expr]:
    found: list[m.Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, m.And | m.Or):
            stack.extend(node.items)
        elif isinstance(node, m.Not):
            stack.append(node.item)
    return found


def knownness_tainted(policy: m.Policy) -> set[str]:
    """Rules whose outcome can depend on `is known` / `is unknown`, directly or upstream."""
    derivers: dict[str, list[str]] = {}
    for rule in policy.rules:
        if isinstance(rule.conclusion, m.Derive):
            derivers.setdefault(rule.conclusion.fact, []).append(rule.id)
    overridden_by: dict[str, list[str]] = {}
    for rule in policy.rules:
        for target in rule.overrides:
            overridden_by.setdefault(target, []).append(rule.id)
    tainted = {rule.id for rule in policy.rules if _has_known(rule.when)}
    changed = True
    while changed:
        changed = False
        for rule in policy.rules:
            if rule.id in tainted:
                continue
            upstream = [*rule.after, *overridden_by.get(rule.id, ())]
            for name in m.expr_facts(rule.when):
                upstream.extend(derivers.get(name, ()))
            if any(u in tainted for u in upstream):
                tainted.add(rule.id)
                changed = True
    return tainted


DECISION = {"fired": "fired", "not_fired": "not fired", "overridden": "not fired"}


def check_monotone(policy: m.Policy, less: Evaluation, more: Evaluation) -> None:
    """(1) Knowing more only decides undetermined rules; it never flips a decision."""
    tainted = knownness_tainted(policy)
    for rule_id, before in less.outcomes.items():
        if rule_id in tainted or before == "undetermined":
            continue
        after = more.outcomes[rule_id]
        assert DECISION[after] == DECISION[before], (rule_id, before, after)
        if before == "overridden":
            assert after == "overridden", rule_id
    for name, entry in less.derived.items():
        derive_rules = {
            r.id
            for r in policy.rules
            if isinstance(r.conclusion, m.Derive) and r.conclusion.fact == name
        }
        if not tainted & derive_rules:
            assert more.derived[name].value == entry.value, name


def check_all_known(policy: m.Policy, ev: Evaluation) -> None:
    """(2) With every input fact known, only derived facts no rule derived leave a rule open."""
    for entry in ev.undetermined:
        assert entry.missing == (), entry
        assert entry.unresolved, entry
        assert not set(entry.unresolved) & set(ev.derived)
    if not policy.derived_facts or len(ev.derived) == len(policy.derived_facts):
        assert ev.undetermined == ()


def check_result(policy: m.Policy, facts: dict[str, object], ev: Evaluation) -> None:
    """(3) evidence declared, (4) decide = recommendations + notes, (5) the reference agrees,
    and: because suffices, chains are fired, missing names unknown inputs."""
    compiled = compile_policy(policy)
    entries = [*ev.recommendations, *ev.notes, *ev.undetermined, *ev.overridden]
    entries.extend(ev.derived.values())
    for entry in entries:
        for evidence_id in entry.evidence:
            assert evidence_id in policy.evidence
            assert evidence_id in ev.policy.evidence
    assert compiled.decide(facts) == frozenset(ev.fired())
    assert len(ev.fired()) == len(set(ev.fired()))

    reference = interpret(policy, facts)
    assert ev.outcomes == reference.outcomes
    assert {k: v.value for k, v in ev.derived.items()} == {
        k: result_value(v) for k, v in reference.derived.items()
    }
    assert [g.id for g in ev.gaps] == reference.gaps
    assert compiled.decide(facts) == reference.decided

    env = {**{k: v for k, v in facts.items() if v is not None}, **reference.derived}
    for fired in [*ev.recommendations, *ev.notes, *ev.derived.values()]:
        when = policy.rule(fired.rule).when
        kept = {reason.fact: env[reason.fact] for reason in fired.because if reason.fact in env}
        assert logic.evaluate(when, kept) is True, (fired.rule, kept)
        for reason in fired.because:
            assert reason.derived == policy.facts[reason.fact].derived
        for upstream in fired.chain:
            assert ev.outcomes[upstream] == "fired"
    inputs = {f.name for f in policy.input_facts}
    for undetermined in ev.undetermined:
        assert set(undetermined.missing) <= inputs - set(env)
        assert list(undetermined.missing) == sorted(undetermined.missing)
        assert undetermined.missing or undetermined.unresolved
    assert ev.trace is not None
    for traced in ev.trace:
        if traced.why_not is not None and traced.why_not.reason == "condition":
            assert logic.evaluate(policy.rule(traced.rule).when, env) is False


def check_model(ev: Evaluation) -> None:
    """The result equals its validated round trip (the engine builds records without
    validating them), and its plain form is what its JSON holds."""
    text = ev.to_json()
    assert parse_evaluation(text) == ev
    assert json.loads(text) == ev.to_dict()


def check_case(case: Case) -> None:
    policy, full, partial = case
    compiled = compile_policy(policy)
    less = compiled.evaluate(partial, trace=True)
    more = compiled.evaluate(full, trace=True)
    check_model(less)
    check_model(more)
    check_model(compiled.evaluate(partial))
    check_monotone(policy, less, more)
    check_all_known(policy, more)
    check_result(policy, partial, less)
    check_result(policy, full, more)
    # deterministic, whatever the order the facts come in
    reordered = dict(reversed(list(partial.items())))
    again = compile_policy(policy).evaluate(reordered, trace=True)
    assert again.to_json() == less.to_json()


@settings(max_examples=examples(60))
@given(cases(small=True))
def test_properties_on_small_policies(case: Case) -> None:
    check_case(case)


@settings(max_examples=examples(12))
@given(cases(small=False))
def test_properties_on_larger_policies(case: Case) -> None:
    check_case(case)
