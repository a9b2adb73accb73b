"""Explaining a condition once its facts are known: support sets, why-not, and condition trees.

Input: a model condition and the environment it was decided in (input facts plus the derived
facts that were determined; anything absent is unknown). Output, by Kleene semantics exactly as
`leukorules.logic`:
- `support(expr, env)`: the truth and the facts that decide it, minimal in the usual sense:
  true `and` = union of its children, true `or` = its first true child, false `and` = its first
  false child, false `or` = union of its children, `not` = the support of its child; an unknown
  node's support is the unknown facts of its unknown children (the facts that would decide it).
- `why_not(expr, env)`: the first false sub-condition (descending through `and`), with the values
  it read.
- `condition_tree(expr, env)`: every sub-condition with its truth and the values it read, for
  `explain` and the auditor's trace.

These walkers run only when their answer is asked for (the `because` of a fired rule, the
`missing` facts of an undetermined one, `--trace`, `explain`), never inside the compiled
evaluator, so tracing costs nothing when it is off.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from leukorules import model as m
from leukorules.logic import COMPARATORS, Truth, leaf_truth
from leukorules.source import Span


def leaf_facts(expr: m.Expr) -> tuple[str, ...]:
    match expr:
        case (
            m.Compare(fact=name) | m.Member(fact=name) | m.Contains(fact=name) | m.Known(fact=name)
        ):
            return (name,)
        case m.CompareFacts(left=left, right=right):
            return (left,) if left == right else (left, right)
    return ()


def support(expr: m.Expr, env: Mapping[str, object]) -> tuple[Truth, tuple[str, ...]]:
    """The truth of `expr` and the fact names that decide it (see the module docstring)."""
    if isinstance(expr, m.And | m.Or):
        decisive: bool = isinstance(expr, m.Or)  # the value that settles this node
        results = [support(item, env) for item in expr.items]
        for truth, names in results:
            if truth is decisive:
                return decisive, names
        unknown = [names for truth, names in results if truth is None]
        if unknown:
            return None, _union(unknown)
        return not decisive, _union([names for _, names in results])
    if isinstance(expr, m.Not):
        truth, names = support(expr.item, env)
        return (None if truth is None else not truth), names
    truth = leaf_truth(expr, env)
    names = leaf_facts(expr)
    if truth is None:
        names = tuple(n for n in names if env.get(n) is None)
    return truth, names


Support = Callable[[Mapping[str, object]], tuple[Truth, tuple[str, ...]]]


def compile_support(expr: m.Expr) -> Support:
    """`support` specialised to one condition as closures: same answers, no dispatch per call.
    The compiled policy keeps one per rule for the `because` and `missing` of its results."""
    if isinstance(expr, m.And | m.Or):
        decisive: bool = isinstance(expr, m.Or)
        parts = tuple(compile_support(item) for item in expr.items)

        def junction(env: Mapping[str, object]) -> tuple[Truth, tuple[str, ...]]:
            unknown: list[tuple[str, ...]] = []
            decided: list[tuple[str, ...]] = []
            for part in parts:
                truth, names = part(env)
                if truth is decisive:
                    return decisive, names
                (unknown if truth is None else decided).append(names)
            if unknown:
                return None, _union(unknown)
            return not decisive, _union(decided)

        return junction
    if isinstance(expr, m.Not):
        inner = compile_support(expr.item)

        def negation(env: Mapping[str, object]) -> tuple[Truth, tuple[str, ...]]:
            truth, names = inner(env)
            return (None if truth is None else not truth), names

        return negation
    if isinstance(expr, m.Const):
        constant: tuple[Truth, tuple[str, ...]] = (expr.value, ())
        return lambda env: constant
    if isinstance(expr, m.Known):
        name, known = expr.fact, expr.known
        just = (name,)
        return lambda env: ((env.get(name) is not None) == known, just)
    if isinstance(expr, m.CompareFacts):
        left, right = expr.left, expr.right
        compare = COMPARATORS[expr.op]
        both = leaf_facts(expr)

        def pair(env: Mapping[str, object]) -> tuple[Truth, tuple[str, ...]]:
            a, b = env.get(left), env.get(right)
            if a is None or b is None:
                return None, tuple(n for n in both if env.get(n) is None)
            return compare(a, b), both

        return pair
    (fact,) = leaf_facts(expr)
    only = (fact,)
    test = _leaf_test(expr)

    def leaf(env: Mapping[str, object]) -> tuple[Truth, tuple[str, ...]]:
        value = env.get(fact)
        return (None if value is None else test(value)), only

    return leaf


def _leaf_test(expr: m.Expr) -> Callable[[Any], bool]:
    match expr:
        case m.Compare(op=op, value=literal):
            compare = COMPARATORS[op]
            return lambda value: compare(value, literal)
        case m.Member(values=values, negated=negated):
            return lambda value: (value in values) != negated
        case m.Contains(value=element):
            return lambda value: element in value
    raise TypeError(f"not a one-fact test: {expr!r}")  # pragma: no cover


def _union(groups: list[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in groups for name in group))


def truth_of(expr: m.Expr, env: Mapping[str, object]) -> Truth:
    return support(expr, env)[0]


def first_false(expr: m.Expr, env: Mapping[str, object]) -> m.Expr:
    """The sub-condition that makes a false condition false: through `and` to its first false
    child; an `or` (every alternative false), a `not` or a test is where the search stops."""
    node = expr
    while isinstance(node, m.And):
        node = next(item for item in node.items if truth_of(item, env) is False)
    return node


def reads(expr: m.Expr) -> tuple[str, ...]:
    """The fact names a condition reads, first occurrence first."""
    return tuple(dict.fromkeys(m.expr_facts(expr)))


# --- condition text -------------------------------------------------------------------------


def literal_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return m.number_text(value)
    if isinstance(value, str):
        return value  # enum values are identifiers; string literals are quoted by the caller
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def literal_value_text(value: object, fact: m.Fact | None) -> str:
    if isinstance(value, str) and (fact is None or fact.type.kind == "string"):
        return json.dumps(value, ensure_ascii=False)
    text = literal_text(value)
    if fact is not None and fact.type.unit and isinstance(value, int | float):
        return f"{text} [{fact.type.unit}]"
    return text


def expr_text(expr: m.Expr, facts: Mapping[str, m.Fact], parent: int = 0) -> str:
    """A condition written back in the rule language (precedence: or < and < not)."""

    def fact_of(name: str) -> m.Fact | None:
        return facts.get(name)

    match expr:
        case m.Const(value=value):
            return "true" if value else "false"
        case m.Compare(fact=name, op="==", value=True) if _is_bool(fact_of(name)):
            return name
        case m.Compare(fact=name, op=op, value=value):
            return f"{name} {op} {literal_value_text(value, fact_of(name))}"
        case m.CompareFacts(left=left, op=op, right=right):
            return f"{left} {op} {right}"
        case m.Member(fact=name, values=values, negated=negated):
            inner = ", ".join(literal_value_text(v, fact_of(name)) for v in values)
            return f"{name} {'not in' if negated else 'in'} {{{inner}}}"
        case m.Contains(fact=name, value=value):
            return f"{name} contains {value}"
        case m.Known(fact=name, known=known):
            return f"{name} is {'known' if known else 'unknown'}"
        case m.Not(item=item):
            return "not " + expr_text(item, facts, 3)
        case m.And(items=items):
            text = " and ".join(expr_text(i, facts, 2) for i in items)
            return f"({text})" if parent > 2 else text
        case m.Or(items=items):
            text = " or ".join(expr_text(i, facts, 1) for i in items)
            return f"({text})" if parent > 1 else text
    raise TypeError(f"not a condition: {expr!r}")  # pragma: no cover


def _is_bool(fact: m.Fact | None) -> bool:
    return fact is None or fact.type.kind == "bool"


# --- condition trees ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionNode:
    """One sub-condition as it was decided: its text, truth, the values it read, its parts."""

    kind: str
    text: str
    truth: Truth
    reads: tuple[tuple[str, object], ...]
    children: tuple[ConditionNode, ...]
    span: Span | None


def _kind(expr: m.Expr) -> str:
    return {
        m.Const: "const",
        m.Compare: "compare",
        m.CompareFacts: "compare",
        m.Member: "member",
        m.Contains: "contains",
        m.Known: "known",
        m.And: "and",
        m.Or: "or",
        m.Not: "not",
    }[type(expr)]


def condition_tree(
    expr: m.Expr, env: Mapping[str, object], facts: Mapping[str, m.Fact]
) -> ConditionNode:
    """Every sub-condition of `expr` with its truth and (for tests) the values it read."""
    children: tuple[ConditionNode, ...] = ()
    if isinstance(expr, m.And | m.Or):
        children = tuple(condition_tree(i, env, facts) for i in expr.items)
        values: list[Truth] = [c.truth for c in children]
        decisive = isinstance(expr, m.Or)
        truth: Truth
        if decisive in values:
            truth = decisive
        elif None in values:
            truth = None
        else:
            truth = not decisive
        node_reads: tuple[tuple[str, object], ...] = ()
    elif isinstance(expr, m.Not):
        child = condition_tree(expr.item, env, facts)
        children = (child,)
        truth = None if child.truth is None else not child.truth
        node_reads = ()
    else:
        truth = leaf_truth(expr, env)
        node_reads = tuple((n, env.get(n)) for n in leaf_facts(expr))
    return ConditionNode(
        _kind(expr), expr_text(expr, facts), truth, node_reads, children, expr.span
    )


def walk(node: ConditionNode, visit: Callable[[ConditionNode, int], None], depth: int = 0) -> None:
    visit(node, depth)
    for child in node.children:
        walk(child, visit, depth + 1)
