"""Syntax tree -> canonical policy text, with every comment kept.

Input: a parsed `ast.Module` and the `SourceFile` it came from (for comment placement and the
author's blank lines). Output: text in the one canonical layout:

- two spaces of indentation; `{` ends the line that opens a block, `}` stands alone;
  a block without content is written `{}`;
- one field per line; rule and gap bodies in the order statement, evidence, when, after,
  overrides, the conclusion, strength, alternatives (a stable sort: repeated fields keep their
  order, so the checker still reports them);
- one blank line between blocks; a run of `fact`/`derived` (or `include`) lines is kept
  together, with a blank line where the author left one;
- strings re-escaped (`\\"`, `\\\\`, `\\n`, `\\t`); parentheses exactly as written, plus those
  precedence needs when printing a tree that has none (`not` > `and` > `or`);
- a `when` whose line would pass MAX_WIDTH columns, or that holds a comment between two of its
  operands, is broken before each top-level `and`/`or`, continuation lines indented one more step.

Comments: a comment alone on its line goes above the element that follows it in the source (or
above the element it stands inside); a comment after code stays at the end of the output line
of the element it follows. Two trailing comments that end up on one line are joined.

The printing of names, literals and conditions here is shared with `render` (model -> text).
Formatting is idempotent, and the text it produces parses to the same tree up to body order.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from leukorules.diagnostics import Diagnostic
from leukorules.source import SourceFile, Span
from leukorules.syntax import ast
from leukorules.syntax.parser import parse

INDENT = "  "
MAX_WIDTH = 100
_QUANTIFIER = "for every patient:"

# Rank of each rule/gap/constraint body field in the canonical order; conclusions share one.
BODY_ORDER: dict[str, int] = {
    "statement": 0,
    "evidence": 1,
    "when": 2,
    "require": 3,
    "message": 4,
    "after": 5,
    "overrides": 6,
    "line": 7,
    "recommend": 8,
    "note": 8,
    "caution": 8,
    "background": 8,
    "derive": 8,
    "strength": 9,
    "alternatives": 10,
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_WHITESPACE = " \t\f\r"

# Binding strength of conditions: an operand printed where a stronger one is required gets
# parentheses.
_IMPLIES, _OR, _AND, _NOT, _ATOM = 0, 1, 2, 3, 4

Pos = tuple[int, int]  # (line, column), 1-based, as in spans

# --- names, literals, conditions (shared with render) ---------------------------------------


def quote(text: str) -> str:
    """A string literal for `text`: the inverse of the parser's unquoting."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def ref_text(ref: str) -> str:
    """An evidence reference: bare when it reads as a name or a number, else quoted."""
    return ref if _NAME.fullmatch(ref) or _NUMBER.fullmatch(ref) else quote(ref)


def literal_text(literal: ast.Literal_ | ast.FieldValue) -> str:
    match literal:
        case ast.NameLit(name=name):
            return name
        case ast.StringLit(value=value):
            return quote(value)
        case ast.NumberLit(text=text, unit=unit):
            return f"{text} [{unit}]" if unit else text
        case ast.DateLit(text=text) | ast.DottedLit(text=text):
            return text
        case ast.BoolLit(value=value):
            return "true" if value else "false"
    raise TypeError(f"not a literal: {literal!r}")  # pragma: no cover


def expr_text(expr: ast.Expr, binding: int = _OR) -> str:
    """A condition on one line; parenthesised when it binds less tightly than `binding`."""
    level = _ATOM
    match expr:
        case ast.OrExpr(items=items):
            level, text = _OR, " or ".join(expr_text(i, _AND) for i in items)
        case ast.AndExpr(items=items):
            level, text = _AND, " and ".join(expr_text(i, _NOT) for i in items)
        case ast.NotExpr(item=item):
            level, text = _NOT, "not " + expr_text(item, _NOT)
        case ast.ParenExpr(item=item):
            text = "(" + expr_text(item) + ")"
        case ast.ConstExpr(value=value):
            text = "true" if value else "false"
        case ast.Truthy(fact=fact):
            text = fact.name
        case ast.CompareExpr(fact=fact, op=op, operand=operand):
            text = f"{fact.name} {op} {literal_text(operand)}"
        case ast.MemberExpr(fact=fact, values=values, negated=negated):
            listed = ", ".join(literal_text(v) for v in values)
            text = f"{fact.name} {'not in' if negated else 'in'} {{{listed}}}"
        case ast.ContainsExpr(fact=fact, value=value):
            text = f"{fact.name} contains {literal_text(value)}"
        case ast.KnownExpr(fact=fact, known=known):
            text = f"{fact.name} is {'known' if known else 'unknown'}"
        case _:  # pragma: no cover
            raise TypeError(f"not a condition: {expr!r}")
    return f"({text})" if level < binding else text


def claim_text(claim: ast.Claim, binding: int = _IMPLIES) -> str:
    """A property's claim on one line; parenthesised like `expr_text`, `implies` loosest."""
    level = _ATOM
    match claim:
        case ast.ImpliesExpr(premise=premise, conclusion=conclusion):
            level = _IMPLIES
            text = f"{claim_text(premise, _OR)} implies {claim_text(conclusion, _OR)}"
        case ast.ClaimOr(items=items):
            level, text = _OR, " or ".join(claim_text(i, _AND) for i in items)
        case ast.ClaimAnd(items=items):
            level, text = _AND, " and ".join(claim_text(i, _NOT) for i in items)
        case ast.ClaimNot(item=item):
            level, text = _NOT, "not " + claim_text(item, _NOT)
        case ast.ClaimParen(item=item):
            text = "(" + claim_text(item) + ")"
        case ast.OutcomeExpr(rule=rule, outcome=outcome):
            text = f"{rule.name} {outcome}"
        case _:
            return expr_text(claim, max(binding, _OR))
    return f"({text})" if level < binding else text


def type_text(spec: ast.TypeSpec) -> str:
    text: str = spec.kind
    if spec.kind in ("enum", "set"):
        names = "{" + ", ".join(v.name for v in spec.values) + "}"
        text = f"enum {names}" if spec.kind == "enum" else f"set of {names}"
    if spec.unit:
        text += f" [{spec.unit}]"
    if spec.range is not None:
        low, high = spec.range
        text += f" in {low.text}..{high.text}"
    return text


def fact_text(decl: ast.FactDecl) -> str:
    keyword = "derived" if decl.derived else "fact"
    text = f"{keyword} {decl.name.name}: {type_text(decl.type)}"
    return text + (f" {quote(decl.description.value)}" if decl.description else "")


def body_text(item: ast.BodyItem) -> str:
    """A rule, gap or constraint body line on one line (`when` and `require` included)."""
    match item:
        case ast.Statement(text=text) | ast.Recommend(action=text) | ast.Message(text=text):
            words = [literal_text(text)]
        case ast.EvidenceRefs(refs=refs):
            words = [ref_text(ref.name) for ref in refs]
        case ast.When(condition=condition) | ast.Require(condition=condition):
            words = [expr_text(condition)]
        case ast.Line(number=number):
            words = [literal_text(number)]
        case ast.Strength(level=level):
            words = [level.name]
        case ast.Alternatives(actions=actions):
            words = [literal_text(action) for action in actions]
        case ast.Note(text=text):
            words = [literal_text(text)] if text is not None else []
        case ast.Derive(fact=fact, value=value):
            words = [f"{fact.name} = {literal_text(value)}"]
        case ast.After(rules=rules) | ast.Overrides(rules=rules):
            words = [rule.name for rule in rules]
    return item.kind + (" " + ", ".join(words) if words else "")


def bind_line_text(line: ast.BindLine) -> str:
    """A line of a `bind` block, on one line."""
    match line:
        case ast.CodedLine(resource=resource, value_sets=sets, value=value, options=options):
            names = ", ".join(name.name for name in sets)
            parts = [f"{resource.name} in {names} gives {literal_text(value)}"]
            for option in options:
                shown = literal_text(option.value) if option.value is not None else ""
                parts.append(_BIND_OPTIONS[option.kind].format(shown))
            return ", ".join(parts)
        case ast.AnswerLine(resource=resource, value_sets=sets, days=days):
            names = ", ".join(name.name for name in sets)
            return f"{resource.name} in {names} answers yes or no within {days.text} days"
        case ast.CauseLine(resource=resource, value_sets=sets):
            return f"cause of {resource.name} in {', '.join(name.name for name in sets)}"
        case ast.DrugLine(value_set=value_set, value=value):
            return f"drug in {value_set.name} gives {literal_text(value)}"
        case ast.AnyDrugLine(system=system, value=value):
            return f"any {system.name} drug gives {literal_text(value)}"
    return "drug still taken"


# How each option of a coded binding line is written (`{}`: its value).
_BIND_OPTIONS = {
    "lasting": "lasting",
    "current": "current",
    "refuted": "refuted gives {}",
    "if_drug_cause": "if due to a drug",
}


# --- layout ---------------------------------------------------------------------------------

# How a line is separated from the one before it: "none"; "blank" (always one blank line);
# "keep" (a blank line where the source has one before it or its leading comments);
# "comments" (like keep, but only when it has leading comments: closing braces, end of file).
Separation = Literal["none", "blank", "keep", "comments"]


@dataclass(eq=False)
class _Line:
    depth: int
    text: str | None  # None: the end-of-file anchor, which prints only its comments
    start: Pos
    end: Pos  # exclusive
    sep: Separation = "none"
    prev_end: int = 0  # last source line of the previous sibling, for "keep"/"comments"
    blanks: bool = False  # keep the author's blank lines around its leading comments
    comment_depth: int | None = None
    leading: list[ast.Comment] = field(default_factory=list)
    trailing: list[ast.Comment] = field(default_factory=list)


def _start(span: Span) -> Pos:
    return (span.line, span.column)


def _end(span: Span) -> Pos:
    return (span.end_line, span.end_column)


def _is_declaration_line(item: object) -> bool:
    return isinstance(item, ast.FactDecl | ast.Include)


class _Layout:
    def __init__(self, module: ast.Module, source: SourceFile) -> None:
        self.comments = sorted(module.comments, key=lambda c: (c.line, c.column))
        self.comment_pos = [(c.line, c.column) for c in self.comments]
        self.text_lines = source.text.split("\n")
        self.blank_lines = [
            number for number, text in enumerate(self.text_lines, 1) if not text.strip()
        ]
        self.lines: list[_Line] = []

    # --- source queries ---

    def _has_comment(self, low: Pos, high: Pos) -> bool:
        """A comment starts at or after `low` and before `high`."""
        index = bisect.bisect_left(self.comment_pos, low)
        return index < len(self.comment_pos) and self.comment_pos[index] < high

    def _blank_between(self, low: int, high: int) -> bool:
        """The source has a blank line strictly between lines `low` and `high`."""
        index = bisect.bisect_right(self.blank_lines, low)
        return index < len(self.blank_lines) and self.blank_lines[index] < high

    def _full_line(self, comment: ast.Comment) -> bool:
        if comment.line > len(self.text_lines):
            return True
        return not self.text_lines[comment.line - 1][: comment.column - 1].strip()

    def _brace_after(self, pos: Pos) -> Pos | None:
        """Where the `{` after a block's head is (only whitespace and comments lie between)."""
        line, index = pos[0], pos[1] - 1
        while line <= len(self.text_lines):
            text = self.text_lines[line - 1]
            while index < len(text) and text[index] in _WHITESPACE:
                index += 1
            if index < len(text) and text[index] != "#":
                return (line, index + 1) if text[index] == "{" else None
            line, index = line + 1, 0  # end of line, or a comment up to it
        return None

    # --- building lines ---

    def _line(
        self,
        depth: int,
        text: str,
        start: Pos,
        end: Pos,
        sep: Separation = "none",
        prev_end: int = 0,
        blanks: bool = False,
    ) -> _Line:
        line = _Line(depth, text, start, end, sep, prev_end, blanks)
        self.lines.append(line)
        return line

    def items(self, items: Sequence[ast.Item], depth: int) -> None:
        """Declarations of the file or of a section, in the author's order."""
        previous: ast.Item | None = None
        for item in items:
            sep: Separation = "none"
            if previous is not None:
                same_run = _is_declaration_line(previous) and type(previous) is type(item)
                sep = "keep" if same_run else "blank"
            prev_end = previous.span.end_line if previous is not None else 0
            self._item(item, depth, sep, prev_end)
            previous = item

    def _item(self, item: ast.Item, depth: int, sep: Separation, prev_end: int) -> None:
        start, end = _start(item.span), _end(item.span)
        match item:
            case ast.FactDecl():
                self._line(depth, fact_text(item), start, end, sep, prev_end, True)
            case ast.Include(path=path):
                self._line(depth, f"include {quote(path.value)}", start, end, sep, prev_end, True)
            case (
                ast.PolicyBlock(id=name, fields=fields) | ast.EvidenceBlock(id=name, fields=fields)
            ):
                is_policy = isinstance(item, ast.PolicyBlock)
                head = f"policy {name.name}" if is_policy else f"evidence {ref_text(name.name)}"
                header = self._line(depth, head, start, _end(name.span), sep, prev_end, True)
                self._block(header, item.span, lambda: self._fields(fields, depth + 1))
            case ast.SectionBlock(title=title, items=children):
                head = f"section {quote(title.value)}"
                header = self._line(depth, head, start, _end(title.span), sep, prev_end, True)
                self._block(header, item.span, lambda: self.items(children, depth + 1), True)
            case ast.PropertyBlock(id=name, text=text, claim=claim):
                head = f"property {name.name}"
                header = self._line(depth, head, start, _end(name.span), sep, prev_end, True)
                self._block(header, item.span, lambda: self._property(text, claim, depth + 1))
            case ast.ValueSetBlock(name=name, title=title, concepts=concepts):
                head = f"valueset {name.name} {quote(title.value)}"
                header = self._line(depth, head, start, _end(title.span), sep, prev_end, True)
                self._block(header, item.span, lambda: self._concepts(concepts, depth + 1))
            case ast.BindBlock(fact=fact, lines=lines):
                header = self._line(
                    depth, f"bind {fact.name}", start, _end(fact.span), sep, prev_end, True
                )
                self._block(header, item.span, lambda: self._bind_lines(lines, depth + 1))
            case ast.RuleBlock(id=name, items=body, block=block):
                head = f"{block} {name.name}"
                ordered = sorted(body, key=lambda b: BODY_ORDER.get(b.kind, len(BODY_ORDER)))
                header = self._line(depth, head, start, _end(name.span), sep, prev_end, True)
                self._block(header, item.span, lambda: self._body(ordered, depth + 1))

    def _block(
        self, header: _Line, span: Span, body: Callable[[], None], container: bool = False
    ) -> None:
        """`header` holds the head of a block (up to its name); add `{`, the body and `}`."""
        assert header.text is not None
        brace = self._brace_after(header.end) if self.comments else None
        if brace is not None:
            header.end = (brace[0], brace[1] + 1)
        close = (span.end_line, span.end_column - 1)
        count = len(self.lines)
        body()
        if len(self.lines) == count and not self._has_comment(header.end, close):
            header.text, header.end = header.text + " {}", _end(span)
            return
        header.text += " {"
        closing = self._line(
            header.depth, "}", close, _end(span), "comments", self.lines[-1].end[0], container
        )
        closing.comment_depth = header.depth + 1

    def _fields(self, fields: Sequence[ast.Field], depth: int) -> None:
        for f in fields:
            text = f"{f.name.name} {literal_text(f.value)}"
            self._line(depth, text, _start(f.span), _end(f.span))

    def _concepts(self, concepts: Sequence[ast.ConceptLine], depth: int) -> None:
        """Each code on a line, and where it was checked on the line below it."""
        for c in concepts:
            head = f"{c.system.name} {c.code.name} {quote(c.display.value)}"
            self._line(depth, head, _start(c.span), _end(c.display.span))
            self._line(
                depth + 1, f"source {quote(c.source.value)}", _end(c.display.span), _end(c.span)
            )

    def _bind_lines(self, lines: Sequence[ast.BindLine], depth: int) -> None:
        for line in lines:
            self._line(depth, bind_line_text(line), _start(line.span), _end(line.span))

    def _body(self, body: Sequence[ast.BodyItem], depth: int) -> None:
        for item in body:
            if isinstance(item, ast.When | ast.Require) and self._when_lines(item, depth):
                continue
            self._line(depth, body_text(item), _start(item.span), _end(item.span))

    def _property(self, text: ast.StringLit, claim: ast.Claim, depth: int) -> None:
        """A property's text, then its claim after `for every patient:`: on that line when it
        fits, else below it, broken before `implies` (the premise and the conclusion each on a
        line of their own) and, where a part is still too long, before each of its top-level
        `and`/`or` operands, as a long `when` is."""
        self._line(depth, quote(text.value), _start(text.span), _end(text.span))
        line = f"{_QUANTIFIER} {claim_text(claim)}"
        start = (text.span.end_line, text.span.end_column)
        breaks = len(INDENT) * depth + len(line) > MAX_WIDTH
        if isinstance(claim, ast.ImpliesExpr):
            between = self._has_comment(_end(claim.premise.span), _start(claim.conclusion.span))
            breaks = breaks or between
        if not breaks:
            self._line(depth, line, start, _end(claim.span))
            return
        self._line(depth, _QUANTIFIER, start, _start(claim.span))
        if isinstance(claim, ast.ImpliesExpr):
            self._claim_lines("", claim.premise, depth + 1)
            self._claim_lines("implies ", claim.conclusion, depth + 1)
        else:
            self._claim_lines("", claim, depth + 1)

    def _claim_lines(self, head: str, claim: ast.Claim, depth: int) -> None:
        """`head` and a claim on one line, or broken before its top-level operands."""
        text = head + claim_text(claim, _OR)
        if len(INDENT) * depth + len(text) <= MAX_WIDTH or not isinstance(
            claim, ast.ClaimAnd | ast.ClaimOr
        ):
            self._line(depth, text, _start(claim.span), _end(claim.span))
            return
        keyword, binding = ("or", _AND) if isinstance(claim, ast.ClaimOr) else ("and", _NOT)
        first, *rest = claim.items
        self._line(depth, head + claim_text(first, binding), _start(claim.span), _end(first.span))
        for operand in rest:
            line = f"{keyword} {claim_text(operand, binding)}"
            self._line(depth + 1, line, _start(operand.span), _end(operand.span))

    def _when_lines(self, item: ast.When | ast.Require, depth: int) -> bool:
        """Write a `when` (or `require`) broken before each top-level `and`/`or`, if it needs
        breaking."""
        expr = item.condition
        if not isinstance(expr, ast.AndExpr | ast.OrExpr):
            return False
        flat = len(INDENT) * depth + len(body_text(item))
        first, *rest = expr.items
        if flat <= MAX_WIDTH and not self._comment_between_operands(item.span, first, rest[-1]):
            return False
        keyword, binding = ("or", _AND) if isinstance(expr, ast.OrExpr) else ("and", _NOT)
        head = f"{item.kind} {expr_text(first, binding)}"
        self._line(depth, head, _start(item.span), _end(first.span))
        for operand in rest:
            text = f"{keyword} {expr_text(operand, binding)}"
            self._line(depth + 1, text, _start(operand.span), _end(operand.span))
        return True

    def _comment_between_operands(self, span: Span, first: ast.Expr, last: ast.Expr) -> bool:
        """A comment in the condition that, once it is broken, stays between two of its lines:
        one after code that comes before the last operand, or one on its own line after the
        first operand. (Others would end up above or after the whole `when`, so breaking for
        them would not survive formatting the result again.)"""
        low = bisect.bisect_left(self.comment_pos, _start(span))
        high = bisect.bisect_left(self.comment_pos, _end(span))
        for comment in self.comments[low:high]:
            pos = (comment.line, comment.column)
            if self._full_line(comment):
                if pos > _end(first.span):
                    return True
            elif pos < _start(last.span):
                return True
        return False

    # --- comments and output ---

    def finish(self) -> str:
        last = self.lines[-1].end[0] if self.lines else 0
        end_of_file = (len(self.text_lines) + 1, 0)
        anchor = self._line(0, "", end_of_file, end_of_file, "comments", last, True)
        anchor.text = None
        self._attach_comments()
        out: list[str] = []
        for line in self.lines:
            self._emit(line, out)
        return "\n".join(out) + "\n" if out else ""

    def _attach_comments(self) -> None:
        by_start = sorted(self.lines, key=lambda line: line.start)
        starts = [line.start for line in by_start]
        for comment in self.comments:
            pos = (comment.line, comment.column)
            index = bisect.bisect_left(starts, pos)
            before = by_start[index - 1] if index > 0 else None
            after = by_start[index] if index < len(by_start) else by_start[-1]
            if before is not None and not self._full_line(comment):
                before.trailing.append(comment)  # after code: stays at the end of that line
            elif before is not None and before.end > pos:
                before.leading.append(comment)  # inside a multi-line element: above it
            else:
                after.leading.append(comment)  # above the element that follows

    def _emit(self, line: _Line, out: list[str]) -> None:
        leading = line.leading
        first = min(leading[0].line, line.start[0]) if leading else line.start[0]
        blank = line.sep == "blank"
        if line.sep == "keep" or (line.sep == "comments" and leading and line.blanks):
            blank = self._blank_between(line.prev_end, first)
        if blank and out:
            out.append("")
        depth = line.depth if line.comment_depth is None else line.comment_depth
        for index, comment in enumerate(leading):
            if index and line.blanks and self._blank_between(leading[index - 1].line, comment.line):
                out.append("")
            out.append(INDENT * depth + comment.text.rstrip())
        if (
            leading
            and line.blanks
            and line.sep != "comments"
            and self._blank_between(leading[-1].line, line.start[0])
        ):
            out.append("")
        if line.text is None:
            return
        text = INDENT * line.depth + line.text
        if line.trailing:
            text += "  " + "  ".join(c.text.rstrip() for c in line.trailing)
        out.append(text)


def format_module(module: ast.Module, source: SourceFile) -> str:
    """The canonical text of a parsed module; `source` is the text it was parsed from."""
    layout = _Layout(module, source)
    layout.items(module.items, 0)
    return layout.finish()


def _canonical_items(items: Sequence[ast.Item]) -> list[object]:
    """Items with rule bodies in canonical order: what formatting must not change."""
    out: list[object] = []
    for item in items:
        if isinstance(item, ast.RuleBlock):
            body = sorted(item.items, key=lambda b: BODY_ORDER.get(b.kind, len(BODY_ORDER)))
            out.append((item.id, tuple(body), item.block))
        elif isinstance(item, ast.SectionBlock):
            out.append((item.title, _canonical_items(item.items)))
        else:
            out.append(item)
    return out


def same_content(before: ast.Module, after: ast.Module) -> bool:
    """Whether two parses hold the same declarations (up to the order of rule body fields)
    and the same comment words (comments may move, and trailing ones may be joined)."""

    def words(module: ast.Module) -> list[str]:
        return sorted(word for c in module.comments for word in c.text.split())

    same_items = _canonical_items(before.items) == _canonical_items(after.items)
    return same_items and words(before) == words(after)


def format_source(text: str, path: str = "<input>") -> tuple[str | None, list[Diagnostic]]:
    """Format policy text. Returns the text, or None and the syntax errors that prevent it.

    An empty (or blank) file formats to the empty string.
    """
    source = SourceFile.from_text(path, text)
    module, diagnostics = parse(source)
    if module is None:
        return None, diagnostics
    return format_module(module, source), []
