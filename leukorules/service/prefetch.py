"""What the service asks the EHR for, and how what it gets becomes one patient's record.

Input: the policy's terminology bindings (which resource types and codes give facts), and a
hook call's data by prefetch key: each a FHIR resource, a searchset Bundle, null (the client has
nothing for that template) or an OperationOutcome (the client failed to fetch it). Output: the
discovery document's prefetch templates (`templates`), which keys a call still lacks
(`missing_keys`), and the entries of the record (`gather`: `leukorules.fhir` entries, each
located by its prefetch key, so that a problem names `conditions: Bundle.entry[3].resource`),
with a problem for every resource that is not about the patient in context.

Templates: `patient` (Patient/{{context.patientId}}) always; `conditions` and `observations`
when a binding reads them, restricted to the codes the bindings read (the minimum necessary);
`medicationstatements` and `medicationrequests` when a binding reads the drug a condition is due
to (every one of the patient's: the drug may be any RxNorm code). Only `patient` may be left
out without consequence: it is read only to check that the record is the patient's (and is
fetched, like the others, when the client gives a FHIR server).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leukorules.fhir.bindings import Bindings
from leukorules.fhir.reading import Entry, Text

PATIENT_KEY = "patient"
# How deep a request's or a FHIR server's JSON may nest (a FHIR record nests a dozen levels or
# so; a much deeper one would exhaust the recursion of the validators that read it).
MAX_DEPTH = 64
CONTEXT_PATIENT = "{{context.patientId}}"
# Resource types that carry a reference to their patient, and in which element.
_PATIENT_ELEMENT = {
    "Condition": "subject",
    "Observation": "subject",
    "MedicationStatement": "subject",
    "MedicationRequest": "subject",
    "ServiceRequest": "subject",
}


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    resource_type: str
    query: str

    @property
    def required(self) -> bool:
        return self.key != PATIENT_KEY

    def fill(self, patient_id: str) -> str:
        return self.query.replace(CONTEXT_PATIENT, patient_id)


def templates(bindings: Bindings) -> tuple[Template, ...]:
    """The prefetch templates the policy's bindings need, in a fixed order."""
    found = [Template(PATIENT_KEY, "Patient", f"Patient/{CONTEXT_PATIENT}")]
    condition_codes = list(bindings.conditions) + sorted(
        bindings.host_codes - set(bindings.conditions)
    )
    if condition_codes:
        found.append(_search("conditions", "Condition", condition_codes))
    if bindings.observations:
        found.append(_search("observations", "Observation", list(bindings.observations)))
    if bindings.causes or bindings.exposures:
        for key, kind in (
            ("medicationstatements", "MedicationStatement"),
            ("medicationrequests", "MedicationRequest"),
        ):
            found.append(Template(key, kind, f"{kind}?patient={CONTEXT_PATIENT}"))
    return tuple(found)


def _search(key: str, kind: str, codes: Sequence[tuple[str, str]]) -> Template:
    tokens = ",".join(f"{system}|{code}" for system, code in dict.fromkeys(codes))
    return Template(key, kind, f"{kind}?patient={CONTEXT_PATIENT}&code={tokens}")


def discovery_prefetch(found: Sequence[Template]) -> dict[str, str]:
    return {t.key: t.query for t in found}


def satisfied(value: object) -> bool:
    """Whether a prefetch value answers its template: null (no data) or a resource; an
    OperationOutcome says the client could not fetch it."""
    if value is None:
        return True
    return isinstance(value, dict) and value.get("resourceType") != "OperationOutcome"


def missing_keys(
    found: Sequence[Template], prefetch: Mapping[str, object] | None
) -> list[Template]:
    """The templates the prefetch does not answer (fetched when a FHIR server is given; only
    the `required` ones make a call fail without one)."""
    given = prefetch or {}
    return [t for t in found if t.key not in given or not satisfied(given[t.key])]


@dataclass
class Gathered:
    entries: list[Entry]
    problems: list[str]


def gather(
    data: Mapping[str, tuple[Any, str]], patient_id: str, found: Sequence[Template]
) -> Gathered:
    """The record's entries from each key's data, given as (parsed JSON, its text): a Bundle's
    resources (OperationOutcome entries left out) or the one resource. The same resource
    reached by two keys is read once. Problems: resources about another patient, a Patient that
    is not the one in context, a value that is not a resource."""
    entries: list[Entry] = []
    problems: list[str] = []
    seen: set[str] = set()
    order = [t.key for t in found] + sorted(set(data) - {t.key for t in found})
    for key in order:
        if key not in data:
            continue
        value, text = data[key]
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            problems.append(f"prefetch `{key}` is not a FHIR resource")
            continue
        source = Text(key, text)
        if value["resourceType"] == "Bundle":
            items = value.get("entry", [])
            if not isinstance(items, list):
                problems.append(f"prefetch `{key}`: Bundle.entry is not a list")
                continue
            for index, item in enumerate(items):
                resource = item.get("resource") if isinstance(item, dict) else None
                if not isinstance(resource, dict) or not isinstance(
                    resource.get("resourceType"), str
                ):
                    problems.append(f"`{key}: Bundle.entry[{index}]` holds no resource")
                    continue
                if resource["resourceType"] == "OperationOutcome":
                    continue
                full_url = item.get("fullUrl")
                entry = Entry(
                    resource,
                    f"{key}: Bundle.entry[{index}].resource",
                    ("entry", index, "resource"),
                    source,
                    full_url if isinstance(full_url, str) else None,
                )
                _add(entry, entries, seen, problems, patient_id)
        elif value["resourceType"] != "OperationOutcome":
            entry = Entry(value, f"{key}: {value['resourceType']}", (), source)
            _add(entry, entries, seen, problems, patient_id)
    return Gathered(entries, problems)


def _add(
    entry: Entry, entries: list[Entry], seen: set[str], problems: list[str], patient_id: str
) -> None:
    identity = f"{entry.resource_type}/{entry.resource_id}" if entry.resource_id else None
    if identity is not None:
        if identity in seen:
            return
        seen.add(identity)
    problem = _other_patient(entry, patient_id)
    if problem is not None:
        problems.append(problem)
        return
    entries.append(entry)


def _other_patient(entry: Entry, patient_id: str) -> str | None:
    where = entry.where()
    if entry.resource_type == "Patient":
        if entry.resource_id not in (None, patient_id):
            return f"`{where}` is another patient than the one in context"
        return None
    element = _PATIENT_ELEMENT.get(entry.resource_type)
    if element is None:
        return None
    reference = entry.resource.get(element)
    target = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(target, str):
        return None
    parts = target.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1] != patient_id:
        return f"`{where}` is about another patient than the one in context"
    return None


def too_deep(data: object, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON data nests deeper than `limit` (read level by level, no recursion)."""
    level: list[object] = [data]
    for _ in range(limit + 1):
        below: list[object] = []
        for value in level:
            if isinstance(value, dict):
                below.extend(value.values())
            elif isinstance(value, list):
                below.extend(value)
        if not below:
            return False
        level = below
    return True
