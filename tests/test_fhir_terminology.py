"""The code table of leukorules.fhir: every code well formed for its system and sourced, and
every binding naming a declared fact and one of its values."""

from __future__ import annotations

from pathlib import Path

import pytest

from leukorules.check import check_paths
from leukorules.fhir import systems, terminology
from leukorules.fhir.leukoencephalopathy import BINDINGS

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies" / "leukoencephalopathy"
CONCEPTS = [c for vs in terminology.VALUE_SETS for c in vs.concepts] + [
    terminology.SYNTHETIC_OTHER_DRUG
]


@pytest.mark.parametrize(
    "concept", CONCEPTS, ids=lambda c: f"{c.system.rsplit('/', 1)[-1]}:{c.code}"
)
def test_every_code_is_well_formed_for_its_system_and_names_its_source(
    concept: terminology.Concept,
) -> None:
    assert systems.well_formed(concept.system, concept.code)
    assert concept.display.strip() and concept.checked_in.strip()


def test_no_value_set_lists_a_code_twice_and_names_are_unique() -> None:
    for value_set in terminology.VALUE_SETS:
        keys = [(c.system, c.code) for c in value_set.concepts]
        assert len(keys) == len(set(keys)), value_set.name
    names = [vs.name for vs in terminology.VALUE_SETS]
    assert len(names) == len(set(names))


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


def test_every_binding_gives_a_declared_input_fact_one_of_its_values() -> None:
    result = check_paths([POLICY_DIR])
    assert result.policy is not None
    facts = {f.name: f for f in result.policy.input_facts}
    for binding in BINDINGS.conditions:
        fact = facts[binding.fact]
        if fact.type.kind == "bool":
            assert isinstance(binding.value, bool)
            assert binding.refuted in (None, not binding.value)
        else:
            assert binding.value in fact.type.values
            assert binding.refuted is None
    for observation in BINDINGS.observations:
        assert facts[observation.fact].type.kind == "bool"
    for cause in BINDINGS.causes:
        values = facts[cause.fact].type.values
        assert cause.other_value in values
        assert all(value in values for _, value in cause.values)
    for exposure in BINDINGS.exposures:
        assert facts[exposure.fact].type.kind == "bool"
