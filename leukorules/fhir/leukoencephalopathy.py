"""The bundled leukoencephalopathy policy's bindings: which codes give which of its facts.

Input: the value sets of `leukorules.fhir.terminology`. Output: `BINDINGS`, the `Bindings` the
mapper applies to a record of this policy. Facts no code can carry (the clinician's judgement:
immune restoration possible, checkpoint inhibitor candidate, treatment responses, course of
symptoms, MRI and CSF findings) have no binding and come from a facts file (`--with`).
"""

from __future__ import annotations

from leukorules.fhir import terminology as t
from leukorules.fhir.bindings import (
    Bindings,
    CauseBinding,
    ConditionBinding,
    ExposureBinding,
    ObservationBinding,
    Persistence,
)
from leukorules.fhir.systems import RXNORM

LASTING = Persistence.LASTING
CURRENT = Persistence.CURRENT

# A symptom observed longer ago than this says nothing about the patient now (judgement: a
# month covers the usual interval between neurological assessments).
SYMPTOM_VALID_DAYS = 30

LEUKOENCEPHALOPATHY_HOSTS = (
    t.PML,
    t.ADEM,
    t.TOXIC_LEUKOENCEPHALOPATHY,
    t.WHITE_MATTER_DISEASE,
)

BINDINGS = Bindings(
    conditions=(
        ConditionBinding("leukoencephalopathy_type", "pml", t.PML, LASTING),
        ConditionBinding("leukoencephalopathy_type", "post_infectious", t.ADEM, LASTING),
        ConditionBinding("leukoencephalopathy_type", "toxic", t.TOXIC_LEUKOENCEPHALOPATHY, LASTING),
        ConditionBinding(
            "leukoencephalopathy_type",
            "drug_induced",
            t.WHITE_MATTER_DISEASE,
            LASTING,
            needs_drug_cause=True,
        ),
        ConditionBinding("hiv_positive", True, t.HIV, LASTING, refuted=False),
        ConditionBinding("pres", True, t.PRES, CURRENT, refuted=False),
        ConditionBinding("seizures", True, t.SEIZURE, CURRENT, refuted=False),
        ConditionBinding(
            "dysarthria_or_dysphasia", True, t.DYSARTHRIA_OR_DYSPHASIA, CURRENT, refuted=False
        ),
        ConditionBinding("agitation", True, t.AGITATION, CURRENT, refuted=False),
        ConditionBinding(
            "electrolyte_imbalance", True, t.ELECTROLYTE_IMBALANCE, CURRENT, refuted=False
        ),
    ),
    observations=(
        ObservationBinding("seizures", t.SEIZURE, SYMPTOM_VALID_DAYS),
        ObservationBinding(
            "dysarthria_or_dysphasia", t.DYSARTHRIA_OR_DYSPHASIA, SYMPTOM_VALID_DAYS
        ),
        ObservationBinding("agitation", t.AGITATION, SYMPTOM_VALID_DAYS),
    ),
    causes=(
        CauseBinding(
            "causative_drug",
            LEUKOENCEPHALOPATHY_HOSTS,
            ((t.MYCOPHENOLATE, "mycophenolic_acid"), (t.RITUXIMAB, "rituximab")),
            other_system=RXNORM,
            other_value="other",
        ),
    ),
    exposures=(ExposureBinding("toxic_exposure_ongoing", LEUKOENCEPHALOPATHY_HOSTS),),
)
