"""The codes that carry the bundled policy's facts, each with the public source it was checked in.

Input: nothing (data). Output: `Concept`s grouped in named `ValueSet`s, read by
`leukorules.fhir.leukoencephalopathy` to build the policy's bindings and by the synthetic record
generator. Guarantees (tested): every code is well formed for its system (`systems.well_formed`),
no code is listed twice in one value set, and every concept names where it was checked and the
display text found there. A code that could not be checked against a public terminology source is
not listed; docs/fhir.md names the ones left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leukorules.fhir.systems import ICD_10_CM, RXNORM, SNOMED_CT


@dataclass(frozen=True, slots=True)
class Concept:
    """One code of one system, the display text its public source gives, and that source."""

    system: str
    code: str
    display: str
    checked_in: str


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A named set of concepts; `find` answers membership of a (system, code) pair."""

    name: str
    title: str
    concepts: tuple[Concept, ...]
    _index: dict[tuple[str, str], Concept] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        index = {(concept.system, concept.code): concept for concept in self.concepts}
        object.__setattr__(self, "_index", index)

    def find(self, system: str | None, code: str | None) -> Concept | None:
        if system is None or code is None:
            return None
        return self._index.get((system, code))


VISUALDX_PML = (
    "https://www.visualdx.com/visualdx/diagnosis/progressive+multifocal+leukoencephalopathy"
    "?diagnosisId=55480"
)
VISUALDX_TOXIC = (
    "https://www.visualdx.com/visualdx/diagnosis/toxic+leukoencephalopathy?diagnosisId=56437"
)
VISUALDX_PRES = (
    "https://www.visualdx.com/visualdx/diagnosis/reversible+posterior+leukoencephalopathy+syndrome"
    "?diagnosisId=54784"
)
ICD_G04_TABULAR = "http://imedicalcode.com/coding/icd10Cm/book/category/G04?c=G04"
ICD_E87_TABULAR = "https://littleden.blog/icd10/code/E87/ (ICD-10-CM FY2026 category E87)"
HL7_BFDR_SEIZURE = (
    "https://build.fhir.org/ig/HL7/fhir-bfdr/en/Condition-condition-seizure-babyg-quinn.json"
    " (HL7 Birth and Fetal Death Reporting IG example)"
)
NDCLIST_CELLCEPT = (
    "https://ndclist.com/ndc/0004-0260/package/0004-0260-01 (NDC to RxNorm crosswalk)"
)
NDCLIST_TERIFLUNOMIDE = "https://ndclist.com/ndc/70512-851/rxnorm (NDC to RxNorm crosswalk)"

PML = ValueSet(
    "pml",
    "Progressive multifocal leukoencephalopathy",
    (
        Concept(SNOMED_CT, "22255007", "Progressive multifocal leukoencephalopathy", VISUALDX_PML),
        Concept(
            ICD_10_CM,
            "A81.2",
            "Progressive multifocal leukoencephalopathy",
            "https://icdlist.com/icd-10/A81.2",
        ),
    ),
)

ADEM = ValueSet(
    "adem",
    "Acute disseminated encephalomyelitis, post-infectious or post-immunization",
    (
        Concept(
            ICD_10_CM,
            "G04.00",
            "Acute disseminated encephalitis and encephalomyelitis, unspecified",
            ICD_G04_TABULAR,
        ),
        Concept(
            ICD_10_CM,
            "G04.01",
            "Postinfectious acute disseminated encephalitis and encephalomyelitis"
            " (postinfectious ADEM)",
            ICD_G04_TABULAR,
        ),
        Concept(
            ICD_10_CM,
            "G04.02",
            "Postimmunization acute disseminated encephalitis, myelitis and encephalomyelitis",
            ICD_G04_TABULAR,
        ),
    ),
)

TOXIC_LEUKOENCEPHALOPATHY = ValueSet(
    "toxic_leukoencephalopathy",
    "Toxic leukoencephalopathy",
    (Concept(SNOMED_CT, "722602003", "White matter disorder caused by toxin", VISUALDX_TOXIC),),
)

# Not a type by itself: a white matter disease becomes drug-induced leukoencephalopathy when the
# record attributes it to a drug (Condition dueTo), and hosts that attribution either way.
WHITE_MATTER_DISEASE = ValueSet(
    "white_matter_disease",
    "White matter disease",
    (Concept(ICD_10_CM, "R90.82", "White matter disease, unspecified", VISUALDX_TOXIC),),
)

HIV = ValueSet(
    "hiv",
    "HIV infection",
    (
        Concept(
            ICD_10_CM,
            "B20",
            "Human immunodeficiency virus [HIV] disease",
            "https://icdlist.com/icd-10/b20",
        ),
        Concept(
            ICD_10_CM,
            "Z21",
            "Asymptomatic human immunodeficiency virus [HIV] infection status",
            "https://www.healthassure.in/codes/icd10-b20-human-immunodeficiency-virus-hiv-disease"
            " (Excludes1 of B20); https://icd.who.int/browse10/2019/en/GetConcept?ConceptId=B20-B24",
        ),
    ),
)

SEIZURE = ValueSet(
    "seizure",
    "Seizures",
    (
        Concept(SNOMED_CT, "91175000", "Seizure (finding)", HL7_BFDR_SEIZURE),
        Concept(ICD_10_CM, "R56.9", "Unspecified convulsions", "http://icdlist.com/icd-10/R56.9"),
    ),
)

DYSARTHRIA_OR_DYSPHASIA = ValueSet(
    "dysarthria_or_dysphasia",
    "Dysarthria or dysphasia",
    (
        Concept(ICD_10_CM, "R47.1", "Dysarthria and anarthria", "https://icdlist.com/icd-10/R47.1"),
        Concept(
            ICD_10_CM,
            "R47.02",
            "Dysphasia",
            "https://legalclarity.org/difficulty-speaking-icd-10-r47-codes-exclusions-and-billing/",
        ),
    ),
)

PRES = ValueSet(
    "pres",
    "Posterior reversible encephalopathy syndrome",
    (
        Concept(
            SNOMED_CT, "450886002", "Posterior reversible encephalopathy syndrome", VISUALDX_PRES
        ),
        Concept(
            ICD_10_CM,
            "I67.83",
            "Posterior reversible encephalopathy syndrome",
            "https://www.diseasedb.com/icd10/I67.83; " + VISUALDX_PRES,
        ),
    ),
)

AGITATION = ValueSet(
    "agitation",
    "Agitation",
    (
        Concept(
            ICD_10_CM, "R45.1", "Restlessness and agitation", "https://icdlist.com/icd-10/R45.1"
        ),
    ),
)

ELECTROLYTE_IMBALANCE = ValueSet(
    "electrolyte_imbalance",
    "Electrolyte imbalance",
    (
        Concept(ICD_10_CM, "E87.0", "Hyperosmolality and hypernatremia", ICD_E87_TABULAR),
        Concept(
            ICD_10_CM,
            "E87.1",
            "Hypo-osmolality and hyponatremia",
            "http://icdlist.com/icd-10/e871; " + ICD_E87_TABULAR,
        ),
        Concept(ICD_10_CM, "E87.5", "Hyperkalemia", ICD_E87_TABULAR),
        Concept(ICD_10_CM, "E87.6", "Hypokalemia", ICD_E87_TABULAR),
        Concept(
            ICD_10_CM,
            "E87.8",
            "Other disorders of electrolyte and fluid balance, not elsewhere classified",
            ICD_E87_TABULAR + "; https://gesund.bund.de/en/icd-code-search/e87-8",
        ),
    ),
)

# Mycophenolate mofetil is the prodrug of mycophenolic acid: the policy's `mycophenolic_acid`
# covers both (issue 14). Clinical drugs (SCD/SBD) are what records carry; the ingredient
# RXCUIs could not be checked against a public source and are left out.
MYCOPHENOLATE = ValueSet(
    "mycophenolate",
    "Mycophenolic acid or mycophenolate mofetil",
    (
        Concept(RXNORM, "199058", "mycophenolate mofetil 250 MG Oral Capsule", NDCLIST_CELLCEPT),
        Concept(RXNORM, "200060", "mycophenolate mofetil 500 MG Oral Tablet", NDCLIST_CELLCEPT),
        Concept(
            RXNORM, "213394", "mycophenolate mofetil 500 MG Injection [Cellcept]", NDCLIST_CELLCEPT
        ),
    ),
)

# Rituximab: no RxNorm code could be checked against a public RxNorm source (see docs/fhir.md),
# so the value set is empty and a record cannot give `causative_drug: rituximab` yet.
RITUXIMAB = ValueSet("rituximab", "Rituximab", ())

# A drug bound to no value of `causative_drug` (it gives `other`): used by the synthetic record
# generator only, never by a binding.
SYNTHETIC_OTHER_DRUG = Concept(
    RXNORM, "1310525", "teriflunomide 14 MG Oral Tablet", NDCLIST_TERIFLUNOMIDE
)

VALUE_SETS: tuple[ValueSet, ...] = (
    PML,
    ADEM,
    TOXIC_LEUKOENCEPHALOPATHY,
    WHITE_MATTER_DISEASE,
    HIV,
    SEIZURE,
    DYSARTHRIA_OR_DYSPHASIA,
    PRES,
    AGITATION,
    ELECTROLYTE_IMBALANCE,
    MYCOPHENOLATE,
    RITUXIMAB,
)
