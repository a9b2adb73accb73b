"""Text -> syntax tree, with syntax errors as diagnostics in plain words.

Input: a `SourceFile`. Output: `(Module | None, diagnostics)`: the module when the file has no
syntax error, else None and every syntax error of the file.

A file is read once by Lark's LALR parser and contextual lexer (`tables.shared_parser`), which
builds `ast` nodes as it reduces (`build.AstBuilder`): no parse tree is made, so even absurdly
nested input cannot overflow the stack. Only a file with a syntax error pays for a second,
token-by-token parse (`recovery.Recovery`) that repairs or skips past each error and goes on,
so one run reports every syntax error of the file. Both parses read the text with the same lexer,
and both refuse a keyword run into a name (`rulex.y`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from typing import Any

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic, sorted_diagnostics
from leukorules.source import SourceFile, Span
from leukorules.syntax import ast
from leukorules.syntax.build import context, lock
from leukorules.syntax.lark_adapter import GluedKeyword, SyntaxStop, Token, TooDeep
from leukorules.syntax.recovery import MAX_SYNTAX_ERRORS, Recovery
from leukorules.syntax.tables import MAX_PARSE_DEPTH, build_parser, shared_parser

__all__ = [
    "MAX_EXPR_DEPTH",
    "MAX_PARSE_DEPTH",
    "MAX_SYNTAX_ERRORS",
    "build_parser",
    "gc_paused",
    "parse",
]

# Deeper conditions than this are refused: no guideline needs them, and refusing early keeps
# every later stage free to recurse over expressions.
MAX_EXPR_DEPTH = 64


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


def _too_deep(items: Sequence[ast.Item]) -> ast.Claim | None:
    """The first condition (or property claim) nested deeper than MAX_EXPR_DEPTH, found
    without recursion."""
    stack: list[tuple[object, int]] = [(item, 0) for item in items]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.SectionBlock):
            stack.extend((child, 0) for child in node.items)
        elif isinstance(node, ast.RuleBlock):
            stack.extend(
                (b.condition, 1) for b in node.items if isinstance(b, ast.When | ast.Require)
            )
        elif isinstance(node, ast.PropertyBlock):
            stack.append((node.claim, 1))
        elif isinstance(node, ast.AndExpr | ast.OrExpr | ast.ClaimAnd | ast.ClaimOr):
            if depth > MAX_EXPR_DEPTH:
                return node
            stack.extend((child, depth + 1) for child in node.items)
        elif isinstance(node, ast.NotExpr | ast.ParenExpr | ast.ClaimNot | ast.ClaimParen):
            if depth > MAX_EXPR_DEPTH:
                return node
            stack.append((node.item, depth + 1))
        elif isinstance(node, ast.ImpliesExpr):
            if depth > MAX_EXPR_DEPTH:
                return node
            stack.extend(((node.premise, depth + 1), (node.conclusion, depth + 1)))
    return None


def _nested_too_deeply(path: str, token: Token) -> Diagnostic:
    at = Span.point(path, token.line or 1, token.column or 1)
    return msg.INPUT_TOO_DEEP.at(at, limit=MAX_PARSE_DEPTH)


def _recover(source: SourceFile, stop: SyntaxStop | GluedKeyword) -> list[Diagnostic]:
    """Every syntax error of a file the fast parse refused."""
    recovery = Recovery(source)
    try:
        recovery.run()
    except TooDeep as stopped:
        found = [*recovery.diagnostics, _nested_too_deeply(source.path, stopped.token)]
        return sorted_diagnostics(found)
    if recovery.diagnostics:
        return sorted_diagnostics(recovery.diagnostics)
    # The recovering parse found nothing to report where the fast parse stopped: the file is
    # refused all the same, and says so at that place.
    if isinstance(stop, GluedKeyword):
        line, column = stop.token.line or 1, stop.token.column or 1
    else:
        line, column = stop.line, stop.column
    return [msg.SYNTAX_ERROR.at(Span.point(source.path, line, column))]


def parse(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file. Returns the module, or None and every syntax diagnostic of the file."""
    if not source.text.strip():
        return ast.Module(source.path, ()), [msg.EMPTY_FILE.at(Span.point(source.path, 1, 1))]
    with lock, gc_paused():
        context.path = source.path
        context.comments = []
        context.literal_problems = {}
        try:
            items: Any = shared_parser().parse(source.text)
        except TooDeep as stopped:
            return None, [_nested_too_deeply(source.path, stopped.token)]
        except (SyntaxStop, GluedKeyword) as stop:
            context.literal_problems = {}  # the recovering parse reads every literal again
            found = _recover(source, stop)
            return None, sorted_diagnostics([*found, *context.literal_problems.values()])
        finally:
            comments = tuple(context.comments)
            literal_problems = list(context.literal_problems.values())
            context.comments = []
            context.literal_problems = {}
    if literal_problems:
        return None, sorted_diagnostics(literal_problems)
    deep = _too_deep(items)
    if deep is not None:
        at = Span.point(deep.span.file, deep.span.line, deep.span.column)
        return None, [msg.CONDITION_TOO_DEEP.at(at, limit=MAX_EXPR_DEPTH)]
    if not items:
        only_comments = msg.ONLY_COMMENTS.at(Span.point(source.path, 1, 1))
        return ast.Module(source.path, (), comments), [only_comments]
    return ast.Module(source.path, tuple(items), comments), []
