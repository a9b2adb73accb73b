"""How a cohort file's columns map to a policy's facts, checked before any record is read.

Input: a checked policy, the cohort's format, the id column's name, the file's columns (CSV header
or Parquet schema; none for JSON Lines) and whether extra columns may be ignored. Output: `Layout`
(the id column and the fact columns, in file order) and the reasons the cohort as a whole cannot
be evaluated (`Layout.header_problems`, `parquet_column_problems`), which stop a run before it
starts. Both engines read the cohort through the same `Layout`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leukorules import model as m
from leukorules.cohort.readers import CohortFormat
from leukorules.diagnostics import did_you_mean


class Layout:
    """How a cohort's columns map to the policy: the id column and the fact columns."""

    def __init__(
        self,
        policy: m.Policy,
        fmt: CohortFormat,
        id_column: str,
        columns: Sequence[str] | None,
        ignore_extra: bool,
    ) -> None:
        self.policy = policy
        self.format = fmt
        self.id_column = id_column
        self.ignore_extra = ignore_extra
        self.inputs = {f.name: f for f in policy.input_facts}
        self.columns = tuple(columns) if columns is not None else None
        # For CSV and Parquet: the fact columns present, in file order (others are dropped).
        self.fact_columns: tuple[str, ...] = ()
        if self.columns is not None:
            self.fact_columns = tuple(c for c in self.columns if c in self.inputs)

    def header_problems(self) -> list[str]:
        """Reasons the cohort as a whole cannot be evaluated (CSV and Parquet headers)."""
        problems: list[str] = []
        if self.id_column in self.policy.facts:
            problems.append(
                f"the id column `{self.id_column}` is also a fact of the policy; "
                "name the id column with --id-column"
            )
        if self.columns is None:
            return problems
        if self.id_column not in self.columns:
            hint = did_you_mean(self.id_column, self.columns)
            problems.append(
                f"the cohort has no `{self.id_column}` column"
                + (f" ({hint})" if hint else "")
                + "; name the id column with --id-column"
            )
        extra = [c for c in self.columns if c != self.id_column and c not in self.inputs]
        if extra and not self.ignore_extra:
            for name in extra:
                fact = self.policy.facts.get(name)
                if fact is not None and fact.derived:
                    problems.append(
                        f"column `{name}` is a derived fact; the policy's rules derive it"
                    )
                else:
                    hint = did_you_mean(name, list(self.inputs))
                    problems.append(
                        f"column `{name}` is not a fact of this policy"
                        + (f" ({hint})" if hint else "")
                    )
            problems.append("pass --ignore-extra to evaluate the cohort without these columns")
        return problems


# --- Parquet columns ------------------------------------------------------------------------


def arrow_kind(arrow_type: Any) -> str:
    """A coarse name of an Arrow type: bool, integer, unsigned, floating, decimal, string, date,
    string_list, or `other:<type>`."""
    import pyarrow.types as t  # type: ignore[import-untyped]

    if t.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if t.is_boolean(arrow_type):
        return "bool"
    if t.is_signed_integer(arrow_type):
        return "integer"
    if t.is_unsigned_integer(arrow_type):
        return "unsigned"
    if t.is_floating(arrow_type):
        return "floating"
    if t.is_decimal(arrow_type):
        return "decimal"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "string"
    if t.is_date(arrow_type):
        return "date"
    if (t.is_list(arrow_type) or t.is_large_list(arrow_type)) and arrow_kind(
        arrow_type.value_type
    ) == "string":
        return "string_list"
    return f"other:{arrow_type}"


# Which Parquet column types can hold each kind of fact. Any other type would reject every row
# that has a value, so the run refuses the cohort up front instead.
PARQUET_TYPES: dict[str, frozenset[str]] = {
    "bool": frozenset({"bool"}),
    "integer": frozenset({"integer", "unsigned", "floating"}),
    "number": frozenset({"integer", "unsigned", "floating", "decimal"}),
    "enum": frozenset({"string"}),
    "string": frozenset({"string"}),
    "date": frozenset({"date", "string"}),
    "set": frozenset({"string_list"}),
}
PARQUET_ID_TYPES = frozenset({"string", "integer", "unsigned"})


def parquet_column_problems(layout: Layout, schema: Any) -> list[str]:
    problems = []
    id_kind = arrow_kind(schema.field(layout.id_column).type)
    if id_kind not in PARQUET_ID_TYPES:
        problems.append(
            f"the id column `{layout.id_column}` is {schema.field(layout.id_column).type}; "
            "it must hold text or whole numbers"
        )
    for name in layout.fact_columns:
        fact = layout.inputs[name]
        arrow_type = schema.field(name).type
        if arrow_kind(arrow_type) not in PARQUET_TYPES[fact.type.kind]:
            problems.append(
                f"column `{name}` is {arrow_type}, which cannot hold {fact.type.describe()} values"
            )
    return problems
