"""The codes of the bundled policy's terminology bindings (policies/leukoencephalopathy/
fhir.rules): every code well formed for its system and sourced, the code-format checks
themselves, and the causative drugs the issue names all bound."""

from __future__ import annotations

import pytest

from leukorules import codesystems as systems
from leukorules import terminology as t
from leukorules.api import load_policy

POLICY = load_policy().policy
CONCEPTS = [c for vs in POLICY.value_sets.values() for c in vs.concepts]


@pytest.mark.parametrize(
    "concept", CONCEPTS, ids=lambda c: f"{c.system.rsplit('/', 1)[-1]}:{c.code}"
)
def test_every_code_is_well_formed_for_its_system_and_names_its_source(
    concept: t.Concept,
) -> None:
    assert systems.well_formed(concept.system, concept.code)
    assert concept.display.strip() and concept.source.strip()


def test_every_causative_drug_the_issue_names_is_bound() -> None:
    (cause,) = [b for b in POLICY.bindings if isinstance(b, t.CauseBinding)]
    given = {value for _, value in cause.drugs}
    assert given == {"mycophenolic_acid", "rituximab"}
    assert all(POLICY.value_sets[name].concepts for name, _ in cause.drugs)
    assert cause.other == (systems.RXNORM, "other")


def test_diagnoses_are_bound_in_snomed_ct_and_icd_10_cm() -> None:
    for name in ("pml", "pres", "seizure", "hiv"):
        found = {c.system for c in POLICY.value_sets[name].concepts}
        assert found == {systems.SNOMED_CT, systems.ICD_10_CM}, name


def test_every_fact_the_issue_says_a_coded_record_can_carry_is_bound() -> None:
    bound = {b.fact for b in POLICY.bindings}
    assert bound >= {
        "leukoencephalopathy_type",
        "hiv_positive",
        "causative_drug",
        "toxic_exposure_ongoing",
        "seizures",
        "neuropathic_pain",
        "raised_intracranial_pressure",
        "motor_deficits",
        "dysarthria_or_dysphasia",
        "pres",
        "electrolyte_imbalance",
    }


@pytest.mark.parametrize(
    ("code", "valid"),
    [("22255007", True), ("22255008", False), ("450886002", True), ("012345", False)],
)
def test_snomed_ct_check_digit_is_verhoeff(code: str, valid: bool) -> None:
    assert systems.snomed_ct_valid(code) is valid


@pytest.mark.parametrize(
    ("code", "valid"), [("89365-1", True), ("89365-2", False), ("9836-8", True), ("9836", False)]
)
def test_loinc_check_digit_is_mod_10(code: str, valid: bool) -> None:
    assert systems.loinc_valid(code) is valid


@pytest.mark.parametrize(
    ("code", "valid"),
    [("A81.2", True), ("G04.01", True), ("B20", True), ("U07.1", False), ("A8.2", False)],
)
def test_icd_10_cm_pattern(code: str, valid: bool) -> None:
    assert systems.icd_10_cm_valid(code) is valid


def test_rxnorm_codes_are_digits() -> None:
    assert systems.rxnorm_valid("200060")
    assert not systems.rxnorm_valid("0200060")
    assert not systems.rxnorm_valid("20a060")
    assert not systems.well_formed("http://example.org/unknown", "1")
