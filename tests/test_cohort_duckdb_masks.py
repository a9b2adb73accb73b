"""The duckdb engine's rule bit masks -> rule-id lists and counts (`cohort/duckdb_masks.py`),
against lists read bit by bit in Python; policies of up to 63 rules use one mask column, larger
ones several (the SQL side, `CompiledSQL.fired_masks`, is compared with DuckDB itself)."""

from __future__ import annotations

import random

import pytest

pa = pytest.importorskip("pyarrow")
duckdb = pytest.importorskip("duckdb")

from leukorules.cohort.duckdb import DuckDBDialect  # noqa: E402
from leukorules.cohort.duckdb_masks import RuleMasks  # noqa: E402
from leukorules.cohort.sql import MASK_BITS, _bit_masks  # noqa: E402


def masks_batch(rows: list[list[bool]], prefix: str) -> object:
    """Rows of per-rule flags as the mask columns the query returns (computed in Python)."""
    rules = len(rows[0]) if rows else 0
    columns = {}
    for number, start in enumerate(range(0, rules, MASK_BITS)):
        columns[f"{prefix}{number}"] = pa.array(
            [
                sum(1 << i for i, flag in enumerate(row[start : start + MASK_BITS]) if flag)
                for row in rows
            ],
            pa.int64(),
        )
    return pa.RecordBatch.from_pydict(columns) if columns else pa.RecordBatch.from_pydict({})


@pytest.mark.parametrize("rules", [1, 5, 63, 64, 130])
def test_masks_become_the_lists_and_counts_of_their_bits(rules: int) -> None:
    chance = random.Random(rules)
    ids = [f"r.{n}" for n in range(rules)]
    rows = [[chance.random() < 0.4 for _ in range(rules)] for _ in range(500)]
    rows[0] = [True] * rules
    rows[1] = [False] * rules
    batch = masks_batch(rows, "fired_mask")
    evaluated = [chance.random() < 0.8 for _ in rows]
    reader = RuleMasks(pa.array(ids, pa.string()), "fired_mask")

    lists, counts = reader.read(batch)
    expected = [[ids[j] for j in range(rules) if row[j]] for row in rows]
    assert lists.to_pylist() == expected
    assert lists.type.value_type == pa.dictionary(pa.int32(), pa.string())
    assert dict(counts) == {ids[j]: n for j in range(rules) if (n := sum(row[j] for row in rows))}

    import numpy as np

    _, some = reader.read(batch, np.array(evaluated))
    kept = [row for row, keep in zip(rows, evaluated, strict=True) if keep]
    assert dict(some) == {ids[j]: n for j in range(rules) if (n := sum(row[j] for row in kept))}


@pytest.mark.parametrize("rules", [3, 63, 64, 130])
def test_the_sql_masks_set_the_bits_of_true_conditions(rules: int) -> None:
    """`_bit_masks` in DuckDB: bit i of mask k is set when condition 63k + i is true (not false,
    not NULL), and the masks read back as the list of those conditions."""
    chance = random.Random(rules)
    values = [chance.choice([True, False, None]) for _ in range(rules)]
    conditions = [{True: "TRUE", False: "FALSE", None: "NULL"}[v] for v in values]
    masks = _bit_masks(conditions, DuckDBDialect())
    assert len(masks) == -(-rules // MASK_BITS)
    con = duckdb.connect(":memory:")
    try:
        select = ", ".join(f"{mask} AS fired_mask{k}" for k, mask in enumerate(masks))
        table = con.sql(f"SELECT {select}").to_arrow_table()
    finally:
        con.close()
    ids = [f"r.{n}" for n in range(rules)]
    lists, _ = RuleMasks(pa.array(ids, pa.string()), "fired_mask").read(table.to_batches()[0])
    assert lists.to_pylist() == [[ids[j] for j in range(rules) if values[j] is True]]
