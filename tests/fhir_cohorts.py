"""Random FHIR Bulk Data exports for differential tests: every status, date and reference case
the evidence rules distinguish, made up (no real person), from the policy's own value sets.

`random_export(seed, policy, patients)` gives the resources by type; `write_export` writes them
as `<Type>.ndjson`; `patient_bundle` gathers one patient's resources (and the shared
Medications) as a Bundle, for comparing a cohort row with `evaluate`.
"""

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path
from typing import Any

from leukorules import model as m
from leukorules import terminology as t
from leukorules.codesystems import ICD_10_CM, LOINC, RXNORM, SNOMED_CT
from leukorules.fhir.bindings import CONDITION_CLINICAL, CONDITION_VERIFICATION, DUE_TO

JSON = dict[str, Any]
AS_OF = datetime.date(2025, 1, 15)

CLINICAL = [None, "active", "recurrence", "relapse", "inactive", "remission", "resolved"]
VERIFICATION = [None, "confirmed", "unconfirmed", "provisional", "differential", "refuted"]
VERIFICATION += ["entered-in-error", "confirmed", "confirmed"]
OBSERVATION = ["final", "amended", "corrected", "preliminary", "registered", "cancelled"]
OBSERVATION += ["entered-in-error", "unknown", "final", "final"]
STATEMENT = ["active", "completed", "stopped", "on-hold", "intended", "not-taken", "unknown"]
REQUEST = ["active", "completed", "stopped", "on-hold", "draft", "unknown", "cancelled"]
UNBOUND = [
    (SNOMED_CT, "38341003", "Hypertensive disorder"),
    (ICD_10_CM, "I10", "Essential (primary) hypertension"),
]
OTHER_DRUG = (RXNORM, "1310525", "teriflunomide 14 MG Oral Tablet")
LAB = (LOINC, "2951-2", "Sodium [Moles/volume] in Serum or Plasma")


def _coding(system: str, code: str, display: str) -> JSON:
    return {"system": system, "code": code, "display": display}


def _status(system: str, code: str) -> JSON:
    return {"coding": [{"system": system, "code": code}]}


def _day(rng: random.Random, spread: int = 60) -> str:
    return (AS_OF + datetime.timedelta(days=rng.randint(-spread, 10))).isoformat()


class _Maker:
    def __init__(self, rng: random.Random, policy: m.Policy) -> None:
        self.rng = rng
        self.sets = policy.value_sets
        answered = {
            n for b in policy.bindings if isinstance(b, t.AnswerBinding) for n in b.value_sets
        }
        self.answered = [self.sets[n] for n in sorted(answered)]
        drug_names = {
            n for b in policy.bindings if isinstance(b, t.CauseBinding) for n, _ in b.drugs
        }
        self.drugs = [c for n in sorted(drug_names) for c in self.sets[n].concepts]
        hosts = {n for b in policy.bindings if isinstance(b, t.CauseBinding) for n in b.hosts}
        self.hosts = [c for n in sorted(hosts) for c in self.sets[n].concepts]
        self.concepts = [c for vs in self.sets.values() for c in vs.concepts]
        self.shared: list[JSON] = []

    def concept(self) -> tuple[str, str, str]:
        rng = self.rng
        if rng.random() < 0.15:
            return rng.choice(UNBOUND)
        pool = self.hosts if rng.random() < 0.3 else self.concepts
        found = rng.choice(pool)
        return found.system, found.code, found.display

    def drug(self) -> tuple[str, str, str]:
        rng = self.rng
        if rng.random() < 0.25:
            return OTHER_DRUG
        if rng.random() < 0.05:
            return UNBOUND[0]  # a dueTo that names no drug
        found = rng.choice(self.drugs)
        return found.system, found.code, found.display

    def patient(self, pid: str) -> list[JSON]:
        rng = self.rng
        found: list[JSON] = []
        if rng.random() < 0.95:
            found.append({"resourceType": "Patient", "id": pid})
        for n in range(rng.randint(0, 4)):
            found.extend(self.condition(pid, f"{pid}-c{n}"))
        for n in range(rng.randint(0, 3)):
            found.append(self.observation(pid, f"{pid}-o{n}"))
        if rng.random() < 0.2:
            found.append({"resourceType": "Encounter", "id": f"{pid}-e", "status": "finished"})
        return found

    def condition(self, pid: str, rid: str) -> list[JSON]:
        rng = self.rng
        codings = [_coding(*self.concept())]
        if rng.random() < 0.2:
            codings.append(_coding(*self.concept()))
        resource: JSON = {
            "resourceType": "Condition",
            "id": rid,
            "code": {"coding": codings},
            "subject": {"reference": f"Patient/{pid}"},
            "recordedDate": _day(rng, 400),
        }
        clinical = rng.choice(CLINICAL)
        if rng.random() < 0.02:
            clinical = "actve"
        if clinical is not None:
            resource["clinicalStatus"] = _status(CONDITION_CLINICAL, clinical)
        verification = rng.choice(VERIFICATION)
        if rng.random() < 0.02:
            verification = "sure"
        if verification is not None:
            resource["verificationStatus"] = _status(CONDITION_VERIFICATION, verification)
        if rng.random() < 0.15:
            resource["abatementDateTime"] = _day(rng)
        extra: list[JSON] = []
        if rng.random() < 0.5:
            due, extra = self.due_to(pid, rid)
            resource["extension"] = [due]
        return [resource, *extra]

    def due_to(self, pid: str, rid: str) -> tuple[JSON, list[JSON]]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            coding = _coding(*self.drug())
            return {"url": DUE_TO, "valueCodeableConcept": {"coding": [coding]}}, []
        if roll < 0.8:
            kind = rng.choice(["MedicationStatement", "MedicationRequest"])
            statuses = STATEMENT if kind == "MedicationStatement" else REQUEST
            medication: JSON = {
                "resourceType": kind,
                "id": f"{rid}-m",
                "status": rng.choice(statuses),
                "subject": {"reference": f"Patient/{pid}"},
            }
            if kind == "MedicationRequest":
                medication["intent"] = "order"
            if rng.random() < 0.7:
                medication["medicationCodeableConcept"] = {"coding": [_coding(*self.drug())]}
            else:
                shared = {
                    "resourceType": "Medication",
                    "id": f"{rid}-med",
                    "code": {"coding": [_coding(*self.drug())]},
                }
                self.shared.append(shared)
                medication["medicationReference"] = {"reference": f"Medication/{rid}-med"}
            if kind == "MedicationStatement" and rng.random() < 0.4:
                medication["effectivePeriod"] = {"start": "2024-01-01", "end": _day(rng)}
            reference = {"reference": f"{kind}/{rid}-m"}
            return {"url": DUE_TO, "valueReference": reference}, [medication]
        if roll < 0.9:
            shared = {
                "resourceType": "Medication",
                "id": f"{rid}-med",
                "code": {"coding": [_coding(*self.drug())]},
            }
            self.shared.append(shared)
            return {"url": DUE_TO, "valueReference": {"reference": f"Medication/{rid}-med"}}, []
        return {"url": DUE_TO, "valueReference": {"reference": f"MedicationStatement/{rid}-x"}}, []

    def observation(self, pid: str, rid: str) -> JSON:
        rng = self.rng
        if self.answered and rng.random() < 0.75:
            concept = rng.choice(rng.choice(self.answered).concepts)
            coding = _coding(concept.system, concept.code, concept.display)
        else:
            coding = _coding(*LAB)
        status = rng.choice(OBSERVATION) if rng.random() > 0.02 else "done"
        resource: JSON = {
            "resourceType": "Observation",
            "id": rid,
            "status": status,
            "code": {"coding": [coding]},
            "subject": {"reference": f"Patient/{pid}"},
        }
        roll = rng.random()
        if roll < 0.7:
            resource["effectiveDateTime"] = _day(rng)
        elif roll < 0.85:
            resource["effectivePeriod"] = {"start": _day(rng)}
        if rng.random() < 0.85:
            resource["valueBoolean"] = rng.random() < 0.5
        else:
            resource["valueQuantity"] = {"value": 139, "unit": "mmol/L"}
        return resource


def random_export(seed: int, policy: m.Policy, patients: int) -> dict[str, list[JSON]]:
    """Resources by type for `patients` made-up patients (ids p0000, p0001, ...)."""
    rng = random.Random(seed)
    maker = _Maker(rng, policy)
    by_type: dict[str, list[JSON]] = {}
    for number in range(patients):
        for resource in maker.patient(f"p{number:04d}"):
            by_type.setdefault(resource["resourceType"], []).append(resource)
    if rng.random() < 0.5 and by_type.get("Condition"):
        orphan = dict(by_type["Condition"][0], id="orphan")
        orphan.pop("subject")
        by_type["Condition"].append(orphan)
    by_type["Medication"] = maker.shared
    return by_type


def write_export(by_type: dict[str, list[JSON]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, resources in by_type.items():
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources)
        (folder / f"{kind}.ndjson").write_text(lines, encoding="utf-8")


def patient_bundle(by_type: dict[str, list[JSON]], patient: str) -> JSON:
    """One patient's resources and every shared Medication, as a collection Bundle."""
    own = []
    for kind, resources in by_type.items():
        for resource in resources:
            if kind == "Medication":
                continue
            subject = resource.get("subject", {}).get("reference")
            if (kind == "Patient" and resource.get("id") == patient) or (
                subject == f"Patient/{patient}"
            ):
                own.append(resource)
    entries = [{"resource": r} for r in own + by_type.get("Medication", [])]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
