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


def rule_id_type() -> Any:
    """The Arrow type of a rule id in the encoded results (`encoded_results_schema`): an index
    into the policy's rule ids (`rule_ids`)."""
    pa = import_pyarrow()
    return pa.dictionary(pa.int32(), pa.string())


def rule_ids(policy: m.Policy) -> Any:
    """The policy's rule ids, in its order, as an Arrow string array: the dictionary of every
    encoded rule list (`encoded_results_schema`)."""
    pa = import_pyarrow()
    return pa.array([rule.id for rule in policy.rules], pa.string())


def encoded_results_schema(policy: m.Policy) -> Any:
    """`results_schema` with the rule ids of `fired` and `undetermined` dictionary-encoded
    (`rule_id_type`, indices into `rule_ids`): how the duckdb engine makes the lists and how the
    Parquet results are written (no string is copied per row). The values are the same; read
    back from a results file, the columns have the types of `results_schema`."""
    pa = import_pyarrow()
    fields = []
    for item in results_schema(policy):
        if item.name in RULE_LISTS:
            item = pa.field(item.name, pa.list_(rule_id_type()), nullable=item.nullable)
        fields.append(item)
    return pa.schema(fields)


# The results columns that list rule ids.
RULE_LISTS = ("fired", "undetermined")


def errors_schema() -> Any:
    pa = import_pyarrow()
    return pa.schema(
        [
            pa.field("row", pa.int64(), nullable=False),
            pa.field("id", pa.string()),
            pa.field("reason", pa.string(), nullable=False),
        ]
    )


def conformed(data: Any, schema: Any) -> Any:
    """A table or record batch with the same column names as `schema`, in its types: as it is
    (relabelled with `schema`, no copy) when its columns already have them, else cast.

    Columns the duckdb engine hands over differ from the results schema only in being nullable;
    casting them would change nothing, and pyarrow casts through `pyarrow.compute`, whose import
    is about 50 ms of a run's start-up."""
    pa = import_pyarrow()
    same = data.schema.names == schema.names and all(
        column.type == field.type and (field.nullable or column.null_count == 0)
        for column, field in zip(data.columns, schema, strict=True)
    )
    if not same:
        return data.cast(schema)
    maker = pa.Table if isinstance(data, pa.Table) else pa.RecordBatch
    return maker.from_arrays(data.columns, schema=schema)
