"""The decision log: logging, the hash chain under tampering, list/show/replay, bad files."""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import leukorules

from leukorules import load_policy
from leukorules.audit import AuditError, Query, engine_code_sha256, log_decision, open_log
from leukorules.audit.replay import first_difference, replay_decision
from leukorules.audit.store import canonical_json, sha256_hex
from leukorules.audit.verify import verify_log
from leukorules.engine.compile import CompiledPolicy
from leukorules.result import Evaluation

MAIN_RULES = """
policy demo.audit {
  title "Audit demo"
  version "2.0"
}

evidence 1 { citation "Trial <2020>" grade strong }

include "shared/facts.rules"

section "Treatment" {
  rule treat.first {
    statement "Adults with severe disease get drug A."
    evidence 1
    when age >= 18 and severity == severe
    recommend "Drug A"
    strength first_line
  }
  rule treat.second {
    statement "Drug B after drug A fails."
    evidence 1
    when drug_a_failed
    recommend "Drug B"
    strength recommended
    after treat.first
  }
  rule treat.note {
    statement "Mild disease needs no drug."
    evidence 1
    when severity == mild
    note
  }
}
"""

FACTS_RULES = """
fact age: integer in 0..120 "Age in years"
fact severity: enum {mild, severe} "Severity"
fact drug_a_failed: bool "Drug A failed"
fact comment: string "Free text"
"""

PATIENT = {"age": 54, "severity": "severe", "drug_a_failed": True, "comment": "SECRET-VALUE-42"}


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    (folder / "shared").mkdir(parents=True)
    (folder / "main.rules").write_text(MAIN_RULES, encoding="utf-8")
    (folder / "shared" / "facts.rules").write_text(FACTS_RULES, encoding="utf-8")
    return folder


@pytest.fixture
def policy(policy_dir: Path) -> CompiledPolicy:
    return load_policy(policy_dir)


def evaluate(policy: CompiledPolicy, raw: dict[str, object], trace: bool = True) -> Evaluation:
    values, problems = policy.check_facts(raw)
    assert not problems
    return policy.evaluate(values, trace=trace)


@pytest.fixture
def db(tmp_path: Path, policy: CompiledPolicy) -> Path:
    """A log with five decisions: different patients, users and cases, one redacted."""
    path = tmp_path / "decisions.db"
    patients: list[tuple[dict[str, object], str | None, str | None, bool]] = [
        (PATIENT, "dr.a", "case-1", False),
        ({"age": 30, "severity": "mild"}, "dr.b", "case-2", False),
        ({"age": 70}, "dr.a", None, False),
        (PATIENT, None, "case-4", True),
        ({"age": 40, "severity": "severe", "drug_a_failed": False}, "dr.c", "case-5", False),
    ]
    for raw, user, case, redact in patients:
        ev = evaluate(policy, raw, trace=user != "dr.c")
        log_decision(path, ev, raw, policy.sources, user=user, case=case, redact=redact)
    return path


def tamper(path: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    """What someone with write access to the file could do: drop the guards, then edit."""
    connection = sqlite3.connect(path, isolation_level=None)
    for trigger in ("decision_no_update", "decision_no_delete", "source_no_update"):
        connection.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in statements:
        connection.execute(statement, params if "?" in statement else ())
    connection.close()


def rehash_from(path: Path, first: int) -> None:
    """Recompute every row hash and link from row `first` on, as a careful forger would."""
    with open_log(path) as log:
        rows = list(log.rows())
    previous = rows[first - 2].row_hash if first > 1 else "0" * 64
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DROP TRIGGER IF EXISTS decision_no_update")
    for row in rows[first - 1 :]:
        content = row.content()
        content["prev_hash"] = previous
        digest = sha256_hex(canonical_json(content))
        connection.execute(
            "UPDATE decision SET prev_hash = ?, row_hash = ? WHERE seq = ?",
            (previous, digest, row.seq),
        )
        previous = digest
    connection.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (previous,))
    connection.close()


# --- logging ---------------------------------------------------------------------------------


def test_logged_rows_hold_everything(db: Path, policy: CompiledPolicy) -> None:
    with open_log(db) as log:
        rows = list(log.rows())
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    first = rows[0]
    assert first.prev_hash == "0" * 64
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
    assert all(r.computed_hash() == r.row_hash for r in rows)
    assert first.logged_at.endswith("Z") and first.logged_at[10] == "T"
    assert (first.user, first.case) == ("dr.a", "case-1")
    assert (first.policy_id, first.policy_version) == ("demo.audit", "2.0")
    assert first.policy_sha256 == policy.policy.sha256
    assert first.engine_code == engine_code_sha256()
    assert json.loads(first.facts or "") == PATIENT
    ev = evaluate(policy, PATIENT)
    assert first.result == ev.to_json()
    assert first.facts_sha256 == ev.facts_sha256
    assert first.fired_rules() == ["treat.first", "treat.second"]
    rels = sorted(s.rel for s in first.sources())
    assert rels == ["main.rules", "shared/facts.rules"]
    redacted = rows[3]
    assert redacted.redacted and redacted.facts is None
    assert redacted.facts_sha256 == first.facts_sha256
    assert "SECRET-VALUE-42" not in (redacted.facts or "")


def test_sources_are_stored_once(db: Path) -> None:
    connection = sqlite3.connect(db)
    count = connection.execute("SELECT count(*) FROM source").fetchone()[0]
    connection.close()
    assert count == 2


def test_rows_cannot_be_changed_through_sqlite(db: Path) -> None:
    connection = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("UPDATE decision SET user = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("DELETE FROM decision WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("DELETE FROM source")
    connection.close()


def test_sources_must_be_the_evaluated_ones(
    tmp_path: Path, policy_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_policy(policy_dir)
    ev = evaluate(policy, PATIENT)
    target = tmp_path / "x.db"
    wrong = {"main.rules": MAIN_RULES + "# edited\n", "shared/facts.rules": FACTS_RULES}
    with pytest.raises(AuditError, match="evaluated content was not given"):
        log_decision(target, ev, PATIENT, wrong)
    monkeypatch.chdir(policy_dir)  # without contents, the files are read where they are listed
    (policy_dir / "main.rules").write_text(MAIN_RULES + "\n# edited\n", encoding="utf-8")
    with pytest.raises(AuditError, match="has changed since it was evaluated"):
        log_decision(target, ev, PATIENT, None)
    assert not target.exists()
    (policy_dir / "main.rules").write_text(MAIN_RULES, encoding="utf-8")
    assert log_decision(target, ev, PATIENT, None).seq == 1


def test_labels_and_facts_are_checked(tmp_path: Path, policy: CompiledPolicy) -> None:
    ev = evaluate(policy, PATIENT)
    with pytest.raises(AuditError, match="control characters"):
        log_decision(tmp_path / "x.db", ev, PATIENT, policy.sources, user="a\nb")
    with pytest.raises(AuditError, match="longer than"):
        log_decision(tmp_path / "x.db", ev, PATIENT, policy.sources, case="c" * 201)
    with pytest.raises(AuditError, match="no facts given"):
        log_decision(tmp_path / "x.db", ev, None, policy.sources)
    with pytest.raises(AuditError, match="JSON"):
        log_decision(tmp_path / "x.db", ev, {"age": float("nan")}, policy.sources)


# --- verify ----------------------------------------------------------------------------------


def test_clean_log_verifies(db: Path) -> None:
    report = verify_log(db)
    assert report.ok and report.rows == 5 and report.head_seq == 5
    result = leukorules("audit", "verify", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "5 row(s) checked, hash chain intact" in result.output
    assert report.head_hash in result.output
    data = json.loads(leukorules("audit", "verify", "--db", str(db), "--format", "json").output)
    assert data["ok"] is True and data["rows_checked"] == 5


Tamper = Callable[[Path], None]

TAMPERING: list[tuple[str, Tamper, int | None, str]] = [
    (
        "altered facts",
        lambda p: tamper(p, "UPDATE decision SET facts = '{\"age\":55}' WHERE seq = 2"),
        2,
        "row #2 was altered",
    ),
    (
        "altered result",
        lambda p: tamper(p, "UPDATE decision SET result = replace(result, 'Drug A', 'Drug Z')"),
        1,
        "row #1 was altered",
    ),
    (
        "altered label",
        lambda p: tamper(p, "UPDATE decision SET user = 'dr.x' WHERE seq = 3"),
        3,
        "row #3 was altered",
    ),
    (
        "altered time",
        lambda p: tamper(p, "UPDATE decision SET logged_at = '2020-01-01T00:00:00.000000Z'"),
        1,
        "row #1 was altered",
    ),
    (
        "wrong column type",
        lambda p: tamper(p, "UPDATE decision SET redacted = 7 WHERE seq = 4"),
        4,
        "row #4 was altered",
    ),
    (
        "deleted middle row",
        lambda p: tamper(p, "DELETE FROM decision WHERE seq = 3"),
        3,
        "row #3 was deleted",
    ),
    (
        "deleted first rows",
        lambda p: tamper(p, "DELETE FROM decision WHERE seq <= 2"),
        1,
        "rows #1 to #2 were deleted",
    ),
    (
        "deleted last row",
        lambda p: tamper(p, "DELETE FROM decision WHERE seq = 5"),
        5,
        "row #5 was deleted from the end",
    ),
    (
        "altered then re-hashed",
        lambda p: (
            tamper(p, "UPDATE decision SET user = 'dr.x' WHERE seq = 2"),
            rehash_from_single(p, 2),
        )[-1],
        3,
        "row #3 does not link to row #2",
    ),
    (
        "deleted then renumbered and re-hashed",
        lambda p: (
            tamper(
                p,
                "DELETE FROM decision WHERE seq = 2",
                "UPDATE decision SET seq = seq - 1 WHERE seq > 2",
                "UPDATE meta SET value = '4' WHERE key = 'head_seq'",
            ),
            rehash_from_single(p, 2, also_later=False),
        )[-1],
        2,
        "row #2 does not link to row #1",
    ),
    (
        "row appended by hand with a valid hash",
        lambda p: append_forged_row(p),
        6,
        "row #6 was inserted at the end without leukorules",
    ),
    (
        "row appended by hand",
        lambda p: tamper(
            p,
            'INSERT INTO decision SELECT 6, logged_at, user, "case", policy_id, '
            "policy_version, policy_sha256, policy_sources, facts_sha256, facts, redacted, "
            "result, fired, engine_version, engine_code, prev_hash, 'x' || row_hash "
            "FROM decision WHERE seq = 5",
        ),
        6,
        "row #6 was altered",
    ),
    (
        "altered policy source",
        lambda p: tamper(p, "UPDATE source SET content = CAST('policy x {}' AS BLOB)"),
        1,
        "policy source",
    ),
    (
        "altered head record",
        lambda p: tamper(p, "UPDATE meta SET value = 'zz' WHERE key = 'head_seq'"),
        None,
        "head record is missing or altered",
    ),
]


def append_forged_row(path: Path) -> None:
    """A row copied from the last one, correctly numbered, linked and hashed, added by hand."""
    with open_log(path) as log:
        last = log.row(5)
    content = last.content()
    content.update(seq=6, prev_hash=last.row_hash, user="forger")
    digest = sha256_hex(canonical_json(content))
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(
        "INSERT INTO decision SELECT 6, logged_at, 'forger', \"case\", policy_id, "
        "policy_version, policy_sha256, policy_sources, facts_sha256, facts, redacted, result, "
        "fired, engine_version, engine_code, ?, ? FROM decision WHERE seq = 5",
        (last.row_hash, digest),
    )
    connection.close()


def rehash_from_single(path: Path, seq: int, also_later: bool = False) -> None:
    """Re-hash only row `seq` (a forger who fixed the altered row but not the rows after it)."""
    with open_log(path) as log:
        row = next(r for r in log.rows() if r.seq == seq)
    digest = sha256_hex(canonical_json(row.content()))
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("UPDATE decision SET row_hash = ? WHERE seq = ?", (digest, seq))
    connection.close()
    if also_later:
        rehash_from(path, seq + 1)


@pytest.mark.parametrize(
    ("name", "change", "row", "message"), TAMPERING, ids=[t[0] for t in TAMPERING]
)
def test_verify_names_the_first_broken_row(
    db: Path, name: str, change: Tamper, row: int | None, message: str
) -> None:
    change(db)
    report = verify_log(db)
    assert not report.ok, name
    assert report.problem_row == row
    assert message in (report.problem or "")
    result = leukorules("audit", "verify", "--db", str(db))
    assert result.exit_code == 1
    assert "BROKEN" in result.output and message in result.output


def test_a_full_rewrite_is_caught_by_an_anchor_and_by_replay(db: Path) -> None:
    anchor = verify_log(db).head_hash
    assert verify_log(db, anchor).anchor_row == 5
    tamper(db, "UPDATE decision SET result = replace(result, '\"Drug B\"', '\"Drug Q\"')")
    rehash_from(db, 1)
    assert verify_log(db).ok  # a consistent forgery of the whole file passes the chain alone...
    report = verify_log(db, anchor)  # ...but not an anchor kept elsewhere
    assert not report.ok and "anchored row hash" in (report.problem or "")
    result = leukorules("audit", "verify", "--db", str(db), "--anchor", anchor)
    assert result.exit_code == 1
    with open_log(db) as log:  # and replay shows the forged result was never computed
        replay = replay_decision(log, 1)
    assert not replay.reproduced
    assert replay.difference is not None and "$.recommendations[1].action" in replay.difference
    bad = leukorules("audit", "verify", "--db", str(db), "--anchor", "not-a-hash")
    assert bad.exit_code == 2


# --- bad files ---------------------------------------------------------------------------------


def test_foreign_and_corrupt_files_are_refused_untouched(
    tmp_path: Path, policy: CompiledPolicy
) -> None:
    ev = evaluate(policy, PATIENT)
    text_file = tmp_path / "notes.db"
    text_file.write_bytes(b"patient notes, not a database\n" * 10)
    other_app = tmp_path / "other.db"
    connection = sqlite3.connect(other_app)
    connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    connection.execute("INSERT INTO invoices VALUES (1, 9.5)")
    connection.commit()
    connection.close()
    corrupt = tmp_path / "corrupt.db"
    log_decision(corrupt, ev, PATIENT, policy.sources)
    data = bytearray(corrupt.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # smash the schema page after the header
    corrupt.write_bytes(bytes(data))
    for path, expected in (
        (text_file, "not a SQLite database"),
        (other_app, "SQLite database of another program"),
        (corrupt, "damaged or not a database"),
    ):
        before = path.read_bytes()
        with pytest.raises(AuditError, match=expected):
            log_decision(path, ev, PATIENT, policy.sources)
        for args in (("verify",), ("list",), ("show", "1"), ("replay", "1")):
            result = leukorules("audit", *args, "--db", str(path))
            assert result.exit_code == 1, (args, result.output)
            assert expected in result.output and "Traceback" not in result.output
        assert path.read_bytes() == before
        assert not Path(f"{path}-wal").exists() or path == corrupt


def test_missing_empty_and_folder_logs(tmp_path: Path, policy: CompiledPolicy) -> None:
    missing = leukorules("audit", "list", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert not (tmp_path / "none.db").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    result = leukorules("audit", "verify", "--db", str(empty))
    assert result.exit_code == 1 and "is empty" in result.output
    folder = leukorules("audit", "verify", "--db", str(tmp_path))
    assert folder.exit_code == 1 and "is a folder" in folder.output
    no_parent = tmp_path / "no" / "such" / "log.db"
    with pytest.raises(AuditError, match="does not exist"):
        log_decision(no_parent, evaluate(policy, PATIENT), PATIENT, policy.sources)
    log_decision(empty, evaluate(policy, PATIENT), PATIENT, policy.sources)  # a 0-byte file
    assert verify_log(empty).rows == 1
    no_db = leukorules("audit", "list", env={"LEUKORULES_LOG": None})
    assert no_db.exit_code == 2 and "--db" in no_db.output


def test_newer_format_is_refused(db: Path, policy: CompiledPolicy) -> None:
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(AuditError, match="newer than this leukorules"):
        log_decision(db, evaluate(policy, PATIENT), PATIENT, policy.sources)
    assert "newer" in leukorules("audit", "list", "--db", str(db)).output


# --- list and show ---------------------------------------------------------------------------


def test_list_filters(db: Path) -> None:
    def ids(**filters: object) -> list[int]:
        with open_log(db) as log:
            return [row.seq for row in log.rows(Query(**filters))]

    assert ids() == [1, 2, 3, 4, 5]
    assert ids(fired="treat.second") == [1, 4]
    assert ids(fired="treat.note") == [2]
    assert ids(user="dr.a") == [1, 3]
    assert ids(case="case-4") == [4]
    assert ids(policy_version="2.0") == [1, 2, 3, 4, 5]
    assert ids(policy_version="1.0") == []
    assert ids(limit=2) == [4, 5]
    assert ids(fired="treat.first", limit=1) == [5]
    assert ids(since="2000-01-01T00:00:00.000000Z", until="2999-01-01T00:00:00.000000Z") == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert ids(since="2999-01-01T00:00:00.000000Z") == []


def test_list_shows_identifiers_and_recommendations_in_full(
    tmp_path: Path, policy: CompiledPolicy
) -> None:
    """An auditor tells two cases apart by every character: nothing is cut short."""
    path = tmp_path / "long.db"
    user, case = "dr.someone-with-a-long-name", "case-2026-000000000042-b"
    log_decision(path, evaluate(policy, PATIENT), PATIENT, policy.sources, user=user, case=case)
    listed = leukorules("audit", "list", "--db", str(path)).output
    recommendations = evaluate(policy, PATIENT).recommendations
    assert user in listed and case in listed and "…" not in listed
    assert ", ".join(r.rule for r in recommendations) in listed


def test_list_cli(db: Path) -> None:
    result = leukorules("audit", "list", "--db", str(db), "--fired", "treat.second")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["#", "logged", "(UTC)"]
    assert len(lines) == 4 and lines[-1] == "2 decision(s)"
    assert "(redacted)" in lines[2]
    today = leukorules("audit", "list", "--db", str(db), "--until", "2000-01-01")
    assert today.output.strip() == "no decisions match"
    since = leukorules("audit", "list", "--db", str(db), "--since", "2000-01-01T10:00+02:00")
    assert since.output.splitlines()[-1] == "5 decision(s)"
    data = json.loads(leukorules("audit", "list", "--db", str(db), "--format", "json").output)
    assert [d["id"] for d in data["decisions"]] == [1, 2, 3, 4, 5]
    assert data["decisions"][0]["recommendations"] == ["treat.first", "treat.second"]
    bad_date = leukorules("audit", "list", "--db", str(db), "--since", "yesterday")
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output
    for output in (result.output, json.dumps(data)):
        assert "SECRET-VALUE-42" not in output


def test_show_never_prints_facts_unless_asked(db: Path) -> None:
    plain = leukorules("audit", "show", "1", "--db", str(db))
    assert plain.exit_code == 0, plain.output
    assert "decision #1" in plain.output and "treat.first: Drug A (first-line)" in plain.output
    assert "SECRET-VALUE-42" not in plain.output
    as_json = json.loads(
        leukorules("audit", "show", "#1", "--db", str(db), "--format", "json").output
    )
    assert "facts" not in as_json and "result" not in as_json and as_json["row_hash_ok"]
    assert "SECRET-VALUE-42" not in json.dumps(as_json)
    with_facts = leukorules("audit", "show", "1", "--db", str(db), "--facts")
    assert "SECRET-VALUE-42" in with_facts.output
    with_result = leukorules("audit", "show", "1", "--db", str(db), "--result", "--format", "json")
    assert json.loads(with_result.output)["result"]["policy"]["id"] == "demo.audit"
    redacted = leukorules("audit", "show", "4", "--db", str(db), "--facts")
    assert "redacted" in redacted.output and "SECRET-VALUE-42" not in redacted.output


def test_show_and_replay_of_unknown_decisions(db: Path) -> None:
    for command in ("show", "replay"):
        missing = leukorules("audit", command, "17", "--db", str(db))
        assert missing.exit_code == 1
        assert "decision #17 is not in" in missing.output and "#1 to #5" in missing.output
        bad = leukorules("audit", command, "abc", "--db", str(db))
        assert bad.exit_code == 2 and "not a decision number" in bad.output
        zero = leukorules("audit", command, "0", "--db", str(db))
        assert zero.exit_code == 2


# --- replay ------------------------------------------------------------------------------------


def test_replay_reproduces_every_decision_byte_for_byte(db: Path, policy_dir: Path) -> None:
    # the policy files change after the decisions were logged: replay uses the stored text
    (policy_dir / "main.rules").write_text(
        MAIN_RULES.replace('recommend "Drug A"', 'recommend "Drug A2"'), encoding="utf-8"
    )
    (policy_dir / "shared" / "facts.rules").unlink()
    with open_log(db) as log:
        for seq in (1, 2, 3, 5):
            replay = replay_decision(log, seq)
            assert replay.reproduced, (seq, replay.difference)
            assert replay.replayed == log.row(seq).result
    result = leukorules("audit", "replay", "2", "--db", str(db))
    assert result.exit_code == 0
    assert "reproduced: the replayed result is byte-identical" in result.output


def test_replay_of_a_redacted_decision_needs_the_right_facts(db: Path, tmp_path: Path) -> None:
    needs = leukorules("audit", "replay", "4", "--db", str(db))
    assert needs.exit_code == 1 and "redacted" in needs.output
    facts_file = tmp_path / "patient.json"
    facts_file.write_text(json.dumps(PATIENT), encoding="utf-8")
    good = leukorules("audit", "replay", "4", "--db", str(db), "--facts", str(facts_file))
    assert good.exit_code == 0, good.output
    other = tmp_path / "other.yaml"
    other.write_text("age: 54\nseverity: severe\ndrug_a_failed: true\n", encoding="utf-8")
    wrong = leukorules("audit", "replay", "4", "--db", str(db), "--facts", str(other))
    assert wrong.exit_code == 1 and "facts given do not match" in wrong.output
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    unreadable = leukorules("audit", "replay", "4", "--db", str(db), "--facts", str(broken))
    assert unreadable.exit_code == 1 and "Traceback" not in unreadable.output


def test_replay_reports_where_a_result_differs(db: Path) -> None:
    tamper(db, "UPDATE decision SET result = replace(result, '\"Drug B\"', '\"Drug C\"')")
    rehash_from(db, 1)
    result = leukorules("audit", "replay", "1", "--db", str(db))
    assert result.exit_code == 1
    assert "NOT reproduced: $.recommendations[1].action: the values differ" in result.output
    assert "Drug C" not in result.output  # values may be patient data: shown on request only
    shown = leukorules("audit", "replay", "1", "--db", str(db), "--show-diff")
    assert 'logged "Drug C", replayed "Drug B"' in shown.output


def test_replay_refuses_altered_rows_and_sources(db: Path) -> None:
    tamper(db, "UPDATE decision SET user = 'x' WHERE seq = 1")
    with open_log(db) as log, pytest.raises(AuditError, match="fails its own hash"):
        replay_decision(log, 1)
    tamper(db, "UPDATE source SET content = CAST('x' AS BLOB)")
    with open_log(db) as log, pytest.raises(AuditError, match="altered in the log"):
        replay_decision(log, 2)


def test_replay_refuses_paths_escaping_the_replay_folder(db: Path) -> None:
    with open_log(db) as log:
        row = log.row(1)
    sources = json.loads(row.policy_sources)
    sources[0]["rel"] = "../../outside.rules"
    tamper(
        db,
        "UPDATE decision SET policy_sources = ? WHERE seq = 1",
        params=(json.dumps(sources),),
    )
    rehash_from(db, 1)
    with open_log(db) as log, pytest.raises(AuditError, match="not a plain relative path"):
        replay_decision(log, 1)


def test_first_difference() -> None:
    assert first_difference({"a": [1, 2]}, {"a": [1, 2]}) is None
    assert first_difference({"a": [1, 2]}, {"a": [1, 3]}) == (
        "$.a[1]: the values differ",
        "logged 2, replayed 3",
    )
    assert first_difference({"a": 1}, {"b": 1})[0] == (
        "$.a: present in the logged result, absent in the replay"
    )
    assert first_difference([1], [1, 2])[0] == "$: 1 item(s) logged, 2 replayed"
    assert first_difference({"a": 1, "b": 2}, {"b": 2, "a": 1})[0] == (
        "$: the same keys in a different order"
    )
    assert first_difference(1, 1.0) is not None


# --- the evaluate command ----------------------------------------------------------------------


def test_evaluate_logs_and_renders_html(tmp_path: Path, policy_dir: Path) -> None:
    facts = tmp_path / "patient.json"
    facts.write_text(json.dumps(PATIENT), encoding="utf-8")
    log = tmp_path / "log.db"
    args = ["evaluate", str(facts), "--policy", str(policy_dir), "--format", "json"]
    first = leukorules(*args, "--log", str(log), "--user", "dr.a", "--case", "7")
    assert first.exit_code == 0, first.output
    result = json.loads(first.stdout)
    assert "logged as decision #1" in first.stderr
    second = leukorules(*args, "--redact", env={"LEUKORULES_LOG": str(log)})
    assert second.exit_code == 0, second.output
    with open_log(log) as opened:
        rows = list(opened.rows())
        assert [(r.user, r.case, r.redacted) for r in rows] == [
            ("dr.a", "7", False),
            (None, None, True),
        ]
        assert json.loads(rows[0].result) == result
        assert replay_decision(opened, 1).reproduced
    html = leukorules("evaluate", str(facts), "--policy", str(policy_dir), "--format", "html")
    assert html.exit_code == 0 and html.stdout.startswith("<!DOCTYPE html>")
    usage = leukorules(*args, "--redact", env={"LEUKORULES_LOG": ""})
    assert usage.exit_code == 2 and "--log" in usage.output
    foreign = tmp_path / "foreign.db"
    foreign.write_text("not a log", encoding="utf-8")
    refused = leukorules(*args, "--log", str(foreign))
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "not logged" in refused.stderr and foreign.read_text(encoding="utf-8") == "not a log"


def test_the_independent_verifier_in_the_docs_works(db: Path, tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text("utf-8")
    section = docs[docs.index("### Verifying without leukorules") :]
    code = section[section.index("```python\n") + len("```python\n") :]
    script = tmp_path / "verify_standalone.py"
    script.write_text(code[: code.index("```")], encoding="utf-8")
    clean = subprocess.run([sys.executable, str(script), str(db)], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == f"5 rows, head {verify_log(db).head_hash}"
    tamper(db, "UPDATE decision SET user = 'dr.x' WHERE seq = 3")
    broken = subprocess.run([sys.executable, str(script), str(db)], capture_output=True, text=True)
    assert broken.returncode != 0 and "row #3 altered" in broken.stderr


def test_garbage_in_a_rehashed_row_gives_messages_not_tracebacks(db: Path) -> None:
    tamper(
        db,
        "UPDATE decision SET result = '[1, {', fired = '{', policy_sources = 'x' WHERE seq = 2",
        "UPDATE decision SET result = '[1, 2]', fired = '[]' WHERE seq = 3",
    )
    rehash_from(db, 2)
    assert verify_log(db).problem == "row #2 was altered: its source list is unreadable"
    for args in (
        ("show", "2"),
        ("show", "2", "--format", "json"),
        ("replay", "2"),
        ("list", "--format", "json"),
    ):
        result = leukorules("audit", *args, "--db", str(db))
        assert result.exit_code == 1, (args, result.output)
        assert "altered" in result.output and "Traceback" not in result.output
    shown = leukorules("audit", "show", "3", "--db", str(db))
    assert shown.exit_code == 0 and "decision #3" in shown.output
    replayed = leukorules("audit", "replay", "3", "--db", str(db))
    assert replayed.exit_code == 1 and "NOT reproduced" in replayed.output
    listed = leukorules("audit", "list", "--db", str(db))
    assert listed.exit_code == 0 and listed.output.splitlines()[-1] == "5 decision(s)"
