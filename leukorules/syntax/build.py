"""Parse-tree reductions -> syntax nodes, built as the LALR parser reduces.

Input: for each grammar rule the parser reduces, the rule's children (Lark tokens and the nodes
already built for its sub-rules). Output: the `ast` node of that rule, with a span from its first
token to its last (keywords and braces included); the `start` rule gives the file's items. No
parse tree is made, so even absurdly nested input costs no recursion and no second pass.

`context` says which file is being parsed (for spans) and collects its comments; the caller
sets it, under `lock`, around each parse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from leukorules.diagnostics import Diagnostic
from leukorules.source import Span
from leukorules.syntax import ast
from leukorules.syntax.lark_adapter import Token


class ParseContext(threading.local):
    """The file being parsed on this thread: its path (for spans), its comments so far, and
    the problems of its literals (`leukorules.syntax.literals`), one per (line, column)."""

    path: str = "<input>"
    comments: list[ast.Comment]
    literal_problems: dict[tuple[int, int], Diagnostic]

    def __init__(self) -> None:
        self.comments = []
        self.literal_problems = {}


context = ParseContext()
# Lark's parser is shared by the process, and the callbacks read `context`: one parse at a time.
lock = threading.Lock()

# Terminals that carry a value into the syntax tree; every other token (keywords, punctuation)
# only marks where a construct starts and ends.
VALUE_TERMINALS = frozenset(
    {"NAME", "STRING", "SIGNED_NUMBER", "DATE", "UNIT", "COMPARATOR", "CODE"}
)


def token_span(token: Token) -> Span:
    return Span(
        context.path,
        token.line or 1,
        token.column or 1,
        token.end_line or token.line or 1,
        token.end_column or (token.column or 1) + 1,
    )


def collect_comment(token: Token) -> Token:
    """The lexer's callback for comments, which the parser never sees."""
    context.comments.append(ast.Comment(token.value, token.line or 1, token.column or 1))
    return token


def _start(item: Any) -> tuple[int, int] | None:
    if isinstance(item, Token):
        return (item.line or 1, item.column or 1)
    if isinstance(item, tuple):
        return _start(item[0]) if item else None
    span = getattr(item, "span", None)
    return (span.line, span.column) if span is not None else None


def _end(item: Any) -> tuple[int, int] | None:
    if isinstance(item, Token):
        return (item.end_line or item.line or 1, item.end_column or (item.column or 1) + 1)
    if isinstance(item, tuple):
        return _end(item[-1]) if item else None
    span = getattr(item, "span", None)
    return (span.end_line, span.end_column) if span is not None else None


def _children_span(children: Sequence[Any]) -> Span:
    """From the start of the first child to the end of the last, keywords and braces included."""
    if not children:  # an empty file (only `start` can be empty)
        return Span(context.path, 1, 1, 1, 2)
    first, last = children[0], children[-1]
    if isinstance(first, Token) and isinstance(last, Token):  # the common case, made quick
        return Span(
            context.path,
            first.line or 1,
            first.column or 1,
            last.end_line or last.line or 1,
            last.end_column or (last.column or 1) + 1,
        )
    start = _start(first) or next((p for p in map(_start, children) if p is not None), None)
    end = _end(last) or next((p for p in map(_end, reversed(children)) if p is not None), None)
    if start is None or end is None:
        return Span(context.path, 1, 1, 1, 2)
    return Span(context.path, start[0], start[1], end[0], end[1])


def unquote(token: Token) -> str:
    """A STRING token's text. Only the escapes of `literals.ESCAPES` reach here: the lexer
    callback `literals.check_string` refuses any other before the file is accepted."""
    body = str(token.value)[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


# The COMPARATOR terminal's texts, typed.
_COMPARATORS: dict[str, ast.Comparator] = {
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}


def _name(token: Token) -> ast.Name:
    return ast.Name(token.value, token_span(token))


def _string(token: Token) -> ast.StringLit:
    return ast.StringLit(unquote(token), token_span(token))


def _literal(item: Token | ast.Literal_) -> ast.Literal_:
    if isinstance(item, Token):
        return ast.NameLit(item.value, token_span(item))
    return item


class AstBuilder:
    """One method per rule (or alias) of the grammar, called as `method(span, items)`: `span`
    covers the whole construct and `items` are its children without the keyword and
    punctuation tokens. Rules without a method (`_inlined` helpers, `?rules` that collapse to
    their one child) keep Lark's default handling."""

    def start(self, span: Span, items: list[ast.Item]) -> tuple[ast.Item, ...]:
        return tuple(items)

    # literals
    def string(self, span: Span, items: list[Token]) -> ast.StringLit:
        return ast.StringLit(unquote(items[0]), span)

    def number(self, span: Span, items: list[Token]) -> ast.NumberLit:
        unit = items[1].value[1:-1].strip() if len(items) > 1 else None
        return ast.NumberLit(items[0].value, unit, span)

    def date(self, span: Span, items: list[Token]) -> ast.DateLit:
        return ast.DateLit(items[0].value, span)

    def true(self, span: Span, items: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(True, span)

    def false(self, span: Span, items: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(False, span)

    def dotted_id(self, span: Span, items: list[Token]) -> ast.Name:
        return ast.Name(".".join(t.value for t in items), span)

    def dotted_value(self, span: Span, items: list[Token]) -> ast.DottedLit:
        return ast.DottedLit(".".join(t.value for t in items), span)

    def ref(self, span: Span, items: list[Token]) -> ast.Name:
        token = items[0]
        text = unquote(token) if token.type == "STRING" else token.value
        return ast.Name(text, token_span(token))

    # declarations
    def field(self, span: Span, items: list[Any]) -> ast.Field:
        key, raw = items
        value: ast.FieldValue
        if isinstance(raw, Token):
            at = token_span(raw)
            if raw.type == "STRING":
                value = ast.StringLit(unquote(raw), at)
            elif raw.type == "DATE":
                value = ast.DateLit(raw.value, at)
            elif raw.type == "SIGNED_NUMBER":
                value = ast.NumberLit(raw.value, None, at)
            else:
                value = ast.NameLit(raw.value, at)
        else:
            value = raw
        return ast.Field(_name(key), value, span)

    def policy(self, span: Span, items: list[Any]) -> ast.PolicyBlock:
        return ast.PolicyBlock(items[0], tuple(items[1:]), span)

    def include(self, span: Span, items: list[Token]) -> ast.Include:
        return ast.Include(_string(items[0]), span)

    def evidence(self, span: Span, items: list[Any]) -> ast.EvidenceBlock:
        return ast.EvidenceBlock(items[0], tuple(items[1:]), span)

    def _fact(self, span: Span, items: list[Any], derived: bool) -> ast.FactDecl:
        description = _string(items[2]) if len(items) > 2 else None
        return ast.FactDecl(_name(items[0]), items[1], description, derived, span)

    def fact(self, span: Span, items: list[Any]) -> ast.FactDecl:
        return self._fact(span, items, derived=False)

    def derived(self, span: Span, items: list[Any]) -> ast.FactDecl:
        return self._fact(span, items, derived=True)

    def bool_type(self, span: Span, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("bool", span=span)

    def integer_type(self, span: Span, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("integer", range=items[0] if items else None, span=span)

    def number_type(self, span: Span, items: list[Any]) -> ast.TypeSpec:
        unit = None
        bounds = None
        for item in items:
            if isinstance(item, Token):
                unit = item.value[1:-1].strip()
            else:
                bounds = item
        return ast.TypeSpec("number", unit=unit, range=bounds, span=span)

    def enum_type(self, span: Span, items: list[Token]) -> ast.TypeSpec:
        return ast.TypeSpec("enum", values=tuple(map(_name, items)), span=span)

    def set_type(self, span: Span, items: list[Token]) -> ast.TypeSpec:
        return ast.TypeSpec("set", values=tuple(map(_name, items)), span=span)

    def string_type(self, span: Span, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("string", span=span)

    def date_type(self, span: Span, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("date", span=span)

    def range(self, span: Span, items: list[Token]) -> tuple[ast.NumberLit, ast.NumberLit]:
        low, high = items
        return (
            ast.NumberLit(low.value, None, token_span(low)),
            ast.NumberLit(high.value, None, token_span(high)),
        )

    def section(self, span: Span, items: list[Any]) -> ast.SectionBlock:
        return ast.SectionBlock(_string(items[0]), tuple(items[1:]), span)

    def rule(self, span: Span, items: list[Any]) -> ast.RuleBlock:
        return ast.RuleBlock(items[0], tuple(items[1:]), "rule", span)

    def gap(self, span: Span, items: list[Any]) -> ast.RuleBlock:
        return ast.RuleBlock(items[0], tuple(items[1:]), "gap", span)

    def constraint(self, span: Span, items: list[Any]) -> ast.RuleBlock:
        return ast.RuleBlock(items[0], tuple(items[1:]), "constraint", span)

    def property(self, span: Span, items: list[Any]) -> ast.PropertyBlock:
        rule_id, text, claim = items
        return ast.PropertyBlock(rule_id, _string(text), claim, span)

    # terminology bindings
    def valueset(self, span: Span, items: list[Any]) -> ast.ValueSetBlock:
        return ast.ValueSetBlock(_name(items[0]), _string(items[1]), tuple(items[2:]), span)

    def concept(self, span: Span, items: list[Token]) -> ast.ConceptLine:
        system, code, display, source = items
        return ast.ConceptLine(_name(system), _name(code), _string(display), _string(source), span)

    def bind(self, span: Span, items: list[Any]) -> ast.BindBlock:
        return ast.BindBlock(_name(items[0]), tuple(items[1:]), span)

    def coded_line(self, span: Span, items: list[Any]) -> ast.CodedLine:
        count = len(items)
        while count and isinstance(items[count - 1], ast.BindOption):
            count -= 1
        options = tuple(items[count:])
        resource, *value_sets, value = items[:count]
        names = tuple(map(_name, value_sets))
        return ast.CodedLine(_name(resource), names, _literal(value), options, span)

    def answer_line(self, span: Span, items: list[Token]) -> ast.AnswerLine:
        resource, *value_sets, days = items
        number = ast.NumberLit(days.value, None, token_span(days))
        return ast.AnswerLine(_name(resource), tuple(map(_name, value_sets)), number, span)

    def cause_line(self, span: Span, items: list[Token]) -> ast.CauseLine:
        resource, *value_sets = items
        return ast.CauseLine(_name(resource), tuple(map(_name, value_sets)), span)

    def drug_line(self, span: Span, items: list[Any]) -> ast.DrugLine:
        return ast.DrugLine(_name(items[0]), _literal(items[1]), span)

    def any_drug_line(self, span: Span, items: list[Any]) -> ast.AnyDrugLine:
        return ast.AnyDrugLine(_name(items[0]), _literal(items[1]), span)

    def taken_line(self, span: Span, items: list[Any]) -> ast.TakenLine:
        return ast.TakenLine(span)

    def lasting(self, span: Span, items: list[Any]) -> ast.BindOption:
        return ast.BindOption("lasting", None, span)

    def current(self, span: Span, items: list[Any]) -> ast.BindOption:
        return ast.BindOption("current", None, span)

    def refuted(self, span: Span, items: list[Any]) -> ast.BindOption:
        return ast.BindOption("refuted", _literal(items[0]), span)

    def if_drug_cause(self, span: Span, items: list[Any]) -> ast.BindOption:
        return ast.BindOption("if_drug_cause", None, span)

    # rule body lines
    def statement(self, span: Span, items: list[Token]) -> ast.Statement:
        return ast.Statement(_string(items[0]), span)

    def evidence_refs(self, span: Span, items: list[ast.Name]) -> ast.EvidenceRefs:
        return ast.EvidenceRefs(tuple(items), span)

    def when(self, span: Span, items: list[ast.Expr]) -> ast.When:
        return ast.When(items[0], span)

    def recommend(self, span: Span, items: list[Token]) -> ast.Recommend:
        return ast.Recommend(_string(items[0]), span)

    def strength(self, span: Span, items: list[Token]) -> ast.Strength:
        return ast.Strength(_name(items[0]), span)

    def alternatives(self, span: Span, items: list[Token]) -> ast.Alternatives:
        return ast.Alternatives(tuple(map(_string, items)), span)

    def note(self, span: Span, items: list[Token]) -> ast.Note:
        return ast.Note("note", _string(items[0]) if items else None, span)

    def caution(self, span: Span, items: list[Token]) -> ast.Note:
        return ast.Note("caution", _string(items[0]) if items else None, span)

    def background(self, span: Span, items: list[Token]) -> ast.Note:
        return ast.Note("background", _string(items[0]) if items else None, span)

    def derive(self, span: Span, items: list[Any]) -> ast.Derive:
        return ast.Derive(_name(items[0]), _literal(items[1]), span)

    def after(self, span: Span, items: list[ast.Name]) -> ast.After:
        return ast.After(tuple(items), span)

    def overrides(self, span: Span, items: list[ast.Name]) -> ast.Overrides:
        return ast.Overrides(tuple(items), span)

    def line(self, span: Span, items: list[Token]) -> ast.Line:
        return ast.Line(ast.NumberLit(items[0].value, None, token_span(items[0])), span)

    def require(self, span: Span, items: list[ast.Expr]) -> ast.Require:
        return ast.Require(items[0], span)

    def message(self, span: Span, items: list[Token]) -> ast.Message:
        return ast.Message(_string(items[0]), span)

    # conditions
    def or_(self, span: Span, items: list[ast.Expr]) -> ast.OrExpr:
        left, right = items
        parts = left.items if isinstance(left, ast.OrExpr) else (left,)
        return ast.OrExpr((*parts, right), span)

    def and_(self, span: Span, items: list[ast.Expr]) -> ast.AndExpr:
        left, right = items
        parts = left.items if isinstance(left, ast.AndExpr) else (left,)
        return ast.AndExpr((*parts, right), span)

    def not_(self, span: Span, items: list[ast.Expr]) -> ast.NotExpr:
        return ast.NotExpr(items[0], span)

    def paren(self, span: Span, items: list[ast.Expr]) -> ast.ParenExpr:
        return ast.ParenExpr(items[0], span)

    def truthy(self, span: Span, items: list[Token]) -> ast.Truthy:
        return ast.Truthy(_name(items[0]), span)

    def const_true(self, span: Span, items: list[Any]) -> ast.ConstExpr:
        return ast.ConstExpr(True, span)

    def const_false(self, span: Span, items: list[Any]) -> ast.ConstExpr:
        return ast.ConstExpr(False, span)

    def compare(self, span: Span, items: list[Any]) -> ast.CompareExpr:
        fact, op, operand = items
        return ast.CompareExpr(_name(fact), _COMPARATORS[op.value], _literal(operand), span)

    def member(self, span: Span, items: list[Any]) -> ast.MemberExpr:
        values = tuple(_literal(i) for i in items[1:])
        return ast.MemberExpr(_name(items[0]), values, False, span)

    def not_member(self, span: Span, items: list[Any]) -> ast.MemberExpr:
        values = tuple(_literal(i) for i in items[1:])
        return ast.MemberExpr(_name(items[0]), values, True, span)

    def contains(self, span: Span, items: list[Any]) -> ast.ContainsExpr:
        return ast.ContainsExpr(_name(items[0]), _literal(items[1]), span)

    def is_known(self, span: Span, items: list[Token]) -> ast.KnownExpr:
        return ast.KnownExpr(_name(items[0]), True, span)

    def is_unknown(self, span: Span, items: list[Token]) -> ast.KnownExpr:
        return ast.KnownExpr(_name(items[0]), False, span)

    # claims of properties
    def implies(self, span: Span, items: list[ast.Claim]) -> ast.ImpliesExpr:
        return ast.ImpliesExpr(items[0], items[1], span)

    def claim_or_(self, span: Span, items: list[ast.Claim]) -> ast.ClaimOr:
        left, right = items
        parts = left.items if isinstance(left, ast.ClaimOr) else (left,)
        return ast.ClaimOr((*parts, right), span)

    def claim_and_(self, span: Span, items: list[ast.Claim]) -> ast.ClaimAnd:
        left, right = items
        parts = left.items if isinstance(left, ast.ClaimAnd) else (left,)
        return ast.ClaimAnd((*parts, right), span)

    def claim_not_(self, span: Span, items: list[ast.Claim]) -> ast.ClaimNot:
        return ast.ClaimNot(items[0], span)

    def claim_paren(self, span: Span, items: list[ast.Claim]) -> ast.ClaimParen:
        return ast.ClaimParen(items[0], span)

    def fired(self, span: Span, items: list[ast.Name]) -> ast.OutcomeExpr:
        return ast.OutcomeExpr(items[0], "fired", span)

    def not_fired(self, span: Span, items: list[ast.Name]) -> ast.OutcomeExpr:
        return ast.OutcomeExpr(items[0], "not_fired", span)

    def undetermined(self, span: Span, items: list[ast.Name]) -> ast.OutcomeExpr:
        return ast.OutcomeExpr(items[0], "undetermined", span)

    def overridden(self, span: Span, items: list[ast.Name]) -> ast.OutcomeExpr:
        return ast.OutcomeExpr(items[0], "overridden", span)


class Callbacks:
    """What Lark asks its inline transformer for: a callback per rule name.

    Each callback computes the construct's span from all its tokens, drops the keyword and
    punctuation tokens, and hands the rest to the `AstBuilder` method of that name.
    """

    def __init__(self, builder: AstBuilder) -> None:
        self._builder = builder

    def __getattr__(self, name: str) -> Callable[[list[Any]], Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        handler = getattr(self._builder, name)  # AttributeError: Lark's default

        def callback(children: list[Any]) -> Any:
            items = [
                c for c in children if not (isinstance(c, Token) and c.type not in VALUE_TERMINALS)
            ]
            return handler(_children_span(children), items)

        return callback
