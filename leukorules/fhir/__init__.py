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

Importing this package is cheap (its names load from their modules on first use);
`fhir.resources` (the `fhir` extra) is imported when the first resource is validated; without
it `FhirExtraMissing` names `pip install 'leukorules[fhir]'`.
Modules: `bindings` (a policy's bindings indexed by code; how FHIR status codes count),
`reading` (JSON, NDJSON, validation), `locate` (JSON paths to lines), `evidence` (one resource
-> evidence), `mapping` (evidence -> facts), `provenance` (output types), `bulk` (a Bulk Data
export, patient by patient, for the python engine), `bulk_sql` and `evidence_sql` (the same
compiled to DuckDB SQL over the NDJSON files), `synthetic` (facts -> records, for tests,
examples and benchmarks). docs/fhir.md describes the evidence rules and the bundled bindings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

# Each name is imported from its module on first use (PEP 562): `evaluate` on a plain facts file
# asks `reading` whether the file is a record, and must not pay for the mapping, the evidence
# rules and the Bulk Data reader (about an eighth of the command's instructions) to hear "no".
_HOME = {
    "map_bulk_export": "bulk",
    "map_entries": "mapping",
    "map_record_data": "mapping",
    "map_record_file": "mapping",
    "map_record_text": "mapping",
    "with_facts": "mapping",
    "Evidence": "provenance",
    "FactProvenance": "provenance",
    "RecordFacts": "provenance",
    "Source": "provenance",
    "FhirExtraMissing": "reading",
    "is_fhir_text": "reading",
    "record_data": "reading",
}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


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
