"""A FHIR Bulk Data export folder as the input of `leukorules batch`: the cohort input hook.

Input: the export folder, the checked policy, the engine, the evaluation date. Output:
`FhirBulkInput`, a `leukorules.cohort.readers.CohortInput` that gives the cohort engines one
JSON Lines record per patient (the id, then the facts the patient's resources give), numbered
in patient id order, and the patients the mapping rejects (disagreeing sources, invalid
resources) as problems at their rows. The python engine maps with `leukorules.fhir.bulk`
(Python, bounded memory); the duckdb engine with `leukorules.fhir.bulk_sql` (the mapping
compiled to SQL over the NDJSON files, run by DuckDB). Either way the cohort engine then decodes,
checks and evaluates the records as it does any JSON Lines cohort.

This module is the one place that knows both `leukorules.fhir` and `leukorules.cohort`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leukorules import model as m
from leukorules.cohort.readers import (
    CODE_SEPARATOR,
    REASON_SEPARATOR,
    CohortFormat,
    Problem,
    RawBatch,
)
from leukorules.fhir.bindings import Bindings
from leukorules.fhir.bulk import BulkExport, FolderProblems, PatientFacts, export_files


class FhirBulkInput:
    """One pass over an export folder, as numbered JSON Lines records."""

    format: CohortFormat = "jsonl"
    columns: tuple[str, ...] | None = None
    total_rows: int | None = None
    arrow_schema: Any = None

    def __init__(
        self,
        folder: Path,
        policy: m.Policy,
        engine: str,
        as_of: datetime.date,
        id_column: str = "id",
        chunk_rows: int = 20_000,
        threads: int | None = None,
        memory_limit: str | None = "1GB",
    ) -> None:
        self.path = folder
        self.id_column = id_column
        self.chunk_rows = max(1, chunk_rows)
        bindings = Bindings.of(policy)
        self.source: BulkExport | Any
        if engine == "duckdb":
            from leukorules.fhir.bulk_sql import BulkSQL

            kinds = {name: policy.facts[name].type.kind for name in bindings.facts}
            self.source = BulkSQL(
                export_files(folder), bindings, kinds, as_of, threads, memory_limit
            )
        else:
            self.source = BulkExport(folder, bindings, as_of)

    @property
    def problems(self) -> FolderProblems:
        """The lines of the export left out (known once `batches` has been read through)."""
        found: FolderProblems = self.source.problems
        return found

    def batches(self) -> Iterator[RawBatch]:
        batch = RawBatch([], [])
        patients: Iterator[PatientFacts] = self.source.patients()
        for row, patient in enumerate(patients, start=1):
            if patient.problems:
                codes = CODE_SEPARATOR.join(sorted({code for code, _ in patient.problems}))
                reason = REASON_SEPARATOR.join(message for _, message in patient.problems)
                batch.problems.append(Problem(row, patient.patient, codes, reason))
            else:
                batch.rows.append(row)
                batch.payload.append(patient.json_line(self.id_column))
            if batch.records >= self.chunk_rows:
                yield batch
                batch = RawBatch([], [])
        if batch.records:
            yield batch
