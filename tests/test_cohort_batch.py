"""Cohort runs end to end: both engines, every format, bad rows, and agreement with `evaluate`.

The two engines must write the same results file and reject the same rows with the same codes;
the python engine's per-patient results must equal what `policy.evaluate` reports.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.golden import Golden
from support.policies import checked
from support.profiles import examples

from leukorules import model as m

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")

from leukorules.cohort.duckdb_stream import OUTPUT_ROWS  # noqa: E402
from leukorules.cohort.lines import MAX_ROW_BYTES  # noqa: E402
from leukorules.cohort.readers import CohortError  # noqa: E402
from leukorules.cohort.runner import BatchOptions, default_errors_path, run_batch  # noqa: E402
from leukorules.cohort.summary import Summary  # noqa: E402

POLICY = """
policy test.cohort { title "Cohort test" version "1.0" }
evidence 1 { citation "A study" }
fact diagnosis: enum {pml, adem, other} "the diagnosis"
fact age: integer in 0..120
fact weight: number [kg] in 0..400
fact seizures: bool
fact symptoms: set of {headache, fever, ataxia}
fact label: string
fact onset: date
derived severity: enum {mild, severe}
section "Treatment" {
  rule r.adult {
    statement "Adults with PML get A." evidence 1
    when diagnosis == pml and age >= 18
    recommend "Do A" strength recommended
  }
  rule r.severe {
    statement "Fever or seizures make it severe." evidence 1
    when symptoms contains fever or seizures
    derive severity = severe
  }
  rule r.mild {
    statement "Young without seizures is mild." evidence 1
    when not seizures and age < 10
    derive severity = mild
    overrides r.severe
  }
  rule r.note {
    statement "Severe cases with the label get a note." evidence 1
    when severity == severe and label == "it's"
    note
    after r.adult
  }
  rule r.old {
    statement "Old onset and heavy." evidence 1
    when onset < 2020-01-01 and weight > 50.5 [kg]
    caution "careful"
  }
}
"""


@pytest.fixture(scope="module")
def policy() -> m.Policy:
    return checked(POLICY, "cohort.rules")


GOOD = [
    {"id": "a1", "diagnosis": "pml", "age": 40, "seizures": True, "label": "it's"},
    {"id": 2, "diagnosis": "adem", "age": 5, "seizures": False, "symptoms": ["fever"]},
    {"id": "a3", "weight": 80, "onset": "2019-05-01", "symptoms": []},
    {"id": "a4"},
    {"id": "a5", "diagnosis": "pml", "age": 18.0 if False else 18, "weight": 50.5},
]
# (line as written, codes the row must be rejected with)
BAD_LINES = [
    ('{"id": "b1", "age": "40"}', ["LR503"]),
    ('{"id": "b2", "diagnosis": "PML"}', ["LR504"]),
    ('{"id": "b3", "age": 121}', ["LR505"]),
    ('{"id": "b4", "age": 4.5}', ["LR503"]),
    ('{"id": "b5", "weight": true}', ["LR503"]),
    ('{"id": "b6", "symptoms": ["fever", "cough", 3]}', ["LR503", "LR504"]),
    ('{"id": "b7", "onset": "2020-02-30"}', ["LR503"]),
    ('{"id": "b8", "onset": "01/02/2020"}', ["LR503"]),
    ('{"id": "b9", "colour": "red"}', ["LR502"]),
    ('{"id": "b10", "severity": "mild"}', ["LR506"]),
    ('{"id": "b11", "age": 99999999999999999999}', ["LR505"]),
    ('{"id": "b12", "weight": NaN}', ["LR507"]),
    ('{"id": "b13", "age": 3,}', ["LR507"]),
    ('{"id": "b14", "age": 3, "age": 4}', ["LR507"]),
    ('["not", "an", "object"]', ["LR507"]),
    ('{"age": 30}', ["LR507"]),
    ('{"id": true}', ["LR507"]),
    ('{"id": 1.5}', ["LR507"]),
    ('{"id": "b19", "label": "\\ud800"}', ["LR507"]),
    ('{"id": "b20", "seizures": 1, "diagnosis": 7}', ["LR503"]),
    ('{"id": "   "}', ["LR507"]),
    ("{not json", ["LR507"]),
]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def run(policy: m.Policy, cohort: Path, out: Path, engine: str, **kw: Any) -> Summary:
    options = BatchOptions(cohort=cohort, out=out, engine=engine, jobs=1, chunk_rows=4, **kw)  # type: ignore[arg-type]
    return run_batch(policy, options)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    # Lines end in "\n" only: str.splitlines would also split at characters such as U+0085 or
    # U+2028, which JSON strings (an id, a reason) may hold unescaped.
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line]


def mixed_lines() -> list[str]:
    lines = [json.dumps(g) for g in GOOD]
    for index, (line, _) in enumerate(BAD_LINES):
        lines.insert(min(len(lines), 2 * index + 1), line)
    return lines


@pytest.mark.parametrize("output", ["jsonl", "parquet"])
def test_engines_agree_on_jsonl_with_bad_rows(
    policy: m.Policy, tmp_path: Path, output: str
) -> None:
    lines = mixed_lines()
    cohort = write_jsonl(tmp_path / "cohort.jsonl", ["", *lines[:3], "   ", *lines[3:]])
    summaries = {}
    for engine in ("python", "duckdb"):
        summaries[engine] = run(policy, cohort, tmp_path / f"{engine}.{output}", engine)
    py, duck = summaries["python"], summaries["duckdb"]
    assert py.counts.read == duck.counts.read == len(lines)
    assert py.counts.rejected == duck.counts.rejected == len(BAD_LINES)
    assert py.counts.evaluated == duck.counts.evaluated == len(GOOD)
    assert py.to_json()["rules"] == duck.to_json()["rules"]
    assert py.counts.missing_patients == duck.counts.missing_patients
    assert py.counts.rejected_by_code == duck.counts.rejected_by_code
    if output == "jsonl":
        assert (tmp_path / "python.jsonl").read_bytes() == (tmp_path / "duckdb.jsonl").read_bytes()
    else:
        left = pq.read_table(tmp_path / "python.parquet")
        right = pq.read_table(tmp_path / "duckdb.parquet")
        assert left.schema == right.schema
        assert left.to_pylist() == right.to_pylist()
    errors = {
        engine: read_jsonl(default_errors_path(tmp_path / f"{engine}.{output}"))
        for engine in ("python", "duckdb")
    }
    assert [(e["row"], e["id"], e["codes"]) for e in errors["python"]] == [
        (e["row"], e["id"], e["codes"]) for e in errors["duckdb"]
    ]
    # every bad line is rejected with exactly the expected codes, at its own row number
    by_row = {e["row"]: e for e in errors["python"]}
    for row, line in enumerate(lines, start=1):
        expected = dict(BAD_LINES).get(line)
        if expected is None:
            assert row not in by_row
        else:
            assert by_row[row]["codes"] == expected, (line, by_row[row])
            assert by_row[row]["reason"]


def test_python_batch_equals_evaluate(policy: m.Policy, tmp_path: Path) -> None:
    from leukorules.engine.compile import CompiledPolicy
    from leukorules.engine.facts import validate_facts

    cohort = write_jsonl(tmp_path / "c.jsonl", [json.dumps(g) for g in GOOD])
    run(policy, cohort, tmp_path / "out.jsonl", "python")
    results = read_jsonl(tmp_path / "out.jsonl")
    compiled = CompiledPolicy(policy)
    for record, raw in zip(results, GOOD, strict=True):
        facts, problems = validate_facts(policy, {k: v for k, v in raw.items() if k != "id"})
        assert not problems
        ev = compiled.evaluate(facts)
        assert record["id"] == str(raw["id"])
        assert record["fired"] == [r for r, o in ev.outcomes.items() if o == "fired"]
        assert record["undetermined"] == [r for r, o in ev.outcomes.items() if o == "undetermined"]
        assert record["derived"] == {
            name: (ev.derived[name].value if name in ev.derived else None) for name in ("severity",)
        }
    assert results[0]["fired"] == ["r.adult", "r.severe", "r.note"]
    assert results[0]["derived"] == {"severity": "severe"}
    assert results[1]["derived"] == {"severity": "mild"}


CSV_HEADER = ["id", "diagnosis", "age", "weight", "seizures", "symptoms", "label", "onset"]
CSV_ROWS = [
    (["c1", "pml", "40", "", "yes", "fever; ataxia", "it's", ""], None),
    (["c2", " adem ", "+5", "1e1", "FALSE", "[]", "  spaced ", "2019-12-31"], None),
    (["c3", "", "", "", "", "", "", ""], None),
    (["c4", "pml", "4.0", "", "", "", "", ""], ["LR503"]),
    (["c5", "pml", "x", "", "maybe", "", "", ""], ["LR503"]),
    (["c6", "PML", "", "", "", "fever;;", "", ""], ["LR504"]),
    (["c7", "", "200", "-1", "", "", "", ""], ["LR505"]),
    (["c8", "", "", "", "", "", "", "2019-13-01"], ["LR503"]),
    (["c9", "", "99999999999999999999", "inf", "", "", "", "0000-01-01"], ["LR503", "LR505"]),
    (["", "pml", "", "", "", "", "", ""], ["LR507"]),
    (["c11", "pml"], ["LR507"]),
]


def test_engines_agree_on_csv(policy: m.Policy, tmp_path: Path) -> None:
    cohort = tmp_path / "c.csv"
    with cohort.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for record, _ in CSV_ROWS:
            writer.writerow(record)
        handle.write("\n")  # a blank line is not a record
    for engine in ("python", "duckdb"):
        run(policy, cohort, tmp_path / f"{engine}.jsonl", engine)
    assert (tmp_path / "python.jsonl").read_bytes() == (tmp_path / "duckdb.jsonl").read_bytes()
    errors = [read_jsonl(tmp_path / f"{e}.errors.jsonl") for e in ("python", "duckdb")]
    assert [(e["row"], e["id"], e["codes"]) for e in errors[0]] == [
        (e["row"], e["id"], e["codes"]) for e in errors[1]
    ]
    expected = [(row, codes) for row, (_, codes) in enumerate(CSV_ROWS, start=1) if codes]
    assert [(e["row"], e["codes"]) for e in errors[0]] == expected
    results = read_jsonl(tmp_path / "python.jsonl")
    assert [r["id"] for r in results] == ["c1", "c2", "c3"]
    assert results[0]["fired"][:2] == ["r.adult", "r.severe"]


def test_engines_agree_on_parquet(policy: m.Policy, tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([10, 11, 12, 13, 14, 15], pa.int64()),
            "diagnosis": pa.array(["pml", "adem", None, "nope", "pml", "pml"]),
            "age": pa.array([40.0, 5.0, None, 3.0, 2.5, float("nan")], pa.float64()),
            "symptoms": pa.array([["fever"], [], None, ["x"], None, [None]], pa.list_(pa.string())),
            "onset": pa.array(["2019-01-01", None, "bad", None, None, None]),
            "weight": pa.array([60, 70, 80, 90, 100, 500], pa.int32()),
            "note": pa.array(["a", "b", "c", "d", "e", "f"]),
        }
    )
    cohort = tmp_path / "c.parquet"
    pq.write_table(table, cohort, row_group_size=4)
    with pytest.raises(CohortError, match="column `note` is not a fact"):
        run(policy, cohort, tmp_path / "x.jsonl", "python")
    for engine in ("python", "duckdb"):
        run(policy, cohort, tmp_path / f"{engine}.jsonl", engine, ignore_extra=True)
    assert (tmp_path / "python.jsonl").read_bytes() == (tmp_path / "duckdb.jsonl").read_bytes()
    errors = [read_jsonl(tmp_path / f"{e}.errors.jsonl") for e in ("python", "duckdb")]
    assert [(e["row"], e["id"], e["codes"]) for e in errors[0]] == [
        (e["row"], e["id"], e["codes"]) for e in errors[1]
    ]
    assert [(e["row"], e["codes"]) for e in errors[0]] == [
        (3, ["LR503"]),
        (4, ["LR504"]),
        (5, ["LR503"]),
        (6, ["LR503", "LR505"]),
    ]
    assert [r["id"] for r in read_jsonl(tmp_path / "python.jsonl")] == ["10", "11"]


def test_parquet_column_of_the_wrong_type_is_refused(policy: m.Policy, tmp_path: Path) -> None:
    cohort = tmp_path / "c.parquet"
    pq.write_table(pa.table({"id": ["a"], "seizures": pa.array([1], pa.int64())}), cohort)
    with pytest.raises(CohortError, match="column `seizures` is int64"):
        run(policy, cohort, tmp_path / "x.jsonl", "duckdb")


def test_header_problems_stop_the_run(policy: m.Policy, tmp_path: Path) -> None:
    cohort = tmp_path / "c.csv"
    cohort.write_text("patient,diagnosys,severity\np1,pml,mild\n", encoding="utf-8")
    with pytest.raises(CohortError) as caught:
        run(policy, cohort, tmp_path / "x.jsonl", "python")
    message = str(caught.value)
    assert "no `id` column" in message
    assert "did you mean `diagnosis`" in message
    assert "`severity` is a derived fact" in message
    summary = run(
        policy, cohort, tmp_path / "x.jsonl", "python", id_column="patient", ignore_extra=True
    )
    assert summary.counts.evaluated == 1
    assert summary.ignored_columns == ("diagnosys", "severity")


def test_ignore_extra_drops_unknown_json_keys(policy: m.Policy, tmp_path: Path) -> None:
    cohort = write_jsonl(tmp_path / "c.jsonl", ['{"id": "x", "colour": 1, "severity": "mild"}'])
    for engine in ("python", "duckdb"):
        summary = run(policy, cohort, tmp_path / f"{engine}.jsonl", engine, ignore_extra=True)
        assert summary.counts.evaluated == 1, engine


def test_errors_file_as_csv_and_default_name(policy: m.Policy, tmp_path: Path) -> None:
    cohort = write_jsonl(tmp_path / "c.jsonl", ['{"id": "x", "age": -1}', '{"id": "y"}'])
    summary = run(policy, cohort, tmp_path / "res.jsonl", "python", errors=tmp_path / "bad.csv")
    rows = list(csv.reader((tmp_path / "bad.csv").open(encoding="utf-8")))
    assert rows[0] == ["row", "id", "codes", "reason"]
    assert rows[1][:3] == ["1", "x", "LR505"]
    assert summary.counts.read == 2
    run(policy, cohort, tmp_path / "res.parquet", "duckdb")
    assert (tmp_path / "res.parquet-errors.jsonl").exists()
    assert not (tmp_path / "res.errors.jsonl").exists()  # that is res.jsonl's errors file


def test_results_in_cohort_order_across_workers(policy: m.Policy, tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"p{i}", "age": i % 120}) for i in range(300)]
    cohort = write_jsonl(tmp_path / "c.jsonl", lines)
    options = BatchOptions(cohort=cohort, out=tmp_path / "o.jsonl", jobs=2, chunk_rows=7)
    summary = run_batch(policy, options)
    assert summary.counts.evaluated == 300
    assert [r["row"] for r in read_jsonl(tmp_path / "o.jsonl")] == list(range(1, 301))


# --- generated policies and raw rows, good and bad --------------------------------------------

from strategies import facts_for, policies  # noqa: E402

JUNK = st.one_of(
    st.just("text"),
    st.just(""),
    st.integers(-(2**65), 2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.just([1]),
    st.just({"a": 1}),
    st.just("2020-02-30"),
)


@st.composite
def raw_rows(draw: st.DrawFn, policy: m.Policy) -> dict[str, object]:
    from leukorules.cohort.writers import json_value

    row: dict[str, object] = {"id": draw(st.one_of(st.text(max_size=3), st.integers(0, 99)))}
    good = draw(facts_for(policy))
    for fact in policy.input_facts:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            row[fact.name] = draw(JUNK)
        elif choice == 1:
            row[fact.name] = None
        elif fact.name in good:
            row[fact.name] = json_value(good[fact.name])
    if draw(st.integers(0, 15)) == 0:
        row["not_a_fact_"] = 1
    return row


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[m.Policy, list[dict[str, object]]]:
    policy = draw(policies(max_rules=6, max_constraints=2))
    return policy, draw(st.lists(raw_rows(policy), min_size=1, max_size=8))


@settings(max_examples=examples(15))
@given(cohorts())
def test_engines_agree_on_generated_cohorts(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[m.Policy, list[dict[str, object]]]
) -> None:
    policy, rows = case
    folder = tmp_path_factory.mktemp("gen")
    cohort = write_jsonl(folder / "c.jsonl", [json.dumps(r) for r in rows])
    summaries = [run(policy, cohort, folder / f"{e}.parquet", e) for e in ("python", "duckdb")]
    # The summary too: the duckdb engine counts the missing facts from its own formulas
    # (`leukorules.cohort.duckdb_missing`), the python engine from each patient's run.
    assert summaries[0].counts == summaries[1].counts
    left = pq.read_table(folder / "python.parquet").to_pylist()
    right = pq.read_table(folder / "duckdb.parquet").to_pylist()
    assert left == right
    errors = [read_jsonl(folder / f"{e}.parquet-errors.jsonl") for e in ("python", "duckdb")]
    assert [(e["row"], e["id"], e["codes"]) for e in errors[0]] == [
        (e["row"], e["id"], e["codes"]) for e in errors[1]
    ]
    assert len(left) + len(errors[0]) == len(rows)


def test_duckdb_results_keep_cohort_order_with_several_threads(tmp_path: Path) -> None:
    """DuckDB streams results from several threads out of order (reproduced with the bundled
    policy on 200,000 rows in 50,000-row groups); the run must put them back in order."""
    import random

    from leukorules import load_policy

    bundled = load_policy().policy
    n = 200_000
    rng = random.Random(1)
    columns: dict[str, list[object]] = {"id": [f"p{i}" for i in range(n)]}
    for fact in bundled.input_facts:
        values: list[object] = [None, True, False] if fact.type.kind == "bool" else [None]
        values += list(fact.type.values)
        columns[fact.name] = [values[rng.randrange(len(values))] for _ in range(n)]
    cohort = tmp_path / "big.parquet"
    pq.write_table(pa.table(columns), cohort, row_group_size=50_000)
    options = BatchOptions(cohort=cohort, out=tmp_path / "o.parquet", engine="duckdb", jobs=2)
    summary = run_batch(bundled, options)
    rows = pq.read_table(tmp_path / "o.parquet", columns=["row"]).column("row").to_pylist()
    # random facts sometimes contradict each other (the policy's constraints): those rows are
    # rejected, the others come back in cohort order
    rejected = summary.counts.rejected
    assert 0 < rejected < n // 10 and set(summary.counts.rejected_by_code) == {"LR508"}
    assert rows == sorted(rows) and len(rows) == n - rejected == summary.counts.evaluated
    # one row group per output batch, however many of DuckDB's batches it was gathered from
    metadata = pq.ParquetFile(tmp_path / "o.parquet").metadata
    groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sum(groups) == len(rows)
    assert all(size >= OUTPUT_ROWS - rejected for size in groups[:-1]) and len(groups) > 1


def test_out_of_order_batches_are_put_back_in_row_order() -> None:
    from collections import deque

    from leukorules.cohort.duckdb_stream import in_row_order
    from leukorules.cohort.readers import Problem

    def batch(rows: list[int]) -> object:
        return pa.RecordBatch.from_pydict({"row": pa.array(rows, pa.int64())})

    rejected = deque([Problem(3, None, "LR507", "bad"), Problem(9, None, "LR507", "bad")])
    shuffled = [batch([6, 7, 4, 5]), batch([1, 2]), batch([10, 8]), batch([11])]
    seen: list[int] = []
    for pieces, problems in in_row_order(shuffled, rejected):
        found = [r for p in pieces for r in p.column("row").to_pylist()]
        found += [p.row for p in problems]
        seen.extend(sorted(found))
    assert seen == list(range(1, 12))


# --- what rejected rows and summaries say, pinned ----------------------------------------------

GOLDEN = Path(__file__).resolve().parent / "golden" / "cohort"


def messy_cohort(policy: m.Policy, folder: Path, fmt: str) -> tuple[Path, dict[str, Any]]:
    """The bad-row cohorts of the tests above, as one file of `fmt`, and the run's options."""
    if fmt == "jsonl":
        cohort = write_jsonl(folder / "c.jsonl", mixed_lines())
        extra = ['{"id": 123456789012345678901234567890}', '{"id": 7.0, "age": 1e400}']
        with cohort.open("ab") as handle:
            handle.write(b'{"id": "\xff"}\n' + "".join(e + "\n" for e in extra).encode())
            handle.write(b'{"id": "big", "label": "' + b"x" * MAX_ROW_BYTES + b'"}\n')
        return cohort, {}
    if fmt == "csv":
        cohort = folder / "c.csv"
        with cohort.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_HEADER)
            writer.writerows(record for record, _ in CSV_ROWS)
            handle.write('"c12"x,pml,,,,,,\n')
            handle.write('c13,pml,"' + "x\n" * (MAX_ROW_BYTES // 2) + '",,,,,\n')
            handle.write("c14,pml,,,,,,\n")  # read on after the record too large
        return cohort, {}
    table = pa.table(
        {
            "id": pa.array(["p1", "p2", "p3", "p4", "p5", "p6", None], pa.string()),
            "diagnosis": pa.array(["pml", "adem", None, "nope", "pml", "pml", "pml"]),
            "age": pa.array([40.0, 5.0, None, 3.0, 2.5, float("nan"), 1e30], pa.float64()),
            "symptoms": pa.array(
                [["fever"], [], None, ["x"], None, [None], ["ataxia"]], pa.list_(pa.string())
            ),
            "onset": pa.array(["2019-01-01", None, "bad", None, "2019-02-30", None, None]),
            "weight": pa.array([60, 70, 80, 90, 100, 500, 5], pa.int32()),
            "seizures": pa.array([True, None, False, None, True, None, None]),
        }
    )
    cohort = folder / "c.parquet"
    pq.write_table(table, cohort, row_group_size=4)
    return cohort, {}


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_rejected_rows_and_summary_are_unchanged(
    policy: m.Policy, tmp_path: Path, fmt: str, engine: str, golden: Golden
) -> None:
    """The errors file (codes and reasons, word for word) and the summary of each engine on
    each format's bad rows, as golden files: a change of wording shows in review."""
    cohort, options = messy_cohort(policy, tmp_path, fmt)
    summary = run(policy, cohort, tmp_path / "out.jsonl", engine, **options)
    report = summary.to_json()
    for key in ("cohort", "results", "errors", "seconds"):
        del report[key]
    actual = (tmp_path / "out.errors.jsonl").read_text(encoding="utf-8")
    actual += "--- summary\n" + json.dumps(report, indent=1, sort_keys=True) + "\n"
    golden.check(GOLDEN / f"{fmt}-{engine}.txt", actual)
