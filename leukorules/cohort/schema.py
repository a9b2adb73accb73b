"""Arrow column types of facts and the shape of the results, shared by both engines.

Input: a checked policy. Output: pyarrow types and schemas. The results schema is the contract of
`leukorules batch`: whichever engine evaluated the cohort, the results file has these columns.
"""

from __future__ import annotations

from typing import Any

from leukorules import model as m

MISSING_MESSAGE = (
    "reading and writing Parquet needs the `pyarrow` package; install it with "
    "`pip install 'leukorules[cohort]'`"
)


def import_pyarrow() -> Any:
    try:
        import pyarrow  # type: ignore[import-untyped]
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ImportError(MISSING_MESSAGE) from error
    return pyarrow


def fact_arrow_type(fact_type: m.FactType, *, fractional: bool = False) -> Any:
    pa = import_pyarrow()
    match fact_type.kind:
        case "bool":
            return pa.bool_()
        case "integer":
            return pa.float64() if fractional else pa.int64()
        case "number":
            return pa.float64()
        case "date":
            return pa.date32()
        case "set":
            return pa.list_(pa.string())
        case _:
            return pa.string()


def derived_fractional(policy: m.Policy, fact: m.Fact) -> bool:
    """An integer derived fact that some rule gives a fractional value is stored as a double."""
    if fact.type.kind != "integer":
        return False
    for rule in policy.rules:
        c = rule.conclusion
        if (
            isinstance(c, m.Derive)
            and c.fact == fact.name
            and isinstance(c.value, float)
            and not c.value.is_integer()
        ):
            return True
    return False


def results_schema(policy: m.Policy) -> Any:
    """row (1-based record number in the cohort), id, fired, undetermined, derived (a struct with
    one typed field per derived fact, null when undetermined; absent when the policy has none)."""
    pa = import_pyarrow()
    fields = [
        pa.field("row", pa.int64(), nullable=False),
        pa.field("id", pa.string()),
        pa.field("fired", pa.list_(pa.string()), nullable=False),
        pa.field("undetermined", pa.list_(pa.string()), nullable=False),
    ]
    derived = [
        pa.field(f.name, fact_arrow_type(f.type, fractional=derived_fractional(policy, f)))
        for f in policy.derived_facts
    ]
    if derived:
        fields.append(pa.field("derived", pa.struct(derived), nullable=False))
    return pa.schema(fields)


def errors_schema() -> Any:
    pa = import_pyarrow()
    return pa.schema(
        [
            pa.field("row", pa.int64(), nullable=False),
            pa.field("id", pa.string()),
            pa.field("reason", pa.string(), nullable=False),
        ]
    )
