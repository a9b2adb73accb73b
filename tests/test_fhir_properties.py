"""Property: facts -> synthetic FHIR Bundle -> mapped facts is the identity on every fact a
code can carry (`synthetic.carried`), whichever way each symptom is recorded, under the
bindings the policy declares in its own language (policies/leukoencephalopathy/fhir.rules), and
under bindings a test writes."""

from __future__ import annotations

import datetime
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from support.profiles import examples

from leukorules import terminology as t
from leukorules.api import load_policy
from leukorules.check import check_text
from leukorules.fhir import map_record_text, synthetic
from leukorules.fhir.bindings import Bindings

AS_OF = datetime.date(2025, 1, 15)
POLICY = load_policy().policy
BINDINGS = Bindings.of(POLICY)
BOUND = BINDINGS.facts
OBSERVABLE = sorted({b.fact for b in POLICY.bindings if isinstance(b, t.AnswerBinding)})


def domain(name: str) -> tuple[object, ...]:
    fact = POLICY.facts[name]
    return (True, False) if fact.type.kind == "bool" else fact.type.values


@st.composite
def patients(draw: st.DrawFn) -> dict[str, object]:
    facts: dict[str, object] = {}
    for fact in BOUND:
        value = draw(st.none() | st.sampled_from(domain(fact)))
        if value is not None:
            facts[fact] = value
    return facts


@settings(max_examples=examples(200))
@given(facts=patients(), observe=st.sets(st.sampled_from(OBSERVABLE)))
def test_mapping_a_generated_record_gives_back_every_fact_it_carries(
    facts: dict[str, object], observe: set[str]
) -> None:
    record = synthetic.bundle(facts, "p", AS_OF, POLICY, observe)
    result = map_record_text(json.dumps(record), "record.json", POLICY, as_of=AS_OF)
    assert result.diagnostics == ()
    assert dict(result.facts) == synthetic.carried(facts, POLICY)


def test_every_value_a_binding_gives_is_carried_by_some_record() -> None:
    """Each binding can carry each of its values: no binding is dead under the generator."""
    for binding in POLICY.bindings:
        if isinstance(binding, t.ConditionBinding):
            values = [binding.value] + ([binding.refuted] if binding.refuted is not None else [])
            for value in values:
                facts: dict[str, object] = {binding.fact: value}
                if binding.needs_drug_cause:
                    facts["causative_drug"] = "rituximab"
                assert synthetic.carried(facts, POLICY)[binding.fact] == value, binding
        elif isinstance(binding, t.CauseBinding):
            values = [value for _, value in binding.drugs]
            values += [binding.other[1]] if binding.other else []
            for drug in values:
                facts = {"leukoencephalopathy_type": "pml", binding.fact: drug}
                assert synthetic.carried(facts, POLICY)[binding.fact] == drug
        elif isinstance(binding, t.ExposureBinding):
            for taken in (True, False):
                facts = {"leukoencephalopathy_type": "toxic", "causative_drug": "other"}
                carried = synthetic.carried({**facts, binding.fact: taken}, POLICY)
                assert carried[binding.fact] is taken


WRITTEN = """
policy demo { title "Demo" version "1" }
fact kind: enum {a, b, c} "Kind"
fact sick: bool "Sick"
fact agent: enum {x, y, other, none} "Agent"
fact exposed: bool "Exposed"
rule r { statement "S" evidence 1 when kind == a and sick and agent == x and exposed note }
evidence 1 { citation unknown }
valueset a_codes "A" {
  snomed 22255007 "A" source "test"
  icd10cm A81.2 "A" source "test"
}
valueset b_codes "B" { icd10cm G04.01 "B" source "test" }
valueset sick_codes "Sick" { icd10cm R56.9 "Sick" source "test" }
valueset x_drugs "X" { rxnorm 200060 "X" source "test" }
bind kind {
  Condition in a_codes gives a, lasting
  Condition in b_codes gives b, current
}
bind sick {
  Condition in sick_codes gives true, current, refuted gives false
  Observation in sick_codes answers yes or no within 7 days
}
bind agent {
  cause of Condition in a_codes, b_codes
  drug in x_drugs gives x
  any rxnorm drug gives other
}
bind exposed {
  cause of Condition in a_codes
  drug still taken
}
"""


def test_a_policy_of_its_own_round_trips_through_a_generated_record() -> None:
    result = check_text(WRITTEN)
    assert result.policy is not None, result.diagnostics
    policy = result.policy
    for facts in (
        {"kind": "a", "sick": False, "agent": "x", "exposed": True},
        {"kind": "b", "sick": True, "agent": "other"},
        {"kind": "c", "sick": True},
    ):
        record = synthetic.bundle(facts, "p", AS_OF, policy, observe={"sick"})
        mapped = map_record_text(json.dumps(record), "r.json", policy, as_of=AS_OF)
        assert mapped.diagnostics == ()
        assert dict(mapped.facts) == synthetic.carried(facts, policy)
    assert synthetic.carried({"kind": "b", "agent": "x", "exposed": True}, policy) == {
        "kind": "b",
        "agent": "x",
    }
