"""`leukorules batch`: evaluate a cohort file (or a FHIR Bulk Data export folder), write
per-patient results, print a summary.

Every text option is checked before anything runs: an empty value, or one holding a control
character (a newline in a column name, an escape sequence), is a usage error (exit 2) naming the
option. The run's files are checked, written and replaced by `leukorules.cohort.outputs`; SIGTERM
and SIGHUP stop a run as Ctrl-C does, so that its temporary files are removed.
"""

from __future__ import annotations

import datetime
import signal
import sys
import threading
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from leukorules.cli.common import (
    EXIT_USAGE,
    collector_resting,
    fail,
    load_or_exit,
    policy_paths,
)
from leukorules.cli.records import as_of_option, evaluation_date
from leukorules.diagnostics import printable

if TYPE_CHECKING:
    from leukorules import model as m


MAX_JOBS = 1024


def text_problem(value: str) -> str | None:
    """Why an option's text cannot be used, or None: it is empty, or holds a character that is
    not printable (a control such as a newline or ESC, a bidi override; a space is fine)."""
    if not value:
        return "it is empty"
    for position, character in enumerate(value, start=1):
        if not character.isprintable() and unicodedata.category(character) != "Zs":
            return (
                f"character {position} is a control character "
                f"({printable(character)}); give the value without it"
            )
    return None


def plain_text(
    value: object,
    kind: click.ParamType[Any],
    param: click.Parameter | None,
    ctx: click.Context | None,
) -> str:
    text = str(value)
    problem = text_problem(text)
    if problem is not None:
        kind.fail(problem, param, ctx)
    return text


class PlainText(click.ParamType[str]):
    """Text that is not empty and holds no control character (see `text_problem`)."""

    name = "text"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        return plain_text(value, self, param, ctx)


class PlainPath(click.ParamType[Path]):
    """A path given as `PlainText` (an empty path would be read as the current folder)."""

    name = "path"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Path:
        return Path(plain_text(value, self, param, ctx))


@click.command()
@click.argument("cohort", type=PlainPath())
@click.option(
    "--out",
    "out",
    required=True,
    type=PlainPath(),
    help="Results file: .jsonl or .parquet (one record per evaluated patient); with "
    "--partitioned, a folder of such part files.",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=PlainPath(),
    help="Policy file or folder (repeatable); default: the bundled policy.",
)
@click.option(
    "--engine",
    type=click.Choice(["python", "duckdb", "spark"]),
    default="python",
    show_default=True,
    help="python: the compiled evaluator on every core; duckdb: the policy compiled to SQL; "
    "spark: the same SQL on Apache Spark (local mode, or a cluster: --spark-master).",
)
@click.option(
    "--jobs",
    # Bounded: each job is a process, a thread or a core's share of memory, and a mistyped
    # 100000 would start that many before anything said no.
    type=click.IntRange(min=1, max=MAX_JOBS),
    default=None,
    help="Worker processes (python), threads (duckdb) or local cores (spark), 1 to "
    f"{MAX_JOBS}; default: every core.",
)
@click.option(
    "--spark-master",
    type=PlainText(),
    default=None,
    metavar="URL",
    help="Spark only: the cluster to run on (spark://host:7077, yarn, k8s://..., or sc://host "
    "for Spark Connect); default: SPARK_REMOTE if set, else local mode on this machine.",
)
@click.option(
    "--partitioned",
    is_flag=True,
    help="Spark only: write --out as a folder of part files in row order (Parquet or JSON "
    "Lines, by its name), as a cluster does, instead of gathering them into one file.",
)
@click.option(
    "--errors",
    "errors",
    type=PlainPath(),
    default=None,
    help="Rejected rows, with row number and reason: .jsonl or .csv (default: beside --out: "
    "r.jsonl -> r.errors.jsonl, r.parquet -> r.parquet-errors.jsonl).",
)
@click.option(
    "--id-column",
    type=PlainText(),
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
    type=PlainPath(),
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
    spark_master: str | None,
    partitioned: bool,
) -> None:
    """Evaluate every patient of COHORT (JSON Lines, CSV or Parquet; one patient per row), or
    of a FHIR Bulk Data export folder (one NDJSON file per resource type; one row per patient).

    \b
    Each row holds a patient's input facts (columns or keys named after the facts; empty or
    null is unknown) and an id (--id-column). Per patient, --out receives the fired and
    undetermined rule ids and the derived facts. A row that cannot be evaluated (a wrong type,
    a value outside its enum or range, a missing id, malformed JSON, more than 1 MiB) goes to
    the errors file with its row number and reasons; the run goes on. The summary on stdout
    counts rows read, evaluated and rejected, the patients receiving each recommendation, and
    the undetermined rules with the facts that were missing most often.

    For an export folder, each patient's facts come from their resources under the policy's
    terminology bindings (see `leukorules facts`); a patient whose sources disagree is rejected
    with the reason. The python and duckdb engines map the export: python in Python, duckdb in
    SQL (the spark engine reads cohort files only).

    Every output is written to a temporary file beside it and renamed into place when the run
    completes: an interrupted or failed run leaves it as it was. An output may not be an input
    (the cohort, a policy file) or another output, compared as files (a hard or symbolic link
    to the cohort is the cohort).

    \b
    Exit status:
      0  done: at least one record was evaluated (others may have been rejected)
      1  nothing was evaluated: the cohort, the policy or an output cannot be used, the cohort
         holds no records, or every record was rejected (the errors file says why)
      2  usage error (an unknown option; an empty option value or one with a control character;
         the fhir extra, needed for an export on the python engine, is missing)
      130  stopped by SIGINT (Ctrl-C); 143 by SIGTERM, 129 by SIGHUP: each output is as it
           was, or complete and new
    """
    from leukorules.cohort.readers import CohortError
    from leukorules.cohort.runner import BatchOptions, default_errors_path, run_batch

    with collector_resting() as started:
        policy = checked_policy(policies)
        records = None
        if cohort.is_dir():
            from leukorules.cli.batch_fhir import FhirBulkInput

            if engine == "spark":
                fail(
                    f"{printable(str(cohort))} is a folder: the spark engine reads cohort "
                    "files (JSON Lines, CSV or Parquet); map a FHIR Bulk Data export with "
                    "--engine duckdb or python"
                )

            records = FhirBulkInput(
                cohort,
                policy,
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
            summary_json=summary_json,
            spark_master=spark_master,
            partitioned=partitioned,
        )
        from leukorules.fhir.reading import FhirExtraMissing

        if engine != "spark":  # pyspark's driver converts pandas data with pyarrow
            pyarrow_without_pandas()
        signals = StopSignals()
        try:
            with signals:
                summary = run_batch(policy, options, started=started)
        except BaseException as error:
            if signals.signum is not None:  # whatever the run raised after a signal, that is why
                end_by_signal(signals.signum)
            if isinstance(error, FhirExtraMissing):
                fail(str(error), EXIT_USAGE)
            if isinstance(error, CohortError | ImportError):
                fail(printable(str(error)))
            if isinstance(error, OSError):
                fail(printable(f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")))
            raise
    if records is not None:
        for line in records.problems.lines():
            click.echo(f"leukorules: warning: {line}; they were not read", err=True)
    click.echo(summary.to_text(), nl=False)
    counts = summary.counts
    if counts.evaluated == 0:
        errors_path = errors or default_errors_path(out)
        fail(
            printable(
                f"{cohort} holds no records: nothing was evaluated"
                if counts.read == 0
                else f"none of the {counts.read:,} records of {cohort} could be evaluated; "
                f"why each was rejected is in {errors_path}"
            )
        )


class RunStopped(BaseException):
    """SIGTERM or SIGHUP arrived: raised where the run is, as SIGINT raises KeyboardInterrupt,
    so that the run's `finally` blocks remove its temporary files."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOPPING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class StopSignals:
    """While inside `with` (in the main thread; elsewhere no handler can be set): SIGINT raises
    KeyboardInterrupt, SIGTERM and SIGHUP raise `RunStopped`, so that the run's `finally` blocks
    remove its temporary files; `signum` records the first signal that arrived. A library the
    signal interrupts may turn that exception into its own (DuckDB raises RuntimeError "Query
    interrupted" for any of them): whatever the run raises after a signal, the signal is why."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOPPING_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._stop)
        return self

    def __exit__(self, *exception: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _stop(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise RunStopped(signum)


def pyarrow_without_pandas() -> None:
    """Tell pyarrow, for this process, that pandas is not there. The first time pyarrow converts
    any Python or numpy value it imports pandas (a fifth of a second) to see whether the value is
    a pandas object; a batch run never has one. Having looked once and found none, pyarrow does
    not look again on that path; an explicit pandas conversion still imports pandas."""
    if "pandas" in sys.modules:
        return
    try:
        import pyarrow  # type: ignore[import-untyped]
    except ImportError:
        return  # the run says what is missing
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pyarrow.array([0])
    finally:
        sys.meta_path.remove(finder)


class _NoPandas:
    """An import finder for which pandas is not installed."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def checked_policy(paths: tuple[Path, ...]) -> m.Policy:
    """The checked policy: from the per-user disk cache `leukorules evaluate` also keeps when it
    is certainly current (`leukorules.cache`: the same policy a full check gives), else checked
    in full (errors printed, exit 1) and then cached. Checking is most of a small run's start-up;
    a cached policy is read in a tenth of the time."""
    from leukorules import cache
    from leukorules.cachedir import cache_folder

    given = policy_paths(paths)
    cached = cache.load_cached_policy(given)
    if cached is not None:
        return cached
    result = load_or_exit(given)
    assert result.policy is not None
    if cache_folder() is not None:
        from leukorules.engine.compile import compile_policy

        cache.store(given, compile_policy(result.policy, result.sources))
    return result.policy


def end_by_signal(signum: int) -> NoReturn:
    """After an interrupted run has cleaned up: say so, and exit with 128 + the signal's number,
    as a shell reports a process the signal ended (130 for SIGINT, 143 for SIGTERM). An exit,
    not the signal itself, so that the interpreter shuts down cleanly (worker pools, their
    semaphores) instead of leaving that to the resource tracker."""
    click.echo(
        f"leukorules: stopped by {signal.Signals(signum).name}; each output is as it was, "
        "or complete and new (never half-written)",
        err=True,
    )
    sys.exit(128 + signum)
