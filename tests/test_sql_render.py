"""The cohort SQL as people read it: `render_sql` golden files, and layout that changes only
whitespace.

`tests/golden/compiled/policy.sql` is the query `leukorules batch --engine duckdb` runs for the
bundled policy on a Parquet cohort; `every_kind.*.sql` the queries for a small policy with a fact
of every kind, on JSON Lines and CSV cohorts (the decoding of raw values). `pytest
--update-golden` rewrites them; review the diff before committing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.golden import Golden
from support.policies import checked_paths

from leukorules.cohort.dialect import Dialect
from leukorules.cohort.duckdb import DuckDBDialect
from leukorules.cohort.query import build_query, canonical_source, render_sql
from leukorules.cohort.sqltext import indented, lay_out
from leukorules.syntax.grammar import bundled_policy_dir

GOLDEN = Path(__file__).resolve().parent / "golden" / "compiled"
EVERY_KIND = GOLDEN / "every_kind.rules"
# Tokens of SQL text, whitespace aside: literals and quoted identifiers whole.
TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|[()\[\],]|[^\s()\[\],'"]+""")


def test_bundled_policy_sql_is_unchanged(golden: Golden) -> None:
    text = render_sql(checked_paths(bundled_policy_dir()), DuckDBDialect())
    golden.check(GOLDEN / "policy.sql", text)


@pytest.mark.parametrize("cohort_format", ["jsonl", "csv"])
def test_decoding_sql_of_every_kind_is_unchanged(cohort_format: str, golden: Golden) -> None:
    text = render_sql(checked_paths(EVERY_KIND), DuckDBDialect(), cohort_format)  # type: ignore[arg-type]
    golden.check(GOLDEN / f"every_kind.{cohort_format}.sql", text)


@pytest.mark.parametrize("cohort_format", ["parquet", "jsonl", "csv"])
def test_render_is_the_built_query_laid_out(cohort_format: str) -> None:
    """Same tokens as the query a run executes, same bytes every time, short lines."""
    policy = checked_paths(EVERY_KIND)
    rendered = render_sql(policy, DuckDBDialect(), cohort_format)  # type: ignore[arg-type]
    assert rendered == render_sql(checked_paths(EVERY_KIND), DuckDBDialect(), cohort_format)  # type: ignore[arg-type]
    body = "\n".join(line for line in rendered.split("\n") if not line.startswith("-- "))
    source = canonical_source(policy, cohort_format, DuckDBDialect().reads_text_files)  # type: ignore[arg-type]
    executed = build_query(policy, source, DuckDBDialect()).text
    assert TOKENS.findall(body) == TOKENS.findall(executed + ";")
    # the string literal with a line break inside is kept whole, not re-indented
    assert "'it''s (a \"label\")\non two lines'" in body


def test_layout_breaks_only_between_tokens() -> None:
    text = (
        "SELECT CASE WHEN (a = 'x, (y' AND \"b,c\" IN ('1', '2', '3')) OR f(g(h, i), [j, k]) "
        "THEN 'one' WHEN z THEN 'two\nlines' ELSE NULL END AS \"col\", other_column_name_here"
    )
    narrow = lay_out(text, width=30)
    assert narrow != text
    assert TOKENS.findall(narrow) == TOKENS.findall(text)
    assert "'two\nlines'" in narrow and "'x, (y'" in narrow
    assert lay_out(text, width=1000) == text


def test_unbalanced_lines_are_left_alone() -> None:
    text = "x AS (" + " y," * 60 + "\n)"
    assert lay_out(text, width=20) == text


def test_indentation_skips_line_breaks_inside_literals() -> None:
    assert indented("a\n'b\nc'\nd") == "  a\n  'b\nc'\n  d"


def test_a_dialect_without_lists_says_what_it_cannot_do() -> None:
    from leukorules.cohort.dialect import SQLCompileError

    with pytest.raises(SQLCompileError, match="the standard SQL dialect cannot"):
        render_sql(checked_paths(EVERY_KIND), Dialect())


def test_laid_out_query_gives_the_same_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from leukorules.cohort.duckdb import connect
    from leukorules.cohort.query import CohortSource

    policy = checked_paths(EVERY_KIND)
    table = pa.table(
        {
            "id": ["a", "b", " ", "d"],
            "diagnosis": ["pml", "nope", None, "adem"],
            "age": pa.array([40, 5, None, 200], pa.int64()),
            "seizures": [True, False, None, None],
            "symptoms": pa.array([["fever"], [], None, ["x"]], pa.list_(pa.string())),
            "label": ['it\'s (a "label")\non two lines', None, "x", None],
        }
    )
    path = tmp_path / "c.parquet"
    pq.write_table(table, path)
    kinds = {"id": "string", "diagnosis": "string", "age": "integer", "seizures": "bool"}
    kinds |= {"symptoms": "string_list", "label": "string"}
    facts = ("diagnosis", "age", "seizures", "symptoms", "label")
    source = CohortSource("parquet", "id", facts, False, str(path), kinds)
    query = build_query(policy, source, DuckDBDialect())
    con = connect(threads=1)
    try:
        compact = con.sql(query.text + ' ORDER BY "row"').fetchall()
        laid_out = con.sql(lay_out(query.text, width=40) + ' ORDER BY "row"').fetchall()
    finally:
        con.close()
    assert compact == laid_out
    assert [row[3] is None for row in compact] == [True, False, False, False]


def test_a_message_in_sql_quotes_its_text_and_splices_its_sql_fields() -> None:
    from leukorules.cohort.dialect import SQLExpr
    from leukorules.messages import ROW_NO_ID, ROW_OUTSIDE_RANGE

    d = Dialect()
    assert d.message(ROW_NO_ID, column="it's") == "'the record has no `it''s`'"
    text = d.message(
        ROW_OUTSIDE_RANGE, name="w", value=SQLExpr('"w"'), unit=" [kg]", low="0", high="4"
    )
    assert text == """('`w` = ' || "w" || ' [kg] is outside its declared range 0..4')"""
