"""`property` declarations: parsing, resolution, formatting and rendering.

The claims' meaning is proven by `leukorules prove` (tests/test_prove_*.py); here, the language:
what a property reads as, which mistakes the checker names, and that model -> text -> model is
the identity for generated policies with generated properties.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from prove_strategies import with_properties
from strategies import policies
from support.policies import checked
from support.profiles import examples

from leukorules import model as m
from leukorules.check import check_text
from leukorules.diagnostics import Severity
from leukorules.syntax.formatter import format_source
from leukorules.syntax.render import render_policy

HEADER = """\
policy demo.properties { title "Properties" version "1.0" }
evidence 1 { citation "Example guideline, 2024" }
fact kind: enum { adem, pml, other } "Type"
fact response: enum { responding, not_responding } "Response to plasma exchange"
fact seizures: bool "Seizures"
rule steroids { statement "s" evidence 1 when kind == adem recommend "Steroids" }
rule ivig {
  statement "s"
  evidence 1
  when kind == adem and response == not_responding
  recommend "IVIG"
}
gap nothing { when seizures note "n" }
"""


def check(text: str) -> tuple[m.Policy | None, list[str]]:
    result = check_text(HEADER + text)
    return result.policy, [d.code for d in result.diagnostics if d.severity is Severity.ERROR]


def test_a_property_reads_like_the_guideline_and_resolves_to_a_claim() -> None:
    policy, errors = check(
        'property ivig.needs_failure {\n  "IVIG only after plasma exchange failed"\n'
        "  for every patient: ivig fired implies response == not_responding\n}\n"
    )
    assert errors == [] and policy is not None
    (prop,) = policy.properties
    assert prop.id == "ivig.needs_failure"
    assert prop.text == "IVIG only after plasma exchange failed"
    assert prop.claim == m.Implies(
        m.RuleOutcome("ivig", "fired"), m.Compare("response", "==", "not_responding")
    )


def test_parts_that_test_facts_only_are_conditions_and_nesting_is_flattened() -> None:
    policy, errors = check(
        'property p { "x" for every patient: '
        "(kind == adem and (seizures and ivig not_fired)) or not (steroids overridden or"
        " kind == pml) }\n"
    )
    assert errors == [] and policy is not None
    assert policy.properties[0].claim == m.AnyOf(
        (
            m.AllOf(
                (
                    m.Compare("kind", "==", "adem"),
                    m.Compare("seizures", "==", True),
                    m.RuleOutcome("ivig", "not_fired"),
                )
            ),
            m.Negation(
                m.AnyOf((m.RuleOutcome("steroids", "overridden"), m.Compare("kind", "==", "pml")))
            ),
        )
    )


@pytest.mark.parametrize(
    ("claim", "code"),
    [
        ("ivgi fired", "LR203"),  # a typo in a rule id
        ("nothing fired", "LR203"),  # a gap has no outcome
        ("kindd == adem", "LR201"),
        ("kind == ademm", "LR301"),
        ("seizures == 3", "LR302"),
        ("ivig fired implies kind > adem", "LR304"),
    ],
)
def test_mistakes_in_a_claim_are_named(claim: str, code: str) -> None:
    policy, errors = check(f'property p {{ "x" for every patient: {claim} }}\n')
    assert policy is None
    assert errors == [code]


def test_property_ids_are_unique_and_separate_from_rule_ids() -> None:
    one = 'property p { "x" for every patient: ivig fired }\n'
    assert check(one + one)[1] == ["LR204"]
    assert check(one.replace("property p", "property ivig"))[1] == []


def test_outcome_tests_belong_to_properties_not_to_conditions() -> None:
    policy, errors = check('rule r { statement "s" evidence 1 when ivig fired recommend "x" }\n')
    assert policy is None and errors == ["LR110"]


def test_a_fact_read_only_by_a_property_is_still_unused() -> None:
    text = HEADER.replace('fact seizures: bool "Seizures"\n', "").replace(
        'gap nothing { when seizures note "n" }\n', ""
    )
    text += 'fact pregnant: bool "Pregnant"\n'
    text += 'property p { "x" for every patient: pregnant implies not ivig fired }\n'
    result = check_text(text)
    assert result.policy is not None
    assert "LR406" in [d.code for d in result.diagnostics]


def test_a_claim_nested_too_deeply_is_refused() -> None:
    claim = "(" * 70 + "ivig fired" + ")" * 70
    _, errors = check(f'property p {{ "x" for every patient: {claim} }}\n')
    assert errors == ["LR114"]


def test_the_formatter_keeps_short_claims_on_one_line_and_breaks_long_ones_at_implies() -> None:
    text = (
        'property short { "x"   for every patient:  ivig fired implies (kind==adem) }\n'
        'property long { "y" for every patient: ivig fired and steroids not_fired and '
        "kind == adem and seizures implies response == not_responding or kind == pml }\n"
    )
    formatted, problems = format_source(text)
    assert problems == [] and formatted is not None
    assert formatted == (
        "property short {\n"
        '  "x"\n'
        "  for every patient: ivig fired implies (kind == adem)\n"
        "}\n"
        "\n"
        "property long {\n"
        '  "y"\n'
        "  for every patient:\n"
        "    ivig fired and steroids not_fired and kind == adem and seizures\n"
        "    implies response == not_responding or kind == pml\n"
        "}\n"
    )
    assert format_source(formatted)[0] == formatted


def test_a_comment_between_premise_and_conclusion_stays_there() -> None:
    text = (
        'property p {\n  "x"\n  for every patient: ivig fired\n'
        "    # only after plasma exchange\n    implies response == not_responding\n}\n"
    )
    formatted = format_source(text)[0]
    assert formatted is not None
    assert "    ivig fired\n    # only after plasma exchange\n    implies" in formatted
    assert format_source(formatted)[0] == formatted


PROPERTY = settings(max_examples=examples(60))


@PROPERTY
@given(with_properties(policies(max_rules=5, max_derived_facts=1)))
def test_rendered_properties_check_back_to_the_same_policy(policy: m.Policy) -> None:
    text = render_policy(policy)
    assert checked(text) == policy
    assert format_source(text)[0] == text
