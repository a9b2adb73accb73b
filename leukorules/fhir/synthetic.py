"""Synthetic FHIR R4 records from patient facts: the inverse of the mapper, for tests, examples
and benchmarks. Every record it writes is made up; none describes a real person.

Input: one patient's facts (the bundled policy's names and values) and an evaluation date.
Output: a FHIR R4 `Bundle` (plain JSON data) whose resources carry every fact a code can carry,
or, for a cohort, a Bulk Data export folder (one NDJSON file per resource type). `carried(facts)`
says which facts the record carries: mapping the Bundle back gives exactly those (tested).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leukorules.fhir import terminology as t
from leukorules.fhir.bindings import CONDITION_CLINICAL, CONDITION_VERIFICATION, DUE_TO
from leukorules.fhir.terminology import Concept, ValueSet

JSON = dict[str, Any]

TYPE_CODES: dict[str, ValueSet] = {
    "pml": t.PML,
    "post_infectious": t.ADEM,
    "toxic": t.TOXIC_LEUKOENCEPHALOPATHY,
    "drug_induced": t.WHITE_MATTER_DISEASE,
}
DRUG_CODES: dict[str, Concept] = {
    "mycophenolic_acid": t.MYCOPHENOLATE.concepts[1],
    "other": t.SYNTHETIC_OTHER_DRUG,
}
CONDITION_FACTS: dict[str, ValueSet] = {
    "hiv_positive": t.HIV,
    "pres": t.PRES,
    "seizures": t.SEIZURE,
    "dysarthria_or_dysphasia": t.DYSARTHRIA_OR_DYSPHASIA,
    "agitation": t.AGITATION,
    "electrolyte_imbalance": t.ELECTROLYTE_IMBALANCE,
}
OBSERVABLE_FACTS = frozenset({"seizures", "dysarthria_or_dysphasia", "agitation"})


def carried(facts: Mapping[str, object]) -> dict[str, object]:
    """The facts a synthetic record of these facts carries (the others no code can carry)."""
    kept: dict[str, object] = {k: v for k, v in facts.items() if k in CONDITION_FACTS}
    kept = {k: v for k, v in kept.items() if isinstance(v, bool)}
    kind = facts.get("leukoencephalopathy_type")
    drug = facts.get("causative_drug")
    drug_carried = kind in TYPE_CODES and drug in DRUG_CODES
    if kind in TYPE_CODES and (kind != "drug_induced" or drug_carried):
        kept["leukoencephalopathy_type"] = kind
    if drug_carried:
        kept["causative_drug"] = drug
        if isinstance(facts.get("toxic_exposure_ongoing"), bool):
            kept["toxic_exposure_ongoing"] = facts["toxic_exposure_ongoing"]
    return kept


def _coding(concept: Concept) -> JSON:
    return {"system": concept.system, "code": concept.code, "display": concept.display}


def _status(system: str, code: str) -> JSON:
    return {"coding": [{"system": system, "code": code}]}


def _condition(rid: str, patient: str, value_set: ValueSet, present: bool, recorded: str) -> JSON:
    resource: JSON = {
        "resourceType": "Condition",
        "id": rid,
        "verificationStatus": _status(
            CONDITION_VERIFICATION, "confirmed" if present else "refuted"
        ),
        "code": {"coding": [_coding(c) for c in value_set.concepts], "text": value_set.title},
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
    observe: Iterable[str] = (),
) -> list[JSON]:
    """The resources that carry `carried(facts)`: Conditions for diagnoses and symptoms (a
    refuted one for an explicit no), Observations with a yes/no value for the symptoms named in
    `observe`, the causative drug as the leukoencephalopathy's dueTo (a MedicationStatement
    whose status says whether it is still taken, when that is known)."""
    kept = carried(facts)
    day = as_of.isoformat()
    observed = set(observe) & OBSERVABLE_FACTS
    found: list[JSON] = [{"resourceType": "Patient", "id": patient}]
    for fact, value_set in CONDITION_FACTS.items():
        value = kept.get(fact)
        if not isinstance(value, bool):
            continue
        rid = f"{patient}-{fact.replace('_', '-')}"
        if fact in observed:
            found.append(_observation(rid, patient, value_set, value, day))
        else:
            found.append(_condition(rid, patient, value_set, value, day))
    kind = kept.get("leukoencephalopathy_type")
    if isinstance(kind, str):
        host = _condition(f"{patient}-leukoencephalopathy", patient, TYPE_CODES[kind], True, day)
        found.append(host)
        drug = kept.get("causative_drug")
        if isinstance(drug, str):
            concept = DRUG_CODES[drug]
            ongoing = kept.get("toxic_exposure_ongoing")
            if isinstance(ongoing, bool):
                statement = {
                    "resourceType": "MedicationStatement",
                    "id": f"{patient}-causative-drug",
                    "status": "active" if ongoing else "stopped",
                    "medicationCodeableConcept": {"coding": [_coding(concept)]},
                    "subject": {"reference": f"Patient/{patient}"},
                }
                found.append(statement)
                due: JSON = {
                    "valueReference": {"reference": f"MedicationStatement/{patient}-causative-drug"}
                }
            else:
                due = {"valueCodeableConcept": {"coding": [_coding(concept)]}}
            host["extension"] = [{"url": DUE_TO, **due}]
    return found


def bundle(
    facts: Mapping[str, object],
    patient: str,
    as_of: datetime.date,
    observe: Iterable[str] = (),
) -> JSON:
    """A collection Bundle of `resources(...)`, each entry with its `fullUrl`."""
    entries = [
        {"fullUrl": f"urn:uuid:{resource['resourceType']}-{resource['id']}", "resource": resource}
        for resource in resources(facts, patient, as_of, observe)
    ]
    return {"resourceType": "Bundle", "id": patient, "type": "collection", "entry": entries}


def write_bulk_export(
    patients: Mapping[str, Mapping[str, object]], folder: str | Path, as_of: datetime.date
) -> dict[str, int]:
    """A Bulk Data export folder for a cohort: `<ResourceType>.ndjson`, one resource a line.
    Returns the number of resources written per type."""
    by_type: dict[str, list[str]] = {}
    for patient, facts in patients.items():
        for resource in resources(facts, patient, as_of):
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


def write_examples(patients_folder: str | Path, out: str | Path) -> list[Path]:
    """A Bundle per example patient (`<name>.json`) and the whole cohort as a Bulk Data export
    (`bulk/`), all dated `EXAMPLES_DATE`."""
    import yaml

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    cohort: dict[str, Mapping[str, object]] = {}
    written = []
    for path in sorted(Path(patients_folder).glob("*.yaml")):
        facts = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cohort[path.stem] = facts
        target = root / f"{path.stem}.json"
        record = bundle(facts, path.stem, EXAMPLES_DATE)
        target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        written.append(target)
    write_bulk_export(cohort, root / "bulk", EXAMPLES_DATE)
    return written


if __name__ == "__main__":
    import sys

    write_examples(*sys.argv[1:3])
