"""The patients of a cohort whose results differ between two versions of a policy.

Input: two checked policies, a cohort file (JSON Lines, CSV or Parquet, as `leukorules batch`
reads) and the cohort engine to run (`python` or `duckdb`: whatever `leukorules.cohort` runs).
Output: a `CohortDiff`: for each patient (row, id) whose results differ, the rules that fire in
NEW only or OLD only, the rules that became undetermined or decided, and whether a version
refuses the record (with its diagnostic codes); and how many records were compared.

Each version runs the whole cohort through `leukorules.cohort.runner` into a temporary folder
(columns that are not facts of a version are ignored by it, so a fact that only NEW declares
can be in the cohort); the two results and errors files are then read side by side, row by row,
in cohort order, so memory holds one record of each at a time. Facts are health data: they
are never copied into the output, only row numbers, ids and rule ids.
"""

from __future__ import annotations

import heapq
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leukorules import model as m
from leukorules.cohort.runner import BatchOptions, Engine, run_batch


@dataclass(frozen=True)
class PatientChange:
    row: int
    id: str | None
    fired: tuple[str, ...] = ()  # fire in NEW, not in OLD
    unfired: tuple[str, ...] = ()  # fired in OLD, not in NEW
    undetermined: tuple[str, ...] = ()  # undetermined in NEW only
    decided: tuple[str, ...] = ()  # undetermined in OLD only
    refused_old: str | None = None  # OLD's diagnostic codes when it refused the record
    refused_new: str | None = None


@dataclass
class CohortDiff:
    records: int = 0
    changes: list[PatientChange] = field(default_factory=list)


def _stream(results: Path, errors: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Results and rejected records of one run, merged in cohort (row) order."""

    def read(path: Path, rejected: bool) -> Iterator[tuple[int, dict[str, Any]]]:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                record["rejected"] = rejected
                yield int(record["row"]), record

    return heapq.merge(read(results, False), read(errors, True), key=lambda item: item[0])


def _change(row: int, old: dict[str, Any], new: dict[str, Any]) -> PatientChange | None:
    record_id = new.get("id") or old.get("id")
    if old["rejected"] or new["rejected"]:
        if old["rejected"] and new["rejected"]:
            return None
        return PatientChange(
            row,
            record_id,
            refused_old=",".join(old["codes"]) if old["rejected"] else None,
            refused_new=",".join(new["codes"]) if new["rejected"] else None,
        )
    fired_old, fired_new = set(old["fired"]), set(new["fired"])
    open_old, open_new = set(old["undetermined"]), set(new["undetermined"])
    if fired_old == fired_new and open_old == open_new:
        return None
    return PatientChange(
        row,
        record_id,
        fired=tuple(sorted(fired_new - fired_old)),
        unfired=tuple(sorted(fired_old - fired_new)),
        undetermined=tuple(sorted(open_new - open_old)),
        decided=tuple(sorted(open_old - open_new)),
    )


def cohort_diff(
    old: m.Policy,
    new: m.Policy,
    cohort: Path,
    engine: Engine = "python",
    id_column: str = "id",
    jobs: int | None = None,
    cohort_format: str | None = None,
) -> CohortDiff:
    """Run both versions over the cohort and compare them record by record. Raises
    `leukorules.cohort.readers.CohortError` for a cohort that cannot be read."""
    found = CohortDiff()
    with tempfile.TemporaryDirectory(prefix="leukorules-diff-") as folder:
        runs = []
        for name, policy in (("old", old), ("new", new)):
            out = Path(folder) / f"{name}.jsonl"
            errors = Path(folder) / f"{name}.errors.jsonl"
            options = BatchOptions(
                cohort=cohort,
                out=out,
                engine=engine,
                jobs=jobs,
                errors=errors,
                id_column=id_column,
                ignore_extra=True,
                cohort_format=cohort_format,
            )
            run_batch(policy, options)
            runs.append(_stream(out, errors))
        for (row, before), (_, after) in zip(runs[0], runs[1], strict=True):
            found.records += 1
            change = _change(row, before, after)
            if change is not None:
                found.changes.append(change)
    return found
