"""SQL text laid out for people: long lines broken at brackets, commas, CASE branches, AND/OR.

Input: SQL text as the compilers write it (one select item or clause per line, any length).
Output: the same statement with every line longer than `width` broken and indented by nesting
depth; a line that fits is left as it is. Only the whitespace at a break changes (after an
opening bracket or a comma, before a closing bracket, around CASE's branches, before AND and
OR); everything else, string literals and quoted identifiers included, is copied as written, so
the statement means exactly what it meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

WIDTH = 100
INDENT = "  "

_TOKEN = re.compile(
    r"""'(?:[^']|'')*'        # a string literal, quotes doubled inside
      |"(?:[^"]|"")*"         # a quoted identifier
      |[()\[\],]              # brackets and commas
      |[^\s()\[\],'"]+        # anything else: a word, a number, an operator
    """,
    re.VERBOSE,
)
_CLOSING = {"(": ")", "[": "]", "CASE": "END"}
_BRANCHES = frozenset({"WHEN", "ELSE"})
_CONNECTIVES = frozenset({"AND", "OR"})


@dataclass
class _Word:
    start: int
    end: int
    text: str


@dataclass
class _Group:
    """A bracketed list (items split at commas) or a CASE expression (items split before WHEN
    and ELSE; the first item is the operand, if there is one)."""

    opening: _Word
    items: list[list[_Node]] = field(default_factory=list)
    end: int = 0

    @property
    def start(self) -> int:
        return self.opening.start


_Node = _Word | _Group


def lay_out(text: str, width: int = WIDTH) -> str:
    """`text` with its long lines broken (see the module's docstring)."""
    out: list[str] = []
    start = 0
    for end in [*_line_ends(text), len(text)]:
        line = text[start:end]
        start = end + 1
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        nodes = _parse(line)
        out.append(line if nodes is None else indent + _Layout(line, width).nodes(nodes, indent))
    return "\n".join(out)


def indented(text: str, prefix: str = INDENT) -> str:
    """Every line of `text` after `prefix` (line breaks inside string literals are no lines)."""
    out = prefix
    start = 0
    for end in _line_ends(text):
        out += text[start : end + 1] + prefix
        start = end + 1
    return out + text[start:]


def _line_ends(text: str) -> list[int]:
    """Positions of the line breaks outside string literals and quoted identifiers."""
    quoted_or_break = re.finditer(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\n", text)
    return [match.start() for match in quoted_or_break if match.group() == "\n"]


def _parse(line: str) -> list[_Node] | None:
    """A line's words as nested groups; None if its brackets or CASEs do not balance."""
    stack: list[tuple[_Group, list[_Node]]] = []
    top: list[_Node] = []
    current = top
    for match in _TOKEN.finditer(line):
        word = _Word(match.start(), match.end(), match.group())
        text = word.text
        if text in _CLOSING:
            group = _Group(word)
            current.append(group)
            stack.append((group, current))
            current = []
            group.items.append(current)
        elif stack and text == _CLOSING[stack[-1][0].opening.text]:
            group, current = stack.pop()
            group.end = word.end
            group.items = [item for item in group.items if item]
        elif text in (")", "]", "END"):
            return None
        elif stack and text == "," and stack[-1][0].opening.text != "CASE":
            current = []
            stack[-1][0].items.append(current)
        elif stack and text in _BRANCHES and stack[-1][0].opening.text == "CASE":
            current = [word]
            stack[-1][0].items.append(current)
        else:
            current.append(word)
    return None if stack else top


class _Layout:
    def __init__(self, line: str, width: int) -> None:
        self.line = line
        self.width = width

    def flat(self, nodes: list[_Node]) -> str:
        return self.line[nodes[0].start : _end(nodes[-1])] if nodes else ""

    def nodes(self, nodes: list[_Node], indent: str, column: int | None = None) -> str:
        """`nodes` starting at `column` (default: just after `indent`): as written where they
        fit, else with each group that does not fit broken over lines one level deeper."""
        at = len(indent) if column is None else column
        if at + _end(nodes[-1]) - nodes[0].start <= self.width:
            return self.flat(nodes)
        first = nodes[0]
        branch = isinstance(first, _Word) and first.text in _BRANCHES
        if branch and at == len(indent):  # a CASE branch: `WHEN ...` and `THEN ...` lines
            split = next((i for i, n in enumerate(nodes) if _is_word(n, "THEN")), None)
            if split is not None:
                condition = self.nodes(nodes[:split], indent)
                return condition + f"\n{indent}" + self.nodes(nodes[split:], indent)
        pieces = _split_connectives(nodes)
        if len(pieces) > 1:  # a long AND/OR chain: one operand per line, hanging mid-line
            hang = indent if at == len(indent) and not branch else indent + INDENT
            rendered = [self.nodes(pieces[0], indent, at)]
            rendered += [self.nodes(piece, hang) for piece in pieces[1:]]
            return f"\n{hang}".join(rendered)
        parts: list[str] = []
        column_now = at
        # Where the words after each node end: at the next group, or the end of the line.
        until = _end(nodes[-1])
        stops: list[int] = []
        for node in reversed(nodes):
            stops.append(until)
            if isinstance(node, _Group):
                until = node.start
        stops.reverse()
        for index, node in enumerate(nodes):
            if index:
                space = self.line[_end(nodes[index - 1]) : node.start]  # as written
                parts.append(space)
                column_now += len(space)
            # A group stays on the line if it fits with the words that follow it up to the next
            # group (`CASE ... END AS "name",`).
            if isinstance(node, _Group) and column_now + stops[index] - node.start > self.width:
                piece = self.broken(node, indent)
            else:
                piece = self.flat([node])
            parts.append(piece)
            newline = piece.rfind("\n")
            column_now = len(piece) - newline - 1 if newline >= 0 else column_now + len(piece)
        return "".join(parts)

    def broken(self, group: _Group, indent: str) -> str:
        inner = indent + INDENT
        items = [self.nodes(item, inner) for item in group.items]
        closing = _CLOSING[group.opening.text]
        if group.opening.text == "CASE":
            operand = group.items and group.items[0][0]
            head = "CASE"
            if isinstance(operand, _Group) or (operand and operand.text not in _BRANCHES):
                head += " " + items.pop(0)
            return head + "".join(f"\n{inner}{item}" for item in items) + f"\n{indent}{closing}"
        if not items:
            return group.opening.text + closing
        return f"{group.opening.text}\n{inner}" + f",\n{inner}".join(items) + f"\n{indent}{closing}"


def _is_word(node: _Node, text: str) -> bool:
    return isinstance(node, _Word) and node.text == text


def _end(node: _Node) -> int:
    return node.end


def _split_connectives(nodes: list[_Node]) -> list[list[_Node]]:
    """`a AND b OR c` -> [a], [AND b], [OR c] (top level only)."""
    pieces: list[list[_Node]] = [[]]
    for node in nodes:
        if isinstance(node, _Word) and node.text in _CONNECTIVES and pieces[-1]:
            pieces.append([node])
        else:
            pieces[-1].append(node)
    return pieces
