"""The spark engine: the same rows, errors and summaries as the python and duckdb engines.

One local Spark session serves every test here (`spark`, session-scoped: two cores, two shuffle
partitions, no UI). The tests that need it skip, saying so, only when no Java runtime is
installed (Spark runs in a JVM; `run-tests.sh` installs Debian's JRE, so CI runs them).
Hypothesis examples are bounded for CI (`examples(5)`); `HYPOTHESIS_PROFILE=fuzz pytest
tests/test_cohort_spark.py` runs 25 times more.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from support.cli import leukorules
from support.policies import checked
from support.profiles import examples

from leukorules import model as m

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import test_cohort_batch as batch  # noqa: E402
from test_cohort_batch import GOLDEN, POLICY, messy_cohort, read_jsonl, run  # noqa: E402

from leukorules.cohort.runner import BatchOptions, run_batch  # noqa: E402
from leukorules.cohort.spark import SparkDialect  # noqa: E402
from leukorules.cohort.sql import condition_sql  # noqa: E402

JAVA = shutil.which("java") or os.environ.get("JAVA_HOME")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The tests' Spark session. Without Java the tests that need it skip, saying why (the
    ones that start no session still run)."""
    if not JAVA:
        pytest.skip("no Java runtime (`java` not on PATH, no JAVA_HOME): Spark cannot start")
    pytest.importorskip("pyspark")
    from leukorules.cohort.spark_run import spark_session

    session = spark_session(None, 2)
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def policy() -> m.Policy:
    return checked(POLICY, "cohort.rules")


def summary_text(summary: Any) -> str:
    report = summary.to_json()
    for key in ("cohort", "results", "errors", "seconds", "engine"):
        del report[key]
    return json.dumps(report, indent=1, sort_keys=True)


# --- the pinned bad rows: byte for byte the duckdb engine's ------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_bad_rows_results_and_summary_equal_duckdb(
    spark: Any, policy: m.Policy, tmp_path: Path, fmt: str
) -> None:
    """Same SQL, so the same errors file word for word (the golden file of the duckdb engine),
    the same results file and the same summary."""
    cohort, options = messy_cohort(policy, tmp_path, fmt)
    summaries = {}
    for engine in ("duckdb", "spark"):
        summaries[engine] = run(policy, cohort, tmp_path / f"{engine}.jsonl", engine, **options)
    assert summaries["spark"].engine == "spark"
    assert summary_text(summaries["spark"]) == summary_text(summaries["duckdb"])
    for name in ("{}.jsonl", "{}.errors.jsonl"):
        spark_bytes = (tmp_path / name.format("spark")).read_bytes()
        assert spark_bytes == (tmp_path / name.format("duckdb")).read_bytes(), name
    golden = (GOLDEN / f"{fmt}-duckdb.txt").read_text(encoding="utf-8")
    assert golden.startswith((tmp_path / "spark.errors.jsonl").read_text(encoding="utf-8"))


def test_parquet_results_and_csv_errors_equal_python(
    spark: Any, policy: m.Policy, tmp_path: Path
) -> None:
    cohort, _ = messy_cohort(policy, tmp_path, "jsonl")
    for engine in ("python", "spark"):
        run(
            policy,
            cohort,
            tmp_path / f"{engine}.parquet",
            engine,
            errors=tmp_path / f"{engine}.csv",
        )
    left = pq.read_table(tmp_path / "python.parquet")
    right = pq.read_table(tmp_path / "spark.parquet")
    assert left.schema == right.schema
    assert left.to_pylist() == right.to_pylist()
    rows = [
        list(csv.reader((tmp_path / f"{e}.csv").open(encoding="utf-8")))
        for e in ("python", "spark")
    ]
    assert rows[0][0] == rows[1][0] == ["row", "id", "codes", "reason"]
    assert [r[:3] for r in rows[0]] == [r[:3] for r in rows[1]]


def test_partitioned_results_are_part_files_in_row_order(
    spark: Any, policy: m.Policy, tmp_path: Path
) -> None:
    lines = [json.dumps({"id": f"p{i}", "age": i % 150}) for i in range(400)]
    cohort = batch.write_jsonl(tmp_path / "c.jsonl", lines)
    run(policy, cohort, tmp_path / "one.parquet", "duckdb")
    earlier = batch.write_jsonl(tmp_path / "earlier.jsonl", ['{"id": "gone"}'])
    run(policy, earlier, tmp_path / "parts.jsonl", "spark", partitioned=True)
    for name in ("parts.parquet", "parts.jsonl"):  # parts.jsonl: an earlier run's, replaced
        run(policy, cohort, tmp_path / name, "spark", partitioned=True)
        assert (tmp_path / name).is_dir()
    expected = pq.read_table(tmp_path / "one.parquet").to_pylist()
    parts = sorted((tmp_path / "parts.parquet").glob("part-*.parquet"))
    assert [r for part in parts for r in pq.read_table(part).to_pylist()] == expected
    texts = sorted((tmp_path / "parts.jsonl").glob("part-*"))
    rows = [json.loads(line) for part in texts for line in part.read_text().splitlines()]
    assert [r["row"] for r in rows] == [r["row"] for r in expected]
    # ages over the declared range (121..149) are rejected
    assert len(expected) == 400 - 2 * 29


# --- row numbers wherever Spark cuts the file -----------------------------------------------


@contextlib.contextmanager
def small_splits(spark: Any) -> Iterator[None]:
    keys = ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes")
    before = {key: spark.conf.get(key) for key in keys}
    for key in keys:
        spark.conf.set(key, "1024")
    try:
        yield
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


def test_json_lines_cut_into_many_splits_keep_their_row_numbers(
    spark: Any, policy: m.Policy, tmp_path: Path
) -> None:
    """Blank lines, bad bytes, a byte-order mark and CRLF line ends, in a file Spark reads in
    512-byte splits: every record keeps the python engine's row number."""
    lines: list[bytes] = [b"\xef\xbb\xbf   "]  # a BOM and a blank line: no record
    for i in range(60):
        lines.append(json.dumps({"id": f"p{i}", "age": i, "label": "x" * (i % 37)}).encode())
        if i % 7 == 0:
            lines.append(b"   \t")
        if i % 11 == 0:
            lines.append(b'{"id": "\xff"}')
        if i % 13 == 0:
            lines.append(b'{"id": 1}\r')
    cohort = tmp_path / "c.jsonl"
    cohort.write_bytes(b"\n".join(lines) + b"\n\n")
    run(policy, cohort, tmp_path / "python.jsonl", "python")
    with small_splits(spark):
        run(policy, cohort, tmp_path / "spark.jsonl", "spark")
    for name in ("{}.jsonl", "{}.errors.jsonl"):
        python_rows = read_jsonl(tmp_path / name.format("python"))
        spark_rows = read_jsonl(tmp_path / name.format("spark"))
        assert [(r["row"], r["id"]) for r in spark_rows] == [
            (r["row"], r["id"]) for r in python_rows
        ]
    assert (tmp_path / "python.jsonl").read_bytes() == (tmp_path / "spark.jsonl").read_bytes()


def test_csv_is_read_in_one_piece(spark: Any, policy: m.Policy, tmp_path: Path) -> None:
    """Quoted fields over several lines, CR and CRLF line ends and a bad record; Spark asked to
    cut the file small still reads it whole, with the python engine's rows."""
    cohort = tmp_path / "c.csv"
    text = "id,label,age\r\n"
    for i in range(80):
        label = f'"line one\r\nline {i}, two"' if i % 5 == 0 else f"plain {i}"
        text += f"p{i},{label},{i % 130}" + ("\r" if i % 9 == 0 else "\n")
        if i % 17 == 0:
            text += 'bad,"unclosed"x,1\n'
    cohort.write_text(text, encoding="utf-8", newline="")
    run(policy, cohort, tmp_path / "python.jsonl", "python")
    with small_splits(spark):
        run(policy, cohort, tmp_path / "spark.jsonl", "spark")
    assert (tmp_path / "python.jsonl").read_bytes() == (tmp_path / "spark.jsonl").read_bytes()
    errors = [read_jsonl(tmp_path / f"{e}.errors.jsonl") for e in ("python", "spark")]
    assert [(e["row"], e["codes"]) for e in errors[0]] == [
        (e["row"], e["codes"]) for e in errors[1]
    ]
    assert errors[0]


# --- generated policies and cohorts: three engines, one answer --------------------------------


@settings(max_examples=examples(5))
@given(batch.cohorts())
def test_three_engines_agree_on_generated_cohorts(
    spark: Any,
    tmp_path_factory: pytest.TempPathFactory,
    case: tuple[m.Policy, list[dict[str, object]]],
) -> None:
    policy, rows = case
    folder = tmp_path_factory.mktemp("gen")
    cohort = batch.write_jsonl(folder / "c.jsonl", [json.dumps(r) for r in rows])
    summaries = {}
    for engine in ("python", "duckdb", "spark"):
        summaries[engine] = run(policy, cohort, folder / f"{engine}.parquet", engine)
    tables = {e: pq.read_table(folder / f"{e}.parquet").to_pylist() for e in summaries}
    assert tables["python"] == tables["duckdb"] == tables["spark"]
    errors = {e: read_jsonl(folder / f"{e}.parquet-errors.jsonl") for e in summaries}
    keys = {e: [(x["row"], x["id"], x["codes"]) for x in errors[e]] for e in errors}
    assert keys["python"] == keys["duckdb"] == keys["spark"]
    assert errors["duckdb"] == errors["spark"]  # the same SQL: the same words
    texts = {e: summary_text(s) for e, s in summaries.items()}
    assert texts["python"] == texts["duckdb"] == texts["spark"]


# --- the SQL: values from a policy are literals, never SQL ------------------------------------

HOSTILE = ["", "it's", "back\\slash", "\\'", "a'); DROP TABLE x; --", "ü\n`tick`", "$1 ${x}"]


def test_strings_are_literals_not_sql(spark: Any) -> None:
    d = SparkDialect()
    assert d.string("it's \\") == "'it\\'s \\\\'"
    select = ", ".join(f"{d.string(text)} AS `s{i}`" for i, text in enumerate(HOSTILE))
    assert list(spark.sql(f"SELECT {select}").collect()[0]) == HOSTILE
    fact = m.Fact("t", m.FactType("string"))
    frame = spark.createDataFrame([(text,) for text in HOSTILE], "t STRING")
    frame.createOrReplaceTempView("patients")
    for text in HOSTILE:
        condition = condition_sql(m.Compare(fact.name, "==", text), d)
        found = spark.sql(f"SELECT t FROM patients WHERE {condition}").collect()
        assert [r[0] for r in found] == [text]


def test_identifiers_are_validated_and_quoted() -> None:
    from leukorules.cohort.dialect import SQLCompileError

    d = SparkDialect()
    assert d.ident("select") == "`select`"
    assert d.ident("lr:layer1") == "`lr:layer1`"
    for bad in ("bad`name", "a b", "x)--"):
        with pytest.raises(SQLCompileError):
            d.ident(bad)
    assert d.external_ident("patient `id`") == "`patient ``id```"


def test_a_message_in_spark_sql_quotes_its_text_and_splices_its_sql_fields() -> None:
    from leukorules.cohort.dialect import SQLExpr
    from leukorules.messages import ROW_NO_ID, ROW_OUTSIDE_RANGE

    d = SparkDialect()
    assert d.message(ROW_NO_ID, column="it's \\") == "'the record has no `it\\'s \\\\`'"
    text = d.message(
        ROW_OUTSIDE_RANGE, name="w", value=SQLExpr("`w`"), unit=" [kg]", low="0", high="4"
    )
    assert text == "('`w` = ' || `w` || ' [kg] is outside its declared range 0..4')"


QUOTES_POLICY = """
policy test.quotes { title "Quotes" version "1" }
evidence 1 { citation "A study" }
fact note: string
fact mood: enum {calm, upset}
rule r.quote {
  statement "Quotes are values." evidence 1
  when note == "it's" or note == "a'); DROP TABLE x; --"
  recommend "Do it's"
}
rule r.calm { statement "Calm." evidence 1 when mood == calm note }
"""


def test_policy_strings_and_odd_id_columns_run_as_values(spark: Any, tmp_path: Path) -> None:
    quotes = checked(QUOTES_POLICY, "quotes.rules")
    table = pa.table(
        {
            "patient `id`": ["a", "b", "c", "d"],
            "note": ["it's", "it''s", "a'); DROP TABLE x; --", None],
            "mood": [None, "calm", "it's", "upset"],
        }
    )
    cohort = tmp_path / "c.parquet"
    pq.write_table(table, cohort)
    for engine in ("duckdb", "spark"):
        run(quotes, cohort, tmp_path / f"{engine}.jsonl", engine, id_column="patient `id`")
    results = read_jsonl(tmp_path / "spark.jsonl")
    assert [(r["id"], r["fired"]) for r in results] == [
        ("a", ["r.quote"]),
        ("b", ["r.calm"]),
        ("d", []),
    ]
    for name in ("{}.jsonl", "{}.errors.jsonl"):
        spark_bytes = (tmp_path / name.format("spark")).read_bytes()
        assert spark_bytes == (tmp_path / name.format("duckdb")).read_bytes()


def test_enum_checks_quote_the_allowed_values(spark: Any) -> None:
    """The grammar allows only names as enum values; the dialect quotes any value anyway."""
    from leukorules.cohort.sql import value_checks

    d = SparkDialect()
    fact = m.Fact("e", m.FactType("enum", tuple(HOSTILE[1:])))
    spark.createDataFrame([(v,) for v in [*HOSTILE, "other"]], "e STRING").createOrReplaceTempView(
        "patients"
    )
    [(bad, _, reason)] = value_checks(fact, d.ident("e"), d)
    found = spark.sql(f"SELECT e, CASE WHEN {bad} THEN {reason} END FROM patients").collect()
    assert [(e, r) for e, r in found if r is not None] == [
        ("", "`` is not an allowed value of `e`"),
        ("other", "`other` is not an allowed value of `e`"),
    ]


def test_numbers_in_messages_are_written_as_python_writes_them(spark: Any) -> None:
    d = SparkDialect()
    values = [500.0, -1.0, 0.1, 1e-4, 9.5e-5, 2.5e-7, 1e7, 123456789.125, 1e15, 1e16, 1.5e300]
    select = ", ".join(
        f"{d.number_text(d.literal(value), 'number')} AS `v{i}`" for i, value in enumerate(values)
    )
    assert list(spark.sql(f"SELECT {select}").collect()[0]) == [repr(v) for v in values]


# --- without pyspark or Java ---------------------------------------------------------------


def test_missing_pyspark_names_the_extra(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(sys.modules):
        if name == "pyspark" or name.startswith("pyspark."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # makes `import pyspark` fail
    rules = tmp_path / "p.rules"
    rules.write_text(POLICY, encoding="utf-8")
    cohort = batch.write_jsonl(tmp_path / "c.jsonl", ['{"id": "a"}'])
    args = ["batch", str(cohort), "--out", str(tmp_path / "r.jsonl"), "--engine", "spark"]
    result = leukorules(*args, "--policy", str(rules))
    assert result.exit_code == 1, result.output
    assert "needs the `pyspark` package" in result.output
    assert "pip install 'leukorules[spark]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_partitioned_needs_the_spark_engine(policy: m.Policy, tmp_path: Path) -> None:
    from leukorules.cohort.readers import CohortError

    cohort = batch.write_jsonl(tmp_path / "c.jsonl", ['{"id": "a"}'])
    options = BatchOptions(
        cohort=cohort, out=tmp_path / "r.parquet", partitioned=True, engine="duckdb"
    )
    with pytest.raises(CohortError, match="spark engine only"):
        run_batch(policy, options)


def test_paths_spark_would_read_as_patterns_are_refused(policy: m.Policy, tmp_path: Path) -> None:
    """Hadoop globs paths: `c[1].jsonl` would read `c1.jsonl`, another file, without a word."""
    from leukorules.cohort.readers import CohortError

    batch.write_jsonl(tmp_path / "c1.jsonl", ['{"id": "other"}'])
    for name in ("c[1].jsonl", "a:b.jsonl", "q?.jsonl", "x{1,2}.jsonl"):
        cohort = batch.write_jsonl(tmp_path / name, ['{"id": "a"}'])
        with pytest.raises(CohortError, match=r"Spark reads .* as a pattern"):
            run(policy, cohort, tmp_path / "r.jsonl", "spark")
    assert not (tmp_path / "r.jsonl").exists()
    with pytest.raises(CohortError, match=r"cannot use \S*/\*: Spark reads `\*`"):
        run(policy, tmp_path / "c1.jsonl", tmp_path / "*" / "out.parquet", "spark")


def test_a_partitioned_run_replaces_only_a_results_folder(policy: m.Policy, tmp_path: Path) -> None:
    from leukorules.cohort.readers import CohortError

    cohort = batch.write_jsonl(tmp_path / "c.jsonl", ['{"id": "a"}'])
    folder = tmp_path / "results.parquet"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(CohortError, match="not a partitioned results folder"):
        run(policy, cohort, folder, "spark", partitioned=True)
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_partitioned_results_folder_is_none_of_the_run_s_other_files(
    policy: m.Policy, tmp_path: Path
) -> None:
    """The folder replaces what is at --out: never the cohort (or a link to it), another
    output, or a folder holding the cohort."""
    from leukorules.cohort.readers import CohortError

    cohort = batch.write_jsonl(tmp_path / "c.jsonl", ['{"id": "a"}'])
    (tmp_path / "link.jsonl").symlink_to(cohort)
    for out, errors in [
        (cohort, None),
        (tmp_path / "link.jsonl", None),
        (tmp_path / "r.jsonl", tmp_path / "r.jsonl"),
    ]:
        with pytest.raises(CohortError, match="same file"):
            run(policy, cohort, out, "spark", partitioned=True, errors=errors)
    folder = tmp_path / "parts.jsonl"
    folder.mkdir()
    inside = batch.write_jsonl(folder / "part-00000.jsonl", ['{"id": "a"}'])
    with pytest.raises(CohortError, match="inside the results folder"):
        run(policy, inside, folder, "spark", partitioned=True)
    assert cohort.read_text(encoding="utf-8") == inside.read_text(encoding="utf-8")


def test_a_damaged_parquet_file_stops_the_run_and_keeps_the_earlier_outputs(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on the other engines (`tests/test_hostile_cohort_rows.py`): one line naming the file,
    exit status 1, the outputs of an earlier run as they were, no temporary file left."""
    from test_hostile_cohort_rows import POLICY as ROWS_POLICY
    from test_hostile_cohort_rows import damaged_parquet

    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.rules").write_text(ROWS_POLICY, encoding="utf-8")
    damaged_parquet(tmp_path / "c.parquet", "values")
    table = pa.table({"id": ["a", "b"], "diagnosis": ["pml", "adem"], "age": [30, 40]})
    pq.write_table(
        table,
        tmp_path / "u.parquet",
        compression="none",
        use_dictionary=False,
        write_statistics=False,
    )
    data = (tmp_path / "u.parquet").read_bytes()
    position = data.index(b"adem")
    (tmp_path / "u.parquet").write_bytes(data[:position] + b"\x80" + data[position + 1 :])
    expected = {
        "c.parquet": "the spark engine stopped reading c.parquet: [FAILED_READ_FILE",
        "u.parquet": "u.parquet is not a readable Parquet file: its column `diagnosis` holds "
        "text that is not UTF-8",
    }
    for name, words in expected.items():
        (tmp_path / "r.jsonl").write_text("old\n", encoding="utf-8")
        (tmp_path / "r.errors.jsonl").write_text("old errors\n", encoding="utf-8")
        args = [name, "--out", "r.jsonl", "--policy", "p.rules", "--engine", "spark"]
        result = leukorules("batch", *args)
        assert result.exit_code == 1
        assert result.output.startswith("leukorules: error: ")
        assert words in result.output
        assert len(result.output.splitlines()) == 1
        assert (tmp_path / "r.jsonl").read_text(encoding="utf-8") == "old\n"
        assert (tmp_path / "r.errors.jsonl").read_text(encoding="utf-8") == "old errors\n"
        assert sorted(p.name for p in tmp_path.glob(".*")) == []  # no temporary file, no staging


def test_dates_are_calendar_dates_in_any_time_zone(
    spark: Any, policy: m.Policy, tmp_path: Path
) -> None:
    """The session's zone is pinned to UTC: a date is the same day on every machine."""
    cohort = tmp_path / "c.parquet"
    table = pa.table({"id": ["a"], "onset": [datetime.date(2019, 12, 31)]})
    pq.write_table(table, cohort)
    spark.conf.set("spark.sql.session.timeZone", "Pacific/Kiritimati")
    for engine in ("duckdb", "spark"):
        run(policy, cohort, tmp_path / f"{engine}.parquet", engine)
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    rows = [pq.read_table(tmp_path / f"{e}.parquet").to_pylist() for e in ("duckdb", "spark")]
    assert rows[0] == rows[1]
    assert "r.old" in rows[0][0]["undetermined"]  # onset < 2020-01-01 holds; weight unknown
