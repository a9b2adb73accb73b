"""The duckdb engine's rule columns -> rule-id lists and counts (`cohort/duckdb_rules.py`),
against lists read value by value in Python: columns with and without NULLs, sliced batches (an
Arrow bitmap that starts inside a byte), a column DuckDB typed NULL, and the columns as DuckDB's
own Arrow stream hands them over."""

from __future__ import annotations

import random

import pytest

pa = pytest.importorskip("pyarrow")
duckdb = pytest.importorskip("duckdb")
np = pytest.importorskip("numpy")

from leukorules.cohort.duckdb_rules import RuleColumns  # noqa: E402

Outcome = bool | None


def rules_batch(rows: list[list[Outcome]], rules: int) -> object:
    """Rows of per-rule outcomes (True fired, False not, None undetermined) as rule columns."""
    columns = {f"r{j}": pa.array([row[j] for row in rows], pa.bool_()) for j in range(rules)}
    columns["row"] = pa.array(range(len(rows)), pa.int64())
    return pa.RecordBatch.from_pydict(columns)


def expected_lists(rows: list[list[Outcome]], ids: list[str], value: Outcome) -> list[list[str]]:
    return [[ids[j] for j, outcome in enumerate(row) if outcome is value] for row in rows]


def expected_counts(rows: list[list[Outcome]], ids: list[str], value: Outcome) -> dict[str, int]:
    counts = {ids[j]: sum(row[j] is value for row in rows) for j in range(len(ids))}
    return {rule: n for rule, n in counts.items() if n}


@pytest.mark.parametrize("rules", [1, 5, 63, 64, 130])
def test_rule_columns_become_the_lists_and_counts_of_their_outcomes(rules: int) -> None:
    chance = random.Random(rules)
    ids = [f"r.{n}" for n in range(rules)]
    rows: list[list[Outcome]] = [
        [chance.choice([True, False, None]) for _ in range(rules)] for _ in range(500)
    ]
    rows[0] = [True] * rules
    rows[1] = [None] * rules
    for row in rows:  # rule 0 is never undetermined: its column has no validity bitmap
        row[0] = bool(row[0])
    batch = rules_batch(rows, rules)
    reader = RuleColumns(pa.array(ids, pa.string()), "r")

    # The whole batch, and slices of it that start inside a byte of the bitmaps.
    for start, length in ((0, 500), (3, 250), (13, 1), (499, 1), (7, 0)):
        part, part_rows = batch.slice(start, length), rows[start : start + length]
        bits = reader.unpack(part)
        for kind, value in ((bits.fired, True), (bits.undetermined, None)):
            lists = reader.lists(kind)
            assert lists.to_pylist() == expected_lists(part_rows, ids, value)
            assert lists.type.value_type == pa.dictionary(pa.int32(), pa.string())
            assert dict(reader.counts(kind)) == expected_counts(part_rows, ids, value)

    evaluated = [chance.random() < 0.8 for _ in rows]
    kept = [row for row, keep in zip(rows, evaluated, strict=True) if keep]
    bits = reader.unpack(batch)
    assert dict(reader.counts(bits.fired, np.array(evaluated))) == expected_counts(kept, ids, True)
    some = reader.counts(bits.undetermined, np.array(evaluated))
    assert dict(some) == expected_counts(kept, ids, None)


def test_an_empty_batch_has_no_rules() -> None:
    reader = RuleColumns(pa.array(["a", "b"], pa.string()), "r")
    empty = pa.RecordBatch.from_pydict(
        {"r0": pa.array([], pa.bool_()), "r1": pa.array([], pa.null())}
    )
    bits = reader.unpack(empty)
    assert reader.lists(bits.fired).to_pylist() == []
    assert dict(reader.counts(bits.undetermined)) == {}


def test_duckdb_rule_columns_read_back_as_their_outcomes() -> None:
    """The columns as DuckDB's Arrow stream hands them over (several small batches), including
    a rule whose column DuckDB types NULL."""
    chance = random.Random(7)
    outcomes = [[chance.choice(["TRUE", "FALSE", "NULL"]) for _ in range(3)] for _ in range(50)]
    values = ", ".join(f"({', '.join(row)})" for row in outcomes)
    con = duckdb.connect(":memory:")
    try:
        query = f"SELECT r0, r1, r2, NULL AS r3 FROM (VALUES {values}) AS t(r0, r1, r2)"
        batches = list(con.sql(query).to_arrow_reader(16))
    finally:
        con.close()
    ids = ["a", "b", "c", "d"]
    reader = RuleColumns(pa.array(ids, pa.string()), "r")
    read = {"TRUE": True, "FALSE": False, "NULL": None}
    rows: list[list[Outcome]] = [[read[v] for v in row] + [None] for row in outcomes]
    fired, undetermined = [], []
    for batch in batches:
        bits = reader.unpack(batch)
        fired += reader.lists(bits.fired).to_pylist()
        undetermined += reader.lists(bits.undetermined).to_pylist()
    assert fired == expected_lists(rows, ids, True)
    assert undetermined == expected_lists(rows, ids, None)
