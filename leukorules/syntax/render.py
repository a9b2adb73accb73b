"""Checked model -> canonical policy text (one file).

Input: a `model.Policy` as the checker builds it. Output: policy text that checks back to an
equal policy. The model is turned into a syntax tree and printed by `formatter`, so names,
literals, conditions and layout are printed by one piece of code. What the model does not keep
is written canonically: a bare bool test for `x == true`, no `when` for a condition that is
always true, no `strength` for "unqualified", numbers without exponents, the unit of a number
fact after each of its literals, and each string quoted.

Sections are rebuilt from `policy.sections` (in order) and the `section` path of each rule and
gap; a rule or gap goes before the first subsection whose rules come after it, so that reading
the text in order gives the rules and gaps in the model's order.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from leukorules import model as m
from leukorules import terminology as t
from leukorules.codesystems import KEYWORDS_BY_SYSTEM
from leukorules.source import SourceFile, Span
from leukorules.syntax import ast
from leukorules.syntax.formatter import format_module

PATH = "<rendered>"
_HERE = Span(PATH, 1, 1, 1, 1)


def render_policy(policy: m.Policy) -> str:
    """The canonical text of a checked policy."""
    return format_module(policy_module(policy), SourceFile.from_text(PATH, ""))


def policy_module(policy: m.Policy) -> ast.Module:
    """The syntax tree of a policy, as if an author had written it in one file."""
    items: list[ast.Item] = [_header(policy)]
    items.extend(_evidence(e) for e in policy.evidence.values())
    items.extend(_fact(f) for f in policy.facts.values())
    items.extend(_constraint(c, policy.facts) for c in policy.constraints)
    items.extend(_SectionTree(policy).items())
    items.extend(_property(p, policy.facts) for p in policy.properties)
    items.extend(_value_set(v) for v in policy.value_sets.values())
    items.extend(_binds(policy.bindings, policy.facts))
    return ast.Module(PATH, tuple(items))


# --- names and literals ---------------------------------------------------------------------


def _name(text: str) -> ast.Name:
    return ast.Name(text, _HERE)


def _string(text: str) -> ast.StringLit:
    return ast.StringLit(text, _HERE)


def number_literal(value: int | float) -> str:
    """A number as the grammar writes it: digits, an optional fraction, never an exponent."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written in a policy")
    return format(Decimal(repr(value)), "f")


def _number(value: int | float, unit: str | None = None) -> ast.NumberLit:
    return ast.NumberLit(number_literal(value), unit, _HERE)


def _literal(value: m.Value, fact: m.Fact | None) -> ast.Literal_:
    kind = fact.type.kind if fact is not None else None
    match value:
        case bool():
            return ast.BoolLit(value, _HERE)
        case int() | float():
            unit = fact.type.unit if fact is not None and kind == "number" else None
            return _number(value, unit)
        case datetime.date():
            return ast.DateLit(value.isoformat(), _HERE)
        case str() if kind in ("enum", "set"):
            return ast.NameLit(value, _HERE)
        case str():
            return _string(value)
    raise TypeError(f"{value!r} is not a literal")


# --- conditions -----------------------------------------------------------------------------


def condition(expr: m.Expr, facts: Mapping[str, m.Fact]) -> ast.Expr:
    """A model condition as a syntax tree (the printer adds the parentheses precedence needs)."""
    match expr:
        case m.Const(value=value):
            return ast.ConstExpr(value, _HERE)
        case m.Compare(fact=name, op="==", value=value) if (
            value is True and name in facts and facts[name].type.kind == "bool"
        ):
            return ast.Truthy(_name(name), _HERE)
        case m.Compare(fact=name, op=op, value=value):
            return ast.CompareExpr(_name(name), op, _literal(value, facts.get(name)), _HERE)
        case m.CompareFacts(left=left, op=op, right=right):
            return ast.CompareExpr(_name(left), op, ast.NameLit(right, _HERE), _HERE)
        case m.Member(fact=name, values=values, negated=negated):
            literals = tuple(_literal(v, facts.get(name)) for v in values)
            return ast.MemberExpr(_name(name), literals, negated, _HERE)
        case m.Contains(fact=name, value=value):
            return ast.ContainsExpr(_name(name), ast.NameLit(value, _HERE), _HERE)
        case m.Known(fact=name, known=known):
            return ast.KnownExpr(_name(name), known, _HERE)
        case m.And(items=items) | m.Or(items=items):
            if len(items) < 2:  # not built by the checker; written as what it means
                empty = isinstance(expr, m.And)
                return condition(items[0], facts) if items else ast.ConstExpr(empty, _HERE)
            parts = tuple(condition(i, facts) for i in items)
            if isinstance(expr, m.And):
                return ast.AndExpr(parts, _HERE)
            return ast.OrExpr(parts, _HERE)
        case m.Not(item=item):
            return ast.NotExpr(condition(item, facts), _HERE)
    raise TypeError(f"not a condition: {expr!r}")  # pragma: no cover


def claim(node: m.Claim, facts: Mapping[str, m.Fact]) -> ast.Claim:
    """A property's claim as a syntax tree: `and`, `or` and `not` as claim operators throughout
    (as the parser reads them in a claim), fact tests as in conditions."""
    match node:
        case m.RuleOutcome(rule=rule, outcome=outcome):
            return ast.OutcomeExpr(_name(rule), outcome, _HERE)
        case m.Implies(premise=premise, conclusion=conclusion):
            return ast.ImpliesExpr(claim(premise, facts), claim(conclusion, facts), _HERE)
        case m.AllOf(items=items) | m.And(items=items) | m.AnyOf(items=items) | m.Or(items=items):
            both = isinstance(node, m.AllOf | m.And)
            if len(items) < 2:  # not built by the checker; written as what it means
                return claim(items[0], facts) if items else ast.ConstExpr(both, _HERE)
            parts = tuple(claim(i, facts) for i in items)
            return ast.ClaimAnd(parts, _HERE) if both else ast.ClaimOr(parts, _HERE)
        case m.Negation(item=item) | m.Not(item=item):
            return ast.ClaimNot(claim(item, facts), _HERE)
    return condition(node, facts)


# --- declarations ---------------------------------------------------------------------------


def _field(name: str, value: ast.FieldValue) -> ast.Field:
    return ast.Field(_name(name), value, _HERE)


def _header(policy: m.Policy) -> ast.PolicyBlock:
    fields = [_field("title", _string(policy.title)), _field("version", _string(policy.version))]
    if policy.source is not None:
        fields.append(_field("source", _string(policy.source)))
    if policy.effective is not None:
        fields.append(_field("effective", ast.DateLit(policy.effective.isoformat(), _HERE)))
    return ast.PolicyBlock(_name(policy.id), tuple(fields), _HERE)


def _evidence(evidence: m.Evidence) -> ast.EvidenceBlock:
    fields: list[ast.Field] = []
    if evidence.citation is not None:
        fields.append(_field("citation", _string(evidence.citation)))
    elif evidence.citation_declared:
        fields.append(_field("citation", ast.NameLit("unknown", _HERE)))
    for key in ("url", "doi", "pmid"):
        text = getattr(evidence, key)
        if text is not None:
            fields.append(_field(key, _string(text)))
    for key in ("grade", "certainty"):
        word = getattr(evidence, key)
        if word is not None:
            fields.append(_field(key, ast.NameLit(word, _HERE)))
    return ast.EvidenceBlock(_name(evidence.id), tuple(fields), _HERE)


def _fact(fact: m.Fact) -> ast.FactDecl:
    t = fact.type
    bounds = None
    if t.minimum is not None and t.maximum is not None:
        low, high = t.minimum, t.maximum
        if t.kind == "integer":
            low, high = int(low), int(high)
        bounds = (_number(low), _number(high))
    spec = ast.TypeSpec(
        t.kind,
        tuple(_name(v) for v in t.values),
        t.unit if t.kind == "number" else None,
        bounds,
        _HERE,
    )
    description = _string(fact.description) if fact.description is not None else None
    return ast.FactDecl(_name(fact.name), spec, description, fact.derived, _HERE)


def _when(expr: m.Expr, facts: Mapping[str, m.Fact]) -> list[ast.BodyItem]:
    if isinstance(expr, m.Const) and expr.value:
        return []  # no `when`: always applies
    return [ast.When(condition(expr, facts), _HERE)]


def _rule(rule: m.Rule, facts: Mapping[str, m.Fact]) -> ast.RuleBlock:
    body: list[ast.BodyItem] = [
        ast.Statement(_string(rule.statement), _HERE),
        ast.EvidenceRefs(tuple(map(_name, rule.evidence)), _HERE),
        *_when(rule.when, facts),
    ]
    if rule.after:
        body.append(ast.After(tuple(map(_name, rule.after)), _HERE))
    if rule.overrides:
        body.append(ast.Overrides(tuple(map(_name, rule.overrides)), _HERE))
    if rule.line is not None:
        body.append(ast.Line(_number(rule.line), _HERE))
    match rule.conclusion:
        case m.Recommend(action=action, strength=strength, alternatives=alternatives):
            body.append(ast.Recommend(_string(action), _HERE))
            if strength != "unqualified":
                body.append(ast.Strength(_name(strength), _HERE))
            if alternatives:
                body.append(ast.Alternatives(tuple(map(_string, alternatives)), _HERE))
        case m.StateNote(kind=kind, text=text):
            body.append(ast.Note(kind, _string(text) if text is not None else None, _HERE))
        case m.Derive(fact=name, value=value):
            body.append(ast.Derive(_name(name), _literal(value, facts.get(name)), _HERE))
    return ast.RuleBlock(_name(rule.id), tuple(body), "rule", _HERE)


def _gap(gap: m.Gap, facts: Mapping[str, m.Fact]) -> ast.RuleBlock:
    body = _when(gap.when, facts)
    if gap.note is not None:
        body.append(ast.Note("note", _string(gap.note), _HERE))
    return ast.RuleBlock(_name(gap.id), tuple(body), "gap", _HERE)


def _property(prop: m.Property, facts: Mapping[str, m.Fact]) -> ast.PropertyBlock:
    return ast.PropertyBlock(_name(prop.id), _string(prop.text), claim(prop.claim, facts), _HERE)


def _constraint(constraint: m.Constraint, facts: Mapping[str, m.Fact]) -> ast.RuleBlock:
    body = _when(constraint.when, facts)
    body.append(ast.Require(condition(constraint.require, facts), _HERE))
    if constraint.message is not None:
        body.append(ast.Message(_string(constraint.message), _HERE))
    return ast.RuleBlock(_name(constraint.id), tuple(body), "constraint", _HERE)


# --- sections -------------------------------------------------------------------------------


@dataclass
class _Node:
    """One heading: its own rules and gaps (with their model positions) and its subsections."""

    path: tuple[str, ...]
    rules: list[tuple[int, m.Rule]] = field(default_factory=list)
    gaps: list[tuple[int, m.Gap]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    first_rule: float = math.inf  # smallest rule position in this subtree
    first_gap: float = math.inf


class _SectionTree:
    def __init__(self, policy: m.Policy) -> None:
        self.facts = policy.facts
        self.nodes: dict[tuple[str, ...], _Node] = {(): _Node(())}
        for section in policy.sections:
            self._node(section.path)
        for index, rule in enumerate(policy.rules):
            self._node(rule.section).rules.append((index, rule))
        for index, gap in enumerate(policy.gaps):
            self._node(gap.section).gaps.append((index, gap))
        self._firsts(self.nodes[()])

    def _node(self, path: tuple[str, ...]) -> _Node:
        node = self.nodes.get(path)
        if node is None:  # a path missing from policy.sections gets its heading here
            node = self.nodes[path] = _Node(path)
            self._node(path[:-1]).children.append(node)
        return node

    def _firsts(self, node: _Node) -> None:
        for child in node.children:
            self._firsts(child)
        rule_starts = [i for i, _ in node.rules[:1]] + [c.first_rule for c in node.children]
        gap_starts = [i for i, _ in node.gaps[:1]] + [c.first_gap for c in node.children]
        node.first_rule = min(rule_starts, default=math.inf)
        node.first_gap = min(gap_starts, default=math.inf)

    def items(self) -> list[ast.SectionBlock | ast.RuleBlock]:
        return self._items(self.nodes[()])

    def _items(self, node: _Node) -> list[ast.SectionBlock | ast.RuleBlock]:
        """The items of a heading: its own rules and gaps placed between its subsections so
        that reading the text in order gives rules (and gaps) in model order."""
        out: list[ast.SectionBlock | ast.RuleBlock] = []
        rules, gaps = list(node.rules), list(node.gaps)
        # A rule goes before subsection k when it comes before every rule of subsection k and
        # of those after it: subsections without rules do not hold a rule back.
        rule_limits, gap_limits = [math.inf], [math.inf]
        for child in reversed(node.children):
            rule_limits.insert(0, min(child.first_rule, rule_limits[0]))
            gap_limits.insert(0, min(child.first_gap, gap_limits[0]))
        slots: list[_Node | None] = [*node.children, None]
        for index, slot in enumerate(slots):
            while rules and rules[0][0] < rule_limits[index]:
                out.append(_rule(rules.pop(0)[1], self.facts))
            while gaps and gaps[0][0] < gap_limits[index]:
                out.append(_gap(gaps.pop(0)[1], self.facts))
            if slot is not None:
                title = _string(slot.path[-1])
                out.append(ast.SectionBlock(title, tuple(self._items(slot)), _HERE))
        return out


# --- terminology bindings -------------------------------------------------------------------


def _value_set(value_set: t.ValueSet) -> ast.ValueSetBlock:
    concepts = tuple(
        ast.ConceptLine(
            _name(KEYWORDS_BY_SYSTEM[c.system]),
            _name(c.code),
            _string(c.display),
            _string(c.source),
            _HERE,
        )
        for c in value_set.concepts
    )
    return ast.ValueSetBlock(_name(value_set.name), _string(value_set.title), concepts, _HERE)


def _binds(bindings: tuple[t.Binding, ...], facts: Mapping[str, m.Fact]) -> list[ast.BindBlock]:
    """One `bind` block per fact, its lines in the model's order."""
    lines: dict[str, list[ast.BindLine]] = {}
    for binding in bindings:
        lines.setdefault(binding.fact, []).extend(_bind_lines(binding, facts[binding.fact]))
    return [ast.BindBlock(_name(fact), tuple(found), _HERE) for fact, found in lines.items()]


def _bind_lines(binding: t.Binding, fact: m.Fact) -> list[ast.BindLine]:
    names = tuple(map(_name, getattr(binding, "value_sets", getattr(binding, "hosts", ()))))
    match binding:
        case t.ConditionBinding():
            options = [ast.BindOption(binding.persistence, None, _HERE)]
            if binding.refuted is not None:
                refuted = _literal(binding.refuted, fact)
                options.append(ast.BindOption("refuted", refuted, _HERE))
            if binding.needs_drug_cause:
                options.append(ast.BindOption("if_drug_cause", None, _HERE))
            value = _literal(binding.value, fact)
            return [ast.CodedLine(_name(t.CONDITION), names, value, tuple(options), _HERE)]
        case t.AnswerBinding(within_days=days):
            return [ast.AnswerLine(_name(t.OBSERVATION), names, _number(days), _HERE)]
        case t.CauseBinding(drugs=drugs, other=other):
            found: list[ast.BindLine] = [ast.CauseLine(_name(t.CONDITION), names, _HERE)]
            for value_set, given in drugs:
                found.append(ast.DrugLine(_name(value_set), ast.NameLit(given, _HERE), _HERE))
            if other is not None:
                system = _name(KEYWORDS_BY_SYSTEM[other[0]])
                found.append(ast.AnyDrugLine(system, ast.NameLit(other[1], _HERE), _HERE))
            return found
    return [ast.CauseLine(_name(t.CONDITION), names, _HERE), ast.TakenLine(_HERE)]
