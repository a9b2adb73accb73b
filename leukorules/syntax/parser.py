"""Text -> syntax tree, with syntax errors as diagnostics in plain words.

Input: a `SourceFile`. Output: `(Module | None, diagnostics)`. The Lark parser (LALR, strict,
positions propagated) is built once per process and shared; Lark's tree is turned into `ast`
nodes by a non-recursive transformer, so even absurdly nested input cannot overflow the stack.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

from lark import Lark, Token, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.tree import Meta
from lark.visitors import Transformer_NonRecursive

from leukorules.diagnostics import Diagnostic, did_you_mean
from leukorules.source import SourceFile, Span
from leukorules.syntax import ast
from leukorules.syntax.grammar import grammar_text

# Deeper conditions than this are refused: no guideline needs them, and refusing early keeps
# every later stage free to recurse over expressions.
MAX_EXPR_DEPTH = 64

BODY_KEYWORDS = (
    "statement",
    "evidence",
    "when",
    "recommend",
    "strength",
    "alternatives",
    "note",
    "caution",
    "background",
    "derive",
    "after",
    "overrides",
)
TOP_KEYWORDS = ("policy", "include", "evidence", "fact", "derived", "section", "rule", "gap")

_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted string ("...")',
    "SIGNED_NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "UNIT": "a unit in brackets, e.g. [mg/dL]",
    "COMPARATOR": "a comparison (==, !=, <, <=, >, >=)",
    "$END": "the end of the file",
}


class _State(threading.local):
    path: str = "<input>"
    comments: list[ast.Comment]

    def __init__(self) -> None:
        self.comments = []


_state = _State()
_lock = threading.Lock()


def _token_span(token: Token) -> Span:
    return Span(
        _state.path,
        token.line or 1,
        token.column or 1,
        token.end_line or token.line or 1,
        token.end_column or (token.column or 1) + 1,
    )


def _meta_span(meta: Meta) -> Span:
    if getattr(meta, "empty", True):
        return Span(_state.path, 1, 1, 1, 2)
    return Span(_state.path, meta.line, meta.column, meta.end_line, meta.end_column)


def _unquote(token: Token) -> str:
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


def _name(token: Token) -> ast.Name:
    return ast.Name(token.value, _token_span(token))


def _literal(item: Any) -> ast.Literal_:
    if isinstance(item, Token):
        return ast.NameLit(item.value, _token_span(item))
    assert isinstance(item, ast.StringLit | ast.NumberLit | ast.DateLit | ast.BoolLit)
    return item


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):  # type: ignore[type-arg]
    """Builds `ast` nodes bottom-up while the LALR parser reduces."""

    def start(self, meta: Meta, items: list[Any]) -> tuple[Any, ...]:
        return tuple(items)

    # literals
    def string(self, meta: Meta, items: list[Token]) -> ast.StringLit:
        return ast.StringLit(_unquote(items[0]), _meta_span(meta))

    def number(self, meta: Meta, items: list[Token]) -> ast.NumberLit:
        unit = items[1].value[1:-1].strip() if len(items) > 1 else None
        return ast.NumberLit(items[0].value, unit, _meta_span(meta))

    def date(self, meta: Meta, items: list[Token]) -> ast.DateLit:
        return ast.DateLit(items[0].value, _meta_span(meta))

    def true(self, meta: Meta, items: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(True, _meta_span(meta))

    def false(self, meta: Meta, items: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(False, _meta_span(meta))

    def dotted_id(self, meta: Meta, items: list[Token]) -> ast.Name:
        return ast.Name(".".join(t.value for t in items), _meta_span(meta))

    def dotted_value(self, meta: Meta, items: list[Token]) -> ast.DottedLit:
        return ast.DottedLit(".".join(t.value for t in items), _meta_span(meta))

    def ref(self, meta: Meta, items: list[Token]) -> ast.Name:
        token = items[0]
        text = _unquote(token) if token.type == "STRING" else token.value
        return ast.Name(text, _token_span(token))

    # declarations
    def field(self, meta: Meta, items: list[Any]) -> ast.Field:
        key, raw = items
        value: ast.FieldValue
        if isinstance(raw, Token):
            span = _token_span(raw)
            if raw.type == "STRING":
                value = ast.StringLit(_unquote(raw), span)
            elif raw.type == "DATE":
                value = ast.DateLit(raw.value, span)
            elif raw.type == "SIGNED_NUMBER":
                value = ast.NumberLit(raw.value, None, span)
            else:
                value = ast.NameLit(raw.value, span)
        else:
            value = raw
        return ast.Field(_name(key), value, _meta_span(meta))

    def policy(self, meta: Meta, items: list[Any]) -> ast.PolicyBlock:
        return ast.PolicyBlock(items[0], tuple(items[1:]), _meta_span(meta))

    def include(self, meta: Meta, items: list[Token]) -> ast.Include:
        return ast.Include(
            ast.StringLit(_unquote(items[0]), _token_span(items[0])), _meta_span(meta)
        )

    def evidence(self, meta: Meta, items: list[Any]) -> ast.EvidenceBlock:
        return ast.EvidenceBlock(items[0], tuple(items[1:]), _meta_span(meta))

    def _fact(self, meta: Meta, items: list[Any], derived: bool) -> ast.FactDecl:
        description = None
        if len(items) > 2:
            description = ast.StringLit(_unquote(items[2]), _token_span(items[2]))
        return ast.FactDecl(_name(items[0]), items[1], description, derived, _meta_span(meta))

    def fact(self, meta: Meta, items: list[Any]) -> ast.FactDecl:
        return self._fact(meta, items, derived=False)

    def derived(self, meta: Meta, items: list[Any]) -> ast.FactDecl:
        return self._fact(meta, items, derived=True)

    def bool_type(self, meta: Meta, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("bool", span=_meta_span(meta))

    def integer_type(self, meta: Meta, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("integer", range=items[0] if items else None, span=_meta_span(meta))

    def number_type(self, meta: Meta, items: list[Any]) -> ast.TypeSpec:
        unit = None
        bounds = None
        for item in items:
            if isinstance(item, Token):
                unit = item.value[1:-1].strip()
            else:
                bounds = item
        return ast.TypeSpec("number", unit=unit, range=bounds, span=_meta_span(meta))

    def enum_type(self, meta: Meta, items: list[Token]) -> ast.TypeSpec:
        return ast.TypeSpec("enum", values=tuple(map(_name, items)), span=_meta_span(meta))

    def set_type(self, meta: Meta, items: list[Token]) -> ast.TypeSpec:
        return ast.TypeSpec("set", values=tuple(map(_name, items)), span=_meta_span(meta))

    def string_type(self, meta: Meta, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("string", span=_meta_span(meta))

    def date_type(self, meta: Meta, items: list[Any]) -> ast.TypeSpec:
        return ast.TypeSpec("date", span=_meta_span(meta))

    def range(self, meta: Meta, items: list[Token]) -> tuple[ast.NumberLit, ast.NumberLit]:
        low, high = items
        return (
            ast.NumberLit(low.value, None, _token_span(low)),
            ast.NumberLit(high.value, None, _token_span(high)),
        )

    def section(self, meta: Meta, items: list[Any]) -> ast.SectionBlock:
        title = ast.StringLit(_unquote(items[0]), _token_span(items[0]))
        return ast.SectionBlock(title, tuple(items[1:]), _meta_span(meta))

    def rule(self, meta: Meta, items: list[Any]) -> ast.RuleBlock:
        return ast.RuleBlock(items[0], tuple(items[1:]), False, _meta_span(meta))

    def gap(self, meta: Meta, items: list[Any]) -> ast.RuleBlock:
        return ast.RuleBlock(items[0], tuple(items[1:]), True, _meta_span(meta))

    # rule body lines
    def _body(self, kind: ast.BodyKind, meta: Meta, args: Sequence[Any]) -> ast.BodyItem:
        return ast.BodyItem(kind, tuple(args), _meta_span(meta))

    def _strings(self, items: list[Token]) -> list[ast.StringLit]:
        return [ast.StringLit(_unquote(t), _token_span(t)) for t in items]

    def statement(self, meta: Meta, items: list[Token]) -> ast.BodyItem:
        return self._body("statement", meta, self._strings(items))

    def evidence_refs(self, meta: Meta, items: list[ast.Name]) -> ast.BodyItem:
        return self._body("evidence", meta, items)

    def when(self, meta: Meta, items: list[Any]) -> ast.BodyItem:
        return self._body("when", meta, items)

    def recommend(self, meta: Meta, items: list[Token]) -> ast.BodyItem:
        return self._body("recommend", meta, self._strings(items))

    def strength(self, meta: Meta, items: list[Token]) -> ast.BodyItem:
        return self._body("strength", meta, [_name(items[0])])

    def alternatives(self, meta: Meta, items: list[Token]) -> ast.BodyItem:
        return self._body("alternatives", meta, self._strings(items))

    def note(self, meta: Meta, items: list[Token]) -> ast.BodyItem:
        return self._body("note", meta, self._strings(items))

    def caution(self, meta: Meta, items: list[Token]) -> ast.BodyItem:
        return self._body("caution", meta, self._strings(items))

    def background(self, meta: Meta, items: list[Token]) -> ast.BodyItem:
        return self._body("background", meta, self._strings(items))

    def derive(self, meta: Meta, items: list[Any]) -> ast.BodyItem:
        return self._body("derive", meta, [_name(items[0]), _literal(items[1])])

    def after(self, meta: Meta, items: list[ast.Name]) -> ast.BodyItem:
        return self._body("after", meta, items)

    def overrides(self, meta: Meta, items: list[ast.Name]) -> ast.BodyItem:
        return self._body("overrides", meta, items)

    # conditions
    def or_(self, meta: Meta, items: list[ast.Expr]) -> ast.OrExpr:
        left, right = items
        parts = left.items if isinstance(left, ast.OrExpr) else (left,)
        return ast.OrExpr((*parts, right), _meta_span(meta))

    def and_(self, meta: Meta, items: list[ast.Expr]) -> ast.AndExpr:
        left, right = items
        parts = left.items if isinstance(left, ast.AndExpr) else (left,)
        return ast.AndExpr((*parts, right), _meta_span(meta))

    def not_(self, meta: Meta, items: list[ast.Expr]) -> ast.NotExpr:
        return ast.NotExpr(items[0], _meta_span(meta))

    def paren(self, meta: Meta, items: list[ast.Expr]) -> ast.ParenExpr:
        return ast.ParenExpr(items[0], _meta_span(meta))

    def truthy(self, meta: Meta, items: list[Token]) -> ast.Truthy:
        return ast.Truthy(_name(items[0]), _meta_span(meta))

    def const_true(self, meta: Meta, items: list[Any]) -> ast.ConstExpr:
        return ast.ConstExpr(True, _meta_span(meta))

    def const_false(self, meta: Meta, items: list[Any]) -> ast.ConstExpr:
        return ast.ConstExpr(False, _meta_span(meta))

    def compare(self, meta: Meta, items: list[Any]) -> ast.CompareExpr:
        fact, op, operand = items
        return ast.CompareExpr(_name(fact), op.value, _literal(operand), _meta_span(meta))

    def member(self, meta: Meta, items: list[Any]) -> ast.MemberExpr:
        values = tuple(_literal(i) for i in items[1:])
        return ast.MemberExpr(_name(items[0]), values, False, _meta_span(meta))

    def not_member(self, meta: Meta, items: list[Any]) -> ast.MemberExpr:
        values = tuple(_literal(i) for i in items[1:])
        return ast.MemberExpr(_name(items[0]), values, True, _meta_span(meta))

    def contains(self, meta: Meta, items: list[Any]) -> ast.ContainsExpr:
        return ast.ContainsExpr(_name(items[0]), _literal(items[1]), _meta_span(meta))

    def is_known(self, meta: Meta, items: list[Token]) -> ast.KnownExpr:
        return ast.KnownExpr(_name(items[0]), True, _meta_span(meta))

    def is_unknown(self, meta: Meta, items: list[Token]) -> ast.KnownExpr:
        return ast.KnownExpr(_name(items[0]), False, _meta_span(meta))


def _collect_comment(token: Token) -> None:
    _state.comments.append(ast.Comment(token.value, token.line or 1, token.column or 1))


@cache
def _parser() -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _collect_comment},
    )


@cache
def _terminal_words() -> dict[str, str]:
    """Plain words for every terminal: keywords and punctuation as written, regexes described."""
    words = dict(_TERMINAL_WORDS)
    for terminal in _parser().terminals:
        if terminal.name not in words and terminal.pattern.type == "str":
            words[terminal.name] = f"`{terminal.pattern.value}`"
    return words


def _describe_expected(expected: set[str]) -> list[str]:
    words = _terminal_words()
    described = {words.get(name, name.lower()) for name in expected}
    return sorted(described, key=lambda w: (not w.startswith("`"), w))


def _expected_text(expected: set[str]) -> str:
    described = _describe_expected(expected)
    if len(described) == 1:
        return described[0]
    if len(described) <= 8:
        return "one of " + ", ".join(described)
    return "one of " + ", ".join(described[:8]) + ", …"


def _syntax_diagnostic(source: SourceFile, error: UnexpectedInput) -> Diagnostic:
    path = source.path
    if isinstance(error, UnexpectedCharacters):
        line, column = error.line, error.column
        position = error.pos_in_stream or 0
        char = source.text[position] if position < len(source.text) else ""
        span = Span.point(path, line, column)
        if char == '"':
            return Diagnostic.make(
                "LR113",
                'unterminated string: a string must be closed with `"` on the same line',
                span,
                'add the closing quote; write \\" for a quote inside a string',
            )
        hint = {
            "&": "use `and` to combine conditions",
            "|": "use `or` to combine conditions",
            "!": "use `not` to negate a condition, or `!=` to compare",
            "'": 'strings use double quotes: "..."',
            "=": "use `==` to compare a fact with a value",
        }.get(char)
        shown = repr(char)[1:-1] if char else "end of input"
        expected = _expected_text(set(error.allowed or ()))
        message = f"unexpected character `{shown}`; expected {expected}"
        return Diagnostic.make("LR111", message, span, hint)
    if isinstance(error, UnexpectedToken):
        token = error.token
        expected_names = set(error.expected)
        if token.type == "$END":
            line = source.line_count
            column = len(source.line_text(line)) + 1
            span = Span.point(path, line, column)
            hint = None
            if "RBRACE" in expected_names:
                hint = "a `{` block is not closed: add the matching `}`"
            message = f"unexpected end of file; expected {_expected_text(expected_names)}"
            return Diagnostic.make("LR112", message, span, hint)
        span = _token_span(token)
        hint = None
        if token.type == "NAME" and expected_names & {"STATEMENT", "WHEN", "RECOMMEND"}:
            hint = did_you_mean(token.value, BODY_KEYWORDS)
            message = (
                f"unexpected name `{token.value}` in a rule body; expected a rule field "
                f"({', '.join(BODY_KEYWORDS)}) or `}}`"
            )
        elif token.type == "NAME" and expected_names & {"POLICY", "RULE", "SECTION"}:
            hint = did_you_mean(token.value, TOP_KEYWORDS)
            message = (
                f"unexpected name `{token.value}`; expected a declaration "
                f"({', '.join(TOP_KEYWORDS)})"
            )
        else:
            shown = token.value if token.value else token.type
            message = f"unexpected `{shown}`; expected {_expected_text(expected_names)}"
            if token.value == "=" and "COMPARATOR" in expected_names:
                hint = "use `==` to compare a fact with a value"
            elif token.value in ("&&", "&"):
                hint = "use `and` to combine conditions"
        return Diagnostic.make("LR110", message, span, hint)
    if isinstance(error, UnexpectedEOF):
        line = source.line_count
        span = Span.point(path, line, len(source.line_text(line)) + 1)
        return Diagnostic.make("LR112", "unexpected end of file", span)
    raise error  # pragma: no cover - lark has no other UnexpectedInput kinds


def _too_deep(items: Sequence[ast.Item]) -> ast.Expr | None:
    """The first condition nested deeper than MAX_EXPR_DEPTH, found without recursion."""
    stack: list[tuple[object, int]] = [(item, 0) for item in items]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.SectionBlock):
            stack.extend((child, 0) for child in node.items)
        elif isinstance(node, ast.RuleBlock):
            stack.extend((b, 0) for b in node.items if b.kind == "when")
        elif isinstance(node, ast.BodyItem):
            stack.extend((arg, 1) for arg in node.args)
        elif isinstance(node, ast.AndExpr | ast.OrExpr):
            if depth > MAX_EXPR_DEPTH:
                return node
            stack.extend((child, depth + 1) for child in node.items)
        elif isinstance(node, ast.NotExpr | ast.ParenExpr):
            if depth > MAX_EXPR_DEPTH:
                return node
            stack.append((node.item, depth + 1))
    return None


def parse(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file. Returns the module, or None and the syntax diagnostics."""
    if not source.text.strip():
        span = Span.point(source.path, 1, 1)
        return ast.Module(source.path, ()), [
            Diagnostic.make(
                "LR104",
                "policy file is empty",
                span,
                "a policy file holds declarations such as `policy`, `fact`, `section` and `rule`",
            )
        ]
    with _lock:
        _state.path = source.path
        _state.comments = []
        try:
            items = _ToAst().transform(_parser().parse(source.text))
        except UnexpectedInput as error:
            return None, [_syntax_diagnostic(source, error)]
        except RecursionError:
            span = Span.point(source.path, 1, 1)
            return None, [Diagnostic.make("LR114", "expression nested too deeply", span)]
        finally:
            comments = tuple(_state.comments)
            _state.comments = []
    deep = _too_deep(items)
    if deep is not None:
        return None, [
            Diagnostic.make(
                "LR114",
                f"condition nested more than {MAX_EXPR_DEPTH} levels deep",
                Span.point(deep.span.file, deep.span.line, deep.span.column),
                "split the condition with derived facts, or remove redundant parentheses",
            )
        ]
    return ast.Module(source.path, tuple(items), comments), []
