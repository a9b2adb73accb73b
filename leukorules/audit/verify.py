"""`audit verify`: recompute a decision log's hash chain and name the first row that breaks it.

Input: a decision log. Output: a `Verification`: how many rows were checked, the head of the
chain, and the first problem found (None for an intact log).

What is checked, in order, stopping the chain walk at the first break:
- SQLite's own consistency check of the file (a damaged page is reported as such);
- for every row, in sequence order: sequence numbers run 1, 2, 3, ... without gaps (a gap is a
  deleted row; a number below 1 is a row inserted before the first); the row's columns have the
  types the log writes; its stored hash equals the sha256 of its canonical content (otherwise the
  row was altered); its link equals the previous row's hash (otherwise a row before it was
  altered and re-hashed, or rows were inserted or deleted there); facts are present exactly when
  the row is not redacted;
- the head record (last sequence number and hash, updated in the same transaction as every
  append) matches the last row: rows removed from the end, or added without leukorules, show here;
- every policy source a row refers to is stored and its bytes still hash to its key;
- optionally an anchor: a row hash published earlier (printed by a previous verify) must still be
  in the chain. A chain kept in the same file as its rows cannot prove by itself that nobody
  rewrote the whole file; an anchor kept elsewhere (a ticket, a signed e-mail) can.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from leukorules.audit import store
from leukorules.audit.store import AuditError, Row


@dataclass
class Verification:
    path: Path
    rows: int = 0
    head_seq: int = 0
    head_hash: str = store.GENESIS_HASH
    problem: str | None = None
    problem_row: int | None = None
    anchor_row: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def fail(self, message: str, row: int | None) -> None:
        if self.problem is None:
            self.problem = message
            self.problem_row = row


def verify_log(path: Path, anchor: str | None = None) -> Verification:
    log = store.open_for_reading(path)
    try:
        with store.translated(path, "read it"):
            return _verify(log, path, anchor)
    finally:
        log.close()


def _verify(connection: sqlite3.Connection, path: Path, anchor: str | None) -> Verification:
    report = Verification(path)
    damage = [str(r[0]) for r in connection.execute("PRAGMA quick_check")]
    if damage != ["ok"]:
        report.fail("the database file is damaged: " + "; ".join(damage[:5]), None)
        return report
    sources_used: dict[str, int] = {}
    expected_seq = 1
    previous: Row | None = None
    cursor = connection.execute(f"{store._SELECT} ORDER BY seq")
    for values in cursor:
        try:
            row = store._row(values)
        except store.MalformedRow as error:
            report.fail(f"row #{error.seq} was altered: {error.message}", _int_or_none(error.seq))
            return report
        if row.seq < expected_seq:  # only the first row can be: numbers are unique
            report.fail(
                f"row #{row.seq} was inserted before the first row (the chain starts at #1)",
                row.seq,
            )
            return report
        if row.seq != expected_seq:
            missing = (
                f"row #{expected_seq} was deleted"
                if row.seq == expected_seq + 1
                else f"rows #{expected_seq} to #{row.seq - 1} were deleted"
            )
            report.fail(
                f"{missing}: the sequence jumps from #{expected_seq - 1} to #{row.seq}",
                expected_seq,
            )
            return report
        if row.computed_hash() != row.row_hash:
            report.fail(
                f"row #{row.seq} was altered: its content no longer matches its hash", row.seq
            )
            return report
        expected_link = previous.row_hash if previous is not None else store.GENESIS_HASH
        if row.prev_hash != expected_link:
            if previous is None:
                message = (
                    f"row #{row.seq} does not start the chain (its link should be the genesis "
                    "hash): rows before it were deleted, or it was inserted"
                )
            else:
                message = (
                    f"row #{row.seq} does not link to row #{previous.seq}: row #{previous.seq} "
                    f"was altered and re-hashed, or rows between #{previous.seq} and "
                    f"#{row.seq} were deleted or inserted"
                )
            report.fail(message, row.seq)
            return report
        if row.redacted != (row.facts is None):
            report.fail(f"row #{row.seq} was altered: facts and redaction flag disagree", row.seq)
            return report
        if anchor is not None and row.row_hash == anchor:
            report.anchor_row = row.seq
        try:
            for source in row.sources():
                sources_used.setdefault(source.sha256, row.seq)
        except AuditError:
            report.fail(f"row #{row.seq} was altered: its source list is unreadable", row.seq)
            return report
        report.rows += 1
        report.head_seq, report.head_hash = row.seq, row.row_hash
        previous = row
        expected_seq += 1
    _check_head(connection, report)
    if report.ok:
        _check_sources(connection, report, sources_used)
    if report.ok and anchor is not None and report.anchor_row is None:
        report.fail(
            f"the anchored row hash {anchor} is not in the chain: the log was rewritten or "
            "truncated after the anchor was taken, or the anchor belongs to another log",
            None,
        )
    return report


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _check_head(connection: sqlite3.Connection, report: Verification) -> None:
    meta = store.meta(connection)
    try:
        head_seq = int(meta.get("head_seq", ""))
    except ValueError:
        report.fail("the log's head record is missing or altered", None)
        return
    head_hash = meta.get("head_hash", "")
    if head_seq > report.head_seq:
        first = report.head_seq + 1
        which = f"row #{first} was" if first == head_seq else f"rows #{first} to #{head_seq} were"
        report.fail(
            f"{which} deleted from the end of the log "
            f"(its head record says the chain ends at #{head_seq})",
            first,
        )
    elif head_seq < report.head_seq:
        first = head_seq + 1
        report.fail(
            f"row #{first} was inserted at the end without leukorules "
            f"(the head record says the chain ends at #{head_seq})",
            first,
        )
    elif head_hash != report.head_hash:
        report.fail(
            f"row #{head_seq}, the last one, was altered and re-hashed "
            "(it does not match the log's head record)",
            head_seq or None,
        )


def _check_sources(
    connection: sqlite3.Connection, report: Verification, used: dict[str, int]
) -> None:
    for digest, first_row in sorted(used.items(), key=lambda item: item[1]):
        content = store.source_content(connection, digest)
        if content is None:
            report.fail(
                f"policy source {digest[:12]}… used by row #{first_row} is missing from the log",
                first_row,
            )
            return
        if store.sha256_hex(content) != digest:
            report.fail(
                f"policy source {digest[:12]}… used by row #{first_row} was altered",
                first_row,
            )
            return


def verification_json(report: Verification) -> str:
    return json.dumps(
        {
            "log": str(report.path),
            "ok": report.ok,
            "rows_checked": report.rows,
            "head": {"seq": report.head_seq, "sha256": report.head_hash},
            "problem": report.problem,
            "problem_row": report.problem_row,
            "anchor_row": report.anchor_row,
        },
        indent=2,
    )


__all__ = ["AuditError", "Verification", "verification_json", "verify_log"]
