"""Checked policy -> standard SQL: rule conditions, `after`/`overrides`, derived facts, row checks.

Input: a checked `Policy` and a `Dialect`. Output: `CompiledSQL`, a chain of common table
expressions over a relation of typed patient rows (one column per input fact, SQL NULL for
unknown) that adds, per rule, its condition and effective firing as three-valued booleans, and per
derived fact its value. SQL's AND/OR/NOT on NULL are exactly Kleene's tables (`leukorules.logic`),
so a condition compiles structurally. The semantics, mirrored from the python engine:

    pre(r)    = when(r) AND fired(p) for every p in r.after
    fired(r)  = pre(r) AND NOT (fired(o) OR ...) for every rule o that overrides r
    outcome   = fired | overridden (pre true, an overrider fired) | undetermined (NULL) | not_fired
    derived d = v when some fired rule derives d = v and every rule deriving another value of d
                is (definitely) not fired; NULL otherwise

It also gives the declared-domain checks of a typed value (`value_checks`: enum values, set
elements, ranges) as `RowCheck`s, the form every reason to reject a cohort row takes in SQL.

Everything here is standard SQL (CASE, COALESCE, IN, IS NULL, quoted identifiers, typed literals),
so the same text can run on another SQL engine. What has no standard spelling (a set column, a
list of rule ids) is asked of the `Dialect` (`leukorules.cohort.dialect`; DuckDB's is in
`leukorules.cohort.duckdb`). Identifiers are validated and quoted; every value is a typed literal,
strings with their quotes doubled: no text from a policy is ever spliced into SQL unescaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from leukorules import model as m
from leukorules.cohort.dialect import Dialect, SQLCompileError, SQLExpr
from leukorules.cohort.missing import (
    AllOf,
    AnyOf,
    DerivedNull,
    MissingPair,
    Null,
    Pair,
    Term,
    Unknown,
    pair_formulas,
)
from leukorules.diagnostics import Code, Message
from leukorules.engine.facts import contradiction_message
from leukorules.messages import (
    FACTS_CONTRADICT,
    ROW_OUTSIDE_RANGE,
    ROW_SET_VALUE_NOT_ALLOWED,
    ROW_VALUE_NOT_ALLOWED,
)
from leukorules.rulegraph import PolicyGraph

OUTCOMES = ("fired", "not_fired", "undetermined", "overridden")

# --- conditions ------------------------------------------------------------------------------


def condition_sql(expr: m.Expr, dialect: Dialect, column: Mapping[str, str] | None = None) -> str:
    """A SQL boolean expression with the Kleene truth of `expr`; NULL is unknown.

    `column` maps fact names to (already quoted) column expressions; by default a fact is read
    from the column of the same name.
    """

    def col(name: str) -> str:
        return column[name] if column is not None and name in column else dialect.ident(name)

    def build(node: m.Expr) -> str:
        match node:
            case m.Const(value=value):
                return dialect.boolean(value)
            case m.Compare(fact=name, op="==" | "!=" as op, value=bool() as value):
                # A boolean fact is its own truth value: `x = TRUE` is `x` (NULL stays NULL),
                # and a comparison per row fewer.
                return f"({col(name)})" if (op == "==") == value else f"(NOT {col(name)})"
            case m.Compare(fact=name, op=op, value=value):
                return f"({col(name)} {_sql_op(op)} {dialect.literal(value)})"
            case m.CompareFacts(left=left, op=op, right=right):
                return f"({col(left)} {_sql_op(op)} {col(right)})"
            case m.Member(fact=name, values=values, negated=negated):
                inside = ", ".join(dialect.literal(v) for v in values)
                return f"({col(name)} {'NOT IN' if negated else 'IN'} ({inside}))"
            case m.Contains(fact=name, value=value):
                return f"({dialect.set_contains(col(name), dialect.string(value))})"
            case m.Known(fact=name, known=known):
                return f"({col(name)} IS {'NOT NULL' if known else 'NULL'})"
            case m.And(items=items):
                return "(" + " AND ".join(build(i) for i in items) + ")" if items else "TRUE"
            case m.Or(items=items):
                return "(" + " OR ".join(build(i) for i in items) + ")" if items else "FALSE"
            case m.Not(item=item):
                return f"(NOT {build(item)})"
        raise SQLCompileError(f"not a condition: {node!r}")  # pragma: no cover

    return build(expr)


def _sql_op(op: str) -> str:
    return "<>" if op == "!=" else "=" if op == "==" else op


# --- row checks ------------------------------------------------------------------------------


class RowCheck(NamedTuple):
    """A reason to reject a cohort row, in SQL: a condition true when the row has the problem,
    the problem's diagnostic code, and an SQL string expression saying what it is."""

    condition: str
    code: Code
    reason: str


def row_check(condition: str, message: Message, dialect: Dialect, **fields: object) -> RowCheck:
    """The check reporting `message` where `condition` holds; fields as `Dialect.message`."""
    return RowCheck(condition, message.code, dialect.message(message, **fields))


def constraint_checks(policy: m.Policy, dialect: Dialect) -> list[RowCheck]:
    """One check per constraint of the policy, true where the row's typed facts break it
    (`when` true and `require` false; unknown never breaks one), in the policy's order and with
    the words of `leukorules.engine.facts`, which rejects the same patients."""
    checks = []
    for constraint in policy.constraints:
        when = condition_sql(constraint.when, dialect)
        require = condition_sql(constraint.require, dialect)
        broken = f"(COALESCE({when}, FALSE) AND NOT COALESCE({require}, TRUE))"
        message = contradiction_message(constraint, policy.facts)
        checks.append(row_check(broken, FACTS_CONTRADICT, dialect, why=message))
    return checks


def value_checks(fact: m.Fact, column: str, dialect: Dialect) -> list[RowCheck]:
    """The declared-domain checks (enum values, set elements, ranges) of a value decoded to its
    column type; a NULL value passes them all. Decoding itself is `leukorules.cohort.decode_sql`.
    Codes and wording follow `leukorules.engine.facts`.
    """
    checks: list[RowCheck] = []
    kind = fact.type.kind
    name = fact.name
    if kind == "enum":
        allowed = ", ".join(dialect.string(v) for v in fact.type.values)
        typed = dialect.enum_value(column, fact.type.values)
        outside = f"{column} NOT IN ({allowed})"
        if typed is not None:  # the same lookup `lr:checked` makes the column's value with
            outside = f"({column} IS NOT NULL AND {typed} IS NULL)"
        checks.append(
            row_check(
                outside,
                ROW_VALUE_NOT_ALLOWED,
                dialect,
                value=SQLExpr(column),
                name=name,
            )
        )
    elif kind == "set":
        outside = dialect.set_outside(column, fact.type.values)
        checks.append(row_check(outside, ROW_SET_VALUE_NOT_ALLOWED, dialect, name=name))
    elif kind in ("integer", "number"):
        low, high = fact.type.minimum, fact.type.maximum
        if low is not None and high is not None:
            checks.append(
                row_check(
                    f"({column} < {dialect.literal(low)} OR {column} > {dialect.literal(high)})",
                    ROW_OUTSIDE_RANGE,
                    dialect,
                    name=name,
                    value=SQLExpr(dialect.number_text(column, kind)),
                    unit=f" [{fact.type.unit}]" if fact.type.unit else "",
                    low=_bound_text(low),
                    high=_bound_text(high),
                )
            )
    return checks


def _bound_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


# --- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleColumns:
    """Where a rule's truth values live; `pre` is `fired` when nothing overrides the rule."""

    rule: m.Rule
    pre: str
    fired: str
    overriders: tuple[str, ...]  # quoted `fired` columns of the rules that override this one


@dataclass(frozen=True)
class CompiledSQL:
    policy: m.Policy
    dialect: Dialect
    source: str
    ctes: tuple[tuple[str, str], ...]
    rules: tuple[RuleColumns, ...]
    derived: Mapping[str, str] = field(default_factory=dict)  # derived fact -> quoted column
    missing: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (rule, fact) -> column
    # The missing pairs and their terms (`leukorules.cohort.missing`), with `missing` != "none".
    missing_terms: tuple[MissingPair, ...] = ()

    @property
    def last(self) -> str:
        return self.ctes[-1][0] if self.ctes else self.source

    def with_clause(self) -> str:
        if not self.ctes:
            return ""
        return "WITH " + ",\n".join(f"{name} AS (\n{body}\n)" for name, body in self.ctes) + "\n"

    def outcome(self, columns: RuleColumns) -> str:
        """The rule's outcome as one of the strings of `OUTCOMES`."""
        d = self.dialect
        lines = [f"CASE WHEN {columns.fired} THEN {d.string('fired')}"]
        if columns.overriders:
            any_overrider = " OR ".join(columns.overriders)
            lines.append(
                f"WHEN {columns.pre} AND COALESCE({any_overrider}, FALSE) "
                f"THEN {d.string('overridden')}"
            )
        lines.append(f"WHEN {columns.fired} IS NULL THEN {d.string('undetermined')}")
        lines.append(f"ELSE {d.string('not_fired')} END")
        return " ".join(lines)

    def fired_list(self) -> str:
        d = self.dialect
        return d.where_list([c.rule.id for c in self.rules], [c.fired for c in self.rules])

    def undetermined_list(self) -> str:
        d = self.dialect
        return d.where_list(
            [c.rule.id for c in self.rules], [f"{c.fired} IS NULL" for c in self.rules]
        )

    def missing_pairs(self) -> str:
        """A list of `rule fact` strings: the missing facts of every undetermined rule."""
        d = self.dialect
        return d.nonnull_list(
            [
                f"CASE WHEN {column} THEN {d.string(rule + ' ' + fact)} END"
                for (rule, fact), column in self.missing.items()
            ]
        )

    def missing_facts(self) -> str:
        """A list of the facts missing from at least one undetermined rule, each once."""
        d = self.dialect
        by_fact: dict[str, list[str]] = {}
        for (_, fact), column in self.missing.items():
            by_fact.setdefault(fact, []).append(column)
        return d.nonnull_list(
            [
                f"CASE WHEN {' OR '.join(columns)} THEN {d.string(fact)} END"
                for fact, columns in by_fact.items()
            ]
        )

    def query(self, select: Iterable[str], where: str | None = None) -> str:
        text = self.with_clause() + "SELECT " + ",\n  ".join(select) + f"\nFROM {self.last}"
        return text + (f"\nWHERE {where}" if where else "")


# How `compile_policy` gives the missing facts of undetermined rules: not at all, as a boolean
# column per (rule, fact) pair, or as the pairs' terms only (`CompiledSQL.missing_terms`), for
# the engine to evaluate on the row tests its query returns.
MissingForm = Literal["none", "columns", "terms"]


def compile_policy(
    policy: m.Policy, dialect: Dialect, source: str = "patients", missing: MissingForm = "none"
) -> CompiledSQL:
    """Compile every rule and derived fact into ordered CTEs over `source`.

    `source` must have one column per input fact, of `dialect.column_type`, NULL for unknown;
    other columns pass through unchanged. Each CTE adds the rules and derived facts whose
    inputs are all in earlier ones (a topological layering; the checker guarantees a DAG).
    With `missing` "columns", further CTEs add one boolean per (rule, input fact) pair that is
    true when the rule is undetermined and that unknown fact would help decide it (see
    `_missing`); with "columns" or "terms", `missing_terms` holds the pairs' formulas.
    """
    d = dialect
    overridden_by: dict[str, list[str]] = {}
    for rule in policy.rules:
        for target in rule.overrides:
            overridden_by.setdefault(target, []).append(rule.id)
    derivers: dict[str, list[m.Rule]] = {}
    for rule in policy.rules:
        if isinstance(rule.conclusion, m.Derive):
            derivers.setdefault(rule.conclusion.fact, []).append(rule)
    for fact in policy.derived_facts:
        if fact.type.kind == "set" and fact.name in derivers:
            raise SQLCompileError(f"derived set fact `{fact.name}` is not supported in SQL")

    # Layer every node (from 1): a rule after the derived facts it reads, the rules it comes
    # after and the rules that override it; a derived fact after every rule that derives it.
    depth = PolicyGraph.of(policy).levels()
    level: dict[str, int] = {"rule:" + r.id: depth[i] + 1 for i, r in enumerate(policy.rules)}
    for fact in policy.derived_facts:
        level["fact:" + fact.name] = depth.get(fact.name, 0) + 1

    fired_col = {r.id: d.ident("fired:" + r.id) for r in policy.rules}
    pre_col = {
        r.id: d.ident("pre:" + r.id) if r.id in overridden_by else fired_col[r.id]
        for r in policy.rules
    }
    derived_col = {f.name: d.ident(f.name) for f in policy.derived_facts}

    layers: dict[int, list[str]] = {}
    for rule in policy.rules:
        pre_parts = [condition_sql(rule.when, d)]
        pre_parts.extend(fired_col[p] for p in rule.after)
        pre = pre_parts[0] if len(pre_parts) == 1 else "(" + " AND ".join(pre_parts) + ")"
        items = layers.setdefault(level["rule:" + rule.id], [])
        overriders = overridden_by.get(rule.id, [])
        if overriders:
            items.append(f"{pre} AS {pre_col[rule.id]}")
            beaten = " OR ".join(fired_col[o] for o in overriders)
            items.append(f"({pre} AND NOT ({beaten})) AS {fired_col[rule.id]}")
        else:
            items.append(f"{pre} AS {fired_col[rule.id]}")
    for fact in policy.derived_facts:
        items = layers.setdefault(level["fact:" + fact.name], [])
        items.append(
            f"{_derived_value(fact, derivers.get(fact.name, []), fired_col, d)} AS "
            f"{derived_col[fact.name]}"
        )

    ctes: list[tuple[str, str]] = []
    previous = source
    for number in sorted(layers):
        name = d.ident(f"lr:layer{number}")
        body = f"SELECT {previous}.*,\n  " + ",\n  ".join(layers[number]) + f"\nFROM {previous}"
        ctes.append((name, body))
        previous = name

    missing_columns: dict[tuple[str, str], str] = {}
    pairs: tuple[MissingPair, ...] = ()
    if missing != "none":
        pairs = tuple(pair_formulas(policy, level, overridden_by, derivers))
    if missing == "columns":
        miss_layers = _missing(pairs, d, level, fired_col, derived_col, missing_columns)
        for number in sorted(miss_layers):
            name = d.ident(f"lr:missing{number}")
            body = (
                f"SELECT {previous}.*,\n  "
                + ",\n  ".join(miss_layers[number])
                + f"\nFROM {previous}"
            )
            ctes.append((name, body))
            previous = name

    columns = tuple(
        RuleColumns(
            rule=r,
            pre=pre_col[r.id],
            fired=fired_col[r.id],
            overriders=tuple(fired_col[o] for o in overridden_by.get(r.id, ())),
        )
        for r in policy.rules
    )
    return CompiledSQL(policy, d, source, tuple(ctes), columns, derived_col, missing_columns, pairs)


def _missing(
    pairs: Sequence[MissingPair],
    d: Dialect,
    level: Mapping[str, int],
    fired_col: Mapping[str, str],
    derived_col: Mapping[str, str],
    out: dict[tuple[str, str], str],
) -> dict[int, list[str]]:
    """Columns M[r, f]: rule r is undetermined and unknown input fact f would help decide it
    (`leukorules.cohort.missing`), by layer; `out` receives each pair's column."""
    layers: dict[int, list[str]] = {}
    for pair in pairs:
        column = d.ident(f"missing:{pair.rule}:{pair.fact}")
        terms = " OR ".join(term_sql(t, d, derived_col, out) for t in pair.terms)
        expression = f"COALESCE({fired_col[pair.rule]} IS NULL AND ({terms}), FALSE)"
        layers.setdefault(level["rule:" + pair.rule], []).append(f"{expression} AS {column}")
        out[(pair.rule, pair.fact)] = column
    return layers


def term_sql(
    term: Term,
    d: Dialect,
    derived_col: Mapping[str, str],
    pair_columns: Mapping[tuple[str, str], str],
) -> str:
    """A missing-fact term (`leukorules.cohort.missing`) as an SQL boolean, never NULL.
    `pair_columns`: the columns of the pairs it may name."""
    match term:
        case Null(fact=fact):
            return f"{d.ident(fact)} IS NULL"
        case Unknown(node=node):
            return f"({condition_sql(node, d, derived_col)}) IS NULL"
        case DerivedNull(fact=fact):
            return f"{derived_col[fact]} IS NULL"
        case Pair(rule=rule, fact=fact):
            return pair_columns[(rule, fact)]
        case AllOf(items=items) | AnyOf(items=items):
            joint = " AND " if isinstance(term, AllOf) else " OR "
            return "(" + joint.join(term_sql(i, d, derived_col, pair_columns) for i in items) + ")"
    raise AssertionError(term)  # pragma: no cover - Term is closed


def _derived_value(
    fact: m.Fact, rules: Sequence[m.Rule], fired_col: Mapping[str, str], d: Dialect
) -> str:
    """CASE giving v when a rule deriving v fired and every rule deriving another value did not."""
    # Values are grouped with Python equality, as the python engine compares them (2 == 2.0).
    by_value: dict[m.Value, list[str]] = {}
    literal_of: dict[m.Value, str] = {}
    for rule in rules:
        assert isinstance(rule.conclusion, m.Derive)
        value = rule.conclusion.value
        by_value.setdefault(value, []).append(fired_col[rule.id])
        literal_of.setdefault(value, d.literal(value))
    cast_type = derived_column_type(fact, rules, d)
    if not by_value:
        return f"CAST(NULL AS {cast_type})"
    branches = []
    for key, columns in by_value.items():
        some = " OR ".join(columns)
        others = [c for k, cs in by_value.items() if k != key for c in cs]
        test = f"COALESCE({some}, FALSE)"
        if others:
            test += f" AND COALESCE(NOT ({' OR '.join(others)}), FALSE)"
        branches.append(f"WHEN {test} THEN {literal_of[key]}")
    return f"CAST(CASE {' '.join(branches)} END AS {cast_type})"


def derived_column_type(fact: m.Fact, rules: Sequence[m.Rule], d: Dialect) -> str:
    """The column type of a derived fact: its declared type, or DOUBLE for an integer fact that
    some rule derives a fractional value for (the checker allows it; it must survive exactly)."""
    for rule in rules:
        value = rule.conclusion.value if isinstance(rule.conclusion, m.Derive) else 0
        if fact.type.kind == "integer" and isinstance(value, float) and not value.is_integer():
            return "DOUBLE"
    return d.column_type(fact.type)
