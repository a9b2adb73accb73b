"""Hostile decision logs: rows someone edited by hand, read by every `audit` command.

A forger with write access can drop the triggers, put anything in any column and re-hash the
chain. Whatever they wrote, every command answers with a message that names the row (never a
traceback, never "the whole file"), `verify` says what kind of change it found, and nothing
from the log reaches the terminal unescaped.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.cli import leukorules
from support.profiles import examples
from support.watchdog import watchdog

from leukorules import load_policy
from leukorules.audit import log_decision, open_log
from leukorules.audit.store import COLUMNS, MAX_STORED_JSON_DEPTH, canonical_json, sha256_hex
from leukorules.audit.verify import verify_log

PATIENTS: list[dict[str, object]] = [
    {"leukoencephalopathy_type": "post_infectious", "corticosteroid_response": "not_responding"},
    {"leukoencephalopathy_type": "pml", "hiv_positive": True},
    {},
]
DEEP = "[" * 100_000 + "]" * 100_000
# Characters a terminal acts on: ESC (colours, cursor, titles), BEL, CR, DEL, C1 CSI, and a
# right-to-left override that reorders what is shown.
CONTROL = "\x1b]0;owned\x07\x1b[2J\r\x7f\x9b31m\u202e"


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with watchdog(120):
        yield


@cache
def _template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="leukorules-hostile-audit-"))
    path = folder / "decisions.db"
    policy = load_policy()
    for number, raw in enumerate(PATIENTS, 1):
        evaluation = policy.evaluate(raw, trace=number == 1)
        log_decision(path, evaluation, raw, policy.sources, user=f"dr.{number}", case="c")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A fresh copy of a log of three decisions of the bundled policy."""
    path = tmp_path / "decisions.db"
    shutil.copy(_template(), path)
    return path


def tamper(path: Path, statement: str, params: tuple[object, ...] = ()) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    for trigger in ("decision_no_update", "decision_no_delete"):
        connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    connection.execute(statement, params)
    connection.close()


def rehash(path: Path) -> None:
    """Recompute every row hash and link, and the head record, as a careful forger would."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DROP TRIGGER IF EXISTS decision_no_update")
    connection.row_factory = sqlite3.Row
    previous = "0" * 64
    for values in connection.execute("SELECT * FROM decision ORDER BY seq").fetchall():
        content = {c: values[c] for c in COLUMNS if c != "row_hash"}
        content["redacted"] = bool(content["redacted"])
        content["prev_hash"] = previous
        content["format"] = "leukorules-decision-v1"
        try:
            digest = sha256_hex(canonical_json(content))
        except (TypeError, ValueError):  # a column of a type JSON cannot hold: leave it
            digest = "f" * 64
        connection.execute(
            "UPDATE decision SET prev_hash = ?, row_hash = ? WHERE seq = ?",
            (previous, digest, values["seq"]),
        )
        previous = digest
    connection.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (previous,))
    connection.close()


def audit(path: Path, *args: str) -> tuple[int, str]:
    result = leukorules("audit", *args, "--db", str(path))
    return result.exit_code, result.output


ALL_COMMANDS: list[tuple[str, ...]] = [
    ("verify",),
    ("verify", "--format", "json"),
    ("list",),
    ("list", "--format", "json"),
    ("list", "--fired", "approach.supportive_care"),
    ("show", "2"),
    ("show", "2", "--format", "json"),
    ("show", "2", "--facts", "--result"),
    ("show", "2", "--facts", "--result", "--format", "json"),
    ("replay", "2"),
]


# --- deeply nested JSON -------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["result", "facts", "policy_sources", "fired"])
def test_deeply_nested_json_in_any_column_names_the_row(db: Path, column: str) -> None:
    """The example of the issue is `result`; the other JSON columns are its siblings."""
    tamper(db, f"UPDATE decision SET {column} = ? WHERE seq = 2", (DEEP,))
    rehash(db)
    for args in ALL_COMMANDS:
        status, output = audit(db, *args)
        assert "Traceback" not in output and "RecursionError" not in output
        if status != 0:
            assert "decision #2" in output or "row #2" in output, (args, output)
    status, output = audit(db, "show", "2", "--facts")  # reads every JSON column
    assert status == 1
    assert "decision #2" in output and "nested too deeply" in output


def test_a_result_just_deeper_than_the_bound_is_refused_and_one_within_is_read(db: Path) -> None:
    shallow = "[" * (MAX_STORED_JSON_DEPTH - 1) + "]" * (MAX_STORED_JSON_DEPTH - 1)
    deep = "[" * (MAX_STORED_JSON_DEPTH + 1) + "]" * (MAX_STORED_JSON_DEPTH + 1)
    tamper(
        db, "UPDATE decision SET facts = ? WHERE seq = 1", (json.dumps({"a": json.loads(shallow)}),)
    )
    tamper(db, "UPDATE decision SET facts = ? WHERE seq = 3", (deep,))
    rehash(db)
    assert audit(db, "show", "1", "--facts")[0] == 0
    status, output = audit(db, "show", "3", "--facts")
    assert status == 1
    assert "decision #3: its stored facts is unreadable: nested too deeply" in output


def test_list_marks_a_row_whose_result_is_unreadable(db: Path) -> None:
    tamper(db, "UPDATE decision SET result = ? WHERE seq = 2", (DEEP,))
    status, output = audit(db, "list")
    assert status == 0
    assert re.search(r"^2 .*\(result unreadable\)$", output, re.M)
    assert "warning: decision #2: its stored result is unreadable: nested too deeply" in output
    status, output = audit(db, "list", "--format", "json")
    assert status == 1 and "decision #2: its stored result is unreadable" in output


# --- verify: insertions before the first row ----------------------------------------------------


def _insert_copy_of_row_1(path: Path, seq: int) -> None:
    columns = ", ".join(f'"{c}"' for c in COLUMNS if c not in ("seq", "row_hash"))
    tamper(
        path,
        f"INSERT INTO decision (seq, {columns}, row_hash) "
        f"SELECT ?, {columns}, 'x' || row_hash FROM decision WHERE seq = 1",
        (seq,),
    )


@pytest.mark.parametrize("seq", [0, -5])
def test_a_row_inserted_before_the_first_is_named_an_insertion(db: Path, seq: int) -> None:
    _insert_copy_of_row_1(db, seq)
    report = verify_log(db)
    assert (
        report.problem == f"row #{seq} was inserted before the first row (the chain starts at #1)"
    )
    assert report.problem_row == seq
    status, output = audit(db, "verify")
    assert status == 1 and "deleted" not in output and "inserted before the first row" in output


def test_a_careful_forgers_row_before_the_first_is_still_an_insertion(db: Path) -> None:
    _insert_copy_of_row_1(db, 0)
    rehash(db)  # row 0 now links to the genesis hash and row 1 to row 0: a consistent chain
    assert verify_log(db).problem == (
        "row #0 was inserted before the first row (the chain starts at #1)"
    )


# --- list --fired on a damaged `fired` ----------------------------------------------------------


@pytest.mark.parametrize("fired", ["{", "not json", '{"a": "approach.supportive_care"}', "[1,"])
def test_list_fired_names_the_row_whose_fired_column_is_damaged(db: Path, fired: str) -> None:
    tamper(db, "UPDATE decision SET fired = ? WHERE seq = 2", (fired,))
    status, output = audit(db, "list", "--fired", "approach.supportive_care")
    assert status == 1
    assert "decision #2: its list of fired rules is unreadable" in output
    assert "cannot read it" not in output  # the message that blamed the whole file


def test_list_fired_still_filters_intact_rows(db: Path) -> None:
    status, output = audit(db, "list", "--fired", "adem.plasma_exchange")
    assert status == 0 and output.splitlines()[-1] == "1 decision(s)"
    status, output = audit(db, "list", "--fired", "no.such_rule")
    assert status == 0 and output.strip() == "no decisions match"


def test_a_blob_in_fired_names_the_row(db: Path) -> None:
    tamper(db, "UPDATE decision SET fired = X'00ff' WHERE seq = 3")
    status, output = audit(db, "list", "--fired", "approach.supportive_care")
    assert status == 1 and "#3" in output and "cannot read it" not in output


# --- control characters -------------------------------------------------------------------------


def _no_raw_control(output: str) -> None:
    """No character a terminal acts on: controls (but the line break), format characters such
    as bidirectional overrides, line and paragraph separators."""
    acting = {"Cc", "Cf", "Zl", "Zp"}
    raw = [ch for ch in output if ch != "\n" and unicodedata.category(ch) in acting]
    assert raw == [], raw


def test_control_characters_from_a_tampered_row_never_reach_the_terminal(db: Path) -> None:
    tamper(db, "UPDATE decision SET user = ?, policy_version = ? WHERE seq = 2", (CONTROL, CONTROL))
    result = json.loads(open_log(db).row(2).result)
    result["recommendations"][0]["action"] = CONTROL
    result["recommendations"][0]["rule"] = CONTROL
    result = {CONTROL: 1, **result}  # the first difference replay names is this key
    tamper(db, "UPDATE decision SET result = ? WHERE seq = 2", (json.dumps(result),))
    rehash(db)
    status, output = audit(db, "replay", "2")
    assert status == 1 and "NOT reproduced: $.\\x1b]0;owned" in output
    _no_raw_control(output)
    tamper(db, "UPDATE decision SET facts = ? WHERE seq = 2", (json.dumps({"note": CONTROL}),))
    rehash(db)
    for args in ALL_COMMANDS:
        status, output = audit(db, *args)
        _no_raw_control(output)
        assert status in (0, 1), (args, output)
    status, output = audit(db, "show", "2", "--facts", "--result", "--format", "json")
    shown = json.loads(output)
    assert shown["user"] == CONTROL and shown["facts"] == {"note": CONTROL}  # same JSON values
    status, output = audit(db, "list")
    assert "\\x1b]0;owned\\x07" in output  # escaped as error messages escape them


def test_json_output_of_an_intact_log_is_unchanged_by_the_escaping(db: Path) -> None:
    status, output = audit(db, "show", "1", "--format", "json", "--result")
    assert status == 0
    data = json.loads(output)
    assert output.rstrip("\n") == json.dumps(data, indent=2, ensure_ascii=False)


# --- fuzzing the rows ---------------------------------------------------------------------------

_JSONISH = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "{", "[1,", "null", "[]", "{}", '{"recommendations": 5}', DEEP, CONTROL]),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    ).map(json.dumps),
)
# SQLite stores integers in 64 bits; a tamperer cannot write a wider one into the file.
_SQLITE_INTEGERS = st.integers(-(2**63), 2**63 - 1)
_VALUE = st.one_of(_JSONISH, st.none(), _SQLITE_INTEGERS, st.binary(max_size=8), st.floats())
_EDITABLE = [c for c in COLUMNS if c not in ("row_hash", "prev_hash")]


@settings(max_examples=examples(40))
@given(st.dictionaries(st.sampled_from(_EDITABLE), _VALUE, min_size=1, max_size=4), st.booleans())
@example({"result": DEEP}, True)
@example({"seq": 0}, False)
@example({"fired": "{"}, False)
@example({"logged_at": "", "facts": None}, True)  # found by the fuzzer: replay asserted
def test_any_edit_of_a_row_gives_messages_never_a_traceback(
    edits: dict[str, object], rehashed: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "decisions.db"
        shutil.copy(_template(), path)
        assignments = ", ".join(f'"{c}" = ?' for c in edits)
        try:
            tamper(path, f"UPDATE decision SET {assignments} WHERE seq = 2", tuple(edits.values()))
        except sqlite3.IntegrityError:
            return  # a seq or row hash that collides with another row: SQLite refuses the edit
        if rehashed:
            rehash(path)
        for args in ALL_COMMANDS:
            status, output = audit(path, *args)
            assert status in (0, 1), (args, output)
            _no_raw_control(output)
