"""Hypothesis strategies for properties: claims over a generated policy's facts and rules.

`claims(policy)` draws a claim in the checker's normal form (what `check` builds from its text):
fact tests from `strategies.conditions` (any form, over input and derived facts), outcome tests
of the policy's rules, joined by `not`, `and`, `or` and `implies`, with parts that test facts
only kept as conditions. `with_properties(policies())` adds a few such properties to each policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from strategies import conditions, texts

from leukorules import model as m
from leukorules.check.properties import joined_claim

Draw = Callable[[st.SearchStrategy[Any]], Any]

_SHAPES = st.recursive(
    st.just("leaf"),
    lambda children: st.one_of(
        st.tuples(st.sampled_from(("and", "or")), st.lists(children, min_size=2, max_size=3)),
        st.tuples(st.just("not"), children),
        st.tuples(st.just("implies"), st.tuples(children, children)),
    ),
    max_leaves=5,
)


def _leaf(draw: Draw, policy: m.Policy) -> m.Claim:
    if policy.rules and draw(st.integers(0, 2)) > 0:
        rule = draw(st.sampled_from([r.id for r in policy.rules]))
        return m.RuleOutcome(rule, draw(st.sampled_from(m.OUTCOME_NAMES)))
    return draw(conditions(dict(policy.facts), max_leaves=2))


def _claim(draw: Draw, policy: m.Policy, shape: Any) -> m.Claim:
    if shape == "leaf":
        return _leaf(draw, policy)
    kind, children = shape
    if kind == "not":
        inner = _claim(draw, policy, children)
        if isinstance(inner, m.RuleOutcome | m.AllOf | m.AnyOf | m.Negation | m.Implies):
            return m.Negation(inner)
        return m.Not(inner)
    if kind == "implies":
        first, second = children
        return m.Implies(_claim(draw, policy, first), _claim(draw, policy, second))
    parts = [_claim(draw, policy, child) for child in children]
    return joined_claim(kind == "and", parts, None)


def claims(policy: m.Policy) -> st.SearchStrategy[m.Claim]:
    """A claim over `policy`'s facts and rule outcomes, in the checker's normal form."""
    return st.composite(lambda draw: _claim(draw, policy, draw(_SHAPES)))()


def _add_properties(draw: Draw, policy: m.Policy, max_properties: int) -> m.Policy:
    properties = tuple(
        m.Property(f"prop{index}", draw(texts(1, 20)), draw(claims(policy)))
        for index in range(draw(st.integers(1, max_properties)))
    )
    return m.Policy(
        **{f: getattr(policy, f) for f in ("id", "title", "version", "source", "effective")},
        evidence=policy.evidence,
        facts=policy.facts,
        sections=policy.sections,
        rules=policy.rules,
        gaps=policy.gaps,
        constraints=policy.constraints,
        properties=properties,
    )


def with_properties(
    policy_strategy: st.SearchStrategy[m.Policy], max_properties: int = 3
) -> st.SearchStrategy[m.Policy]:
    """Each policy of `policy_strategy` with 1 to `max_properties` properties."""
    return policy_strategy.flatmap(
        lambda policy: st.composite(lambda draw: _add_properties(draw, policy, max_properties))()
    )
