"""The bundled leukoencephalopathy policy written by hand as one Python function: the floor.

It returns what `policy.decide(facts)` returns: the ids of the recommend/note/caution/background
rules that definitely fire. Unknown facts are absent (or None); a test on an unknown fact is not
true, so `x is True` and `x == value` already give Kleene's "definitely true" for the tests this
policy uses, and nested ifs share the diagnosis test the way a programmer would write them. The
`response` derivations are not computed: no rule reads `response`, so they cannot change the
answer. `run.py` checks this function against `decide` on every benchmark patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALWAYS = (
    "approach.supportive_care",
    "imaging.serial_mri",
    "considerations.symptoms_guide_treatment",
    "considerations.permanent_deficits",
)
MEDICATION_DRUGS = ("mycophenolic_acid", "rituximab", "other")


def decide(facts: Mapping[str, Any]) -> frozenset[str]:
    g = facts.get
    out = list(ALWAYS)
    add = out.append
    kind = g("leukoencephalopathy_type")
    seizures = g("seizures") is True
    if kind == "pml":
        add("pml.cause")
        add("laboratory.pml_csf_jc_virus")
        if g("immune_restoration_possible") is True:
            add("pml.immune_restoration")
        if g("hiv_positive") is True:
            add("pml.hiv_antiretroviral_therapy")
        drug = g("causative_drug")
        if g("pml_medication_induced") is True or drug in MEDICATION_DRUGS:
            add("pml.medication_induced.no_antiviral")
            if g("checkpoint_inhibitor_candidate") is True:
                add("pml.medication_induced.checkpoint_inhibitors")
    elif kind == "drug_induced":
        add("laboratory.drug_induced_blood_tests")
    elif kind == "post_infectious":
        add("adem.corticosteroids")
        if g("corticosteroid_response") == "not_responding":
            add("adem.plasma_exchange")
        if g("plasma_exchange_response") == "not_responding":
            add("adem.ivig")
    elif kind == "toxic":
        if g("toxic_exposure_ongoing") is True:
            add("toxic.remove_exposure")
        if g("electrolyte_imbalance") is True:
            add("toxic.correct_electrolytes")
        if g("agitation") is True or seizures:
            add("toxic.benzodiazepines")
    if g("causative_drug") == "mycophenolic_acid" and (kind == "pml" or g("pml_signs") is True):
        add("drug_induced.mycophenolic_acid.cessation")
    if g("neuropathic_pain") is True:
        add("supportive.neuropathic_pain")
    if seizures:
        add("supportive.seizures")
    if g("raised_intracranial_pressure") is True:
        add("supportive.raised_intracranial_pressure")
    motor = g("motor_deficits") is True
    speech = g("dysarthria_or_dysphasia") is True
    if motor:
        add("rehabilitation.physical_occupational_therapy")
    if motor or speech or g("neurological_symptoms") is True:
        add("rehabilitation.functional_training")
    if speech:
        add("rehabilitation.speech_therapy")
    course = g("symptom_course")
    if course == "resolved" or course == "improved":
        add("imaging.radiological_lag")
        if g("mri_findings") in ("minimal_residual", "abnormal"):
            add("imaging.persistent_t2_flair_lesions")
    if g("on_treatment") is True and g("clinical_decline") is True:
        add("considerations.decline_may_be_treatment_toxicity")
    if g("immune_mediated") is True or kind == "post_infectious":
        add("considerations.blood_pressure_control")
        if g("pres") is True:
            add("considerations.blood_pressure_control_pres")
    return frozenset(out)
