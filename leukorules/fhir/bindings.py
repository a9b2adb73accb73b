"""The binding model: which FHIR resources and codes give which fact and value, and how a
resource's status counts.

Input: nothing at import (data types and tables). Output: frozen, slotted descriptions that the
mapper (`leukorules.fhir.evidence`) interprets, so that one table, not code, says what a record
means. The same shapes are what a `binding` block of the policy language would check into (see
docs/fhir.md); `leukorules.fhir.leukoencephalopathy` declares the bundled policy's bindings.

Evidence rules every binding follows: absence of a code is unknown, never false; a fact is false
only on positive evidence (a refuted Condition, an Observation whose value is an explicit no, a
medication recorded as stopped); a resource marked `entered-in-error` is ignored; a status or
date that leaves a resource ambiguous gives no value and a reason instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from leukorules.fhir.terminology import ValueSet

Value = bool | str

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


class Persistence(enum.Enum):
    """Whether a diagnosis keeps giving its fact once it is no longer active."""

    LASTING = "lasting"  # e.g. the type of leukoencephalopathy, HIV infection
    CURRENT = "current"  # e.g. seizures: a resolved episode says nothing of now


@dataclass(frozen=True, slots=True)
class ConditionBinding:
    """A Condition whose code is in `codes` gives `fact` = `value`.

    `refuted` is what a refuted Condition gives (False for a yes/no fact; None where refuting one
    value says nothing of the others, as for the type of leukoencephalopathy). With
    `needs_drug_cause` the Condition gives its value only when the record attributes it to a drug
    (Condition dueTo), as white matter disease becomes drug-induced leukoencephalopathy.
    """

    fact: str
    value: Value
    codes: ValueSet
    persistence: Persistence
    refuted: Value | None = None
    needs_drug_cause: bool = False


@dataclass(frozen=True, slots=True)
class ObservationBinding:
    """An Observation whose code is in `codes` and whose value is a boolean gives `fact` = that
    boolean (an explicit yes or no), if its status counts and its effective time lies within
    `valid_days` of the evaluation date."""

    fact: str
    codes: ValueSet
    valid_days: int


@dataclass(frozen=True, slots=True)
class CauseBinding:
    """The drug a Condition whose code is in `hosts` is due to (extension condition-dueTo: a
    drug code, or a reference to a MedicationStatement, MedicationRequest or Medication) gives
    `fact` = the value of the first value set holding the drug code; any other drug code of
    `other_system` gives `other_value`."""

    fact: str
    hosts: tuple[ValueSet, ...]
    values: tuple[tuple[ValueSet, str], ...]
    other_system: str
    other_value: str


@dataclass(frozen=True, slots=True)
class ExposureBinding:
    """Whether the causative medication of a Condition whose code is in `hosts` is still taken:
    the status and period of the MedicationStatement or MedicationRequest its dueTo references
    give `fact` = True (taken now) or False (stopped, completed or its period ended)."""

    fact: str
    hosts: tuple[ValueSet, ...]


@dataclass(frozen=True, slots=True)
class Bindings:
    """Every binding of one policy, with lookup tables from (system, code) to bindings."""

    conditions: tuple[ConditionBinding, ...]
    observations: tuple[ObservationBinding, ...] = ()
    causes: tuple[CauseBinding, ...] = ()
    exposures: tuple[ExposureBinding, ...] = ()
    _by_condition_code: dict[tuple[str, str], tuple[ConditionBinding, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _by_observation_code: dict[tuple[str, str], tuple[ObservationBinding, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _host_codes: frozenset[tuple[str, str]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        conditions: dict[tuple[str, str], list[ConditionBinding]] = {}
        for binding in self.conditions:
            for concept in binding.codes.concepts:
                conditions.setdefault((concept.system, concept.code), []).append(binding)
        observations: dict[tuple[str, str], list[ObservationBinding]] = {}
        for observation in self.observations:
            for concept in observation.codes.concepts:
                observations.setdefault((concept.system, concept.code), []).append(observation)
        host_sets = [vs for b in self.causes for vs in b.hosts]
        host_sets += [vs for e in self.exposures for vs in e.hosts]
        hosts = {(c.system, c.code) for value_set in host_sets for c in value_set.concepts}
        object.__setattr__(self, "_by_condition_code", {k: tuple(v) for k, v in conditions.items()})
        object.__setattr__(
            self, "_by_observation_code", {k: tuple(v) for k, v in observations.items()}
        )
        object.__setattr__(self, "_host_codes", frozenset(hosts))

    def for_condition(self, system: str, code: str) -> tuple[ConditionBinding, ...]:
        return self._by_condition_code.get((system, code), ())

    def for_observation(self, system: str, code: str) -> tuple[ObservationBinding, ...]:
        return self._by_observation_code.get((system, code), ())

    def hosts_cause(self, system: str, code: str) -> bool:
        return (system, code) in self._host_codes

    def reads_condition(self, system: str, code: str) -> bool:
        return (system, code) in self._by_condition_code or (system, code) in self._host_codes

    @property
    def facts(self) -> tuple[str, ...]:
        """Every fact some binding can give, in declaration order, once each."""
        names = [b.fact for b in self.conditions] + [b.fact for b in self.observations]
        names += [b.fact for b in self.causes] + [b.fact for b in self.exposures]
        return tuple(dict.fromkeys(names))
