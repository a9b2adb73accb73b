"""A cohort evaluated on Apache Spark: the executors read, decode, evaluate and write.

Input: a policy, the cohort's `Layout` and `CohortReader` (the driver reads only the CSV header
or the Parquet schema through it), and where to write. Output: the results and errors files,
as the other engines write them, and the run's `Counts`, the only thing collected to the driver.

The steps (each a Spark job; staging folders beside the results file, removed at the end):

1. CSV and JSON Lines: the executors read the file's lines with Spark's text reader and number
   its records with the python engine's rules (`leukorules.cohort.spark_steps`). Row N is the
   N-th record of the file wherever the file is cut: for JSON Lines a first job counts the
   records of each split in SQL (`_split_offsets`: one number per split reaches the driver),
   and every split then numbers its own records from the number before it. A CSV file is read
   in one piece (a quoted field may span lines), then spread over the executors. The records
   are staged as Parquet, with the ones already rejected (not UTF-8, not a JSON object, a bad
   CSV record). Parquet needs no step: Spark reads the file, numbered by `_metadata.row_index`.
2. The query of `leukorules.cohort.query`, in `leukorules.cohort.spark.SparkDialect`, decodes,
   checks and evaluates every record; its rows and the rows rejected in step 1 are staged.
3. The counts of the summary, in one aggregate query over the staged rows.
4. Results and errors, sorted by row (a range shuffle), written by the executors as part files
   in row order: JSON Lines through the other engines' encoders (`spark_steps.ResultsLines`,
   `ErrorsLines`), Parquet by Spark. For one results file the driver then streams the part
   files into it in order (bytes, or Parquet row groups; never the whole), so that
   `--out results.jsonl` is one file as on the other engines; `partitioned` leaves the part
   files in a folder instead (for a cluster, where the driver need not see the files).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leukorules import model as m
from leukorules.cohort.layout import Layout
from leukorules.cohort.query import STREAM, CohortQuery, build_query, cohort_source
from leukorules.cohort.readers import CohortError, CohortReader
from leukorules.cohort.schema import results_schema
from leukorules.cohort.spark import SESSION_SQL_CONF, SparkDialect
from leukorules.cohort.spark_steps import (
    PROBLEM_CODE,
    PROBLEM_REASON,
    CsvStep,
    ErrorsLines,
    JsonLinesStep,
    ResultsLines,
)
from leukorules.cohort.summary import Counts
from leukorules.cohort.writers import errors_header

MISSING_MESSAGE = (
    "the spark engine needs the `pyspark` package; install it with "
    "`pip install 'leukorules[spark]'` (or use --engine duckdb)"
)
NO_JAVA_MESSAGE = (
    "the spark engine needs Java 17 or later to run Spark on this machine (`java` is not on "
    "PATH and JAVA_HOME is not set); install a JRE, or give --spark-master a cluster"
)
# Settings of a session this module starts (a session that is already running is used as it
# is, with `SESSION_SQL_CONF` set on it).
SESSION_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.app.name": "leukorules",
}
# A local session talks to itself only.
LOCAL_CONF = {
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}
# Read a CSV file in one piece: no split is smaller than this (see `_whole_files`).
WHOLE_FILE_BYTES = str(2**50)
# The blank lines of a JSON Lines file (no record): ASCII whitespace only, as `bytes.strip`.
BLANK_LINE = "[ \t\n\r\x0b\x0c]*"
# Characters Spark's file paths (Hadoop's) do not take as themselves: glob patterns (a cohort
# named `c[1].jsonl` would be read as `c1.jsonl`) and URI schemes (`a:b.jsonl`).
NOT_LITERAL_IN_SPARK_PATHS = frozenset("{}[]*?\\:")
# What Spark leaves in a folder it wrote (the part files, their checksums, its marker): a
# partitioned results folder of an earlier run, which a new run may replace.
SPARK_OUTPUT_NAMES = ("part-", "_SUCCESS", ".part-", "._SUCCESS")


def import_pyspark() -> Any:
    """The pyspark module, or ImportError with an installation hint."""
    try:
        import pyspark
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ImportError(MISSING_MESSAGE) from error
    return pyspark


def spark_session(master: str | None = None, cores: int | None = None) -> Any:
    """The running session, or a new one: Spark Connect for `sc://` masters (or SPARK_REMOTE),
    a cluster for other masters, the one spark-submit configured when it started this process,
    else local mode on `cores` cores (default: all)."""
    import_pyspark()
    from pyspark.sql import SparkSession

    remote = master if master and master.startswith("sc://") else None
    if remote is None and master is None:
        remote = os.environ.get("SPARK_REMOTE") or None
    session: Any = None
    if remote is not None:
        session = SparkSession.builder.remote(remote).getOrCreate()
    else:
        session = SparkSession.getActiveSession()
        if session is None and "PYSPARK_GATEWAY_PORT" in os.environ and master is None:
            # started by spark-submit: its master and settings stand
            session = SparkSession.builder.getOrCreate()
        if session is None:
            master = master or f"local[{cores or '*'}]"
            builder = SparkSession.builder.master(master)
            settings = dict(SESSION_CONF)
            # Spark makes its (unused) table warehouse folder when it starts: not in the
            # current folder, where it would be left behind
            warehouse = Path(tempfile.gettempdir(), "leukorules-spark-warehouse")
            settings["spark.sql.warehouse.dir"] = warehouse.as_uri()
            log_set_up = Path(__file__).with_name("spark-log4j2.properties").resolve().as_uri()
            settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log_set_up}"
            if master.startswith("local"):
                if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
                    raise ImportError(NO_JAVA_MESSAGE)
                settings |= LOCAL_CONF
                # the executors' Python is this one, with leukorules installed
                os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            for key, value in settings.items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
    for key, value in SESSION_SQL_CONF.items():
        # set only where it differs: Spark Connect warns on setting a deprecated key at all
        if session.conf.get(key) != value:
            session.conf.set(key, value)
    return session


class SparkRun:
    """One cohort run on a Spark session (see the module's docstring for its steps)."""

    def __init__(
        self,
        policy: m.Policy,
        layout: Layout,
        reader: CohortReader,
        out: Path,
        results_file: Path | None,
        errors_file: Path,
        errors_csv: bool = False,
        master: str | None = None,
        cores: int | None = None,
    ) -> None:
        """`out`: the results as the user named them (their format by its suffix);
        `results_file`: the file to write them to, or None for a partitioned folder at `out`
        (replaced when the run completes); `errors_file`: the file to write the errors to."""
        self.policy = policy
        self.layout = layout
        self.reader = reader
        self.out = out
        self.results_file = results_file
        self.partitioned = results_file is None
        self.errors_file = errors_file
        self.errors_csv = errors_csv
        self.master = master
        self.cores = cores
        self.dialect = SparkDialect()
        # beside the results (the same file system: the folder is renamed into place), and
        # named by Spark's rules whatever the results are named
        folder = Path(os.path.realpath(out)).parent
        self.staging = folder / f".leukorules-spark-{uuid.uuid4().hex[:12]}"

    def run(self) -> Counts:
        """Evaluate and write everything; `SparkStopped` when Spark fails (a damaged file, a
        lost cluster), the outputs' temporary files then as good as empty."""
        self._check_paths()
        spark = spark_session(self.master, self.cores)
        path = str(self.reader.path.resolve())
        source = cohort_source(self.layout, self.reader, path)
        query = build_query(self.policy, source, self.dialect)
        try:
            staged = self._evaluate(spark, query, path)
            counts = count(staged)
            self._write_results(staged.where("reason IS NULL"))
            self._write_errors(staged.where("reason IS NOT NULL"))
            if self.partitioned:
                self._put_in_place(self.staging / "results")
            return counts
        except _spark_errors() as error:
            raise SparkStopped(_first_line(error)) from error
        except BaseException:  # Ctrl-C, SIGTERM (see `leukorules.cli.batch`), a bug: stop the jobs
            _interrupt(spark)
            raise
        finally:
            with contextlib.suppress(*_spark_errors()):
                spark.catalog.dropTempView(STREAM)
            shutil.rmtree(self.staging, ignore_errors=True)

    def _check_paths(self) -> None:
        """Refuse, before any work, paths Spark would not read or write as named, and a results
        folder that is not an earlier run's (a partitioned run replaces it)."""
        spark_paths = [self.reader.path.resolve(), self.staging.parent]
        if self.partitioned:
            spark_paths.append(self.out.resolve())
        for path in spark_paths:
            odd = sorted(set(str(path)) & NOT_LITERAL_IN_SPARK_PATHS)
            if odd:
                shown = " ".join(f"`{c}`" for c in odd)
                raise CohortError(
                    f"the spark engine cannot use {path}: Spark reads {shown} in a path as a "
                    "pattern or a URL; rename it or use another engine"
                )
        foreign = self.out.is_dir() and any(
            not p.name.startswith(SPARK_OUTPUT_NAMES) for p in self.out.iterdir()
        )
        if self.partitioned and foreign:
            raise CohortError(
                f"{self.out} is a folder that is not a partitioned results folder; a "
                "partitioned run replaces its results folder: remove it or name another"
            )

    def _put_in_place(self, folder: Path) -> None:
        """The new results folder renamed to `out`; an earlier one (or a file) there is moved
        aside first and removed with the staging folder, or put back if the rename fails."""
        earlier = self.staging / "earlier"
        had_one = os.path.lexists(self.out)
        if had_one:
            os.replace(self.out, earlier)
        try:
            os.replace(folder, self.out)
        except BaseException:
            if had_one:
                os.replace(earlier, self.out)
            raise

    # --- steps 1 and 2 -------------------------------------------------------------------------

    def _evaluate(self, spark: Any, query: CohortQuery, path: str) -> Any:
        """Every record's row of the query (or of its rejection while reading), staged."""
        from pyspark.sql import functions as F

        rejected = None
        if not query.stream:
            self._check_parquet_text(spark, path)
        if query.stream:
            records = self._records(spark, path)
            whole = _whole_files(spark) if self.layout.format == "csv" else contextlib.nullcontext()
            with whole:
                # staged as Parquet: read back in row groups, spread over the executors
                records.write.mode("overwrite").parquet(str(self.staging / "records"))
            records = spark.read.parquet(str(self.staging / "records"))
            problem = F.col(f"`{PROBLEM_CODE}`")
            names = [f"`{name}`" for name, _ in query.stream]
            records.where(problem.isNull()).select(*names).createOrReplaceTempView(STREAM)
            rejected = records.where(problem.isNotNull()).select(
                F.col("`lr:row`").alias("row"),
                F.lit(None).cast("string").alias("id"),
                F.array(problem).alias("codes"),
                F.col(f"`{PROBLEM_REASON}`").alias("reason"),
            )
        rows = spark.sql(query.text)
        if rejected is not None:
            rows = rows.unionByName(rejected, allowMissingColumns=True)
        rows.write.mode("overwrite").parquet(str(self.staging / "rows"))
        return spark.read.parquet(str(self.staging / "rows"))

    def _check_parquet_text(self, spark: Any, path: str) -> None:
        """Refuse a Parquet file whose text columns (those the policy reads) hold bytes that are
        not UTF-8, as the other engines refuse it: Spark reads such text without a word. One scan
        of those columns; one row of counts reaches the driver."""
        from pyspark.sql.types import ArrayType, StringType

        wanted = {self.layout.id_column, *self.layout.fact_columns}
        checks: list[tuple[str, str]] = []
        for field in spark.read.parquet(path).schema.fields:
            name = self.dialect.external_ident(field.name)
            if field.name not in wanted:
                continue
            if isinstance(field.dataType, StringType):
                checks.append((field.name, f"NOT is_valid_utf8({name})"))
            elif isinstance(field.dataType, ArrayType) and isinstance(
                field.dataType.elementType, StringType
            ):
                checks.append((field.name, f"exists({name}, x -> NOT is_valid_utf8(x))"))
        if not checks:
            return
        counts = spark.read.parquet(path).selectExpr(
            *(f"count_if({test}) AS `c{i}`" for i, (_, test) in enumerate(checks))
        )
        found = counts.collect()[0]
        bad = [name for (name, _), n in zip(checks, found, strict=True) if n]
        if bad:
            raise CohortError(
                f"{self.reader.path.name} is not a readable Parquet file: its column "
                f"`{bad[0]}` holds text that is not UTF-8"
            )

    def _records(self, spark: Any, path: str) -> Any:
        """The cohort's records as the query's stream, plus the problem columns."""
        lines = (
            spark.read.option("lineSep", "\n")
            .text(path)
            .selectExpr("CAST(value AS BINARY) AS line", "_metadata.file_block_start AS block")
        )
        stream = [("lr:row", "BIGINT")]
        if self.layout.format == "jsonl":
            step: Any = JsonLinesStep(_split_offsets(lines, self.dialect))
            stream.append(("lr:line", "STRING"))
        else:
            assert self.layout.columns is not None
            columns = self.layout.columns
            picks = tuple(
                columns.index(name) for name in (self.layout.id_column, *self.layout.fact_columns)
            )
            step = CsvStep(len(columns), picks)
            stream += [("lr:id_raw", "STRING")]
            stream += [(f"c{i}", "STRING") for i in range(len(picks) - 1)]
        stream += [(PROBLEM_CODE, "STRING"), (PROBLEM_REASON, "STRING")]
        schema = ", ".join(f"`{name}` {kind}" for name, kind in stream)
        return lines.mapInArrow(step, schema)

    # --- step 4 --------------------------------------------------------------------------------

    def _write_results(self, rows: Any) -> None:
        columns = list(results_schema(self.policy).names)
        ordered = rows.select(*columns).orderBy("row")
        folder = self.staging / "results"
        if self.out.suffix.lower() in (".parquet", ".pq"):
            ordered.write.mode("overwrite").parquet(str(folder))
            if self.results_file is not None:
                parts = _parts(folder, ".parquet")
                merge_parquet(parts, self.results_file, results_schema(self.policy))
            return
        encode = ResultsLines(tuple(f.name for f in self.policy.derived_facts))
        lines = ordered.mapInArrow(encode, "value STRING")
        lines.write.mode("overwrite").option("lineSep", "\n").text(str(folder))
        if self.results_file is not None:
            concatenate(_parts(folder, ".txt"), self.results_file)

    def _write_errors(self, rows: Any) -> None:
        encode = ErrorsLines(self.errors_csv)
        ordered = rows.select("row", "id", "codes", "reason").orderBy("row")
        lines = ordered.mapInArrow(encode, "value STRING")
        folder = self.staging / "errors"
        lines.write.mode("overwrite").option("lineSep", encode.line_end).text(str(folder))
        concatenate(_parts(folder, ".txt"), self.errors_file, errors_header(self.errors_csv))


def _interrupt(spark: Any) -> None:
    """Cancel the session's running jobs, so that no task writes on into the staging folder."""
    with contextlib.suppress(Exception):
        spark.interruptAll()


class SparkStopped(Exception):
    """Spark failed while running the cohort (its message's first line)."""


def _spark_errors() -> tuple[type[BaseException], ...]:
    """What pyspark raises for a failed job: its own errors, and py4j's for the JVM's."""
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JError)


def _first_line(error: BaseException) -> str:
    """What went wrong, in a line: for an error of the executors' Python (its traceback quoted in
    the message) the Python error itself; for the JVM's, the exception's message and its first
    cause (without Java class names and SQL states); else the message's first line."""
    text = str(error)
    lines = [_plain(line) for line in text.splitlines() if _plain(line)]
    if not lines:
        return type(error).__name__
    if "Traceback (most recent call last)" in text:
        return lines[-1]
    thrown = [_unqualified(line[2:]) for line in lines if line.startswith(": ")]
    causes = [_unqualified(line.removeprefix("Caused by:")) for line in lines]
    causes = [cause for line, cause in zip(lines, causes, strict=True) if line != cause]
    if thrown:
        return thrown[0] + (f" ({causes[0]})" if causes else "")
    return lines[0]


def _plain(line: str) -> str:
    return re.sub(r"\s*SQLSTATE: \w+\s*$", "", line).strip()


def _unqualified(message: str) -> str:
    """`org.apache.spark.SparkException: text` -> `text`."""
    head, separator, rest = message.strip().partition(": ")
    if separator and "." in head and " " not in head:
        return rest
    return message.strip()


def _split_offsets(lines: Any, dialect: SparkDialect) -> dict[int, int]:
    """A JSON Lines file's splits (by first byte) -> the records in the splits before each."""
    blank = dialect.full_match("CAST(line AS STRING)", BLANK_LINE)
    counted = (
        lines.selectExpr("block", f"CASE WHEN {blank} THEN 0 ELSE 1 END AS record")
        .groupBy("block")
        .sum("record")
        .collect()
    )
    offsets: dict[int, int] = {}
    before = 0
    for block, records in sorted((row[0], row[1]) for row in counted):
        offsets[block] = before
        before += records
    return offsets


@contextlib.contextmanager
def _whole_files(spark: Any) -> Iterator[None]:
    """Jobs started inside read every file in one piece: no split is smaller than a file
    (Spark cuts files at the smaller of these two settings and the bytes per core)."""
    keys = ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes")
    before = {key: spark.conf.get(key) for key in keys}
    try:
        for key in keys:
            spark.conf.set(key, WHOLE_FILE_BYTES)
        yield
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


def count(staged: Any) -> Counts:
    """The summary's counts over the staged rows: one scan, one aggregate, small rows back
    (one per rule, (rule, fact) pair, fact and code seen)."""

    def entries(kind: str, items: str) -> str:
        return f"transform({items}, x -> named_struct('kind', '{kind}', 'item', x))"

    def one(kind: str) -> str:
        return f"array(named_struct('kind', '{kind}', 'item', CAST(NULL AS STRING)))"

    evaluated = ", ".join(
        [
            one("read"),
            one("evaluated"),
            entries("fired", "fired"),
            entries("undetermined", "undetermined"),
            entries("missing", "missing_pairs"),
            entries("missing_facts", "missing_facts"),
        ]
    )
    rejected = f"{one('read')}, {entries('code', 'array_distinct(codes)')}"
    what = f"CASE WHEN reason IS NULL THEN concat({evaluated}) ELSE concat({rejected}) END"
    found = (
        staged.selectExpr(f"explode({what}) AS entry")
        .groupBy("entry.kind", "entry.item")
        .count()
        .collect()
    )
    counts = Counts()
    for kind, item, n in found:
        if kind == "read":
            counts.read = n
        elif kind == "evaluated":
            counts.evaluated = n
        elif kind == "fired":
            counts.fired[item] = n
        elif kind == "undetermined":
            counts.undetermined[item] = n
        elif kind == "missing":
            rule, fact = item.split(" ", 1)
            counts.missing[(rule, fact)] = n
        elif kind == "missing_facts":
            counts.missing_patients[item] = n
        else:
            counts.rejected_by_code[item] = n
    counts.rejected = counts.read - counts.evaluated
    return counts


# --- part files -> one file ----------------------------------------------------------------------


def _parts(folder: Path, suffix: str) -> list[Path]:
    """The part files Spark wrote, in the order of their partitions (= row order)."""
    return sorted(p for p in folder.glob("part-*") if p.name.endswith(suffix) or suffix == "")


def concatenate(parts: list[Path], target: Path, header: str = "") -> None:
    """Part files -> one file, streamed in order."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        out.write(header.encode("utf-8"))
        for part in parts:
            with part.open("rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)


def merge_parquet(parts: list[Path], target: Path, schema: Any) -> None:
    """Parquet part files -> one Parquet file of `schema`, a row group at a time."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    target.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for batch in _parquet_batches(parts):
            writer.write_batch(batch.select(schema.names).cast(schema))


def _parquet_batches(parts: list[Path]) -> Iterator[Any]:
    import pyarrow.parquet as pq

    for part in parts:
        yield from pq.ParquetFile(part).iter_batches(batch_size=50_000)
