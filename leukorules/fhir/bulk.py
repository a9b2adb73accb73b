"""A FHIR Bulk Data export folder -> one row of facts per patient, in patient id order, in
bounded memory: the python engine's reading of a cohort's health records.

Input: a folder of NDJSON files (one resource a line; `Patient.ndjson`, `Condition.ndjson`,
...), a policy's bindings and the evaluation date. Output: `PatientFacts` per patient (the
facts, and the errors that keep the patient from being evaluated), sorted by patient id, and
`FolderProblems`: lines that are not JSON, not a FHIR resource, or name no patient, counted per
file (those lines are left out; the run goes on).

Which resources are read: the types a binding can read (Condition, Observation, the
MedicationStatement, MedicationRequest and Medication a dueTo names) and Patient (every patient
of the export gets a row, even one with nothing coded). A file whose name names another resource
type (`Encounter.ndjson`) is not opened. A resource belongs to the patient its `subject` or
`patient` reference names (`Patient/<id>`); a Medication belongs to no one and any patient's
resources may reference it. Each patient's resources are mapped exactly as one record is
(`leukorules.fhir.mapping.map_entries`: validation, evidence, disagreements), so a patient's row
equals what `evaluate` gives for the same resources as a Bundle.

Memory: resources are spread over partition files by patient (more partitions for a larger
export, about PARTITION_BYTES of NDJSON each), each partition is mapped on its own, and the
partitions' sorted results are merged; memory holds one partition and the shared Medications.
`leukorules.fhir.bulk_sql` does the same in SQL for the duckdb engine.
"""

from __future__ import annotations

import datetime
import heapq
import json
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leukorules.fhir.evidence import Index
from leukorules.fhir.mapping import Terms, bindings_of, map_entries
from leukorules.fhir.provenance import RecordFacts
from leukorules.fhir.reading import Entry, Text

# The resource types read from an export, and the ones that belong to no patient.
READ_TYPES = frozenset(
    {"Patient", "Condition", "Observation", "MedicationStatement", "MedicationRequest"}
)
SHARED_TYPES = frozenset({"Medication"})
# NDJSON text per partition: Python holds a partition's resources as objects, several times
# larger than their text.
PARTITION_BYTES = 32 * 1024 * 1024

# What a line can be besides a resource that is read, as the folder's problems count it.
NOT_JSON = "lines are not JSON"
NOT_A_RESOURCE = "lines are not FHIR resources (no resourceType)"
NO_PATIENT = "resources name no patient (subject or patient: Patient/<id>)"


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """One patient's row: the facts the record gives, or the problems that reject it (each a
    diagnostic code and its message), in a fixed order."""

    patient: str
    facts: dict[str, object]
    problems: tuple[tuple[str, str], ...] = ()

    def json_line(self, id_column: str = "id") -> str:
        """The row as a JSON Lines cohort record: the id, then the facts."""
        return json.dumps({id_column: self.patient, **self.facts}, ensure_ascii=False)


@dataclass
class FolderProblems:
    """Lines of the export that were left out, counted per file and kind."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        return [f"{file}: {n:,} {kind}" for (file, kind), n in sorted(self.counts.items())]


_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]+")


def export_files(folder: str | Path) -> list[Path]:
    """The NDJSON files of an export that may hold resources a binding reads, in name order: a
    file whose name names a resource type that is not read is left out."""
    chosen = []
    for path in sorted(Path(folder).glob("*.ndjson")):
        parts = [p for p in re.split(r"[._\-]", path.name) if _TYPE_NAME.fullmatch(p)]
        named = [p for p in parts if p in READ_TYPES | SHARED_TYPES]
        if named or not parts:
            chosen.append(path)
    return chosen


def patient_of(resource: dict[str, Any]) -> str | None:
    """The patient a resource belongs to: a Patient's id, or its `subject` or `patient`
    reference `Patient/<id>`."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) else None
    for key in ("subject", "patient"):
        reference = resource.get(key)
        if isinstance(reference, dict):
            target = reference.get("reference")
            if isinstance(target, str) and target.startswith("Patient/"):
                return target.removeprefix("Patient/")
    return None


class BulkExport:
    """One pass over an export folder; `patients()` yields every patient's row in id order."""

    def __init__(
        self,
        folder: str | Path,
        terms: Terms,
        as_of: datetime.date | None = None,
        partition_bytes: int = PARTITION_BYTES,
    ) -> None:
        self.folder = Path(folder)
        self.bindings = bindings_of(terms)
        self.as_of = as_of or datetime.date.today()
        self.files = export_files(self.folder)
        self.problems = FolderProblems()
        total = sum(path.stat().st_size for path in self.files)
        self.partitions = max(1, -(-total // max(1, partition_bytes)))
        self._shared: list[Entry] = []

    # --- reading lines ------------------------------------------------------------------------

    def _lines(self) -> Iterator[tuple[int, int, str, dict[str, Any], str | None]]:
        """(file index, line number, line, resource, patient) of every resource read; the
        lines left out are counted."""
        for number_of_file, path in enumerate(self.files):
            with path.open(encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        data = json.loads(line)
                    except json.JSONDecodeError:
                        self.problems.counts[(path.name, NOT_JSON)] += 1
                        continue
                    kind = data.get("resourceType") if isinstance(data, dict) else None
                    if not isinstance(kind, str):
                        self.problems.counts[(path.name, NOT_A_RESOURCE)] += 1
                        continue
                    if kind not in READ_TYPES and kind not in SHARED_TYPES:
                        continue
                    patient = None if kind in SHARED_TYPES else patient_of(data)
                    if patient is None and kind not in SHARED_TYPES:
                        self.problems.counts[(path.name, NO_PATIENT)] += 1
                        continue
                    yield number_of_file, number, line, data, patient

    def _entry(self, file: int, number: int, line: str, data: dict[str, Any]) -> Entry:
        text = Text(str(self.files[file]), line, base_line=number - 1)
        return Entry(data, data["resourceType"], (), text)

    # --- patients -----------------------------------------------------------------------------

    def patients(self) -> Iterator[PatientFacts]:
        if self.partitions == 1:
            grouped: dict[str, list[Entry]] = defaultdict(list)
            for file, number, line, data, patient in self._lines():
                entry = self._entry(file, number, line, data)
                if patient is None:
                    self._shared.append(entry)
                else:
                    grouped[patient].append(entry)
            yield from self._map(grouped)
            return
        with tempfile.TemporaryDirectory(prefix="leukorules-bulk-") as folder:
            yield from self._partitioned(Path(folder))

    def _partitioned(self, folder: Path) -> Iterator[PatientFacts]:
        paths = [folder / f"part-{n}.tsv" for n in range(self.partitions)]
        handles = [path.open("w", encoding="utf-8") for path in paths]
        try:
            for file, number, line, data, patient in self._lines():
                if patient is None:
                    self._shared.append(self._entry(file, number, line, data))
                    continue
                part = handles[hash(patient) % self.partitions]
                part.write(f"{file}\t{number}\t{line.rstrip(chr(10))}\n")
        finally:
            for handle in handles:
                handle.close()
        results = [folder / f"rows-{n}.jsonl" for n in range(self.partitions)]
        for path, result in zip(paths, results, strict=True):
            grouped: dict[str, list[Entry]] = defaultdict(list)
            with path.open(encoding="utf-8") as handle:
                for record in handle:
                    file_text, number_text, line = record.rstrip("\n").split("\t", 2)
                    data = json.loads(line)
                    patient = patient_of(data)
                    assert patient is not None
                    entry = self._entry(int(file_text), int(number_text), line, data)
                    grouped[patient].append(entry)
            path.unlink()
            with result.open("w", encoding="utf-8") as out:
                for row in self._map(grouped):
                    out.write(json.dumps([row.patient, row.facts, row.problems]) + "\n")
            del grouped
        streams = [_rows(path) for path in results]
        yield from heapq.merge(*streams, key=lambda row: row.patient)

    def _map(self, grouped: dict[str, list[Entry]]) -> Iterator[PatientFacts]:
        shared = Index.of(self._shared).by_reference
        for patient in sorted(grouped):
            own = grouped[patient]
            index = Index({**shared, **Index.of(own).by_reference})
            record = map_entries(own, self.bindings, self.as_of, index, patient)
            errors = [d for d in record.diagnostics if d.severity.label == "error"]
            if errors:
                problems = tuple(sorted({(str(d.code), d.message) for d in errors}))
                yield PatientFacts(patient, {}, problems)
            else:
                yield PatientFacts(patient, dict(record.facts))


def _rows(path: Path) -> Iterator[PatientFacts]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            patient, facts, problems = json.loads(line)
            yield PatientFacts(patient, facts, tuple((c, m) for c, m in problems))


def map_bulk_export(
    folder: str | Path, terms: Terms, as_of: datetime.date | None = None
) -> tuple[list[RecordFacts], FolderProblems]:
    """Every patient of a (small) export with full provenance, in patient id order, and the
    lines left out: for tests and exploration; a cohort run streams `BulkExport.patients`."""
    export = BulkExport(folder, terms, as_of)
    grouped: dict[str, list[Entry]] = defaultdict(list)
    for file, number, line, data, patient in export._lines():
        entry = export._entry(file, number, line, data)
        if patient is None:
            export._shared.append(entry)
        else:
            grouped[patient].append(entry)
    shared = Index.of(export._shared).by_reference
    results = []
    for patient in sorted(grouped):
        index = Index({**shared, **Index.of(grouped[patient]).by_reference})
        results.append(map_entries(grouped[patient], export.bindings, export.as_of, index, patient))
    return results, export.problems
