"""One resource + the bindings -> the evidence it gives for each fact.

Input: the entries of one patient's record (plain JSON already validated by `reading.validate`),
the `Bindings`, and the evaluation date. Output: `Evidence` per fact (a value, or none and the
reason) and diagnostics for status codes outside FHIR's required value sets. The rules of
`leukorules.fhir.bindings` apply: absence is never evidence, refuted is false only where the
binding says so, entered-in-error is ignored, an ambiguous status or date gives a reason.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic
from leukorules.fhir.bindings import (
    CLINICAL_STATUS,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DUE_TO,
    MEDICATION_REQUEST_STATUS,
    MEDICATION_STATEMENT_STATUS,
    OBSERVATION_STATUS,
    VERIFICATION_STATUS,
    Bindings,
    Counts,
    Value,
)
from leukorules.fhir.provenance import Evidence, Source
from leukorules.fhir.reading import JSON, Entry
from leukorules.terminology import Persistence, ValueSet

Coding = tuple[str, str, str | None]  # system, code, display


def codings(concept: object) -> list[Coding]:
    """The (system, code, display) of each well-shaped coding of a CodeableConcept."""
    if not isinstance(concept, dict):
        return []
    found: list[Coding] = []
    for coding in concept.get("coding") or ():
        if not isinstance(coding, dict):
            continue
        system, code, display = coding.get("system"), coding.get("code"), coding.get("display")
        if isinstance(system, str) and isinstance(code, str):
            found.append((system, code, display if isinstance(display, str) else None))
    return found


def shape_unreadable(resource: JSON, key: str) -> bool:
    """Whether `resource[key]` is present but not a CodeableConcept with a list of codings:
    such a resource must be validated before anyone can tell whether a binding reads it."""
    value = resource.get(key)
    if value is None:
        return False
    return not isinstance(value, dict) or not isinstance(value.get("coding", []), list)


def _date(value: object) -> datetime.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Index:
    """The record's resources by reference: `Type/id` and `fullUrl`."""

    by_reference: Mapping[str, Entry]

    @staticmethod
    def of(entries: Iterable[Entry]) -> Index:
        table: dict[str, Entry] = {}
        for entry in entries:
            if entry.resource_id is not None:
                table[f"{entry.resource_type}/{entry.resource_id}"] = entry
            if entry.full_url is not None:
                table[entry.full_url] = entry
        return Index(table)

    def resolve(self, reference: object) -> Entry | None:
        if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
            return None
        target: str = reference["reference"]
        found = self.by_reference.get(target)
        if found is None and "/" in target:
            parts = target.rstrip("/").split("/")
            found = self.by_reference.get("/".join(parts[-2:]))
        return found


class Reader:
    """Reads the evidence of one patient's entries under one set of bindings."""

    def __init__(self, bindings: Bindings, index: Index, as_of: datetime.date) -> None:
        self.bindings = bindings
        self.index = index
        self.as_of = as_of
        self.problems: list[Diagnostic] = []

    # --- which entries are read (and so validated) ------------------------------------------

    def reads(self, entry: Entry) -> bool:
        """Whether a binding reads this entry (or its shape hides whether one does)."""
        kind = entry.resource_type
        if kind == "Condition":
            if shape_unreadable(entry.resource, "code"):
                return True
            found = codings(entry.resource.get("code"))
            return any(self.bindings.reads_condition(s, c) for s, c, _ in found)
        if kind == "Observation":
            if shape_unreadable(entry.resource, "code"):
                return True
            found = codings(entry.resource.get("code"))
            return any(self.bindings.for_observation(s, c) for s, c, _ in found)
        return False

    def referenced(self, entry: Entry) -> Iterator[Entry]:
        """The resources a read Condition's dueTo points at (to be validated as well)."""
        for extension in self._due_to(entry.resource):
            target = self.index.resolve(extension.get("valueReference"))
            if target is None:
                continue
            yield target
            medication = self.index.resolve(target.resource.get("medicationReference"))
            if medication is not None:
                yield medication

    # --- evidence -----------------------------------------------------------------------------

    def evidence(self, entry: Entry) -> list[Evidence]:
        if entry.resource_type == "Condition":
            return self._condition(entry)
        if entry.resource_type == "Observation":
            return self._observation(entry)
        return []

    def _status(
        self, entry: Entry, key: str, system: str, table: Mapping[str, Counts]
    ) -> tuple[Counts | None, str | None]:
        """How a Condition's clinical or verification status counts (None: not recorded)."""
        concept = entry.resource.get(key)
        if concept is None:
            return None, None
        for index, (coded_system, code, _) in enumerate(codings(concept)):
            if coded_system != system:
                continue
            if code in table:
                return table[code], code
            self.problems.append(
                msg.FHIR_BAD_CODE.at(
                    entry.span(key, "coding", index, "code"),
                    location=entry.where(key, "coding", index, "code"),
                    code=code,
                    system=system,
                    allowed=", ".join(table),
                )
            )
            return Counts.IGNORED, code
        return None, None

    def _source(self, entry: Entry, coding: Coding | None, date: str | None) -> Source:
        system, code, display = coding if coding is not None else (None, None, None)
        return Source(
            entry.resource_type, entry.resource_id, entry.where(), system, code, display, date
        )

    def _condition(self, entry: Entry) -> list[Evidence]:
        resource = entry.resource
        verification, verification_code = self._status(
            entry, "verificationStatus", CONDITION_VERIFICATION, VERIFICATION_STATUS
        )
        if verification is Counts.IGNORED:
            return []
        clinical, clinical_code = self._status(
            entry, "clinicalStatus", CONDITION_CLINICAL, CLINICAL_STATUS
        )
        if clinical is Counts.IGNORED:
            return []
        date = _text(resource.get("recordedDate")) or _text(resource.get("onsetDateTime"))
        drug_causes = list(self._drug_causes(entry))
        found: list[Evidence] = []
        hosted = False
        for coding in codings(resource.get("code")):
            system, code, _ = coding
            source = self._source(entry, coding, date)
            for binding in self.bindings.for_condition(system, code):
                if binding.needs_drug_cause and not drug_causes:
                    reason = "not attributed to a drug (no dueTo naming a drug)"
                    found.append(Evidence(binding.fact, None, source, reason))
                    continue
                value, reason = self._condition_value(
                    binding.value,
                    binding.refuted,
                    binding.persistence,
                    verification,
                    verification_code,
                    clinical,
                    clinical_code,
                    "abatementDateTime" in resource or "abatementPeriod" in resource,
                )
                found.append(Evidence(binding.fact, value, source, reason))
            host = self.bindings.hosts_cause(system, code)
            if host and not hosted and verification is not Counts.NO:
                hosted = True
                found.extend(self._causes(source, system, code, drug_causes))
        return found

    @staticmethod
    def _condition_value(
        value: Value,
        refuted: Value | None,
        persistence: Persistence,
        verification: Counts | None,
        verification_code: str | None,
        clinical: Counts | None,
        clinical_code: str | None,
        abated: bool,
    ) -> tuple[Value | None, str]:
        if verification is Counts.NO:
            if refuted is None:
                return None, "refuted: says only that this value is wrong"
            return refuted, "verification status refuted"
        if verification is Counts.UNSURE:
            return None, f"verification status {verification_code}: not confirmed"
        if clinical is Counts.YES:
            if abated and persistence == "current":
                return None, f"clinical status {clinical_code} but an abatement is recorded"
            return value, f"clinical status {clinical_code}"
        if persistence == "lasting":
            status = f"clinical status {clinical_code}" if clinical_code else "no clinical status"
            return value, f"{status}; the diagnosis stands"
        if clinical is Counts.PAST:
            return None, f"clinical status {clinical_code}: says nothing of now"
        return None, "no clinical status: whether it is present now is not recorded"

    # --- causes (Condition dueTo) -------------------------------------------------------------

    @staticmethod
    def _due_to(resource: JSON) -> Iterator[JSON]:
        for extension in resource.get("extension") or ():
            if isinstance(extension, dict) and extension.get("url") == DUE_TO:
                yield extension

    def _medication_codings(self, target: Entry) -> list[Coding]:
        resource = target.resource
        if target.resource_type == "Medication":
            return codings(resource.get("code"))
        found = codings(resource.get("medicationCodeableConcept"))
        medication = self.index.resolve(resource.get("medicationReference"))
        if medication is not None:
            found += codings(medication.resource.get("code"))
        return found

    def _drug_causes(self, entry: Entry) -> Iterator[tuple[list[Coding], Entry | None]]:
        """Each dueTo of the Condition that names a drug: its drug codings and, for a reference,
        the medication resource."""
        drug_systems = self.bindings.drug_systems
        for extension in self._due_to(entry.resource):
            target = self.index.resolve(extension.get("valueReference"))
            drug_codes = (
                self._medication_codings(target)
                if target is not None
                else codings(extension.get("valueCodeableConcept"))
            )
            if any(system in drug_systems for system, _, _ in drug_codes):
                yield drug_codes, target

    def _causes(
        self,
        host: Source,
        system: str,
        code: str,
        drug_causes: list[tuple[list[Coding], Entry | None]],
    ) -> Iterator[Evidence]:
        for cause in self.bindings.causes:
            if not any(vs.find(system, code) for vs in cause.hosts):
                continue
            for drug_codes, target in drug_causes:
                drug, coding = self._drug_value(cause.drugs, cause.other, drug_codes)
                if target is None:  # the drug is coded in the dueTo itself
                    source = host
                    if coding is not None:
                        source = dataclasses.replace(
                            host, system=coding[0], code=coding[1], display=coding[2]
                        )
                else:
                    source = self._source(target, coding, None)
                reason = f"dueTo of {host.label()}"
                if drug is None:
                    reason += ": a drug no value set of this binding holds"
                yield Evidence(cause.fact, drug, source, reason)
        for exposure in self.bindings.exposures:
            if not any(vs.find(system, code) for vs in exposure.hosts):
                continue
            for drug_codes, target in drug_causes:
                if target is None or target.resource_type == "Medication":
                    continue
                value, reason = self._taken_now(target)
                source = self._source(target, drug_codes[0] if drug_codes else None, None)
                yield Evidence(exposure.fact, value, source, reason)

    @staticmethod
    def _drug_value(
        drugs: Iterable[tuple[ValueSet, str]],
        other: tuple[str, str] | None,
        drug_codes: list[Coding],
    ) -> tuple[str | None, Coding | None]:
        """The value of the first drug value set that holds one of the drug's codes, else the
        `any SYSTEM drug` value for a code of that system, else None."""
        for value_set, value in drugs:
            for coding in drug_codes:
                if value_set.find(coding[0], coding[1]) is not None:
                    return value, coding
        if other is not None:
            first = next((c for c in drug_codes if c[0] == other[0]), None)
            if first is not None:
                return other[1], first
        return None, drug_codes[0] if drug_codes else None

    def _taken_now(self, target: Entry) -> tuple[bool | None, str]:
        """Whether the causative medication is still taken, from its status and period."""
        resource = target.resource
        table = (
            MEDICATION_STATEMENT_STATUS
            if target.resource_type == "MedicationStatement"
            else MEDICATION_REQUEST_STATUS
        )
        status = resource.get("status")
        counts = table.get(status) if isinstance(status, str) else None
        if counts is None or counts is Counts.IGNORED:
            return None, f"status {status}: not evidence of exposure"
        if counts is Counts.NO:
            return False, f"status {status}"
        if counts is Counts.UNSURE:
            return None, f"status {status}: whether it is taken now is not recorded"
        period = resource.get("effectivePeriod")
        end = _date(period.get("end")) if isinstance(period, dict) else None
        if end is not None and end < self.as_of:
            return None, f"status {status} but its period ended on {end.isoformat()}"
        return True, f"status {status}"

    # --- observations -------------------------------------------------------------------------

    def _observation(self, entry: Entry) -> list[Evidence]:
        resource = entry.resource
        status = resource.get("status")
        counts = OBSERVATION_STATUS.get(status) if isinstance(status, str) else None
        if counts is None:
            self.problems.append(
                msg.FHIR_BAD_CODE.at(
                    entry.span("status"),
                    location=entry.where("status"),
                    code=str(status),
                    system="http://hl7.org/fhir/observation-status",
                    allowed=", ".join(OBSERVATION_STATUS),
                )
            )
            return []
        if counts is Counts.IGNORED:
            return []
        effective = _text(resource.get("effectiveDateTime")) or _text(
            resource.get("effectiveInstant")
        )
        period = resource.get("effectivePeriod")
        if effective is None and isinstance(period, dict):
            effective = _text(period.get("end")) or _text(period.get("start"))
        when = _date(effective)
        found: list[Evidence] = []
        for coding in codings(resource.get("code")):
            for binding in self.bindings.for_observation(coding[0], coding[1]):
                source = self._source(entry, coding, effective)
                value: bool | None = None
                if counts is Counts.UNSURE:
                    reason = f"status {status}: not a final result"
                elif not isinstance(resource.get("valueBoolean"), bool):
                    reason = "no yes/no value (valueBoolean)"
                elif when is None:
                    reason = "no effective time: when it was observed is not recorded"
                elif when > self.as_of:
                    reason = f"observed on {when.isoformat()}, after the evaluation date"
                elif (self.as_of - when).days > binding.within_days:
                    reason = (
                        f"observed on {when.isoformat()}, more than {binding.within_days} days"
                        f" before {self.as_of.isoformat()}"
                    )
                else:
                    value = resource["valueBoolean"]
                    reason = f"observed {'present' if value else 'absent'} on {when.isoformat()}"
                found.append(Evidence(binding.fact, value, source, reason))
        return found
