"""Facts from the health record: FHIR R4 in.

Takes: FHIR R4 JSON (a Bundle, one resource, or a Bulk Data export folder) and a checked
`model.Policy`, whose terminology bindings (`valueset` and `bind` blocks, `leukorules.terminology`)
say which codes give which fact. Gives: the policy's raw facts with their provenance and
diagnostics, to validate like any facts document.
Must never import: `leukorules.cli`, `leukorules.report`, `leukorules.cohort`,
`leukorules.audit`, `leukorules.check`.

    from leukorules import load_policy
    from leukorules.fhir import map_record_file
    policy = load_policy().policy
    record = map_record_file("record.json", policy)  # RecordFacts: facts, provenance, diagnostics
    record.facts                                     # {"leukoencephalopathy_type": "pml", ...}
    record.provenance["seizures"].to_json()          # value or reason, every resource that spoke

Importing this package is cheap: `fhir.resources` (the `fhir` extra) is imported when the first
resource is validated; without it `FhirExtraMissing` names `pip install 'leukorules[fhir]'`.
Modules: `bindings` (a policy's bindings indexed by code; how FHIR status codes count),
`reading` (JSON, NDJSON, validation), `locate` (JSON paths to lines), `evidence` (one resource
-> evidence), `mapping` (evidence -> facts), `provenance` (output types), `bulk` (a Bulk Data
export, patient by patient, for the python engine), `bulk_sql` and `evidence_sql` (the same
compiled to DuckDB SQL over the NDJSON files), `synthetic` (facts -> records, for tests,
examples and benchmarks). docs/fhir.md describes the evidence rules and the bundled bindings.
"""

from __future__ import annotations

from leukorules.fhir.bulk import map_bulk_export
from leukorules.fhir.mapping import (
    map_entries,
    map_record_data,
    map_record_file,
    map_record_text,
    with_facts,
)
from leukorules.fhir.provenance import Evidence, FactProvenance, RecordFacts, Source
from leukorules.fhir.reading import FhirExtraMissing, is_fhir_text, record_data

__all__ = [
    "Evidence",
    "FactProvenance",
    "FhirExtraMissing",
    "RecordFacts",
    "Source",
    "is_fhir_text",
    "map_bulk_export",
    "map_entries",
    "map_record_data",
    "map_record_file",
    "map_record_text",
    "record_data",
    "with_facts",
]
