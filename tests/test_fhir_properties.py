"""Property: facts -> synthetic FHIR Bundle -> mapped facts is the identity on every fact a
code can carry (`synthetic.carried`), whichever way each symptom is recorded."""

from __future__ import annotations

import datetime
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from support.profiles import examples

from leukorules.fhir import map_record_text, synthetic

AS_OF = datetime.date(2025, 1, 15)
DOMAINS: dict[str, tuple[object, ...]] = {
    "leukoencephalopathy_type": ("pml", "drug_induced", "post_infectious", "toxic", "other"),
    "causative_drug": ("mycophenolic_acid", "rituximab", "other", "none"),
    "toxic_exposure_ongoing": (True, False),
    **{fact: (True, False) for fact in synthetic.CONDITION_FACTS},
}


@st.composite
def patients(draw: st.DrawFn) -> dict[str, object]:
    facts: dict[str, object] = {}
    for fact, values in DOMAINS.items():
        value = draw(st.none() | st.sampled_from(values))
        if value is not None:
            facts[fact] = value
    return facts


@settings(max_examples=examples(200))
@given(facts=patients(), observe=st.sets(st.sampled_from(sorted(synthetic.OBSERVABLE_FACTS))))
def test_mapping_a_generated_record_gives_back_every_fact_it_carries(
    facts: dict[str, object], observe: set[str]
) -> None:
    record = synthetic.bundle(facts, "p", AS_OF, observe)
    result = map_record_text(json.dumps(record), "record.json", as_of=AS_OF)
    assert result.diagnostics == ()
    assert dict(result.facts) == synthetic.carried(facts)


def test_every_unconditional_coded_fact_is_carried() -> None:
    facts = {fact: True for fact in synthetic.CONDITION_FACTS} | {
        "leukoencephalopathy_type": "drug_induced",
        "causative_drug": "mycophenolic_acid",
        "toxic_exposure_ongoing": False,
    }
    assert synthetic.carried(facts) == facts
