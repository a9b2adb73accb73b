"""The language's keywords, read off the compiled grammar (never kept by hand).

Input: the productions and terminals of the shared parser's grammar. Output: `keywords()`, a
`Keywords` holding, in grammar order, the words that start a declaration (`policy`, `fact`, ...),
a rule body line (`statement`, `when`, ...) and a type (`bool`, `integer`, ...), the words that
may follow a fact's name in a condition, and every keyword with its terminal. The checker reads
the rule fields from here, so adding a body line to the grammar adds it everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from leukorules.syntax.lark_adapter import GrammarFacts, is_word
from leukorules.syntax.tables import shared_parser

# The grammar rules the keyword groups are read from.
_FILE_RULE = "start"
_BODY_RULE = "body_item"
_TYPE_RULE = "type_spec"
_CONDITION_RULE = "test"


@dataclass(frozen=True, slots=True)
class Keywords:
    """Keyword texts in grammar order, and the terminal of each (`rule` -> RULE)."""

    declarations: tuple[str, ...]  # what the file's items start with
    body_fields: tuple[str, ...]  # what a rule or gap body line starts with
    types: tuple[str, ...]  # the fact types
    comparison_terminals: frozenset[str]  # what may follow a fact's name in a condition
    terminal: Mapping[str, str]  # keyword text -> terminal name
    text: Mapping[str, str]  # terminal name -> keyword text

    @property
    def all(self) -> frozenset[str]:
        return frozenset(self.terminal)


def _first_terminals(facts: GrammarFacts, rule: str) -> tuple[str, ...]:
    """The terminals that can start `rule`, in grammar order (its FIRST set)."""
    by_origin: dict[str, list[tuple[str, ...]]] = {}
    for production in facts.productions:
        by_origin.setdefault(production.origin, []).append(production.symbols)
    found: dict[str, None] = {}  # an ordered set
    seen: set[str] = set()

    def visit(origin: str) -> None:
        seen.add(origin)
        for symbols in by_origin.get(origin, ()):
            if symbols and symbols[0] in facts.terminals:
                found.setdefault(symbols[0])
            elif symbols and symbols[0] not in seen:
                visit(symbols[0])

    visit(rule)
    return tuple(found)


def _second_terminals(facts: GrammarFacts, rule: str, after: str) -> frozenset[str]:
    """The terminals that follow `after` at the start of a production of `rule`."""
    return frozenset(
        p.symbols[1]
        for p in facts.productions
        if p.origin == rule
        and len(p.symbols) > 1
        and p.symbols[0] == after
        and p.symbols[1] in facts.terminals
    )


def keywords_of(facts: GrammarFacts) -> Keywords:
    text = {
        name: literal
        for name, literal in facts.terminals.items()
        if literal is not None and is_word(literal)
    }

    def words(rule: str) -> tuple[str, ...]:
        return tuple(text[t] for t in _first_terminals(facts, rule) if t in text)

    return Keywords(
        declarations=words(_FILE_RULE),
        body_fields=words(_BODY_RULE),
        types=words(_TYPE_RULE),
        comparison_terminals=_second_terminals(facts, _CONDITION_RULE, "NAME"),
        terminal={literal: name for name, literal in text.items()},
        text=text,
    )


@cache
def keywords() -> Keywords:
    """The keywords of the shipped grammar."""
    return keywords_of(shared_parser().facts)
