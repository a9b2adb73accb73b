"""Compiled SQL conditions have exactly the Kleene truth of `leukorules.logic.evaluate`.

Random conditions over every fact kind and random patients (unknowns included) are evaluated by
DuckDB through the standard-SQL compiler and by the reference semantics, and must agree row by row.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.profiles import examples

from leukorules import model as m
from leukorules.logic import evaluate

pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

from leukorules.cohort.dialect import SQLCompileError  # noqa: E402
from leukorules.cohort.duckdb import DuckDBDialect, connect  # noqa: E402
from leukorules.cohort.schema import fact_arrow_type  # noqa: E402
from leukorules.cohort.sql import condition_sql, value_checks  # noqa: E402

FACTS = {
    "b1": m.FactType("bool"),
    "b2": m.FactType("bool"),
    "n": m.FactType("integer", minimum=0, maximum=100),
    "n2": m.FactType("integer"),
    "x": m.FactType("number", unit="kg", minimum=0.0, maximum=10.0),
    "e": m.FactType("enum", ("a", "b", "c")),
    "e2": m.FactType("enum", ("a", "b", "c")),
    "s": m.FactType("set", ("p", "q", "r")),
    "t": m.FactType("string"),
    "d": m.FactType("date"),
    "d2": m.FactType("date"),
    # names that are SQL keywords must survive quoting
    "select": m.FactType("bool"),
    "order": m.FactType("integer"),
}
STRINGS = ["", "plain", "it's", 'say "hi"', "back\\slash", "ünïcode", "a'); DROP TABLE x; --"]
DATES = [datetime.date(2020, 1, 1), datetime.date(2020, 1, 2), datetime.date(1999, 12, 31)]
ORDERING = ["<", "<=", ">", ">="]
EQUALITY = ["==", "!="]

ints = st.integers(-2, 5)
floats = st.sampled_from([-1.5, 0.0, 0.1, 0.3, 1.0, 2.5, 5.0])
numbers = st.one_of(ints, floats)


def values_for(name: str) -> st.SearchStrategy[object]:
    kind = FACTS[name].kind
    if kind == "bool":
        return st.booleans()
    if kind == "integer":
        return ints
    if kind == "number":
        return numbers
    if kind == "enum":
        return st.sampled_from(FACTS[name].values)
    if kind == "string":
        return st.sampled_from(STRINGS)
    if kind == "date":
        return st.sampled_from(DATES)
    return st.frozensets(st.sampled_from(FACTS[name].values))


def compares(name: str) -> st.SearchStrategy[m.Expr]:
    kind = FACTS[name].kind
    ops = EQUALITY + ORDERING if kind in ("integer", "number", "date") else EQUALITY
    literal = st.booleans() if kind == "bool" else values_for(name)
    return st.builds(m.Compare, st.just(name), st.sampled_from(ops), literal)


def leaves() -> st.SearchStrategy[m.Expr]:
    scalar = [n for n, t in FACTS.items() if t.kind != "set"]
    return st.one_of(
        st.builds(m.Const, st.booleans()),
        st.sampled_from(scalar).flatmap(compares),
        st.builds(
            m.CompareFacts,
            st.sampled_from(["n", "x", "order"]),
            st.sampled_from(EQUALITY + ORDERING),
            st.sampled_from(["n2", "x", "n"]),
        ),
        st.builds(m.CompareFacts, st.just("e"), st.sampled_from(EQUALITY), st.just("e2")),
        st.builds(m.CompareFacts, st.just("d"), st.sampled_from(ORDERING), st.just("d2")),
        st.sampled_from(["e", "n", "t", "x", "d"]).flatmap(
            lambda name: st.builds(
                m.Member,
                st.just(name),
                st.lists(values_for(name), min_size=1, max_size=3).map(tuple),
                st.booleans(),
            )
        ),
        st.builds(m.Contains, st.just("s"), st.sampled_from(FACTS["s"].values)),
        st.builds(m.Known, st.sampled_from(list(FACTS)), st.booleans()),
    )


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(m.And, st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(m.Or, st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(m.Not, inner),
    ),
    max_leaves=8,
)

patients = st.fixed_dictionaries({name: st.one_of(st.none(), values_for(name)) for name in FACTS})


def arrow_rows(rows: list[dict[str, object]]) -> object:
    columns = {}
    for name, fact_type in FACTS.items():
        values = [r[name] for r in rows]
        if fact_type.kind == "set":
            values = [None if v is None else sorted(v) for v in values]  # type: ignore[arg-type]
        if fact_type.kind == "number":
            values = [None if v is None else float(v) for v in values]  # type: ignore[arg-type]
        columns[name] = pa.array(values, type=fact_arrow_type(fact_type))
    return pa.table(columns)


_CONNECTION: list[object] = []


def shared_connection() -> object:
    if not _CONNECTION:
        _CONNECTION.append(connect(threads=1))
    return _CONNECTION[0]


def sql_truths(exprs: list[m.Expr], rows: list[dict[str, object]]) -> list[list[object]]:
    dialect = DuckDBDialect()
    con = shared_connection()
    con.register("patients", arrow_rows(rows))  # type: ignore[attr-defined]
    select = ", ".join(f"{condition_sql(e, dialect)} AS c{i}" for i, e in enumerate(exprs))
    result = con.execute(f"SELECT {select} FROM patients").fetchall()  # type: ignore[attr-defined]
    return [list(r) for r in result]


@settings(max_examples=examples(150))
@given(st.lists(conditions, min_size=1, max_size=6), st.lists(patients, min_size=1, max_size=8))
def test_sql_conditions_agree_with_kleene_reference(
    exprs: list[m.Expr], rows: list[dict[str, object]]
) -> None:
    got = sql_truths(exprs, rows)
    for row_index, row in enumerate(rows):
        expected = [evaluate(e, row) for e in exprs]
        assert got[row_index] == expected, (exprs, row)


def test_unknown_propagates_through_and_or_not() -> None:
    b1 = m.Compare("b1", "==", True)
    exprs = [
        m.And((b1, m.Const(False))),
        m.And((b1, m.Const(True))),
        m.Or((b1, m.Const(True))),
        m.Or((b1, m.Const(False))),
        m.Not(b1),
        m.Known("b1", True),
        m.Known("b1", False),
    ]
    row = {name: None for name in FACTS}
    assert sql_truths(exprs, [row]) == [[False, None, True, None, None, False, True]]


def test_strings_are_literals_not_sql() -> None:
    hostile = "x' OR '1'='1"
    expr = m.Compare("t", "==", hostile)
    text = condition_sql(expr, DuckDBDialect())
    assert "'x'' OR ''1''=''1'" in text
    rows = [{**{n: None for n in FACTS}, "t": hostile}, {**{n: None for n in FACTS}, "t": "x"}]
    assert sql_truths([expr], rows) == [[True], [False]]


def test_identifiers_are_validated_and_quoted() -> None:
    dialect = DuckDBDialect()
    assert dialect.ident("select") == '"select"'
    with pytest.raises(SQLCompileError):
        dialect.ident('bad"name')
    with pytest.raises(SQLCompileError):
        dialect.ident("a b")


def test_float_literals_are_doubles() -> None:
    dialect = DuckDBDialect()
    assert dialect.literal(0.1) == "0.1e0"
    assert dialect.literal(1e300) == "1e+300"
    with pytest.raises(SQLCompileError):
        dialect.literal(float("nan"))


def test_value_checks_flag_out_of_domain_values() -> None:
    dialect = DuckDBDialect()
    con = connect(threads=1)
    facts = {
        "e": m.Fact("e", FACTS["e"]),
        "s": m.Fact("s", FACTS["s"]),
        "n": m.Fact("n", FACTS["n"]),
        "x": m.Fact("x", FACTS["x"]),
    }
    table = pa.table(
        {
            "e": pa.array(["a", "z", None]),
            "s": pa.array([["p"], ["p", "zz"], []], type=pa.list_(pa.string())),
            "n": pa.array([5, 101, -1]),
            "x": pa.array([10.0, 0.0, 10.5]),
        }
    )
    con.register("patients", table)
    select = []
    for name, fact in facts.items():
        for i, (bad, _, reason) in enumerate(value_checks(fact, dialect.ident(name), dialect)):
            select.append(f"CASE WHEN {bad} THEN {reason} END AS {name}{i}")
    rows = con.execute("SELECT " + ", ".join(select) + " FROM patients").fetchall()
    assert rows[0] == (None, None, None, None)
    assert rows[1] == (
        "`z` is not an allowed value of `e`",
        "`s` holds a value that is not allowed",
        "`n` = 101 is outside its declared range 0..100",
        None,
    )
    assert rows[2] == (
        None,
        None,
        "`n` = -1 is outside its declared range 0..100",
        "`x` = 10.5 [kg] is outside its declared range 0..10",
    )
