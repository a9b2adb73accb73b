"""`leukorules batch`: evaluate a cohort file (or a FHIR Bulk Data export folder), write
per-patient results, print a summary."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import click

from leukorules.cli.common import EXIT_USAGE, fail, load_or_exit, policy_paths
from leukorules.cli.records import as_of_option, evaluation_date


@click.command()
@click.argument("cohort", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Results file: .jsonl or .parquet (one record per evaluated patient).",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Policy file or folder (repeatable); default: the bundled policy.",
)
@click.option(
    "--engine",
    type=click.Choice(["python", "duckdb"]),
    default="python",
    show_default=True,
    help="python: the compiled evaluator on every core; duckdb: the policy compiled to SQL.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (python) or threads (duckdb); default: every core.",
)
@click.option(
    "--errors",
    "errors",
    type=click.Path(path_type=Path),
    default=None,
    help="Rejected rows, with row number and reason: .jsonl or .csv "
    "(default: beside --out, named <out>.errors.jsonl).",
)
@click.option(
    "--id-column",
    default="id",
    show_default=True,
    help="The column (JSON key) holding each patient's id.",
)
@click.option(
    "--ignore-extra",
    is_flag=True,
    help="Ignore columns (JSON keys) that are not input facts of the policy, "
    "instead of refusing the cohort (CSV, Parquet) or rejecting the row (JSON Lines).",
)
@click.option(
    "--format",
    "cohort_format",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default=None,
    help="Cohort format; default: from the file extension.",
)
@click.option(
    "--summary-json",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the summary as JSON to this file.",
)
@as_of_option
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=20_000,
    show_default=True,
    help="Records per unit of work; memory use grows with it, not with the cohort.",
)
def batch(
    cohort: Path,
    out: Path,
    policies: tuple[Path, ...],
    engine: str,
    jobs: int | None,
    errors: Path | None,
    id_column: str,
    ignore_extra: bool,
    cohort_format: str | None,
    summary_json: Path | None,
    as_of: datetime.datetime | None,
    chunk_rows: int,
) -> None:
    """Evaluate every patient of COHORT (JSON Lines, CSV or Parquet; one patient per row), or
    of a FHIR Bulk Data export folder (one NDJSON file per resource type; one row per patient).

    \b
    Each row holds a patient's input facts (columns or keys named after the facts; empty or
    null is unknown) and an id (--id-column). Per patient, --out receives the fired and
    undetermined rule ids and the derived facts. A row that cannot be evaluated (a wrong type,
    a value outside its enum or range, a missing id, malformed JSON) goes to the errors file with
    its row number and reasons; the run goes on. The summary on stdout counts rows read,
    evaluated and rejected, the patients receiving each recommendation, and the undetermined
    rules with the facts that were missing most often.

    For an export folder, each patient's facts come from their resources under the policy's
    terminology bindings (see `leukorules facts`); a patient whose sources disagree is rejected
    with the reason. Both engines map the export: python in Python, duckdb in SQL.

    Exit status: 0 done (even with rejected rows), 1 the cohort or policy cannot be used,
    2 usage error (or the fhir extra, needed for an export on the python engine, is missing).
    """
    from leukorules.cohort.readers import CohortError
    from leukorules.cohort.runner import BatchOptions, run_batch

    result = load_or_exit(policy_paths(policies))
    assert result.policy is not None
    records = None
    if cohort.is_dir():
        from leukorules.cli.batch_fhir import FhirBulkInput

        records = FhirBulkInput(
            cohort,
            result.policy,
            engine,
            evaluation_date(as_of),
            id_column,
            chunk_rows,
            jobs,
        )
    options = BatchOptions(
        cohort=cohort,
        out=out,
        engine=engine,  # type: ignore[arg-type]
        jobs=jobs,
        errors=errors,
        id_column=id_column,
        ignore_extra=ignore_extra,
        cohort_format=cohort_format,
        chunk_rows=chunk_rows,
        records=records,
    )
    from leukorules.fhir.reading import FhirExtraMissing

    try:
        summary = run_batch(result.policy, options)
    except CohortError as error:
        fail(str(error))
    except FhirExtraMissing as error:
        fail(str(error), EXIT_USAGE)
    except ImportError as error:
        fail(str(error))
    except OSError as error:
        fail(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))
    if records is not None:
        for line in records.problems.lines():
            click.echo(f"leukorules: warning: {line}; they were not read", err=True)
    click.echo(summary.to_text(), nl=False)
    if summary_json is not None:
        try:
            summary_json.write_text(
                json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8"
            )
        except OSError as error:
            fail(f"cannot write {summary_json}: {error.strerror or error}")
