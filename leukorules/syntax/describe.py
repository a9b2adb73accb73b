"""Tokens and expectations in the words an author uses, never in Lark's terminal names.

Input: terminal names (what the parser expected), tokens and characters (what it found).
Output: text for syntax messages: "`,` or `}`", "a rule field (statement, evidence, ...)",
"name `x`", "a backquote (`)". Groups of keywords are named by what they start; the groups are
read off the grammar (`leukorules.syntax.keywords`), so a new keyword is described without a
change here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache

from leukorules.syntax.keywords import Keywords, keywords
from leukorules.syntax.lark_adapter import Token
from leukorules.syntax.tables import shared_parser

# Terminals matched by a pattern, described by what they are.
_PATTERN_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted string ("...")',
    "SIGNED_NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "UNIT": "a unit such as [mg/dL]",
    "COMPARATOR": "a comparison (==, !=, <, <=, >, >=)",
    "$END": "the end of the file",
}
# The longest string shown whole in a message; a longer one is cut.
_SHOWN_STRING = 40


@cache
def _words() -> dict[str, str]:
    """Terminal name -> how it is written in a message: "`}`", "a name"."""
    words = dict(_PATTERN_WORDS)
    for name, text in shared_parser().facts.terminals.items():
        if text is not None:
            words.setdefault(name, f"`{text}`")
    return words


def join_choices(parts: Sequence[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _group(words: Sequence[str], kw: Keywords) -> frozenset[str]:
    return frozenset(kw.terminal[w] for w in words if w in kw.terminal)


def expected_text(expected: Collection[str]) -> str:
    """`{"COMMA", "RBRACE"}` -> "`,` or `}`"; groups of keywords are named, not listed raw."""
    kw = keywords()
    rest = set(expected)
    groups: list[str] = []
    if rest >= kw.comparison_terminals:
        rest -= kw.comparison_terminals
        groups.append("a comparison (==, !=, <, <=, >, >=, in, not in, contains, is known)")
    types = _group(kw.types, kw)
    if types and types <= rest:
        rest -= types
        groups.append("a type (" + ", ".join(kw.types) + ")")
    body = _group(kw.body_fields, kw)
    if rest >= body:
        rest -= body
        groups.append("a rule field (" + ", ".join(kw.body_fields) + ")")
    declarations = _group(kw.declarations, kw)
    # `evidence` also starts a body line, so it may already have gone with the rule fields.
    if rest >= declarations - body:
        rest -= declarations
        groups.append("a declaration (" + ", ".join(kw.declarations) + ")")
    tail: list[str] = []
    if "RBRACE" in rest:
        rest.discard("RBRACE")
        tail.append("`}`")
    if "$END" in rest:
        rest.discard("$END")
        tail.append("the end of the file")
    words = _words()
    singles = sorted(
        {words.get(name, name.lower()) for name in rest},
        key=lambda word: (not word.startswith("`"), word),
    )
    parts = [*singles, *groups, *tail]
    return join_choices(parts) if parts else "nothing more"


def describe_token(token: Token) -> str:
    """A token as found in the text: "name `x`", "string "...", "`{`"."""
    value = str(token.value)
    if token.type == "NAME":
        return f"name `{value}`"
    if token.type == "STRING":
        shown = value if len(value) <= _SHOWN_STRING else value[: _SHOWN_STRING - 3] + '..."'
        return f"string {shown}"
    if token.type == "SIGNED_NUMBER":
        return f"number `{value}`"
    if token.type == "DATE":
        return f"date `{value}`"
    if token.type == "UNIT":
        return f"unit `{value}`"
    return f"`{value}`"


def shown_character(char: str) -> str:
    """A character no terminal starts with, as a message shows it."""
    if char == "`":
        return "a backquote (`)"
    if char.isprintable():
        return f"`{char}`"
    return f"U+{ord(char):04X}"
