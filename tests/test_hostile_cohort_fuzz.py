"""Fuzzing the cohort loaders (CSV, JSON Lines, Parquet) on both engines.

Any bytes in a cohort file, any Parquet table, and any damage to a Parquet file give a run that
exits 0 (something was evaluated) or 1 (a message naming why not), never a traceback; and the
two engines give the same answer: the same exit status and, when they ran, the same results and
the same rejected rows (row, id, codes). Budgets are `examples(n)` (`support.profiles`):
`HYPOTHESIS_PROFILE=fuzz` runs 25 times as many.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import leukorules
from support.engines import warm_up_engines
from support.policies import checked
from support.profiles import examples
from support.watchdog import watchdog

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")

POLICY = """\
policy hostile.fuzz { title "Fuzz" version "1.0" }
evidence 1 { citation "A study" }
fact diagnosis: enum {pml, adem}
fact age: integer in 0..120
fact weight: number [kg] in 0..400
fact seizures: bool
fact onset: date
fact symptoms: set of {fever, ataxia}
fact note: string
derived severity: enum {mild, severe}
section "S" {
  rule r.adult {
    statement "Adults with PML get A." evidence 1
    when diagnosis == pml and age >= 18
    recommend "Do A"
  }
  rule r.severe {
    statement "Fever or seizures make it severe." evidence 1
    when symptoms contains fever or seizures
    derive severity = severe
  }
  rule r.old {
    statement "Old onset, heavy and severe." evidence 1
    when onset < 2020-01-01 and weight > 50.5 [kg] and severity == severe
    caution "careful"
  }
}
"""
checked(POLICY)  # the fuzzing below is only worth something if the policy itself is valid
COLUMNS = ["id", "diagnosis", "age", "weight", "seizures", "onset", "symptoms", "note"]
ENGINES = ("python", "duckdb")


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    warm_up_engines()
    with watchdog(300):
        yield


Outcome = tuple[int, bytes | None, list[tuple[int, str | None, list[str]]] | None]


def run_both(name: str, content: bytes | None, table: object = None) -> Outcome:
    """Write the cohort, run it on both engines (`--ignore-extra`, so that odd column names reach
    the records), and hold the runs to the property of the module."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "p.rules").write_text(POLICY, encoding="utf-8")
        cohort = base / name
        if table is not None:
            pq.write_table(table, cohort)
        else:
            assert content is not None
            cohort.write_bytes(content)
        outcome = {}
        for engine in ENGINES:
            out = base / f"{engine}.jsonl"
            result = leukorules(
                "batch",
                str(cohort),
                "--out",
                str(out),
                "--policy",
                str(base / "p.rules"),
                "--engine",
                engine,
                "--jobs",
                "1",
                "--ignore-extra",
                "--chunk-rows",
                "3",
            )
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output
            assert "run `leukorules check`" not in result.output  # the policy is not the cause
            if result.exit_code == 1:
                assert "leukorules: error: " in result.output
                last = result.output.rstrip("\n").rsplit("\n", 1)[-1]
                assert last.isprintable()  # control characters are escaped
            errors = base / f"{engine}.errors.jsonl"
            rejected = (
                [
                    (r["row"], r["id"], r["codes"])
                    for r in map(json.loads, errors.read_text("utf-8").split("\n")[:-1])
                ]
                if errors.exists()
                else None
            )
            results = out.read_bytes() if out.exists() else None
            outcome[engine] = (result.exit_code, results, rejected)
            assert list(base.glob(".*.tmp")) == []
        assert outcome["python"] == outcome["duckdb"], (outcome, content)
        return outcome["python"]


def test_the_fuzzed_policy_evaluates_a_valid_cohort_of_each_format() -> None:
    """The properties below hold for refused runs too: here each format does evaluate."""
    record = {
        "id": "a",
        "diagnosis": "pml",
        "age": 30,
        "symptoms": ["fever"],
        "onset": "2019-01-01",
    }
    jsonl = run_both("c.jsonl", (json.dumps(record) + "\n").encode())
    csv = run_both("c.csv", b"id,diagnosis,age,symptoms,onset\na,pml,30,fever,2019-01-01\n")
    table = pa.table({"id": ["a"], "diagnosis": ["pml"], "age": [30], "symptoms": [["fever"]]})
    parquet = run_both("c.parquet", None, table)
    for status, results, rejected in (jsonl, csv, parquet):
        assert status == 0 and rejected == []
        assert results is not None and b'"fired":["r.adult","r.severe"]' in results


# --- JSON Lines --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["pml", "adem", "fever", "ataxia", "2020-02-29", "2021-02-29", "yes"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
keys = st.sampled_from([*COLUMNS, "ID", "extra", ""]) | st.text(max_size=6)
json_records = st.dictionaries(keys, json_values, max_size=6).map(
    lambda record: json.dumps(record, ensure_ascii=False)
)
hostile_lines = st.sampled_from(
    [
        "",
        "   ",
        "[1, 2]",
        "[",
        "{",
        '{"id": "a", "id": "b"}',
        '{"id": "\\ud800"}',
        '{"id": NaN}',
        '{"id": 1e999}',
        '{"id": "x", "age": 1' + "0" * 5000 + "}",
        "[" * 5000,
        '{"id": "bom"}\ufeff',
        "\x00\x1b[31m\x07",
        "null",
        '"text"',
    ]
)
line_texts = st.one_of(json_records, hostile_lines, st.text(max_size=30))


@settings(max_examples=examples(30))
@given(
    lines=st.lists(line_texts, min_size=0, max_size=8),
    line_break=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    junk=st.one_of(st.none(), st.binary(min_size=1, max_size=8)),
)
def test_any_json_lines_give_the_same_answer_on_both_engines_never_a_traceback(
    lines: list[str], line_break: str, bom: bool, junk: bytes | None
) -> None:
    content = (line_break.join(lines)).encode("utf-8", "surrogatepass")
    if junk is not None:
        content += b"\n" + junk  # bytes that need not be UTF-8
    if bom:
        content = b"\xef\xbb\xbf" + content
    run_both("c.jsonl", content)


# --- CSV ----------------------------------------------------------------------------------------

cells = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "pml",
            "adem",
            "30",
            "+5",
            "1e1",
            "yes",
            "FALSE",
            "[]",
            "fever; ataxia",
            "2020-02-29",
            "2021-02-30",
            "nan",
            "inf",
            "-0",
            "9" * 30,
            "\t",
        ]
    ),
    st.text(max_size=10),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    header = draw(
        st.lists(
            st.sampled_from([*COLUMNS, "extra", "", "id "]), min_size=1, max_size=6, unique=True
        )
    )
    if draw(st.booleans()) and "id" not in header:
        header = ["id", *header]
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=len(header) + 1), max_size=6))
    quote = draw(st.booleans())

    def field(text: str) -> str:
        if quote or any(c in text for c in ',"\r\n'):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [",".join(field(c) for c in header)]
    lines += [",".join(field(c) for c in row) for row in rows]
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # damage: a stray quote, a bad byte, a cut
        position = draw(st.integers(min_value=0, max_value=len(raw)))
        raw = (
            raw[:position]
            + draw(st.sampled_from([b'"', b"\xff", b"\x00", b"", b"\n"]))
            + (raw[position:] if draw(st.booleans()) else b"")
        )
    return raw


@settings(max_examples=examples(30))
@given(csv_texts())
def test_any_csv_gives_the_same_answer_on_both_engines_never_a_traceback(content: bytes) -> None:
    run_both("c.csv", content)


@settings(max_examples=examples(20))
@given(st.binary(max_size=200), st.sampled_from(["c.csv", "c.jsonl"]))
def test_any_bytes_as_a_text_cohort_never_give_a_traceback(content: bytes, name: str) -> None:
    run_both(name, content)


# --- Parquet ------------------------------------------------------------------------------------

ARROW_COLUMNS = {
    "string": (
        pa.string(),
        st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["pml", "adem", "2020-01-01"])),
    ),
    "int64": (pa.int64(), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
    "int8": (pa.int8(), st.one_of(st.none(), st.integers(-128, 127))),
    "uint64": (pa.uint64(), st.one_of(st.none(), st.integers(0, 2**64 - 1))),
    "float64": (pa.float64(), st.one_of(st.none(), st.floats())),
    "bool": (pa.bool_(), st.one_of(st.none(), st.booleans())),
    "date": (pa.date32(), st.one_of(st.none(), st.dates(datetime.date(1, 1, 1)))),
    "list": (
        pa.list_(pa.string()),
        st.one_of(
            st.none(),
            st.lists(st.one_of(st.none(), st.sampled_from(["fever", "ataxia", "x"])), max_size=3),
        ),
    ),
    "binary": (pa.binary(), st.one_of(st.none(), st.binary(max_size=4))),
    "decimal": (
        pa.decimal128(10, 3),
        st.one_of(
            st.none(),
            st.decimals(
                min_value=-999999, max_value=999999, places=3, allow_nan=False, allow_infinity=False
            ),
        ),
    ),
}


# The column types that can hold each column's values (the rest refuse the cohort up front).
FITTING = {
    "id": ["string", "int64", "uint64"],
    "diagnosis": ["string"],
    "age": ["int64", "int8", "uint64", "float64"],
    "weight": ["int64", "float64", "decimal"],
    "seizures": ["bool"],
    "onset": ["date", "string"],
    "symptoms": ["list"],
    "note": ["string"],
    "extra": sorted(ARROW_COLUMNS),
}


@st.composite
def parquet_tables(draw: st.DrawFn) -> object:
    """Mostly tables whose columns can hold their facts (so that records are decoded), now and
    then a column of any type (so that the cohort is refused)."""
    names = draw(st.lists(st.sampled_from([*COLUMNS[1:], "extra"]), max_size=6, unique=True))
    if draw(st.integers(0, 9)):
        names = ["id", *names]
    rows = draw(st.integers(min_value=0, max_value=6))
    columns = {}
    for name in names or ["note"]:
        kinds = FITTING[name] if draw(st.integers(0, 9)) else sorted(ARROW_COLUMNS)
        arrow_type, values = ARROW_COLUMNS[draw(st.sampled_from(kinds))]
        columns[name] = pa.array(draw(st.lists(values, min_size=rows, max_size=rows)), arrow_type)
    return pa.table(columns)


@settings(max_examples=examples(30))
@given(parquet_tables())
def test_any_parquet_table_gives_the_same_answer_on_both_engines(table: object) -> None:
    run_both("c.parquet", None, table)


def valid_parquet() -> bytes:
    table = pa.table(
        {
            "id": [f"p{i}" for i in range(40)],
            "diagnosis": ["pml", "adem"] * 20,
            "age": list(range(40)),
            "symptoms": [["fever"], None] * 20,
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=10, compression="none")
    return bytes(sink.getvalue().to_pybytes())


VALID_PARQUET = valid_parquet()


@settings(max_examples=examples(30))
@given(
    st.lists(
        st.tuples(st.integers(4, len(VALID_PARQUET) - 9), st.integers(0, 255)),
        min_size=1,
        max_size=6,
    )
)
def test_a_parquet_file_damaged_anywhere_but_its_footer_never_gives_a_traceback(
    damage: list[tuple[int, int]],
) -> None:
    """Bytes changed in the data pages (the footer and magic numbers kept, so the file opens):
    a rejected or refused run, or values read as they now are, the same on both engines when
    both could read it."""
    footer = int.from_bytes(VALID_PARQUET[-8:-4], "little")
    data = bytearray(VALID_PARQUET)
    for position, value in damage:
        data[min(position, len(data) - 9 - footer)] = value
    content = bytes(data)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "p.rules").write_text(POLICY, encoding="utf-8")
        (base / "c.parquet").write_bytes(content)
        for engine in ENGINES:
            result = leukorules(
                "batch",
                str(base / "c.parquet"),
                "--out",
                str(base / "r.jsonl"),
                "--policy",
                str(base / "p.rules"),
                "--engine",
                engine,
                "--jobs",
                "1",
            )
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output
            if result.exit_code == 1:
                assert "c.parquet" in result.output
