"""Conditions and literals -> model, type-checked against the facts they read.

Input: `when` conditions and derived values from the syntax tree, and the facts already resolved
into the `Draft`. Output: `m.Expr` trees (parentheses dropped, nested `and`/`or` flattened) and
`m.Value`s; every fact read is recorded in `draft.fact_uses`. A condition with an error gives
None (and the diagnostics say why): an undeclared fact, a value not of the fact's type or enum,
a unit mismatch, an operator the type does not have. A literal outside a fact's declared range
is a warning, and the value is kept.
"""

from __future__ import annotations

from leukorules import messages as msg
from leukorules import model as m
from leukorules.check.draft import Draft
from leukorules.diagnostics import DECLARED, Diagnostic, Related, did_you_mean
from leukorules.syntax import ast

ORDERING_OPS = ("<", "<=", ">", ">=")
_ORDERED_KINDS = ("integer", "number", "date")


class Conditions:
    """Resolves conditions and literals against `draft.facts`, reporting into `diagnostics`."""

    def __init__(
        self, draft: Draft, diagnostics: list[Diagnostic], counts_uses: bool = True
    ) -> None:
        self.draft = draft
        self.diagnostics = diagnostics
        # Whether the facts read are recorded as used (a property's reads are not: a fact that
        # only a property reads is still one no rule uses).
        self.counts_uses = counts_uses

    def when(self, line: ast.When | None) -> m.Expr | None:
        """A rule's condition; no `when` is a condition that always holds."""
        if line is None:
            return m.Const(True)
        return self.expr(line.condition)

    def expr(self, expr: ast.Expr) -> m.Expr | None:
        match expr:
            case ast.ParenExpr(item=item):
                return self.expr(item)
            case ast.ConstExpr(value=value):
                return m.Const(value, expr.span)
            case ast.AndExpr(items=items) | ast.OrExpr(items=items):
                parts = [self.expr(i) for i in items]
                kind = m.And if isinstance(expr, ast.AndExpr) else m.Or
                flat: list[m.Expr] = []
                for part in parts:
                    if part is None:
                        return None
                    flat.extend(part.items if isinstance(part, kind) else (part,))
                return kind(tuple(flat), expr.span)
            case ast.NotExpr(item=item):
                inner = self.expr(item)
                return None if inner is None else m.Not(inner, expr.span)
            case ast.Truthy(fact=name):
                fact = self.fact_ref(name)
                if fact is None:
                    return None
                if fact.type.kind != "bool":
                    self.diagnostics.append(
                        msg.NOT_A_YES_NO_FACT.at(
                            name.span,
                            name=name.name,
                            a_type=describe_type(fact.type),
                            hint=comparison_hint(fact),
                        )
                    )
                    return None
                return m.Compare(fact.name, "==", True, expr.span)
            case ast.KnownExpr(fact=name, known=known):
                fact = self.fact_ref(name)
                return None if fact is None else m.Known(fact.name, known, expr.span)
            case ast.CompareExpr():
                return self.compare(expr)
            case ast.MemberExpr():
                return self.member(expr)
            case ast.ContainsExpr(fact=name, value=value):
                fact = self.fact_ref(name)
                if fact is None:
                    return None
                if fact.type.kind != "set":
                    self.diagnostics.append(
                        msg.CONTAINS_WITHOUT_SET.at(
                            name.span,
                            name=name.name,
                            a_type=describe_type(fact.type),
                            hint=comparison_hint(fact),
                        )
                    )
                    return None
                element = self.literal_value(fact, value)
                if not isinstance(element, str):
                    return None
                return m.Contains(fact.name, element, expr.span)
        return None  # pragma: no cover

    def fact_ref(self, name: ast.Name) -> m.Fact | None:
        """The fact a condition reads (its use recorded), or None if it is not declared."""
        fact = self.draft.facts.get(name.name)
        if self.counts_uses:
            self.draft.fact_uses.setdefault(name.name, []).append(name.span)
        if fact is None:
            suggestion = did_you_mean(name.name, self.draft.facts)
            self.diagnostics.append(
                msg.FACT_UNDECLARED.at(name.span, name=name.name, hint=suggestion or DECLARED)
            )
        return fact

    def member(self, expr: ast.MemberExpr) -> m.Expr | None:
        name = expr.fact
        fact = self.fact_ref(name)
        if fact is None:
            return None
        if fact.type.kind == "set":
            self.diagnostics.append(
                msg.SET_IN_MEMBERSHIP.at(name.span, name=name.name, value=fact.type.values[0])
            )
            return None
        resolved = [self.literal_value(fact, v) for v in expr.values]
        values = tuple(r for r in resolved if r is not None)
        if len(values) < len(resolved):
            return None
        return m.Member(fact.name, values, expr.negated, expr.span)

    def compare(self, expr: ast.CompareExpr) -> m.Expr | None:
        fact = self.fact_ref(expr.fact)
        if fact is None:
            return None
        op = expr.op
        operand = expr.operand
        kind = fact.type.kind
        if kind == "set":
            self.diagnostics.append(
                msg.SET_COMPARED.at(expr.fact.span, name=fact.name, hint=comparison_hint(fact))
            )
            return None
        # A bare name on the right is a value of this enum, or else another fact.
        if isinstance(operand, ast.NameLit) and not (
            kind == "enum" and operand.name in fact.type.values
        ):
            other = self.draft.facts.get(operand.name)
            if other is not None:
                if self.counts_uses:
                    self.draft.fact_uses.setdefault(other.name, []).append(operand.span)
                return self.compare_facts(expr, fact, other)
        if op in ORDERING_OPS and kind not in _ORDERED_KINDS:
            self.diagnostics.append(
                msg.ORDERING_NOT_DEFINED.at(
                    expr.span, op=op, name=fact.name, a_type=describe_type(fact.type)
                )
            )
            return None
        value = self.literal_value(fact, operand)
        if value is None:
            return None
        return m.Compare(fact.name, op, value, expr.span)

    def compare_facts(self, expr: ast.CompareExpr, left: m.Fact, right: m.Fact) -> m.Expr | None:
        lt, rt = left.type, right.type
        comparable = lt.kind == rt.kind or {lt.kind, rt.kind} == {"integer", "number"}
        if not comparable or (lt.kind == "enum" and set(lt.values) != set(rt.values)):
            self.diagnostics.append(
                msg.FACTS_NOT_COMPARABLE.at(
                    expr.span,
                    left=left.name,
                    left_type=lt.describe(),
                    right=right.name,
                    right_type=rt.describe(),
                )
            )
            return None
        if (lt.unit or rt.unit) and lt.unit != rt.unit:
            self.diagnostics.append(
                msg.FACTS_UNIT_MISMATCH.at(
                    expr.span,
                    left=left.name,
                    left_unit=lt.unit,
                    right=right.name,
                    right_unit=rt.unit,
                )
            )
            return None
        if expr.op in ORDERING_OPS and lt.kind not in _ORDERED_KINDS:
            self.diagnostics.append(msg.ORDERING_FACTS.at(expr.span, op=expr.op))
            return None
        return m.CompareFacts(left.name, expr.op, right.name, expr.span)

    def literal_value(self, fact: m.Fact, literal: ast.Literal_) -> m.Value | None:
        """Type-check a literal against a fact and return its model value."""
        kind = fact.type.kind
        if kind in ("enum", "set"):
            if isinstance(literal, ast.NameLit) and literal.name in fact.type.values:
                return literal.name
            shown = literal_text(literal)
            suggestion = did_you_mean(shown, fact.type.values)
            declared = [Related(fact.span, f"`{fact.name}` is declared here")] if fact.span else []
            message = msg.NOT_IN_ENUM_CLOSE if suggestion else msg.NOT_IN_ENUM
            self.diagnostics.append(
                message.at(
                    literal.span,
                    value=shown,
                    name=fact.name,
                    values=", ".join(fact.type.values),
                    suggestion=suggestion,
                    related=declared,
                )
            )
            return None
        if kind == "bool":
            if isinstance(literal, ast.BoolLit):
                return literal.value
            return self.mismatch(fact, literal, "true or false")
        if kind in ("integer", "number"):
            if not isinstance(literal, ast.NumberLit):
                return self.mismatch(fact, literal, "a number")
            if literal.unit and literal.unit != fact.type.unit:
                declared_unit = f"[{fact.type.unit}]" if fact.type.unit else "no unit"
                self.diagnostics.append(
                    msg.LITERAL_UNIT_MISMATCH.at(
                        literal.span, name=fact.name, declared=declared_unit, unit=literal.unit
                    )
                )
                return None
            value = literal.value
            low, high = fact.type.minimum, fact.type.maximum
            if low is not None and high is not None and not low <= value <= high:
                self.diagnostics.append(
                    msg.OUTSIDE_RANGE.at(
                        literal.span,
                        value=literal.text,
                        name=fact.name,
                        type=fact.type.describe(),
                    )
                )
            return float(value) if kind == "number" and isinstance(value, float) else value
        if kind == "string":
            if isinstance(literal, ast.StringLit):
                return literal.value
            return self.mismatch(fact, literal, 'a quoted string ("...")')
        if kind == "date":
            if isinstance(literal, ast.DateLit):
                parsed = literal.parse()
                if parsed is None:
                    self.diagnostics.append(
                        msg.NOT_A_CALENDAR_DATE.at(literal.span, value=literal.text)
                    )
                return parsed
            return self.mismatch(fact, literal, "a date (YYYY-MM-DD)")
        return None  # pragma: no cover

    def mismatch(self, fact: m.Fact, literal: ast.Literal_, wanted: str) -> m.Value | None:
        """Report a literal not of the fact's type; no value."""
        self.diagnostics.append(
            msg.LITERAL_TYPE_MISMATCH.at(
                literal.span,
                name=fact.name,
                a_type=describe_type(fact.type),
                value=literal_text(literal),
                wanted=wanted,
                hint=comparison_hint(fact),
            )
        )
        return None


def describe_type(fact_type: m.FactType) -> str:
    """`an enum {a, b}`, `an integer fact (0..120)`, `a number fact in [kg] (0..300)`."""
    kind = fact_type.kind
    article = "an" if kind[0] in "aeiou" else "a"
    if kind in ("enum", "set"):
        return f"{article} {fact_type.describe()}"
    text = f"{article} {kind} fact"
    if fact_type.unit:
        text += f" in [{fact_type.unit}]"
    if fact_type.minimum is not None and fact_type.maximum is not None:
        low, high = fact_type.minimum, fact_type.maximum
        text += f" ({m.number_text(low)}..{m.number_text(high)})"
    return text


def comparison_hint(fact: m.Fact) -> str:
    """An example of a condition this fact's type supports."""
    kind = fact.type.kind
    if kind == "bool":
        return f"test it directly (`{fact.name}`, `not {fact.name}`) or with == true / == false"
    if kind == "enum":
        return f"e.g. {fact.name} == {fact.type.values[0]}; values: {', '.join(fact.type.values)}"
    if kind == "set":
        return f"e.g. {fact.name} contains {fact.type.values[0]}"
    if kind in ("integer", "number"):
        unit = f" [{fact.type.unit}]" if fact.type.unit else ""
        return f"e.g. {fact.name} >= 3{unit}"
    if kind == "date":
        return f"e.g. {fact.name} < 2026-01-01"
    return f'e.g. {fact.name} == "text"'


def literal_text(literal: ast.Literal_) -> str:
    match literal:
        case ast.NameLit(name=name):
            return name
        case ast.StringLit(value=value):
            return f'"{value}"'
        case ast.NumberLit(text=text, unit=unit):
            return f"{text} [{unit}]" if unit else text
        case ast.DateLit(text=text):
            return text
        case ast.BoolLit(value=value):
            return "true" if value else "false"
    return "?"  # pragma: no cover
