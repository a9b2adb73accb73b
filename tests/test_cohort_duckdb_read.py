"""The duckdb engine reading JSON Lines and CSV files itself gives what it gave when Python read
them and streamed the records in: the same results and errors files, byte for byte, the same
summary, for well-formed files and for every kind of odd line.

The reference is the engine's own streamed path (`leukorules.cohort.duckdb_read.plan` chooses it
when the stream is not in scan order), which is how the engine read these formats before DuckDB
read them itself; `tests/test_cohort_batch.py` holds that path to the python engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.policies import checked
from support.profiles import examples

from leukorules import model as m

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

from leukorules.cohort import duckdb_stream
from leukorules.cohort.runner import BatchOptions, run_batch

POLICY = """
policy test.read { title "Reading cohort files" version "1.0" }
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
  rule r.note {
    statement "Severe cases with a label get a note." evidence 1
    when severity == severe and label == "x"
    note
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
    return checked(POLICY, "read.rules")


def both_paths(
    policy: m.Policy, cohort: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> dict[str, tuple[bytes, bytes, dict[str, Any]]]:
    """(results file, errors file, summary) of the duckdb engine reading `cohort` itself and
    of the same engine with the records streamed in by the shared reader."""
    found = {}
    for how in ("file", "stream"):
        with monkeypatch.context() as patch:
            if how == "stream":
                patch.setattr(duckdb_stream, "in_scan_order", lambda con: False)
            out = folder / f"{how}.jsonl"
            options = BatchOptions(cohort=cohort, out=out, engine="duckdb", jobs=2, **kw)
            summary = run_batch(policy, options).to_json()
        for key in ("results", "errors", "seconds"):
            del summary[key]
        errors = folder / f"{how}.errors.jsonl"
        found[how] = (out.read_bytes(), errors.read_bytes(), summary)
    return found


def assert_same(found: dict[str, tuple[bytes, bytes, dict[str, Any]]]) -> None:
    file, stream = found["file"], found["stream"]
    assert file[1] == stream[1]  # errors: rows, ids, codes and reasons, word for word
    assert file[0] == stream[0]  # results
    assert file[2] == stream[2]  # summary


def streamed(policy: m.Policy, cohort: Path, folder: Path) -> bool:
    """Whether the engine read `cohort` through the shared reader."""
    from leukorules.cohort.layout import Layout
    from leukorules.cohort.readers import CohortReader, detect_format

    fmt = detect_format(cohort)
    reader = CohortReader(cohort, fmt)
    run = duckdb_stream.DuckDBRun(policy, Layout(policy, fmt, "id", reader.columns, False), reader)
    list(run.run())
    return run.streamed


GOOD = [
    {"id": "a1", "diagnosis": "pml", "age": 40, "seizures": True, "label": "x"},
    {"id": 2, "diagnosis": "adem", "age": 5, "seizures": False, "symptoms": ["fever"]},
    {"id": "a3", "weight": 80.25, "onset": "2019-05-01", "symptoms": []},
    {"id": "a4"},
    {"id": "é5", "label": 'naïve \u2028 \\ "quoted"', "diagnosis": "pml", "age": 18},
]
# Lines as bytes: every odd thing a JSON Lines file can hold.
ODD_LINES = [
    b'{"id": "b1", "age": "40"}',
    b'{"id": "b2", "diagnosis": "PML"}',
    b'{"id": "b3", "age": 121, "weight": -1}',
    b'{"id": "b4", "age": 4.5, "weight": true, "seizures": 1}',
    b'{"id": "b5", "symptoms": ["fever", "cough", 3]}',
    b'{"id": "b6", "onset": "2020-02-30"}',
    b'{"id": "b7", "onset": "0000-01-01"}',
    b'{"id": "b8", "colour": "red", "severity": "mild"}',
    b'{"id": "b9", "age": 99999999999999999999, "weight": 1e400}',
    b'{"id": "b10", "weight": NaN}',
    b'{"id": "b11", "weight": -Infinity}',
    b'{"id": "b12", "weight": nan}',
    b'{"id": "b13", "weight": inf}',
    b'{"id": "b14", "colour": [1, NaN]}',
    b'{"id": "b15", "age": 3,}',
    b'{"id": "b16", "symptoms": ["fever",]}',
    b'{"id": "b17", "colour": {"a": [1,]}}',
    b'{"id": "b18", "age": 3, "age": 4}',
    b'{"id": "b19", "age": 3, "age": null}',
    b'{"id": "b20", "colour": 1, "colour": 2}',
    b'{"id": "b21", "age": null, "label": null}',
    b'["not", "an", "object"]',
    b'"just text"',
    b"42",
    b"null",
    b'{"age": 30}',
    b'{"id": true}',
    b'{"id": 1.5}',
    b'{"id": 7.0}',
    b'{"id": 123456789012345678901234567890}',
    b'{"id": -0}',
    b'{"id": "   "}',
    b'{"id": " lead"}',
    b'{"id": "\\u0070\\u006d\\u006c", "diagnosis": "\\u0070ml"}',
    b'{"\\u0069d": "b36"}',
    b'{"id": "b37", "label": "\\ud800"}',
    b'{"id": "b38", "label": "\\udc00"}',
    b'{"id": "b39", "label": "\\ud83d\\ude00"}',
    b'{"id": "b40", "label": "\xff"}',
    b'{"id": "b41", "label": "\xc0\x80"}',
    b'{"id": "b42", "label": "\xed\xa0\x80"}',
    b'{"id": "b43", "label": "tab\there"}',
    b'{"id": "b44", "label": "nul\\u0000"}',
    b'{"id": "b45"}\r',
    b'{"id": "b46"}\r{"id": "b47"}',
    b'{"id": "b48",\r"age": 2}',
    b'\x0b{"id": "b49"}',
    b'{"id": "b50"}\x0c',
    b'\xef\xbb\xbf{"id": "b51"}',
    b'{"id": "b52"} {"id": "b53"}',
    b"{not json",
    b'{"id": "b54", "deep": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    b'{"id": "b55", "age": 01}',
    b'{"id": "b56", "weight": .5}',
    b'{"id": "b57", "weight": 1E+2, "age": 1e2}',
    b'{"id": "b58", "label": "' + b"y" * 300_000 + b'"}',
    b'{ "id" : "b59" , "age" : 3 , }',
    b'{"id":"b60","seizures":"true","label":123}',
    b'{"id": "b61", "symptoms": "fever", "diagnosis": ["pml"]}',
    b'{"id": "b62", "onset": 20200101}',
    b'{"id": "b63", "age": -3, "weight": 0}',
    b'{"id": "b64", "label": "inf, nan"}',
    b'{"id": ' + b"7" * 5000 + b"}",  # more digits than Python converts to an int
    b'{"id": ' + b"8" * 700 + b"}",
    b'{"id": "b67", "age": ' + b"9" * 5000 + b', "weight": 1' + b"0" * 5000 + b"}",
    b'{"id": "b68", "colour": -' + b"1" * 5000 + b"}",
]


def jsonl_bytes(lines: list[bytes], first: bytes = b"") -> bytes:
    good = [json.dumps(g, ensure_ascii=False).encode() for g in GOOD]
    mixed: list[bytes] = []
    for index, line in enumerate(lines):
        mixed += [good[index % len(good)], line]
    return first + b"\n".join([b"", *mixed[:5], b"   ", b"\x0c", *mixed[5:]]) + b"\n"


@pytest.mark.parametrize("ignore_extra", [False, True])
def test_odd_lines_read_by_duckdb_as_python_read_them(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ignore_extra: bool
) -> None:
    cohort = tmp_path / "c.jsonl"
    cohort.write_bytes(jsonl_bytes(ODD_LINES))
    assert not streamed(policy, cohort, tmp_path)  # DuckDB reads them (and Python looks again)
    found = both_paths(policy, cohort, tmp_path, monkeypatch, ignore_extra=ignore_extra)
    assert_same(found)
    assert found["file"][2]["rows"]["rejected"] > 40


def test_odd_lines_without_vertical_tabs_need_no_walk_through_every_line(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a vertical tab or form feed in the file, only the flagged lines are looked at."""
    lines = [line for line in ODD_LINES if b"\x0b" not in line and b"\x0c" not in line]
    cohort = tmp_path / "c.jsonl"
    cohort.write_bytes(jsonl_bytes(lines).replace(b"\n\x0c\n", b"\n"))
    found = both_paths(policy, cohort, tmp_path, monkeypatch)
    assert_same(found)


def test_lines_longer_than_the_row_limit_are_read_by_the_shared_reader(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line over `MAX_ROW_BYTES` is rejected as too large by the shared reader, row by row; a
    file where a line may be that long (half of it without a line break) is read that way."""
    from leukorules.cohort.lines import MAX_ROW_BYTES

    cohort = tmp_path / "c.jsonl"
    long_value = b"z" * (MAX_ROW_BYTES + 10)
    padded = b'{"id": "p"}' + b" " * MAX_ROW_BYTES
    cohort.write_bytes(
        b'{"id": "a"}\n{"id": "b", "label": "' + long_value + b'"}\n' + padded + b"\n"
    )
    assert streamed(policy, cohort, tmp_path)
    found = both_paths(policy, cohort, tmp_path, monkeypatch)
    assert_same(found)
    assert found["file"][2]["rows"] == {"read": 3, "evaluated": 1, "rejected": 2}


def test_well_formed_lines_need_no_second_look(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of well-formed records (BOM, CRLF line ends, blank lines, records with nulls and
    escapes) is evaluated by DuckDB alone: no line is read again by Python."""
    cohort = tmp_path / "c.jsonl"
    lines = [json.dumps(g, ensure_ascii=False) for g in GOOD] + ['{"id": "n", "age": null}']
    cohort.write_bytes(b"\xef\xbb\xbf" + "\r\n\r\n".join(lines).encode() + b"\r\n")
    looked: list[int] = []
    finder = duckdb_stream.LineFinder.line

    def spy(self: Any, row: int) -> bytes:
        looked.append(row)
        return finder(self, row)

    monkeypatch.setattr(duckdb_stream.LineFinder, "line", spy)
    found = both_paths(policy, cohort, tmp_path, monkeypatch)
    assert_same(found)
    assert looked == []
    assert found["file"][2]["rows"] == {"read": 6, "evaluated": 6, "rejected": 0}
    assert not streamed(policy, cohort, tmp_path)


def test_lines_with_vertical_tabs_anywhere_are_looked_at(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = tmp_path / "c.jsonl"
    cohort.write_bytes(
        b'{"id": "a"}\n{"id": "b"}\x0b\n{"id": "c", "label": "x"}\n\x0c{"id": "d"}\n'
    )
    found = both_paths(policy, cohort, tmp_path, monkeypatch)
    assert_same(found)
    assert found["file"][2]["rows"] == {"read": 4, "evaluated": 2, "rejected": 2}


def test_empty_and_blank_files(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for content in (b"", b"\n\n  \n", b"\xef\xbb\xbf", b'{"id": "x"}'):
        cohort = tmp_path / "c.jsonl"
        cohort.write_bytes(content)
        assert_same(both_paths(policy, cohort, tmp_path, monkeypatch))


FRAGMENTS = st.sampled_from(
    [
        b'{"id": "x"',
        b', "age": 3',
        b', "age": 3.5',
        b', "weight": NaN',
        b', "weight": 1e400',
        b', "symptoms": ["fever", "ataxia"]',
        b', "symptoms": []',
        b', "diagnosis": "pml"',
        b', "diagnosis": "nope"',
        b', "label": "a:b, [c]"',
        b', "colour": {"a": null}',
        b', "seizures": true',
        b", ",
        b"}",
        b"]",
        b"null",
        b"\xff",
        b"\r",
        b"\t",
        b"\x0b",
        b"\\",
        b'"',
    ]
)


@settings(max_examples=examples(25), deadline=None)
@given(lines=st.lists(st.lists(FRAGMENTS, min_size=1, max_size=8).map(b"".join), max_size=12))
def test_any_line_is_read_as_python_read_it(
    policy: m.Policy, tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("lines")
    cohort = folder / "c.jsonl"
    cohort.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(both_paths(policy, cohort, folder, monkeypatch))


# --- CSV --------------------------------------------------------------------------------------

HEADER = "id,diagnosis,age,weight,seizures,symptoms,label,onset"
CSV_RECORDS = [
    'c1,pml,40,,yes,"fever; ataxia",x,',
    'c2, adem ,+5,1e1,FALSE,[],"  spaced ",2019-12-31',
    "c3,,,,,,,",
    'c4,pml,4.0,,,,"multi\nline",',
    "c5,PML,200,-1,maybe,fever;;,,2019-13-01",
    ",pml,,,,,,",
    'c7,"with ""quotes""",,,,,,',
    "c8,pml,99999999999999999999,inf,,,,0000-01-01",
    'c9,pml,,,,,"with, commas, inside",',
]


def test_plain_csv_is_read_by_duckdb(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for ends in ("\n", "\r\n"):
        cohort = tmp_path / "c.csv"
        # a line break inside quotes is written as the file writes the others
        records = [record.replace("\n", ends) for record in CSV_RECORDS]
        text = ends.join([HEADER, *records, "", *records[:2]]) + ends
        cohort.write_bytes(("\ufeff" + text).encode())
        assert not streamed(policy, cohort, tmp_path)
        found = both_paths(policy, cohort, tmp_path, monkeypatch)
        assert_same(found)
        assert found["file"][2]["rows"]["read"] == len(CSV_RECORDS) + 2


@pytest.mark.parametrize(
    "content",
    [
        HEADER + '\nc1,pml,,,,,,\n"c2"x,pml,,,,,,\nc3,pml,,,,,,\n',  # text after a quote
        HEADER + "\nc1,pml\nc2,pml,,,,,,,\n",  # fields missing, fields too many
        # one empty field too many, which DuckDB's strict reader drops and Python counts
        HEADER + "\nc1,pml,40,,,,,,\nc2,adem,7,,,,,\n",
        HEADER + '\nc1,"a,b",40,,,,,\nc2,adem,7,,,,,,',  # the same at the end, a comma in a value
        HEADER + "\nc1,pml,,,,,,\n   \nc2,pml,,,,,,\n",  # a line of spaces is no record
        HEADER + "\nc1,\xff,,,,,,\nc2,pml,,,,,,\n",  # not UTF-8 (latin-1 bytes below)
        HEADER + "\nc1,pml,,,,,,\rc2,pml,,,,,,\n",  # a lone CR ends a record for Python
        HEADER + '\nc1,pml,,,,,,"open\n',  # a quote never closed
        "id\nc1\n\nc2\n",  # one column: an empty line is a record for DuckDB
    ],
)
def test_other_csv_is_read_by_the_shared_reader(
    policy: m.Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    cohort = tmp_path / "c.csv"
    cohort.write_bytes(content.encode("latin-1"))
    assert streamed(policy, cohort, tmp_path)
    assert_same(both_paths(policy, cohort, tmp_path, monkeypatch, ignore_extra=True))


# --- literal paths ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_file_names_are_literal(policy: m.Policy, tmp_path: Path, suffix: str) -> None:
    """DuckDB expands `[1]` in a name to `1`: the engine must read `c[1].x`, not `c1.x`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(path: Path, record_id: str) -> None:
        if suffix == "jsonl":
            path.write_text(json.dumps({"id": record_id}) + "\n", encoding="utf-8")
        elif suffix == "csv":
            path.write_text(f"id,age\n{record_id},3\n", encoding="utf-8")
        else:
            pq.write_table(pa.table({"id": [record_id]}), path)

    wanted = tmp_path / f"c[1].{suffix}"
    write(wanted, "wanted")
    write(tmp_path / f"c1.{suffix}", "other")
    write(tmp_path / f"c*.{suffix}", "star")
    for cohort, record_id in ((wanted, "wanted"), (tmp_path / f"c*.{suffix}", "star")):
        out = tmp_path / "out.jsonl"
        options = BatchOptions(cohort=cohort, out=out, engine="duckdb", ignore_extra=True)
        summary = run_batch(policy, options)
        assert summary.counts.evaluated == 1
        assert json.loads(out.read_text(encoding="utf-8"))["id"] == record_id
