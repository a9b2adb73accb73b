"""Hostile cohort files: damaged Parquet, records too large, files that are not JSON Lines, no id,
nothing that can be evaluated, cohorts that are not regular files.

Both engines must give the same answer: a rejected record with its row number and the same code
and reason, or the run refused with a message naming the file (control characters escaped), exit
status 1, no traceback, and the outputs of an earlier run left as they were.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import leukorules
from support.engines import warm_up_engines
from support.policies import adults_with_pml_policy
from support.watchdog import watchdog

from leukorules import messages as msg
from leukorules.cohort.lines import MAX_ROW_BYTES
from leukorules.engine.facts_file import MAX_FACTS_BYTES

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")

POLICY = adults_with_pml_policy(
    'policy hostile.rows { title "Hostile rows" version "1.0" }', "fact note: string\n"
)
ENGINES = ["python", "duckdb"]
TOO_LARGE = msg.ROW_TOO_LARGE.text.format(limit=MAX_ROW_BYTES)


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    warm_up_engines()
    with watchdog(90):
        yield


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "p.rules").write_text(POLICY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def batch(*args: str, engine: str) -> tuple[int, str]:
    result = leukorules("batch", *args, "--policy", "p.rules", "--engine", engine, "--jobs", "1")
    return result.exit_code, result.output


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def record(identifier: str, **facts: object) -> str:
    return json.dumps({"id": identifier, "diagnosis": "pml", "age": 30, **facts})


# --- a damaged Parquet file ---------------------------------------------------------------------


def damaged_parquet(path: Path, how: str) -> Path:
    """A Parquet file of three row groups whose footer is intact and whose third row group's
    `age` column is damaged: its page header (`header`) or all its bytes (`values`)."""
    rows = 3000
    table = pa.table(
        {
            "id": [f"p{i}" for i in range(rows)],
            "diagnosis": ["pml", "adem"] * (rows // 2),
            "age": [i % 100 for i in range(rows)],
        }
    )
    pq.write_table(table, path, compression="none", row_group_size=1000)
    column = pq.ParquetFile(path).metadata.row_group(2).column(2)
    data = bytearray(path.read_bytes())
    if how == "header":
        start, length = column.data_page_offset, 12
    else:
        start = column.dictionary_page_offset or column.data_page_offset
        length = column.total_compressed_size
    for i in range(start, start + length):
        data[i] = (data[i] * 31 + 7) % 256 if how == "values" else 0xFF
    path.write_bytes(bytes(data))
    pq.ParquetFile(path)  # the footer still reads
    return path


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("how", ["header", "values"])
def test_a_damaged_parquet_page_stops_the_run_naming_the_file(
    folder: Path, engine: str, how: str
) -> None:
    damaged_parquet(folder / "c.parquet", how)
    (folder / "r.jsonl").write_text("old\n", encoding="utf-8")
    (folder / "r.errors.jsonl").write_text("old errors\n", encoding="utf-8")
    status, output = batch("c.parquet", "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert "Traceback" not in output
    assert output.startswith("leukorules: error: ")
    assert "c.parquet" in output
    assert output.isprintable() or output.rstrip("\n").isprintable()  # no raw control bytes
    # The first row groups were evaluated and written to the temporary file; the run stopped,
    # so the outputs of the earlier run are still there, whole.
    assert (folder / "r.jsonl").read_text(encoding="utf-8") == "old\n"
    assert (folder / "r.errors.jsonl").read_text(encoding="utf-8") == "old errors\n"
    assert list(folder.glob(".*.tmp")) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_a_truncated_or_garbage_parquet_file_is_refused_naming_it(
    folder: Path, engine: str
) -> None:
    damaged_parquet(folder / "good.parquet", "header")
    data = (folder / "good.parquet").read_bytes()
    cases = {
        "truncated.parquet": data[: len(data) // 2],
        "garbage.parquet": b"PAR1\x1b[31m\x07\x00" * 100 + b"PAR1",
        "empty.parquet": b"",
    }
    for name, content in cases.items():
        (folder / name).write_bytes(content)
        status, output = batch(name, "--out", "r.jsonl", engine=engine)
        assert status == 1, name
        assert f"{name} is not a readable Parquet file" in output
        assert "\x1b" not in output and "\x07" not in output


# --- records too large --------------------------------------------------------------------------


def test_the_row_limit_is_the_facts_file_limit() -> None:
    """A record holds one patient's facts: the same bound as a facts file."""
    assert MAX_ROW_BYTES == MAX_FACTS_BYTES


@pytest.mark.parametrize("engine", ENGINES)
def test_one_fifty_megabyte_value_rejects_that_row_only(folder: Path, engine: str) -> None:
    """The lead's reproduction: the duckdb engine ran out of memory and lost every row."""
    lines = [record("a"), record("huge", note="x" * 50_000_000), record("c", age=40)]
    (folder / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 0, output
    assert "rows: 3 read, 2 evaluated, 1 rejected" in output
    assert [r["id"] for r in read_jsonl(folder / "r.jsonl")] == ["a", "c"]
    assert read_jsonl(folder / "r.errors.jsonl") == [
        {"row": 2, "id": None, "codes": ["LR501"], "reason": TOO_LARGE}
    ]


def at_size(identifier: str, size: int) -> str:
    """A JSON Lines record of exactly `size` bytes."""
    bare = record(identifier, note="")
    return record(identifier, note="x" * (size - len(bare)))


@pytest.mark.parametrize("engine", ENGINES)
def test_the_jsonl_bound_is_exact_and_blank_lines_of_any_length_are_not_records(
    folder: Path, engine: str
) -> None:
    lines = [
        at_size("at-limit", MAX_ROW_BYTES),
        at_size("over", MAX_ROW_BYTES + 1),
        " " * (3 * MAX_ROW_BYTES),  # blank, however long: not a record
        at_size("crlf", MAX_ROW_BYTES) + "\r",  # the line break is not counted
        "\t" * (MAX_ROW_BYTES + 5),
        record("last"),
    ]
    assert len(lines[0]) == MAX_ROW_BYTES
    (folder / "c.jsonl").write_bytes(("\n".join(lines)).encode())  # no line break at the end
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 0, output
    assert [(r["row"], r["id"]) for r in read_jsonl(folder / "r.jsonl")] == [
        (1, "at-limit"),
        (3, "crlf"),
        (4, "last"),
    ]
    assert [(r["row"], r["reason"]) for r in read_jsonl(folder / "r.errors.jsonl")] == [
        (2, TOO_LARGE)
    ]


def test_an_unterminated_last_line_over_the_limit_is_rejected(folder: Path) -> None:
    (folder / "c.jsonl").write_text(record("a") + "\n" + at_size("b", MAX_ROW_BYTES + 1))
    for engine in ENGINES:
        assert batch("c.jsonl", "--out", "r.jsonl", engine=engine)[0] == 0
        assert [r["row"] for r in read_jsonl(folder / "r.errors.jsonl")] == [2]


@pytest.mark.parametrize("engine", ENGINES)
def test_csv_records_too_large_are_rejected_one_each_and_reading_goes_on(
    folder: Path, engine: str
) -> None:
    """A long line, and a quoted field whose lines are each short but which is too large as a
    whole: each is one rejected record, and the records after it are read as they are."""
    size = MAX_ROW_BYTES
    text = "id,diagnosis,age,note\n"
    text += "a,pml,30,ok\n"
    text += "b,pml,30," + "x" * size + "\n"
    text += 'c,pml,30,"' + "line\n" * (size // 4) + '"\n'
    text += 'd,pml,30,"two ""quoted""\nlines"\n'  # a short multi-line record: read as ever
    text += " " * (2 * size) + "\n"  # blank: not a record
    text += "e,adem,40," + "y" * (size - len("e,adem,40,")) + "\n"  # exactly at the limit
    text += "f,adem,41,\n"
    (folder / "c.csv").write_text(text, encoding="utf-8")
    status, output = batch("c.csv", "--out", "r.jsonl", engine=engine)
    assert status == 0, output
    assert [(r["row"], r["id"]) for r in read_jsonl(folder / "r.jsonl")] == [
        (1, "a"),
        (4, "d"),
        (5, "e"),
        (6, "f"),
    ]
    assert [(r["row"], r["codes"]) for r in read_jsonl(folder / "r.errors.jsonl")] == [
        (2, ["LR501"]),
        (3, ["LR501"]),
    ]


def test_a_csv_header_too_large_refuses_the_cohort(folder: Path) -> None:
    (folder / "c.csv").write_text("id," + "x" * MAX_ROW_BYTES + "\na,1\n", encoding="utf-8")
    for engine in ENGINES:
        status, output = batch("c.csv", "--out", "r.jsonl", engine=engine)
        assert status == 1
        assert f"the header of c.csv is larger than {MAX_ROW_BYTES:,} bytes" in output


# --- files that are not JSON Lines, and records without ids ------------------------------------

ARRAY_OF_PATIENTS = [{"id": "a", "diagnosis": "pml", "age": 30}, {"id": "b", "age": 40}]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "words"),
    [
        (json.dumps(ARRAY_OF_PATIENTS), "holds a JSON array, not JSON Lines"),
        (json.dumps(ARRAY_OF_PATIENTS, indent=2), "holds a JSON array, not JSON Lines"),
        ("[]", "holds a JSON array, not JSON Lines"),
        (
            "\ufeff  [" + json.dumps({"id": "a", "note": "x" * MAX_ROW_BYTES}) + "]",
            "holds a JSON array, not JSON Lines",
        ),
        (json.dumps(ARRAY_OF_PATIENTS[0], indent=2), "holds a JSON document written over"),
    ],
    ids=["array-one-line", "array-pretty", "empty-array", "array-over-the-limit", "pretty-object"],
)
def test_one_json_document_is_refused_with_how_to_make_json_lines(
    folder: Path, engine: str, text: str, words: str
) -> None:
    (folder / "patients.json").write_text(text + "\n", encoding="utf-8")
    status, output = batch("patients.json", "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert f"patients.json {words}" in output
    assert "jq -c" in output
    assert not (folder / "r.jsonl").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_first_line_that_is_some_other_array_is_just_a_rejected_row(
    folder: Path, engine: str
) -> None:
    (folder / "c.jsonl").write_text('["not", "an", "object"]\n' + record("b") + "\n")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 0, output
    assert [r["row"] for r in read_jsonl(folder / "r.errors.jsonl")] == [1]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_jsonl_cohort_without_the_id_key_is_refused_up_front(folder: Path, engine: str) -> None:
    """As a CSV or Parquet cohort without the id column is, from its header; the first records
    stand in for a header."""
    lines = [json.dumps({"patient_id": f"p{i}", "age": 30}) for i in range(500)]
    (folder / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert (
        "none of the first 100 records of c.jsonl has the id key `id` "
        "(their keys: `age`, `patient_id`); name the id key with --id-column" in output
    )
    assert not (folder / "r.errors.jsonl").exists()
    status, output = batch(
        "c.jsonl", "--out", "r.jsonl", "--id-column", "patient_id", engine=engine
    )
    assert status == 0, output
    assert "rows: 500 read, 500 evaluated" in output


@pytest.mark.parametrize("engine", ENGINES)
def test_one_record_with_the_id_key_is_enough_and_the_others_are_rejected_each(
    folder: Path, engine: str
) -> None:
    lines = [json.dumps({"ident": "a", "age": 30}), record("b"), json.dumps({"age": 1})]
    (folder / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 0, output
    assert [r["row"] for r in read_jsonl(folder / "r.errors.jsonl")] == [1, 3]


def test_a_did_you_mean_names_the_likely_id_key(folder: Path) -> None:
    (folder / "c.jsonl").write_text(json.dumps({"ID": "a", "age": 30}) + "\n")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine="python")
    assert status == 1
    assert "has the id key `id` (did you mean `ID`?)" in output


# --- nothing evaluated --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_run_where_every_record_is_rejected_exits_1_and_still_writes_why(
    folder: Path, engine: str
) -> None:
    lines = [record("a", age=300), record("b", diagnosis="flu"), "{not json"]
    (folder / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert "rows: 3 read, 0 evaluated, 3 rejected" in output  # the summary, as always
    assert (
        "leukorules: error: none of the 3 records of c.jsonl could be evaluated; "
        "why each was rejected is in r.errors.jsonl" in output
    )
    assert [r["row"] for r in read_jsonl(folder / "r.errors.jsonl")] == [1, 2, 3]
    assert (folder / "r.jsonl").read_text() == ""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("name", "content"),
    [("c.jsonl", ""), ("c.jsonl", "\n  \n\n"), ("c.csv", "id,age\n"), ("c.parquet", None)],
)
def test_a_cohort_without_records_exits_1(
    folder: Path, engine: str, name: str, content: str | None
) -> None:
    if content is None:
        pq.write_table(pa.table({"id": pa.array([], pa.string())}), folder / name)
    else:
        (folder / name).write_text(content, encoding="utf-8")
    status, output = batch(name, "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert f"leukorules: error: {name} holds no records: nothing was evaluated" in output


@pytest.mark.parametrize("engine", ENGINES)
def test_one_evaluated_record_is_success(folder: Path, engine: str) -> None:
    (folder / "c.jsonl").write_text(record("a", age=300) + "\n" + record("b") + "\n")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 0, output


# --- cohorts that are not regular files -----------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["c.jsonl", "c.csv", "c.parquet"])
def test_a_fifo_or_a_device_as_cohort_is_refused_by_kind_without_waiting(
    folder: Path, engine: str, name: str
) -> None:
    os.mkfifo(folder / name)
    status, output = batch(name, "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert f"{name} is a FIFO (named pipe), not a cohort file" in output
    (folder / name).unlink()
    (folder / name).symlink_to("/dev/zero")
    status, output = batch(name, "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert f"{name} is a device, not a cohort file" in output


# --- found by fuzzing (`test_hostile_cohort_fuzz.py`) -------------------------------------------

SET_POLICY = """\
policy hostile.sets { title "Sets" version "1.0" }
evidence 1 { citation "A study" }
fact symptoms: set of {fever, ataxia}
rule r { statement "s" evidence 1 when symptoms contains fever recommend "x" }
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_a_set_holding_lists_or_mappings_is_a_rejected_row_not_a_crash(
    folder: Path, engine: str
) -> None:
    """The python engine's fast check put the items in a frozenset before looking at their
    types: a list inside the list was a TypeError (in `evaluate` too)."""
    (folder / "p.rules").write_text(SET_POLICY, encoding="utf-8")
    lines = ['{"id": "a", "symptoms": [[]]}', '{"id": "b", "symptoms": [{}]}']
    lines.append('{"id": "c", "symptoms": ["fever"]}')
    (folder / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "r.jsonl", engine=engine)
    assert status == 0, output
    assert [(r["row"], r["codes"]) for r in read_jsonl(folder / "r.errors.jsonl")] == [
        (1, ["LR503"]),
        (2, ["LR503"]),
    ]
    (folder / "f.json").write_text('{"symptoms": [[]]}', encoding="utf-8")
    result = leukorules("evaluate", "f.json", "--policy", "p.rules")
    assert result.exit_code == 1
    assert "item 1 of `symptoms` must be one of: fever, ataxia; it is a list" in result.output


@pytest.mark.parametrize("engine", ENGINES)
def test_a_csv_header_that_is_not_a_csv_record_refuses_the_cohort(
    folder: Path, engine: str
) -> None:
    (folder / "c.csv").write_bytes(b'"id","\x00')
    status, output = batch("c.csv", "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert "the header of c.csv is not a CSV record: unexpected end of data" in output


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_text_that_is_not_utf8_refuses_the_file(folder: Path, engine: str) -> None:
    """pyarrow reads a damaged string page without complaint; the python engine then failed
    where it turned the text into Python strings. Both engines now refuse the file."""
    table = pa.table({"id": ["a", "b"], "diagnosis": ["pml", "adem"], "age": [30, 40]})
    pq.write_table(
        table,
        folder / "c.parquet",
        compression="none",
        use_dictionary=False,
        write_statistics=False,
    )
    data = (folder / "c.parquet").read_bytes()
    position = data.index(b"adem")
    (folder / "c.parquet").write_bytes(data[:position] + b"\x80" + data[position + 1 :])
    status, output = batch("c.parquet", "--out", "r.jsonl", engine=engine)
    assert status == 1
    assert "c.parquet" in output
    assert "UTF8" in output.replace("UTF-8", "UTF8")
