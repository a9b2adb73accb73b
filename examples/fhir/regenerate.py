"""Regenerate the synthetic FHIR records of the example patients (made-up data).

Run from the repository root:

    python examples/fhir/regenerate.py

Writes `examples/fhir/<patient>.json` (a Bundle per patient of `examples/patients/`) and
`examples/fhir/bulk/` (the whole cohort as a Bulk Data export), from the bundled policy's
terminology bindings (`policies/leukoencephalopathy/fhir.rules`). A test checks that the files
here are what this writes.
"""

from __future__ import annotations

from pathlib import Path

from leukorules import load_policy
from leukorules.fhir import synthetic

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    policy = load_policy().policy
    synthetic.write_examples(HERE.parent / "patients", HERE, policy)
