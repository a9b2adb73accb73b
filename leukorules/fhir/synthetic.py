"""Synthetic FHIR R4 records from patient facts: the inverse of the mapper, for tests, examples
and benchmarks. Every record it writes is made up; none describes a real person.

Input: one patient's facts, a policy whose terminology bindings say which codes carry which fact
(or its `Bindings`), and an evaluation date. Output: a FHIR R4 `Bundle` (plain JSON data) whose
resources carry every fact a code can carry under those bindings, or, for a cohort, a Bulk Data
export folder (one NDJSON file per resource type). `carried(facts, policy)` says which facts the
record carries: mapping the Bundle back gives exactly those (tested). The record is built from
the bindings, never from a table of its own: a code added to the policy is generated with it.

How each fact is carried: a confirmed, active Condition coded with the first code of each
system in the first value set of the first binding that gives the value (a refuted one where
the binding says refuted gives it), or an Observation with a yes/no answer for the facts named
in `observe`; the causative drug as the diagnosis Condition's dueTo (the first code of the
drug's value set; for the `any rxnorm drug` value, a drug no value set holds), through a
MedicationStatement whose status says whether it is still taken when that is known.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leukorules.codesystems import RXNORM
from leukorules.fhir.bindings import CONDITION_CLINICAL, CONDITION_VERIFICATION, DUE_TO, Bindings
from leukorules.fhir.mapping import Terms, bindings_of
from leukorules.terminology import Concept, ConditionBinding, ValueSet

JSON = dict[str, Any]

# A drug no value set of the bundled policy holds, for `causative_drug: other` (generator only).
SYNTHETIC_OTHER_DRUG = Concept(
    RXNORM,
    "1310525",
    "teriflunomide 14 MG Oral Tablet",
    "https://ndclist.com/ndc/70512-851/rxnorm (NDC to RxNorm crosswalk)",
)


@dataclass
class _Plan:
    """What a record of some facts holds: each resource with the fact it carries."""

    carried: dict[str, object] = field(default_factory=dict)
    conditions: list[tuple[str, ValueSet, bool]] = field(default_factory=list)
    observations: list[tuple[str, ValueSet, bool]] = field(default_factory=list)
    # the fact whose Condition is due to a drug, the drug, and whether it is still taken
    cause: tuple[str, Concept, bool | None] | None = None


def _plan(facts: Mapping[str, object], bindings: Bindings, observe: Iterable[str] = ()) -> _Plan:
    plan = _Plan()
    observed = set(observe)
    sets = bindings.value_sets
    conditions: dict[str, list[ConditionBinding]] = {}
    for found in bindings.conditions.values():
        for binding in found:
            if binding not in conditions.setdefault(binding.fact, []):
                conditions[binding.fact].append(binding)
    answers = {b.fact: b for found in bindings.observations.values() for b in found}
    waiting: tuple[str, ConditionBinding] | None = None  # a Condition that needs a drug cause
    hosts: list[tuple[str, ConditionBinding]] = []
    for fact in bindings.facts:
        value = facts.get(fact)
        candidates = conditions.get(fact, [])
        if value is None or not (candidates or fact in answers):
            continue
        answer = answers.get(fact)
        if isinstance(value, bool) and fact in observed and answer is not None:
            plan.observations.append((fact, sets[answer.value_sets[0]], value))
            plan.carried[fact] = value
            continue
        given = next((b for b in candidates if b.value == value), None)
        if given is not None and given.needs_drug_cause:
            waiting = (fact, given)
            continue
        if given is not None:
            plan.conditions.append((fact, sets[given.value_sets[0]], True))
            plan.carried[fact] = value
            hosts.append((fact, given))
            continue
        refuted = next((b for b in candidates if b.refuted == value), None)
        if refuted is not None:
            plan.conditions.append((fact, sets[refuted.value_sets[0]], False))
            plan.carried[fact] = value
    if waiting is not None:
        hosts.append(waiting)
    for cause in bindings.causes:
        drug = facts.get(cause.fact)
        host = next(
            (h for h in hosts if any(sets[n] in cause.hosts for n in h[1].value_sets)), None
        )
        concept = _drug(cause.drugs, cause.other, drug)
        if host is None or concept is None:
            continue
        plan.carried[cause.fact] = drug
        if waiting is not None and host == waiting:
            plan.conditions.append((host[0], sets[host[1].value_sets[0]], True))
            plan.carried[host[0]] = host[1].value
        ongoing: bool | None = None
        for exposure in bindings.exposures:
            taken = facts.get(exposure.fact)
            hosted = any(sets[n] in exposure.hosts for n in host[1].value_sets)
            if isinstance(taken, bool) and hosted:
                ongoing = taken
                plan.carried[exposure.fact] = taken
        plan.cause = (host[0], concept, ongoing)
        break
    return plan


def _drug(
    drugs: Iterable[tuple[ValueSet, str]], other: tuple[str, str] | None, value: object
) -> Concept | None:
    for value_set, given in drugs:
        if given == value and value_set.concepts:
            return value_set.concepts[0]
    if other is not None and other == (RXNORM, value):
        return SYNTHETIC_OTHER_DRUG
    return None


def carried(facts: Mapping[str, object], terms: Terms) -> dict[str, object]:
    """The facts a synthetic record of these facts carries (the others no code can carry)."""
    return _plan(facts, bindings_of(terms)).carried


def _coding(concept: Concept) -> JSON:
    return {"system": concept.system, "code": concept.code, "display": concept.display}


def _status(system: str, code: str) -> JSON:
    return {"coding": [{"system": system, "code": code}]}


def _codings(value_set: ValueSet) -> list[JSON]:
    """The value set's first code in each of its systems: a diagnosis is recorded as one concept
    per terminology (a Condition coded both right and left hemiplegia would say nothing real)."""
    first: dict[str, JSON] = {}
    for concept in value_set.concepts:
        first.setdefault(concept.system, _coding(concept))
    return list(first.values())


def _condition(rid: str, patient: str, value_set: ValueSet, present: bool, recorded: str) -> JSON:
    resource: JSON = {
        "resourceType": "Condition",
        "id": rid,
        "verificationStatus": _status(
            CONDITION_VERIFICATION, "confirmed" if present else "refuted"
        ),
        "code": {"coding": _codings(value_set), "text": value_set.title},
        "subject": {"reference": f"Patient/{patient}"},
        "recordedDate": recorded,
    }
    if present:
        resource["clinicalStatus"] = _status(CONDITION_CLINICAL, "active")
    return resource


def _observation(rid: str, patient: str, value_set: ValueSet, present: bool, day: str) -> JSON:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [_coding(value_set.concepts[0])], "text": value_set.title},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": day,
        "valueBoolean": present,
    }


def resources(
    facts: Mapping[str, object],
    patient: str,
    as_of: datetime.date,
    terms: Terms,
    observe: Iterable[str] = (),
) -> list[JSON]:
    """The resources that carry `carried(facts, terms)`: a Patient, then a Condition (or an
    Observation, for the facts named in `observe` that an Observation can answer) per fact,
    the causative drug as a dueTo of the diagnosis it caused."""
    plan = _plan(facts, bindings_of(terms), observe)
    day = as_of.isoformat()
    found: list[JSON] = [{"resourceType": "Patient", "id": patient}]
    by_fact: dict[str, JSON] = {}
    for fact, value_set, present in plan.conditions:
        rid = f"{patient}-{fact.replace('_', '-')}"
        by_fact[fact] = _condition(rid, patient, value_set, present, day)
    for fact, value_set, present in plan.observations:
        rid = f"{patient}-{fact.replace('_', '-')}"
        by_fact[fact] = _observation(rid, patient, value_set, present, day)
    for fact in facts:  # in the order the facts were given
        if fact in by_fact:
            found.append(by_fact[fact])
    if plan.cause is not None:
        fact, drug, ongoing = plan.cause
        host = by_fact[fact]
        if ongoing is None:
            due: JSON = {"valueCodeableConcept": {"coding": [_coding(drug)]}}
        else:
            statement_id = f"{patient}-causative-drug"
            found.append(
                {
                    "resourceType": "MedicationStatement",
                    "id": statement_id,
                    "status": "active" if ongoing else "stopped",
                    "medicationCodeableConcept": {"coding": [_coding(drug)]},
                    "subject": {"reference": f"Patient/{patient}"},
                }
            )
            due = {"valueReference": {"reference": f"MedicationStatement/{statement_id}"}}
        host["extension"] = [{"url": DUE_TO, **due}]
    return found


def bundle(
    facts: Mapping[str, object],
    patient: str,
    as_of: datetime.date,
    terms: Terms,
    observe: Iterable[str] = (),
) -> JSON:
    """A collection Bundle of `resources(...)`, each entry with its `fullUrl`."""
    entries = [
        {"fullUrl": f"urn:uuid:{resource['resourceType']}-{resource['id']}", "resource": resource}
        for resource in resources(facts, patient, as_of, terms, observe)
    ]
    return {"resourceType": "Bundle", "id": patient, "type": "collection", "entry": entries}


def write_bulk_export(
    patients: Mapping[str, Mapping[str, object]],
    folder: str | Path,
    as_of: datetime.date,
    terms: Terms,
) -> dict[str, int]:
    """A Bulk Data export folder for a cohort: `<ResourceType>.ndjson`, one resource a line.
    Returns the number of resources written per type."""
    bindings = bindings_of(terms)
    by_type: dict[str, list[str]] = {}
    for patient, facts in patients.items():
        for resource in resources(facts, patient, as_of, bindings):
            by_type.setdefault(resource["resourceType"], []).append(
                json.dumps(resource, separators=(",", ":"))
            )
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    for kind, lines in by_type.items():
        (root / f"{kind}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {kind: len(lines) for kind, lines in by_type.items()}


# Fixed so that the example records in examples/fhir/ are the same on every run.
EXAMPLES_DATE = datetime.date(2025, 1, 15)


def write_examples(patients_folder: str | Path, out: str | Path, terms: Terms) -> list[Path]:
    """A Bundle per example patient (`<name>.json`) and the whole cohort as a Bulk Data export
    (`bulk/`), all dated `EXAMPLES_DATE` (run by `examples/fhir/regenerate.py`)."""
    import yaml

    bindings = bindings_of(terms)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    cohort: dict[str, Mapping[str, object]] = {}
    written = []
    for path in sorted(Path(patients_folder).glob("*.yaml")):
        facts = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cohort[path.stem] = facts
        target = root / f"{path.stem}.json"
        record = bundle(facts, path.stem, EXAMPLES_DATE, bindings)
        target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    for stale in (root / "bulk").glob("*.ndjson"):
        stale.unlink()
    write_bulk_export(cohort, root / "bulk", EXAMPLES_DATE, bindings)
    return written
