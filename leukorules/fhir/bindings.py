"""A policy's terminology bindings, indexed for the mapper, and how FHIR's status codes count.

Input: a checked `model.Policy` (its `value_sets` and `bindings`, declared in the policy
language: `valueset` and `bind` blocks, see docs/language.md). Output: `Bindings`, lookup tables
from a coding (system, code) to the bindings that read it, which the mapper
(`leukorules.fhir.evidence`) interprets; and the tables that say how each FHIR status code counts
as evidence (the same for every policy: FHIR defines the codes).

Evidence rules every binding follows: absence of a code is unknown, never false; a fact is false
only on positive evidence (a refuted Condition, an Observation whose value is an explicit no, a
medication recorded as stopped); a resource marked `entered-in-error` is ignored; a status or
date that leaves a resource ambiguous gives no value and a reason instead.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from leukorules import model as m
from leukorules import terminology as t
from leukorules.codesystems import RXNORM

Value = t.BindValue

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DUE_TO = "http://hl7.org/fhir/StructureDefinition/condition-dueTo"


class Counts(enum.Enum):
    """How one status code counts as evidence."""

    YES = "counts"  # the resource says what its code says
    PAST = "past"  # true once, not said to be true now (resolved, inactive, remission)
    NO = "refuted"  # positive evidence of the contrary
    UNSURE = "uncertain"  # gives no value; the status is the reason
    IGNORED = "ignored"  # not evidence at all (entered-in-error, cancelled)


# FHIR R4 Condition.clinicalStatus (required binding condition-clinical).
CLINICAL_STATUS: dict[str, Counts] = {
    "active": Counts.YES,
    "recurrence": Counts.YES,
    "relapse": Counts.YES,
    "inactive": Counts.PAST,
    "remission": Counts.PAST,
    "resolved": Counts.PAST,
}
# FHIR R4 Condition.verificationStatus (required binding condition-ver-status).
VERIFICATION_STATUS: dict[str, Counts] = {
    "confirmed": Counts.YES,
    "unconfirmed": Counts.UNSURE,
    "provisional": Counts.UNSURE,
    "differential": Counts.UNSURE,
    "refuted": Counts.NO,
    "entered-in-error": Counts.IGNORED,
}
# FHIR R4 Observation.status (required binding observation-status).
OBSERVATION_STATUS: dict[str, Counts] = {
    "final": Counts.YES,
    "amended": Counts.YES,
    "corrected": Counts.YES,
    "registered": Counts.UNSURE,
    "preliminary": Counts.UNSURE,
    "unknown": Counts.UNSURE,
    "cancelled": Counts.IGNORED,
    "entered-in-error": Counts.IGNORED,
}
# FHIR R4 MedicationStatement.status: YES = being taken, NO = taken no more.
MEDICATION_STATEMENT_STATUS: dict[str, Counts] = {
    "active": Counts.YES,
    "completed": Counts.NO,
    "stopped": Counts.NO,
    "on-hold": Counts.UNSURE,
    "intended": Counts.UNSURE,
    "not-taken": Counts.UNSURE,
    "unknown": Counts.UNSURE,
    "entered-in-error": Counts.IGNORED,
}
# FHIR R4 MedicationRequest.status: YES = being given, NO = given no more.
MEDICATION_REQUEST_STATUS: dict[str, Counts] = {
    "active": Counts.YES,
    "completed": Counts.NO,
    "stopped": Counts.NO,
    "on-hold": Counts.UNSURE,
    "draft": Counts.UNSURE,
    "unknown": Counts.UNSURE,
    "cancelled": Counts.IGNORED,
    "entered-in-error": Counts.IGNORED,
}


@dataclass(frozen=True, slots=True)
class Cause:
    """A cause binding with its value sets resolved: the hosts, and each drug value set with the
    value it gives, in the policy's order."""

    fact: str
    hosts: tuple[t.ValueSet, ...]
    drugs: tuple[tuple[t.ValueSet, str], ...]
    other: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class Exposure:
    """An exposure binding with its host value sets resolved."""

    fact: str
    hosts: tuple[t.ValueSet, ...]


Coding = tuple[str, str]  # system, code


@dataclass(frozen=True, slots=True)
class Bindings:
    """Every binding of one policy, with lookup tables from a coding to the bindings that read
    it. Build with `Bindings.of(policy)`."""

    value_sets: Mapping[str, t.ValueSet]
    conditions: Mapping[Coding, tuple[t.ConditionBinding, ...]]
    observations: Mapping[Coding, tuple[t.AnswerBinding, ...]]
    causes: tuple[Cause, ...]
    exposures: tuple[Exposure, ...]
    host_codes: frozenset[Coding]
    drug_systems: frozenset[str]
    facts: tuple[str, ...]

    @staticmethod
    def of(policy: m.Policy) -> Bindings:
        sets = policy.value_sets

        def codings(names: tuple[str, ...]) -> list[Coding]:
            return [(c.system, c.code) for name in names for c in sets[name].concepts]

        conditions: dict[Coding, list[t.ConditionBinding]] = {}
        observations: dict[Coding, list[t.AnswerBinding]] = {}
        causes: list[Cause] = []
        exposures: list[Exposure] = []
        hosts: set[Coding] = set()
        drug_systems = {RXNORM}
        for binding in policy.bindings:
            if isinstance(binding, t.ConditionBinding):
                for coding in dict.fromkeys(codings(binding.value_sets)):
                    conditions.setdefault(coding, []).append(binding)
            elif isinstance(binding, t.AnswerBinding):
                for coding in dict.fromkeys(codings(binding.value_sets)):
                    observations.setdefault(coding, []).append(binding)
            elif isinstance(binding, t.CauseBinding):
                drugs = tuple((sets[name], value) for name, value in binding.drugs)
                host_sets = tuple(sets[name] for name in binding.hosts)
                causes.append(Cause(binding.fact, host_sets, drugs, binding.other))
                hosts.update(codings(binding.hosts))
                drug_systems.update(c.system for vs, _ in drugs for c in vs.concepts)
                if binding.other is not None:
                    drug_systems.add(binding.other[0])
            else:
                exposures.append(Exposure(binding.fact, tuple(sets[n] for n in binding.hosts)))
                hosts.update(codings(binding.hosts))
        return Bindings(
            value_sets=sets,
            conditions={k: tuple(v) for k, v in conditions.items()},
            observations={k: tuple(v) for k, v in observations.items()},
            causes=tuple(causes),
            exposures=tuple(exposures),
            host_codes=frozenset(hosts),
            drug_systems=frozenset(drug_systems),
            facts=tuple(dict.fromkeys(b.fact for b in policy.bindings)),
        )

    def for_condition(self, system: str, code: str) -> tuple[t.ConditionBinding, ...]:
        return self.conditions.get((system, code), ())

    def for_observation(self, system: str, code: str) -> tuple[t.AnswerBinding, ...]:
        return self.observations.get((system, code), ())

    def hosts_cause(self, system: str, code: str) -> bool:
        return (system, code) in self.host_codes

    def reads_condition(self, system: str, code: str) -> bool:
        return (system, code) in self.conditions or (system, code) in self.host_codes
