"""A cohort run: read, evaluate (python, duckdb or spark engine), write results and errors,
summarise.

Input: `BatchOptions`. Output: the results file, the errors file (and the summary as JSON, when
asked) and a `Summary`. Raises `CohortError` for a cohort that cannot be evaluated at all (missing
file, unknown format, a header without the id column, columns that are not facts) and for outputs
that cannot be written safely (`leukorules.cohort.outputs`: an output that is an input or another
output); a bad record never stops the run. Outputs are replaced only when the run completes: a
run that raises, or is interrupted, leaves them as they were.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from leukorules import model as m
from leukorules.cohort.layout import Layout
from leukorules.cohort.outputs import NamedFile, OutputFiles, file_identity
from leukorules.cohort.readers import (
    CohortError,
    CohortInput,
    CohortReader,
    detect_format,
    one_line,
)
from leukorules.cohort.summary import Counts, Summary
from leukorules.cohort.writers import ErrorsWriter, OutputFormat, ResultsWriter, output_format

Engine = Literal["python", "duckdb", "spark"]


@dataclass(frozen=True)
class BatchOptions:
    cohort: Path
    out: Path
    engine: Engine = "python"
    jobs: int | None = None
    errors: Path | None = None
    id_column: str = "id"
    ignore_extra: bool = False
    cohort_format: str | None = None
    chunk_rows: int = 20_000
    summary_json: Path | None = None  # also write the summary as JSON here
    # DuckDB's memory_limit bounds its buffer manager only. The streaming cohort query keeps
    # almost nothing there (no sort, join or aggregate), so the limit is a ceiling for plans that
    # would, not what sets the peak: the bundled policy's 1,000,000-row Parquet run peaked at
    # 414-448 MiB with 64MB, 256MB and 1GB (64MB ran slower). The peak is set by the fetch and
    # output batch sizes (`leukorules.cohort.duckdb_stream`) and the scan-order settings
    # (`leukorules.cohort.duckdb`).
    memory_limit: str | None = "1GB"
    # The input hook: records made elsewhere (JSON Lines records, e.g. a FHIR Bulk Data export
    # mapped to facts) read instead of the file `cohort` names.
    records: CohortInput | None = None
    # Spark: the master (default: SPARK_REMOTE, else local mode on `jobs` cores), and whether
    # `out` is a folder of part files instead of one file.
    spark_master: str | None = None
    partitioned: bool = False


def default_errors_path(out: Path) -> Path:
    """The errors file beside the results file `out`: `r.jsonl` -> `r.errors.jsonl`; any other
    name keeps its extension: `r.parquet` -> `r.parquet-errors.jsonl`. No two results files get
    the same errors file, so runs writing `r.jsonl` and `r.parquet` side by side keep theirs."""
    name = out.name
    if name.endswith(".jsonl"):
        return out.parent / (name.removesuffix(".jsonl") + ".errors.jsonl")
    return out.parent / (name + "-errors.jsonl")


class Progress:
    """Rows done, on one self-rewriting line of stderr; silent unless stderr is a terminal."""

    def __init__(self, total: int | None, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0

    def advance(self, rows: int) -> None:
        self.done += rows
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-9)
        text = f"{self.done:,} rows"
        if self.total:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            text = f"[{bar:<30}] {100 * share:5.1f}%  {self.done:,}/{self.total:,} rows"
        self.stream.write(f"\r{text}  {rate:,.0f} rows/s ")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _nothing() -> None:
    pass


def run_batch(
    policy: m.Policy,
    options: BatchOptions,
    progress_stream: IO[str] | None = None,
    warn: Callable[[str], None] | None = None,
    started: Callable[[], None] = _nothing,
) -> Summary:
    """The run `options` describe. `started` is called once, as the records start to flow: the
    run's start-up (engine imports, checks of the cohort and outputs) is over. `leukorules
    batch` rests Python's garbage collector until then (`leukorules.cli.common`)."""
    begun = time.monotonic()
    given = options.records
    fmt = (
        given.format if given is not None else detect_format(options.cohort, options.cohort_format)
    )
    errors_path = options.errors or default_errors_path(options.out)
    files = OutputFiles(_outputs(options, errors_path), _inputs(policy, options))
    if options.partitioned:
        _check_results_folder(options, errors_path, policy)
    output = output_format(options.out)
    if options.engine != "python" or fmt == "parquet" or output == "parquet":
        _require_pyarrow()
    if options.engine == "duckdb":
        _require_duckdb()
    if options.engine == "spark":
        if given is not None:
            raise CohortError(
                "the spark engine reads cohort files (JSON Lines, CSV or Parquet), not records "
                "made here; use --engine duckdb or python"
            )
        _require_pyspark()
    elif options.partitioned:
        raise CohortError("a partitioned results folder is written by the spark engine only")
    reader = given if given is not None else CohortReader(options.cohort, fmt, options.chunk_rows)
    layout = Layout(policy, fmt, options.id_column, reader.columns, options.ignore_extra)
    problems = layout.header_problems()
    if fmt == "jsonl" and given is None and not problems:
        from leukorules.cohort.preflight import jsonl_cohort_problem

        problems = [p for p in [jsonl_cohort_problem(options.cohort, options.id_column)] if p]
    if problems:
        raise CohortError("; ".join(problems))
    ignored: tuple[str, ...] = ()
    if reader.columns is not None:
        ignored = tuple(
            c for c in reader.columns if c != options.id_column and c not in layout.inputs
        )
    if fmt == "parquet":
        from leukorules.cohort.layout import parquet_column_problems

        column_problems = parquet_column_problems(layout, reader.arrow_schema)
        if column_problems:
            raise CohortError("; ".join(column_problems))

    counts = Counts()
    progress = Progress(reader.total_rows, progress_stream)
    with files:  # writes temporary files; renamed into place only if the block completes
        if options.engine == "spark":
            assert isinstance(reader, CohortReader)
            try:
                started()
                counts = _on_spark(policy, options, reader, layout, errors_path, files)
            finally:
                progress.finish()
        else:
            results = ResultsWriter(options.out, policy, files.temporary(options.out))
            try:
                errors = ErrorsWriter(errors_path, files.temporary(errors_path))
                try:
                    _evaluate(
                        policy,
                        options,
                        reader,
                        layout,
                        output,
                        results,
                        errors,
                        counts,
                        progress,
                        started,
                    )
                finally:
                    errors.close()
            finally:
                progress.finish()
                results.close()
        summary = Summary(
            policy=policy,
            engine=options.engine,
            cohort=str(options.cohort),
            results=str(options.out),
            errors=str(errors_path),
            counts=counts,
            seconds=time.monotonic() - begun,
            ignored_columns=ignored,
        )
        if options.summary_json is not None:
            files.temporary(options.summary_json).write_text(
                json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8"
            )
    return summary


def _evaluate(
    policy: m.Policy,
    options: BatchOptions,
    reader: CohortInput,
    layout: Layout,
    output: OutputFormat,
    results: ResultsWriter,
    errors: ErrorsWriter,
    counts: Counts,
    progress: Progress,
    started: Callable[[], None],
) -> None:
    """Every record of `reader` through the engine `options` names, into the writers; `started`
    is called once the engine is ready, before the first record."""
    if options.engine == "python":
        from leukorules.cohort.pyengine import BatchOutput, WorkerConfig, default_jobs, run_batches

        def on_output(batch: BatchOutput) -> None:
            if isinstance(batch.results, str):
                results.write_text(batch.results)
            elif batch.results is not None:
                results.write_arrow(batch.results)
            errors.write(batch.problems)
            counts.merge(batch.counts)
            progress.advance(batch.counts.read)

        jobs = options.jobs or default_jobs()
        started()
        run_batches(WorkerConfig(policy, layout, output), reader.batches(), jobs, on_output)
    else:
        import duckdb
        import pyarrow as pa  # type: ignore[import-untyped]

        from leukorules.cohort.duckdb_stream import DuckDBRun

        duck = DuckDBRun(policy, layout, reader, options.jobs, options.memory_limit)
        batches = duck.run()
        started()
        while True:
            try:
                output_batch = next(batches)
            except StopIteration:
                break
            except (duckdb.Error, OSError, pa.ArrowException) as error:
                # A damaged file (DuckDB's error, or pyarrow's as it hands DuckDB's results on),
                # or DuckDB out of memory: the run stops, naming the cohort.
                raise CohortError(
                    f"the duckdb engine stopped reading {options.cohort.name}: {one_line(error)}"
                ) from None
            results.write_arrow(output_batch.results)
            errors.write(output_batch.problems)
            counts.merge(output_batch.counts)
            progress.advance(output_batch.counts.read)


def _on_spark(
    policy: m.Policy,
    options: BatchOptions,
    reader: CohortReader,
    layout: Layout,
    errors_path: Path,
    files: OutputFiles,
) -> Counts:
    """The spark engine: the executors write the results (into the temporary file, or a
    partitioned folder the run puts in place itself) and the errors; the counts come back."""
    from leukorules.cohort.spark_run import SparkRun, SparkStopped

    spark = SparkRun(
        policy,
        layout,
        reader,
        out=options.out,
        results_file=None if options.partitioned else files.temporary(options.out),
        errors_file=files.temporary(errors_path),
        errors_csv=errors_path.suffix.lower() == ".csv",
        master=options.spark_master,
        cores=options.jobs,
    )
    try:
        return spark.run()
    except SparkStopped as error:
        raise CohortError(
            f"the spark engine stopped reading {options.cohort.name}: {one_line(error)}"
        ) from None


def _check_results_folder(options: BatchOptions, errors_path: Path, policy: m.Policy) -> None:
    """A partitioned results folder (which a run replaces, see `leukorules.cohort.spark_run`)
    is none of the run's other files, compared as `outputs` compares them."""
    folder = file_identity(options.out)
    inside = os.path.join(os.path.realpath(options.out), "")
    for other in _inputs(policy, options) + _outputs(options, errors_path):
        if file_identity(other.path) == folder:
            raise CohortError(
                f"--out {options.out} is the same file as {other.describe()}; nothing was "
                "written: give the results folder a path of its own"
            )
        if os.path.realpath(other.path).startswith(inside):
            raise CohortError(
                f"{other.describe()} is inside the results folder {options.out}, which the run "
                "replaces; nothing was written: give the results folder a path of its own"
            )


def _outputs(options: BatchOptions, errors_path: Path) -> list[NamedFile]:
    outputs = [
        NamedFile("--errors" if options.errors else "the errors file", errors_path),
    ]
    if not options.partitioned:  # a partitioned results folder is the spark engine's to write
        outputs.insert(0, NamedFile("--out", options.out))
    if options.summary_json is not None:
        outputs.append(NamedFile("--summary-json", options.summary_json))
    return outputs


def _inputs(policy: m.Policy, options: BatchOptions) -> list[NamedFile]:
    inputs = [NamedFile("the cohort", options.cohort)]
    inputs += [NamedFile("the policy file", Path(source.path)) for source in policy.sources]
    return inputs


def _require_pyarrow() -> None:
    from leukorules.cohort.schema import import_pyarrow

    import_pyarrow()


def _require_duckdb() -> None:
    from leukorules.cohort.duckdb import import_duckdb

    import_duckdb()


def _require_pyspark() -> None:
    from leukorules.cohort.spark_run import import_pyspark

    import_pyspark()
