"""The checked, immutable policy model: the one thing every later stage consumes.

Input: produced only by `leukorules.check` from syntax trees that passed all checks.
Guarantees: every name is resolved (facts, evidence, rules), every comparison is well typed,
derived facts and rules form a DAG, and every element carries the `Span` it came from.
Spans are excluded from equality, so two policies that differ only in layout compare equal.
`Policy.graph` is the one `PolicyGraph` of the rules (what each rule depends on, in a
topological order): the checker finds its cycles with `dependency_walk` before a policy exists,
and every later stage (the compiled evaluator, the cohort SQL) reads the graph instead of
building its own.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeAlias

from leukorules.source import Span
from leukorules.terminology import Binding, ValueSet

FactKind = Literal["bool", "integer", "number", "enum", "set", "string", "date"]
Comparator = Literal["==", "!=", "<", "<=", ">", ">="]
StatementKind = Literal["note", "caution", "background"]

# A known fact value. Unknown is represented by absence (or None), never by a value.
Value: TypeAlias = bool | int | float | str | datetime.date | frozenset[str]

# The strength vocabulary. Keys are what authors write; values are how reports print them.
# The vocabulary is closed so that a typo cannot invent a strength the guideline never used.
STRENGTHS: dict[str, str] = {
    "first_line": "first-line",
    "primary": "primary approach",
    "crucial": "crucial",
    "recommended": "recommended",
    "suggested": "suggested",
    "may_be_considered": "may be considered",
    "may_help": "may help",
    "unqualified": "no strength stated",
}

GRADE_STRENGTHS = ("strong", "conditional", "weak")
GRADE_CERTAINTIES = ("high", "moderate", "low", "very_low")


def _no_span() -> Span | None:
    return None


@dataclass(frozen=True, slots=True)
class FactType:
    kind: FactKind
    values: tuple[str, ...] = ()
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def is_finite(self) -> bool:
        return self.kind in ("bool", "enum", "set")

    def describe(self) -> str:
        if self.kind in ("enum", "set"):
            inner = "{" + ", ".join(self.values) + "}"
            return f"enum {inner}" if self.kind == "enum" else f"set of {inner}"
        text: str = self.kind
        if self.unit:
            text += f" [{self.unit}]"
        if self.minimum is not None and self.maximum is not None:
            text += f" in {number_text(self.minimum)}..{number_text(self.maximum)}"
        return text


def number_text(value: float | int) -> str:
    """A number as reports print it: whole floats without `.0`, others as Python writes them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def value_text(value: object, fact: Fact | None = None) -> str:
    """How a fact value reads in reports and explanations: `true`, `65 [mg/dL]`, `high`,
    `{a, b}`, `unknown`; text of a string fact is quoted."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = number_text(value)
        unit = fact.type.unit if fact is not None else None
        return f"{text} [{unit}]" if unit else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | list | tuple):
        return "{" + ", ".join(sorted(str(v) for v in value)) + "}"
    if isinstance(value, str) and fact is not None and fact.type.kind == "string":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    type: FactType
    description: str | None = None
    derived: bool = False
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Evidence:
    id: str
    citation: str | None = None  # None: the source gives no citation (declared `citation unknown`)
    citation_declared: bool = True
    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    grade: str | None = None
    certainty: str | None = None
    span: Span | None = field(default_factory=_no_span, compare=False)


# --- Conditions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    value: bool
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """`fact OP literal`; a bare bool fact `x` is `Compare("x", "==", True)`."""

    fact: str
    op: Comparator
    value: Value
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class CompareFacts:
    left: str
    op: Comparator
    right: str
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Member:
    fact: str
    values: tuple[Value, ...]
    negated: bool = False
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Contains:
    fact: str
    value: str
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Known:
    fact: str
    known: bool
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr
    span: Span | None = field(default_factory=_no_span, compare=False)


Expr: TypeAlias = Const | Compare | CompareFacts | Member | Contains | Known | And | Or | Not


def expr_facts(expr: Expr) -> Iterator[str]:
    """Every fact name an expression reads, in reading order (may repeat)."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        match node:
            case Compare(fact=name) | Member(fact=name) | Contains(fact=name) | Known(fact=name):
                yield name
            case CompareFacts(left=left, right=right):
                yield left
                yield right
            case And(items=items) | Or(items=items):
                stack.extend(reversed(items))
            case Not(item=item):
                stack.append(item)
            case Const():
                pass


# --- Conclusions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recommend:
    action: str
    strength: str = "unqualified"
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StateNote:
    kind: StatementKind
    text: str | None = None  # None: the statement itself is the note


@dataclass(frozen=True, slots=True)
class Derive:
    fact: str
    value: Value


Conclusion: TypeAlias = Recommend | StateNote | Derive


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    statement: str
    evidence: tuple[str, ...]
    when: Expr
    conclusion: Conclusion
    section: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    line: int | None = None  # a recommendation's stated line of therapy (`line 3`)
    span: Span | None = field(default_factory=_no_span, compare=False)

    @property
    def kind(self) -> str:
        match self.conclusion:
            case Recommend():
                return "recommend"
            case StateNote(kind=kind):
                return kind
            case Derive():
                return "derive"


@dataclass(frozen=True, slots=True)
class Gap:
    """A heading of the source under which the guideline makes no statement."""

    id: str
    section: tuple[str, ...]
    when: Expr
    note: str | None = None
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Constraint:
    """What the input facts must satisfy together: where `when` holds, `require` must too.

    Facts break a constraint when `when` is true and `require` false (unknown facts never
    break one); such facts contradict each other and are refused before any rule reads them."""

    id: str
    when: Expr
    require: Expr
    message: str | None = None  # None: the reports word it from the conditions
    span: Span | None = field(default_factory=_no_span, compare=False)


# --- properties: what must hold for every patient ---------------------------------------------

OutcomeName = Literal["fired", "not_fired", "undetermined", "overridden"]
OUTCOME_NAMES: tuple[OutcomeName, ...] = ("fired", "not_fired", "undetermined", "overridden")


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """`adem.ivig fired`: true when the rule's outcome for the patient is this one."""

    rule: str
    outcome: OutcomeName
    span: Span | None = field(default_factory=_no_span, compare=False)


# `and`, `or` and `not` over claims of which at least one tests an outcome (Kleene logic).
@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Claim, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Claim, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Negation:
    item: Claim
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Implies:
    """`premise implies conclusion`: true unless the premise is true and the conclusion is not
    (false or unknown); never unknown."""

    premise: Claim
    conclusion: Claim
    span: Span | None = field(default_factory=_no_span, compare=False)


# A claim: a condition (`Expr`) where it tests facts only, claim nodes where it tests outcomes.
Claim: TypeAlias = Expr | RuleOutcome | AllOf | AnyOf | Negation | Implies


@dataclass(frozen=True, slots=True)
class Property:
    """What must be true for every patient the constraints admit (`leukorules prove`)."""

    id: str
    text: str
    claim: Claim
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Section:
    path: tuple[str, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)

    @property
    def title(self) -> str:
        return self.path[-1]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    path: str
    sha256: str


@dataclass(frozen=True)
class Policy:
    """A checked policy. Rules and gaps are in guideline order (the order of the source)."""

    id: str
    title: str
    version: str
    source: str | None = None
    effective: datetime.date | None = None
    evidence: Mapping[str, Evidence] = field(default_factory=dict)
    facts: Mapping[str, Fact] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    rules: tuple[Rule, ...] = ()
    gaps: tuple[Gap, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    properties: tuple[Property, ...] = ()
    # Terminology bindings (`leukorules.terminology`): read by `leukorules.fhir` only.
    value_sets: Mapping[str, ValueSet] = field(default_factory=dict)
    bindings: tuple[Binding, ...] = ()
    sources: tuple[SourceInfo, ...] = field(default=(), compare=False)
    sha256: str = field(default="", compare=False)
    span: Span | None = field(default_factory=_no_span, compare=False)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def input_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts.values() if not f.derived)

    @property
    def derived_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts.values() if f.derived)

    @cached_property
    def graph(self) -> PolicyGraph:
        """The dependencies between this policy's rules and derived facts (built once)."""
        return PolicyGraph.build(self.rules, self.facts)


# --- the rule graph --------------------------------------------------------------------------

# A node of the rule graph: a rule (its index in guideline order) or a derived fact (its name).
GraphNode: TypeAlias = int | str


class PolicyGraphError(ValueError):
    """Rules that do not form a DAG or name rules that do not exist (only possible for models
    built by hand: the checker reports these as LR403 and LR203)."""


def dependency_edges(
    rules: Sequence[Rule], facts: Mapping[str, Fact]
) -> tuple[dict[str, int], dict[str, list[int]], dict[int, list[int]], list[list[GraphNode]]]:
    """(rule index, derive rules per derived fact, overriding rules per rule, what each node
    depends on). Rule i depends on the derived facts its condition reads (first read first),
    the rules it comes `after`, then the rules overriding it; a derived fact depends on the
    rules deriving it. Two rules that override each other are left out of each other's edges:
    that is a precedence error (LR410), reported on its own. Unknown rule names are skipped."""
    index: dict[str, int] = {}
    for i, rule in enumerate(rules):
        index.setdefault(rule.id, i)
    derivers: dict[str, list[int]] = {f.name: [] for f in facts.values() if f.derived}
    overridden_by: dict[int, list[int]] = {}
    for i, rule in enumerate(rules):
        if isinstance(rule.conclusion, Derive) and rule.conclusion.fact in derivers:
            derivers[rule.conclusion.fact].append(i)
        for target in rule.overrides:
            j = index.get(target)
            if j is not None and rule.id not in rules[j].overrides:
                overridden_by.setdefault(j, []).append(i)
    edges: list[list[GraphNode]] = []
    for i, rule in enumerate(rules):
        node_edges: list[GraphNode] = [
            n for n in dict.fromkeys(expr_facts(rule.when)) if n in derivers
        ]
        node_edges.extend(index[p] for p in rule.after if p in index)
        node_edges.extend(overridden_by.get(i, ()))
        edges.append(node_edges)
    return index, derivers, overridden_by, edges


def dependency_walk(
    roots: Iterable[GraphNode], depends: Callable[[GraphNode], Sequence[GraphNode]]
) -> tuple[list[GraphNode], list[list[GraphNode]]]:
    """Depth-first post-order from `roots` (upstream first, deterministic), and every cycle met
    on the way (each as the path from its first node back to it). Iterative: policies can
    chain thousands of rules."""
    order: list[GraphNode] = []
    cycles: list[list[GraphNode]] = []
    state: dict[GraphNode, int] = {}  # 1 = on the current path, 2 = done
    for root in roots:
        if state.get(root):
            continue
        path: list[GraphNode] = [root]
        state[root] = 1
        stack: list[tuple[GraphNode, int]] = [(root, 0)]
        while stack:
            node, child = stack.pop()
            children = depends(node)
            if child < len(children):
                stack.append((node, child + 1))
                nxt = children[child]
                seen = state.get(nxt, 0)
                if seen == 1:
                    cycles.append([*path[path.index(nxt) :], nxt])
                elif seen == 0:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
                order.append(node)
    return order, cycles


@dataclass(frozen=True, slots=True)
class PolicyGraph:
    """What each rule's outcome depends on, for every stage after the checker.

    Rules are named by their index in `Policy.rules` (guideline order). `order` holds every
    rule and derived fact, each after everything it depends on. `line` is each rule's line of
    therapy: the line it states (`line 3`), else 1, or 1 + the highest line of the rules it comes
    `after`.
    """

    rule_ids: tuple[str, ...]
    index: Mapping[str, int]
    derivers: Mapping[str, tuple[int, ...]]
    after: tuple[tuple[int, ...], ...]
    overridden_by: Mapping[int, tuple[int, ...]]
    reads_derived: tuple[tuple[str, ...], ...]
    order: tuple[GraphNode, ...]
    line: tuple[int, ...]

    @staticmethod
    def build(rules: Sequence[Rule], facts: Mapping[str, Fact]) -> PolicyGraph:
        index, derivers, overridden_by, edges = dependency_edges(rules, facts)
        if len(index) != len(rules):
            raise PolicyGraphError("two rules have the same id")
        for rule in rules:
            if isinstance(rule.conclusion, Derive) and rule.conclusion.fact not in derivers:
                raise PolicyGraphError(f"rule {rule.id!r} derives an undeclared derived fact")
            for target in (*rule.after, *rule.overrides):
                if target not in index:
                    raise PolicyGraphError(f"rule {rule.id!r} names an unknown rule {target!r}")
            for target in rule.overrides:
                if rule.id in rules[index[target]].overrides:
                    raise PolicyGraphError(f"{rule.id!r} and {target!r} override each other")

        def depends(node: GraphNode) -> Sequence[GraphNode]:
            return derivers[node] if isinstance(node, str) else edges[node]

        roots: list[GraphNode] = [*range(len(rules)), *derivers]
        order, cycles = dependency_walk(roots, depends)
        if cycles:
            raise PolicyGraphError("rules and derived facts form a cycle")
        after = tuple(tuple(index[p] for p in rule.after) for rule in rules)
        line = [1] * len(rules)
        for node in order:
            if not isinstance(node, int):
                continue
            stated = rules[node].line
            if stated is not None:
                line[node] = stated
            elif after[node]:
                line[node] = 1 + max(line[p] for p in after[node])
        return PolicyGraph(
            rule_ids=tuple(rule.id for rule in rules),
            index=index,
            derivers={name: tuple(found) for name, found in derivers.items()},
            after=after,
            overridden_by={i: tuple(found) for i, found in overridden_by.items()},
            reads_derived=tuple(tuple(n for n in edge if isinstance(n, str)) for edge in edges),
            order=tuple(order),
            line=tuple(line),
        )

    def depends_on(self, node: GraphNode) -> tuple[GraphNode, ...]:
        """What a node depends on directly (see `dependency_edges`)."""
        if isinstance(node, str):
            return self.derivers[node]
        return (*self.reads_derived[node], *self.after[node], *self.overridden_by.get(node, ()))

    def upstream(self, i: int) -> tuple[int, ...]:
        """The rules whose outcome rule i's outcome reads directly: those it comes `after`,
        then those overriding it."""
        return (*self.after[i], *self.overridden_by.get(i, ()))

    def rules_in_order(self) -> Iterator[int]:
        """Every rule, each after the rules it depends on."""
        return (node for node in self.order if isinstance(node, int))

    def closed_upstream(self, holds: Callable[[int], bool]) -> frozenset[int]:
        """The rules for which `holds` is true, and for every rule upstream of them
        (`upstream`), transitively."""
        found: set[int] = set()
        for i in self.rules_in_order():
            if holds(i) and all(j in found for j in self.upstream(i)):
                found.add(i)
        return frozenset(found)

    def reachable(self, roots: Iterable[GraphNode]) -> set[GraphNode]:
        """`roots` and everything they depend on, transitively."""
        stack = list(roots)
        found: set[GraphNode] = set()
        while stack:
            node = stack.pop()
            if node not in found:
                found.add(node)
                stack.extend(self.depends_on(node))
        return found

    def after_closure(self, i: int) -> set[int]:
        """The rules rule i comes after, transitively."""
        found: set[int] = set()
        stack = list(self.after[i])
        while stack:
            j = stack.pop()
            if j not in found:
                found.add(j)
                stack.extend(self.after[j])
        return found

    def levels(self) -> dict[GraphNode, int]:
        """Each node's depth: 0 for a node that depends on nothing, else 1 + the deepest of
        what it depends on (nodes of one level can be computed side by side)."""
        level: dict[GraphNode, int] = {}
        for node in self.order:
            below = [level[n] for n in self.depends_on(node)]
            level[node] = 1 + max(below) if below else 0
        return level
