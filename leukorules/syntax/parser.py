"""Text -> syntax tree, with syntax errors as diagnostics in plain words.

Input: a `SourceFile`. Output: `(Module | None, diagnostics)`. The Lark parser (LALR, contextual
lexer) is built once per process and shared; it builds `ast` nodes directly as it reduces
(`_ToAst`, an inline transformer), so no intermediate tree is made and even absurdly nested input
cannot overflow the stack. A syntax error does not stop the parse: `_Recovery` repairs or skips
past it and goes on, so one run reports every syntax error of the file (the module is then not
returned).
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput
from lark.parsers.lalr_analysis import Shift

from leukorules.cachedir import cache_folder
from leukorules.diagnostics import Code, Diagnostic, Related, did_you_mean, sorted_diagnostics
from leukorules.source import SourceFile, Span
from leukorules.syntax import ast
from leukorules.syntax.grammar import grammar_text

# Deeper conditions than this are refused: no guideline needs them, and refusing early keeps
# every later stage free to recurse over expressions.
MAX_EXPR_DEPTH = 64
# A file with more syntax errors than this gets only the first ones: past that point the
# author is better served by fixing those and running the check again.
MAX_SYNTAX_ERRORS = 20
# The parser gives up on input nested deeper than this (open parentheses, `not`s, sections...):
# it is far past MAX_EXPR_DEPTH already, and a runaway file of millions of `(` would otherwise
# take minutes to read before being refused.
MAX_PARSE_DEPTH = 1_000

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
# Every keyword of the grammar (a test keeps this equal to the grammar's literals): where only
# a keyword may stand, the recovering parse's contextual lexer reads one at the start of a
# longer word (`in0..120`), which the plain parse refuses as a name.
GRAMMAR_KEYWORDS = frozenset(
    (
        *TOP_KEYWORDS,
        *BODY_KEYWORDS,
        *("after", "and", "background", "bool", "contains", "date", "derive", "enum", "false"),
        *("in", "integer", "is", "known", "not", "number", "of", "or", "overrides", "set"),
        *("string", "true", "unknown"),
    )
)

_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted string ("...")',
    "SIGNED_NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "UNIT": "a unit such as [mg/dL]",
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


# Terminals that carry a value into the syntax tree; every other token (keywords, punctuation)
# only marks where a construct starts and ends.
_VALUE_TERMINALS = frozenset({"NAME", "STRING", "SIGNED_NUMBER", "DATE", "UNIT", "COMPARATOR"})


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
        return Span(_state.path, 1, 1, 1, 2)
    first, last = children[0], children[-1]
    if isinstance(first, Token) and isinstance(last, Token):  # the common case, made quick
        return Span(
            _state.path,
            first.line or 1,
            first.column or 1,
            last.end_line or last.line or 1,
            last.end_column or (last.column or 1) + 1,
        )
    start = next((p for p in map(_start, children) if p is not None), None)
    end = next((p for p in map(_end, reversed(children)) if p is not None), None)
    if start is None or end is None:
        return Span(_state.path, 1, 1, 1, 2)
    return Span(_state.path, start[0], start[1], end[0], end[1])


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


class _ToAst:
    """Builds `ast` nodes while the LALR parser reduces (Lark's inline transformer).

    One method per rule of the grammar, called as `method(span, items)`: `span` covers the whole
    construct (keywords and braces included) and `items` are its children without the keyword
    and punctuation tokens. No Lark tree is built, so even absurdly nested input costs no
    recursion, and there is no second pass over the file.
    """

    def start(self, span: Span, items: list[Any]) -> tuple[Any, ...]:
        return tuple(items)

    # literals
    def string(self, span: Span, items: list[Token]) -> ast.StringLit:
        return ast.StringLit(_unquote(items[0]), span)

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
        text = _unquote(token) if token.type == "STRING" else token.value
        return ast.Name(text, _token_span(token))

    # declarations
    def field(self, span: Span, items: list[Any]) -> ast.Field:
        key, raw = items
        value: ast.FieldValue
        if isinstance(raw, Token):
            at = _token_span(raw)
            if raw.type == "STRING":
                value = ast.StringLit(_unquote(raw), at)
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
        return ast.Include(ast.StringLit(_unquote(items[0]), _token_span(items[0])), span)

    def evidence(self, span: Span, items: list[Any]) -> ast.EvidenceBlock:
        return ast.EvidenceBlock(items[0], tuple(items[1:]), span)

    def _fact(self, span: Span, items: list[Any], derived: bool) -> ast.FactDecl:
        description = None
        if len(items) > 2:
            description = ast.StringLit(_unquote(items[2]), _token_span(items[2]))
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
            ast.NumberLit(low.value, None, _token_span(low)),
            ast.NumberLit(high.value, None, _token_span(high)),
        )

    def section(self, span: Span, items: list[Any]) -> ast.SectionBlock:
        title = ast.StringLit(_unquote(items[0]), _token_span(items[0]))
        return ast.SectionBlock(title, tuple(items[1:]), span)

    def rule(self, span: Span, items: list[Any]) -> ast.RuleBlock:
        return ast.RuleBlock(items[0], tuple(items[1:]), False, span)

    def gap(self, span: Span, items: list[Any]) -> ast.RuleBlock:
        return ast.RuleBlock(items[0], tuple(items[1:]), True, span)

    # rule body lines
    def _body(self, kind: ast.BodyKind, span: Span, args: Sequence[Any]) -> ast.BodyItem:
        return ast.BodyItem(kind, tuple(args), span)

    def _strings(self, items: list[Token]) -> list[ast.StringLit]:
        return [ast.StringLit(_unquote(t), _token_span(t)) for t in items]

    def statement(self, span: Span, items: list[Token]) -> ast.BodyItem:
        return self._body("statement", span, self._strings(items))

    def evidence_refs(self, span: Span, items: list[ast.Name]) -> ast.BodyItem:
        return self._body("evidence", span, items)

    def when(self, span: Span, items: list[Any]) -> ast.BodyItem:
        return self._body("when", span, items)

    def recommend(self, span: Span, items: list[Token]) -> ast.BodyItem:
        return self._body("recommend", span, self._strings(items))

    def strength(self, span: Span, items: list[Token]) -> ast.BodyItem:
        return self._body("strength", span, [_name(items[0])])

    def alternatives(self, span: Span, items: list[Token]) -> ast.BodyItem:
        return self._body("alternatives", span, self._strings(items))

    def note(self, span: Span, items: list[Token]) -> ast.BodyItem:
        return self._body("note", span, self._strings(items))

    def caution(self, span: Span, items: list[Token]) -> ast.BodyItem:
        return self._body("caution", span, self._strings(items))

    def background(self, span: Span, items: list[Token]) -> ast.BodyItem:
        return self._body("background", span, self._strings(items))

    def derive(self, span: Span, items: list[Any]) -> ast.BodyItem:
        return self._body("derive", span, [_name(items[0]), _literal(items[1])])

    def after(self, span: Span, items: list[ast.Name]) -> ast.BodyItem:
        return self._body("after", span, items)

    def overrides(self, span: Span, items: list[ast.Name]) -> ast.BodyItem:
        return self._body("overrides", span, items)

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
        return ast.CompareExpr(_name(fact), op.value, _literal(operand), span)

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


def _collect_comment(token: Token) -> None:
    _state.comments.append(ast.Comment(token.value, token.line or 1, token.column or 1))


def _cache_file() -> str | bool:
    """Where Lark may keep its analysed grammar between runs (False: do not cache).

    Building the LALR tables takes a few hundred milliseconds, most of a short command's run.
    The cache is per user (never a shared temp folder: it is a pickle) and Lark checks that it
    matches the grammar and its own version before using it.
    """
    folder = cache_folder()  # None: caching is off, or the folder is not this user's alone
    if folder is None or not os.access(folder, os.W_OK):
        return False
    digest = hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark-cache")


def build_parser(strict: bool = False) -> Lark:
    """A new Lark parser for the policy grammar.

    The shared runtime parser is built with strict=False (and cached on disk, see
    `_cache_file`); the test suite builds it with strict=True (which needs `interegular`) to
    prove the grammar has no LALR conflicts and no colliding terminals.
    """
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        strict=strict,
        keep_all_tokens=True,  # the callbacks take spans from keywords and braces too
        maybe_placeholders=False,
        transformer=_Callbacks(_ToAst()),
        lexer_callbacks={"COMMENT": _collect_comment},
        cache=False if strict else _cache_file(),
    )


class _Callbacks:
    """What Lark asks its inline transformer for: a callback per rule name.

    Each callback computes the construct's span from all its tokens, drops the keyword and
    punctuation tokens, and hands the rest to the `_ToAst` method of that name. Rules without
    a method (Lark's `_inlined` helpers, `?rules` that collapse to their one child) keep Lark's
    default handling.
    """

    def __init__(self, builder: _ToAst) -> None:
        self._builder = builder

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        handler = getattr(self._builder, name)  # AttributeError: Lark's default

        def callback(children: list[Any]) -> Any:
            items = [
                c for c in children if not (isinstance(c, Token) and c.type not in _VALUE_TERMINALS)
            ]
            return handler(_children_span(children), items)

        return callback


@cache
def _parser() -> Lark:
    return build_parser(strict=False)


# --- describing what the parser expected, in plain words ------------------------------------

_BODY_TYPES = frozenset(k.upper() for k in BODY_KEYWORDS)
_TOP_TYPES = frozenset(k.upper() for k in TOP_KEYWORDS)
_DECLARATION_TYPES = _TOP_TYPES - {"EVIDENCE"}
_SYNC_TYPES = _BODY_TYPES | _TOP_TYPES
_COMPARISON_TYPES = frozenset({"COMPARATOR", "IN", "NOT", "CONTAINS", "IS"})
_TYPE_WORDS = ("bool", "integer", "number", "enum", "set", "string", "date")
# Tokens dropped as strays when the token after them fits (`title: "x"`, `when a > 1 ;`).
_DELETABLE_TYPES = frozenset(
    {"COLON", "EQUAL", "COMMA", "DOT", "RPAR", "NAME", "STRING", "SIGNED_NUMBER", "DATE", "UNIT"}
)


class _Grammar:
    """Facts about the compiled grammar that error messages and recovery need."""

    def __init__(self, lark: Lark) -> None:
        self.words: dict[str, str] = dict(_TERMINAL_WORDS)
        self.keywords: dict[str, str] = {}  # terminal name -> keyword text, e.g. RULE -> rule
        for terminal in lark.terminals:
            pattern = terminal.pattern
            if pattern.type == "str":
                text = str(pattern.value)
                self.words.setdefault(terminal.name, f"`{text}`")
                if text.isalpha():
                    self.keywords[terminal.name] = text
        by_text = {text: name for name, text in self.keywords.items()}
        self.type_types = frozenset(by_text[w] for w in _TYPE_WORDS if w in by_text)
        self.by_text = by_text


@cache
def _grammar() -> _Grammar:
    return _Grammar(_parser())


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _expected_text(expected: set[str] | frozenset[str]) -> str:
    """`{"COMMA", "RBRACE"}` -> "`,` or `}`"; groups of keywords are named, not listed raw."""
    grammar = _grammar()
    rest = set(expected)
    groups: list[str] = []
    if rest >= _COMPARISON_TYPES:
        rest -= _COMPARISON_TYPES
        groups.append("a comparison (==, !=, <, <=, >, >=, in, not in, contains, is known)")
    if grammar.type_types and grammar.type_types <= rest:
        rest -= grammar.type_types
        groups.append("a type (" + ", ".join(_TYPE_WORDS) + ")")
    if rest >= _BODY_TYPES:
        rest -= _BODY_TYPES
        groups.append("a rule field (" + ", ".join(BODY_KEYWORDS) + ")")
    if rest >= _DECLARATION_TYPES:
        rest -= _TOP_TYPES
        groups.append("a declaration (" + ", ".join(TOP_KEYWORDS) + ")")
    tail: list[str] = []
    if "RBRACE" in rest:
        rest.discard("RBRACE")
        tail.append("`}`")
    if "$END" in rest:
        rest.discard("$END")
        tail.append("the end of the file")
    singles = sorted(
        {grammar.words.get(name, name.lower()) for name in rest},
        key=lambda word: (not word.startswith("`"), word),
    )
    parts = [*singles, *groups, *tail]
    return _join(parts) if parts else "nothing more"


def _describe_token(token: Token) -> str:
    value = str(token.value)
    if token.type == "NAME":
        return f"name `{value}`"
    if token.type == "STRING":
        shown = value if len(value) <= 40 else value[:37] + '..."'
        return f"string {shown}"
    if token.type == "SIGNED_NUMBER":
        return f"number `{value}`"
    if token.type == "DATE":
        return f"date `{value}`"
    if token.type == "UNIT":
        return f"unit `{value}`"
    return f"`{value}`"


def _shown_char(char: str) -> str:
    if char == "`":
        return "a backquote (`)"
    if char.isprintable():
        return f"`{char}`"
    return f"U+{ord(char):04X}"


# Characters authors type (or paste from word processors) that the language spells differently:
# char -> (terminal that replaces it, its text, hint).
_CHAR_FIXES: dict[str, tuple[str, str, str]] = {
    "&": ("AND", "and", "use `and` to combine conditions"),
    "|": ("OR", "or", "use `or` to combine conditions"),
    "!": ("NOT", "not", "use `not` to negate a condition, or `!=` to compare"),
    "≥": ("COMPARATOR", ">=", "write `>=` for ≥"),
    "≤": ("COMPARATOR", "<=", "write `<=` for ≤"),
    "≠": ("COMPARATOR", "!=", "write `!=` for ≠"),
}
# Opening quote -> closing quote, for strings written with the wrong quotes.
_WRONG_QUOTES = {"'": "'", "“": "”", "”": "”", "„": "“", "‘": "’", "’": "’"}


class _Recovery:
    """Drives Lark's LALR parser token by token and recovers from syntax errors.

    Recovery, in order of preference, for an unexpected token:
      1. substitute a known mistake (`=` for `==`, a misspelt keyword, `&&`, `'...'`);
      2. insert one missing `,`, `{` or `)` when the token fits after it;
      3. if the token is a keyword that starts a rule field or a declaration (or a `}`), pop
         the parser stack to the nearest enclosing construct that accepts it;
      4. delete a stray token when the next one fits;
      5. panic: skip tokens (balancing braces) to the next keyword or `}` that an enclosing
         construct accepts, and resume there.
    Every check runs on a simulation of the state stack first, so a failed attempt leaves the
    parser untouched; each error position is reported once, and at most MAX_SYNTAX_ERRORS.
    """

    def __init__(self, source: SourceFile) -> None:
        lark = _parser()
        self.source = source
        self.text = source.text
        self.grammar = _grammar()
        interactive = lark.parse_interactive(source.text)
        self.pstate: Any = interactive.parser_state
        thread: Any = interactive.lexer_thread
        self.lstate: Any = thread.state
        self.lexers: dict[Any, Any] = thread.lexer.lexers
        self.root: Any = thread.lexer.root_lexer
        self.states: dict[Any, dict[str, tuple[Any, Any]]] = self.pstate.parse_conf.states
        self.end_state: Any = self.pstate.parse_conf.end_state
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[tuple[int, int]] = set()
        # the last two tokens the parser accepted, newest first
        self.history: tuple[Token, ...] = ()

    # --- the parser stack, simulated --------------------------------------------------------

    def _simulate(self, types: Sequence[str], keep: int | None = None) -> bool:
        """Would the parser accept these terminals after its stack is cut to `keep` entries?"""
        stack = self.pstate.state_stack
        base = len(stack) if keep is None else keep
        extra: list[Any] = []
        states = self.states
        for terminal in types:
            while True:
                top = extra[-1] if extra else stack[base - 1]
                action = states[top].get(terminal)
                if action is None:
                    return False
                kind, arg = action
                if kind is Shift:
                    extra.append(arg)
                    break
                size = len(arg.expansion)
                dropped = min(size, len(extra))
                if dropped:
                    del extra[-dropped:]
                base -= size - dropped
                if base < 1:
                    return False  # pragma: no cover - a valid table never pops its start
                top = extra[-1] if extra else stack[base - 1]
                extra.append(states[top][arg.origin.name][1])
                if terminal == "$END" and extra[-1] == self.end_state:
                    return True
        return True

    def _expected(self) -> set[str]:
        top = self.pstate.state_stack[-1]
        return {t for t in self.states[top] if t.isupper() and self._simulate((t,))}

    def _feed(self, token: Token) -> bool:
        """Feed a token if the parser accepts it; a rejected token changes nothing."""
        action = self.states[self.pstate.state_stack[-1]].get(token.type)
        if action is None or (action[0] is not Shift and not self._simulate((token.type,))):
            return False
        self.pstate.feed_token(token)
        if len(self.pstate.state_stack) > MAX_PARSE_DEPTH:
            raise _TooDeep(token)
        self.history = (token, self.history[0]) if self.history else (token,)
        return True

    def _cut(self, keep: int) -> None:
        del self.pstate.state_stack[keep:]
        del self.pstate.value_stack[keep - 1 :]

    def _open(self, kind: str) -> Token | None:
        """The innermost `{` or `(` the parser is inside of, if any."""
        closer = "RPAR" if kind == "LPAR" else "RBRACE"
        closed = 0  # closers already shifted whose construct is not reduced yet
        for value in reversed(self.pstate.value_stack):
            if isinstance(value, Token):
                if value.type == closer:
                    closed += 1
                elif value.type == kind:
                    if not closed:
                        return value
                    closed -= 1
        return None

    # --- the lexer --------------------------------------------------------------------------

    def _mark(self) -> tuple[int, int, int, int, Any]:
        counter = self.lstate.line_ctr
        return (
            counter.char_pos,
            counter.line,
            counter.column,
            counter.line_start_pos,
            self.lstate.last_token,
        )

    def _reset(self, mark: tuple[int, int, int, int, Any]) -> None:
        counter = self.lstate.line_ctr
        counter.char_pos, counter.line, counter.column, counter.line_start_pos = mark[:4]
        self.lstate.last_token = mark[4]

    @property
    def _pos(self) -> int:
        return int(self.lstate.line_ctr.char_pos)

    def _advance(self, count: int) -> None:
        self.lstate.line_ctr.feed(self.text[self._pos : self._pos + count])

    def _next_token(self) -> Token | None:
        """The next token as the parser's current state reads it; None at the end.

        Raises UnexpectedCharacters when no terminal of the language starts here.
        """
        try:
            token: Token = self.lexers[self.pstate.state_stack[-1]].next_token(self.lstate)
            return token
        except EOFError:
            return None
        except UnexpectedCharacters as error:
            try:
                # A terminal that exists but does not fit here: the parser will reject it.
                token = self.root.next_token(self.lstate)
                return token
            except UnexpectedCharacters:
                raise error from None

    def _skip_token(self) -> Token | None:
        """The next token read without context (keywords are keywords); bad text is skipped."""
        while True:
            try:
                token: Token = self.root.next_token(self.lstate)
                return token
            except EOFError:
                return None
            except UnexpectedCharacters:
                char = self.text[self._pos]
                if char == '"' or char in _WRONG_QUOTES:
                    self._advance(self._quoted_length(_WRONG_QUOTES.get(char, '"')))
                else:
                    self._advance(1)

    def _peek_fits(self) -> bool:
        """Does the next token fit the parser's current state? Consumes nothing."""
        mark = self._mark()
        try:
            token = self._next_token()
        except UnexpectedCharacters:
            return False
        finally:
            self._reset(mark)
        if token is None:
            return self._simulate(("$END",))
        return self._simulate((token.type,))

    def _quoted_length(self, closing: str) -> int:
        """Length of a quoted run starting at the cursor: to the closing quote or the line end."""
        start = self._pos
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        close = self.text.find(closing, start + 1, end)
        if close >= 0:
            return close + 1 - start
        return len(self.text[start:end].rstrip("\r")) or 1

    # --- reporting --------------------------------------------------------------------------

    def _report(
        self,
        code: Code,
        message: str,
        span: Span,
        hint: str | None = None,
        related: Sequence[Related] = (),
    ) -> None:
        key = (span.line, span.column)
        if key in self.reported:
            return
        self.reported.add(key)
        if self.diagnostics and hint is not None:
            last = self.diagnostics[-1]
            if last.hint == hint and last.span is not None and last.span.line == span.line:
                return  # the same slip repeated on one line is reported once
        self.diagnostics.append(Diagnostic.make(code, message, span, hint, related))

    @property
    def full(self) -> bool:
        return len(self.diagnostics) >= MAX_SYNTAX_ERRORS

    def _unclosed(self, expected: set[str]) -> tuple[str | None, list[Related]]:
        """Hint and note for a block or parenthesis left open, when a closer is expected."""
        for closer, opener, what in (("RPAR", "LPAR", "("), ("RBRACE", "LBRACE", "{")):
            if closer not in expected:
                continue
            token = self._open(opener)
            if token is None:
                continue
            close = ")" if what == "(" else "}"
            hint = f"the `{what}` on line {token.line} is not closed: add the matching `{close}`"
            return hint, [Related(_token_span(token), f"this `{what}` is not closed")]
        return None, []

    # --- the main loop ----------------------------------------------------------------------

    def run(self) -> Any:
        """The file's items (see `_ToAst.start`) when it has no syntax error; None otherwise."""
        while not self.full:
            try:
                token = self._next_token()
            except UnexpectedCharacters:
                if not self._bad_character():
                    return None
                continue
            if token is None:
                return self._finish(after_panic=False)
            if token.type == "NAME" and token.value in TOP_KEYWORDS and self._starts_line(token):
                # A declaration keyword at the start of a line starts a declaration, even where
                # a name would fit: after an unclosed `{ title "..."` it is not a field name.
                token = Token.new_borrow_pos(self.grammar.by_text[token.value], token.value, token)
            if self._feed(token):
                continue
            if not self._bad_token(token):
                return None
        return None

    def _starts_line(self, token: Token) -> bool:
        start = int(token.start_pos or 0)
        return not self.text[self.text.rfind("\n", 0, start) + 1 : start].strip()

    def _finish(self, after_panic: bool) -> Any:
        if self._simulate(("$END",)):
            if self.diagnostics:
                return None
            last = self.history[0] if self.history else None
            end = Token.new_borrow_pos("$END", "", last) if last else Token("$END", "")
            return self.pstate.feed_token(end, True)
        # After skipping to the end, only a block that is still open is worth reporting.
        if after_panic and self._open("LBRACE") is None:
            return None
        expected = self._expected()
        # Point just past the last character of the file that is not white space.
        line, column = self.source.position(len(self.text.rstrip()))
        span = Span.point(self.source.path, line, column)
        hint, related = self._unclosed(expected)
        message = f"unexpected end of file; expected {_expected_text(expected)}"
        self._report(Code.LR112, message, span, hint, related)
        return None

    def _resume_or_finish(self, resumed: bool) -> bool:
        """After a panic: True to go on parsing, False when the file ended while skipping."""
        if not resumed:
            self._finish(after_panic=True)
        return resumed

    def _bad_token(self, token: Token) -> bool:
        expected = self._expected()
        span = _token_span(token)
        message = f"unexpected {_describe_token(token)}; expected {_expected_text(expected)}"
        hint: str | None = None
        related: list[Related] = []
        fix: list[Token] | None = None  # a replacement that the parser accepts
        keyword_choices = {self.grammar.keywords[t] for t in expected if t in self.grammar.keywords}

        if token.type == "EQUAL" and "COMPARATOR" in expected:
            hint = "use `==` to compare a fact with a value"
            fix = [Token.new_borrow_pos("COMPARATOR", "==", token)]
        elif token.type == "COMPARATOR" and token.value == "==" and "EQUAL" in expected:
            hint = "a derivation assigns with a single `=`: derive fact = value"
            fix = [Token.new_borrow_pos("EQUAL", "=", token)]
        elif token.type == "NAME" and keyword_choices:
            hint = did_you_mean(str(token.value), keyword_choices)
            close = difflib.get_close_matches(str(token.value), sorted(keyword_choices), 2, 0.6)
            if len(close) == 1 and close[0] != token.value:
                kind = self.grammar.by_text[close[0]]
                fix = [Token.new_borrow_pos(kind, close[0], token)]
        if hint is None and token.type in ("NAME", "SIGNED_NUMBER") and "STRING" in expected:
            hint = 'text is written in double quotes: "..."'
        previous = self.history[0] if self.history else None
        if (
            hint is None
            and token.type == "EQUAL"
            and previous is not None
            and previous.type == "EQUAL"
            and previous.end_pos == token.start_pos
        ):
            hint = "a derivation assigns with a single `=`: derive fact = value"
        if hint is None and token.type == "RPAR" and self._open("LPAR") is None:
            hint = "this `)` has no matching `(`"
        if hint is None and token.type == "RBRACE" and self._open("LBRACE") is None:
            hint = "this `}` has no matching `{`"
        if hint is None and token.type in ("COLON", "EQUAL"):
            hint = f"leave out the `{token.value}`: a field is its name followed by its value"
        if hint is None and len(self.history) == 2:
            # `evidence 1,` followed by `when ...`: the keyword was read as a list item.
            item, comma = self.history
            values = self.pstate.value_stack
            if (
                item.type == "NAME"
                and item.value in self.grammar.by_text
                and comma.type == "COMMA"
                and len(values) >= 2
                and values[-1] is item
                and values[-2] is comma
            ):
                # Report it where the mistake is: the comma that ends the list.
                span = _token_span(comma)
                message = (
                    f"the list ends with `,`, so the `{item.value}` after it was read as an item"
                )
                hint = "remove the trailing `,`"
                keyword = self.grammar.by_text[str(item.value)]
                keep = len(self.pstate.state_stack) - 2
                if self._simulate((keyword, token.type), keep):
                    # Take the comma back and read the word as the keyword it is.
                    self._cut(keep)
                    fix = [Token.new_borrow_pos(keyword, item.value, item), token]

        if fix is not None and not self._simulate([t.type for t in fix]):
            fix = None
        if fix is None:
            for missing, text, why in (
                ("COMMA", ",", "separate the items of a list with commas"),
                ("LBRACE", "{", "a block's fields are written inside `{` and `}`"),
                ("RPAR", ")", None),
            ):
                if missing in expected and self._simulate((missing, token.type)):
                    fix = [Token.new_borrow_pos(missing, text, token), token]
                    hint = hint or why
                    break
        if hint is None and (token.type in _SYNC_TYPES or token.type == "RBRACE"):
            # A keyword that starts something new where a closer was due: an unclosed block.
            hint, related = self._unclosed(expected)

        self._report(Code.LR110, message, span, hint, related)
        if fix is not None:
            for item in fix:
                self._feed(item)
            return True
        if token.type in _SYNC_TYPES or token.type == "RBRACE":
            depth = self._accepting_depth(token.type, {})
            if depth is not None:
                self._cut(depth)
                self._feed(token)
                return True
        if token.type in _DELETABLE_TYPES and self._peek_fits():
            return True  # the stray token is dropped; parsing goes on after it
        return self._resume_or_finish(self._panic())

    def _bad_character(self) -> bool:
        position = self._pos
        char = self.text[position]
        line, column = self.source.position(position)
        span = Span.point(self.source.path, line, column)
        expected = self._expected()
        if char == '"':
            length = self._quoted_length('"')
            run = self.text[position : position + length].rstrip()
            if len(run) > 1 and run.endswith("}"):
                # `{ citation "Smith 2020 }`: the quote is missing before the block's end.
                length = len(run[:-1].rstrip())
            end_line, end_column = self.source.position(position + length)
            self._report(
                Code.LR113,
                'unterminated string: a string must end with `"` on the line where it starts',
                Span(self.source.path, line, column, end_line, end_column),
                'add the closing `"`; write \\" for a quote inside a string',
            )
            return self._substitute("STRING", self.text[position : position + length] + '"', length)
        if char in _WRONG_QUOTES:
            length = self._quoted_length(_WRONG_QUOTES[char])
            body = self.text[position + 1 : position + length]
            if body and body[-1] == _WRONG_QUOTES[char]:
                body = body[:-1]
            self._report(
                Code.LR111,
                f"unexpected character {_shown_char(char)}; expected {_expected_text(expected)}",
                span,
                'strings are written in straight double quotes: "..."',
            )
            literal = '"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"'
            return self._substitute("STRING", literal, length)
        if char in _CHAR_FIXES:
            kind, text, fix_hint = _CHAR_FIXES[char]
            length = 2 if self.text[position : position + 2] in ("&&", "||") else 1
            shown = self.text[position : position + length]
            self._report(
                Code.LR111,
                f"unexpected `{shown}`; expected {_expected_text(expected)}",
                span,
                fix_hint,
            )
            return self._substitute(kind, text, length)
        hint: str | None = None
        if char == "-" and "DOT" in expected:
            hint = "names and ids are letters, digits and `_`, joined by dots; `-` is not allowed"
        self._report(
            Code.LR111,
            f"unexpected character {_shown_char(char)}; expected {_expected_text(expected)}",
            span,
            hint,
        )
        self._advance(1)
        if self._peek_fits():
            return True
        return self._resume_or_finish(self._panic())

    def _substitute(self, kind: str, text: str, length: int) -> bool:
        """Replace `length` characters at the cursor by one token; panic if it does not fit."""
        position = self._pos
        line, column = self.source.position(position)
        self._advance(length)
        end_line, end_column = self.source.position(position + length)
        token = Token(kind, text, position, line, column, end_line, end_column, position + length)
        if self._feed(token):
            return True
        return self._resume_or_finish(self._panic())

    def _accepting_depth(self, kind: str, cache: dict[str, int | None]) -> int | None:
        """The longest prefix of the state stack after which `kind` is accepted."""
        if kind not in cache:
            found = None
            for keep in range(len(self.pstate.state_stack), 0, -1):
                if self._simulate((kind,), keep):
                    found = keep
                    break
            cache[kind] = found
        return cache[kind]

    def _panic(self) -> bool:
        """Skip to a keyword or `}` that an enclosing construct accepts and resume there.

        Braces opened in the skipped text are balanced, so a broken block is skipped whole.
        Returns False when the end of the file comes first.
        """
        cache: dict[str, int | None] = {}
        depth = 0
        while True:
            token = self._skip_token()
            if token is None:
                return False
            kind = token.type
            if kind == "LBRACE":
                depth += 1
            elif kind == "RBRACE" and depth > 0:
                depth -= 1
            elif depth == 0 and (kind in _SYNC_TYPES or kind == "RBRACE"):
                keep = self._accepting_depth(kind, cache)
                if keep is not None:
                    self._cut(keep)
                    self._feed(token)
                    return True


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


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file is parsed (or a policy checked).

    Parsing allocates hundreds of thousands of small objects that all stay alive (tokens, tree
    nodes, syntax nodes), which makes the collector rescan an ever larger heap: with it running,
    parse time grows faster than the file. The parse creates no reference cycles worth
    collecting early; the collector resumes (if it was on) as soon as the block ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _NotPlain(Exception):
    """The plain parse cannot go on: leave the file to the recovering parse."""


class _TooDeep(Exception):
    """The parser stack passed MAX_PARSE_DEPTH at this token."""

    def __init__(self, token: Token) -> None:
        super().__init__(token)
        self.token = token

    def diagnostic(self) -> Diagnostic:
        span = _token_span(self.token)
        return Diagnostic.make(
            Code.LR114,
            f"nested more than {MAX_PARSE_DEPTH:,} levels deep; the file is not read further",
            Span.point(span.file, span.line, span.column),
            "split the condition with derived facts, or remove redundant parentheses",
        )


@cache
def _scanner() -> Any:
    """The compiled regular expression of every terminal, as Lark's context-free lexer has it.

    None when this version of Lark keeps it elsewhere: every file then takes the recovering
    parse, which is slower but reads the same.
    """
    try:
        expressions = _parser().parser.lexer.root_lexer.scanner._mres
    except AttributeError:  # pragma: no cover - depends on Lark's internals
        return None
    return expressions[0] if len(expressions) == 1 else None


def _parse_plain(text: str) -> Any:
    """Parse a file that has no syntax error, as fast as Lark's LALR tables allow.

    The tokenizer reads every terminal with Lark's own regular expression and decides a keyword
    from the parser state the way Lark's contextual lexer does (a keyword where the parser
    accepts that keyword, otherwise a name). It is leaner than the contextual lexer, and where
    the two could read a text differently it gives up rather than guess: any token the parser
    rejects, any character no terminal matches, raises, and the caller then runs the
    recovering parse (which uses the contextual lexer) on the file.
    """
    scanner = _scanner()
    if scanner is None:  # pragma: no cover - see `_scanner`
        raise _NotPlain
    state = _parser().parse_interactive(text).parser_state
    states = state.parse_conf.states
    stack = state.state_stack
    feed = state.feed_token
    keywords = _grammar().by_text
    match = scanner.match
    position, line, line_start, size = 0, 1, 0, len(text)
    last: Token | None = None
    while position < size:
        found = match(text, position)
        if found is None:
            raise _NotPlain
        kind = found.lastgroup
        end = found.end()
        if kind == "WS":
            newlines = text.count("\n", position, end)
            if newlines:
                line += newlines
                line_start = text.rindex("\n", position, end) + 1
            position = end
            continue
        column = position - line_start + 1
        token = Token(
            kind, found.group(), position, line, column, line, column + end - position, end
        )
        position = end
        if kind == "COMMENT":
            _collect_comment(token)
            continue
        if kind == "NAME":
            keyword = keywords.get(token.value)
            if keyword is not None and keyword in states[stack[-1]]:
                token.type = keyword
        feed(token)
        if len(stack) > MAX_PARSE_DEPTH:
            raise _TooDeep(token)
        last = token
    end_token = Token.new_borrow_pos("$END", "", last) if last else Token("$END", "", 0, 1, 1)
    return feed(end_token, True)


def _fallback_diagnostic(source: SourceFile, error: Exception) -> Diagnostic:
    """The plain parse's error, for the cases the recovering parse does not reproduce it.

    The recovering parse uses Lark's contextual lexer, which matches a keyword at the start of
    a longer word where only keywords may stand; the plain parse reads whole words. So a
    keyword glued to a name (`rulex.y {`) is accepted by one and refused by the other, and
    this reports it. It also guarantees that a file the parser rejects never comes back
    without a diagnostic.
    """
    token = getattr(error, "token", None)
    if isinstance(token, Token) and token.type == "NAME":
        word = str(token.value)
        glued = max(
            (k for k in GRAMMAR_KEYWORDS if word.startswith(k) and word != k),
            key=len,
            default=None,
        )
        hint = f"put a space after `{glued}`: {glued} {word[len(glued) :]}" if glued else None
        return Diagnostic.make(
            Code.LR110,
            f"unexpected name `{word}`",
            _token_span(token),
            hint or did_you_mean(word, (*TOP_KEYWORDS, *BODY_KEYWORDS)),
        )
    line = max(1, int(getattr(error, "line", 1) or 1))
    column = max(1, int(getattr(error, "column", 1) or 1))
    return Diagnostic.make(Code.LR110, "syntax error", Span.point(source.path, line, column))


def parse(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file. Returns the module, or None and every syntax diagnostic of the file."""
    if not source.text.strip():
        span = Span.point(source.path, 1, 1)
        return ast.Module(source.path, ()), [
            Diagnostic.make(
                Code.LR104,
                "policy file is empty",
                span,
                "a policy file holds declarations such as `policy`, `fact`, `section` and `rule`",
            )
        ]
    with _lock, gc_paused():
        _state.path = source.path
        _state.comments = []
        try:
            try:
                # The fast path: a plain LALR parse. Only a file with a syntax error pays for
                # the token-by-token parse that recovers and reports every error.
                items: Any = _parse_plain(source.text)
            except _TooDeep as stopped:
                return None, [stopped.diagnostic()]
            except (UnexpectedInput, _NotPlain) as error:
                _state.comments = []
                recovery = _Recovery(source)
                try:
                    items = recovery.run()
                except _TooDeep as stopped:
                    found = [*recovery.diagnostics, stopped.diagnostic()]
                    return None, sorted_diagnostics(found)
                if items is None or recovery.diagnostics:
                    found = recovery.diagnostics or [_fallback_diagnostic(source, error)]
                    return None, sorted_diagnostics(found)
                # The contextual lexer read a keyword off the front of a longer word
                # (`rulex.y` as `rule x.y`) where the plain parse, which reads whole words,
                # stopped: the author wrote one word, so that is the error to report.
                return None, [_fallback_diagnostic(source, error)]
        finally:
            comments = tuple(_state.comments)
            _state.comments = []
    deep = _too_deep(items)
    if deep is not None:
        return None, [
            Diagnostic.make(
                Code.LR114,
                f"condition nested more than {MAX_EXPR_DEPTH} levels deep",
                Span.point(deep.span.file, deep.span.line, deep.span.column),
                "split the condition with derived facts, or remove redundant parentheses",
            )
        ]
    if not items:
        return ast.Module(source.path, (), comments), [
            Diagnostic.make(
                Code.LR104,
                "policy file holds only comments",
                Span.point(source.path, 1, 1),
                "a policy file holds declarations such as `policy`, `fact`, `section` and `rule`",
            )
        ]
    return ast.Module(source.path, tuple(items), comments), []
