"""The one door to Lark: every use of the `lark` package in leukorules goes through this module.

Input: the grammar text, the callbacks that build syntax nodes as rules reduce, and a policy
text. Output: what the rest of `leukorules.syntax` needs, in its own small types:
- `LalrParser.parse`: the fast parse (Lark's LALR parser and contextual lexer) of a file; it
  raises `SyntaxStop` at the first syntax error, `GluedKeyword` where a keyword runs into a name
  (`rulex.y`), `TooDeep` past the nesting limit;
- `LalrParser.cursor`: a `Cursor`, the same parser driven one token at a time, which error
  recovery uses to try a repair before making it;
- `LalrParser.facts`: the compiled grammar's terminals and productions (`GrammarFacts`), from
  which `leukorules.syntax.keywords` derives the language's keywords.

Guarantees: one lexing behaviour, Lark's contextual lexer, on both paths. It reads a keyword off
the front of a longer word where no name may stand (`rulex.y` as `rule x.y`); both paths see
that as a glued keyword (`Cursor.glued`) instead of silently splitting the word. Nothing outside
this module imports `lark` (a test checks it).

Lark's public `InteractiveParser` (`parse_interactive`, `accepts`, `choices`, `feed_token`,
`feed_eof`, `parser_state`, `lexer_thread`) drives the cursor. What it does not offer, and this
module therefore reaches for: the parser's stacks (their depth; cutting them back to an enclosing
construct, `Cursor.cut`; trying terminals on the parse table without feeding them,
`Cursor.fits`, which is `accepts` without a copy of the parser per terminal), the lexer's line
counter (the reading position, and skipping characters no terminal matches, as Lark's own
`on_error` does) and the context-free root lexer (reading on past an error). `pyproject.toml`
pins Lark's major version for them.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any, TypeAlias

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import Shift

__all__ = [
    "NAME_CHARACTERS",
    "Cursor",
    "GluedKeyword",
    "GrammarFacts",
    "LalrParser",
    "NoTerminal",
    "Production",
    "SyntaxStop",
    "Token",
    "TooDeep",
    "token_at",
    "token_like",
]

# Characters that continue a name: a keyword followed by one of them is glued to a name.
NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_")

TokenCallback: TypeAlias = Callable[[Token], Token]


@dataclass(frozen=True, slots=True)
class Production:
    """One alternative of a grammar rule, as Lark compiled it: `origin: symbols -> alias`."""

    origin: str
    alias: str | None
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GrammarFacts:
    """The compiled grammar: each terminal's fixed text (None for a pattern such as NAME) and
    every production, in grammar order."""

    terminals: Mapping[str, str | None]
    productions: tuple[Production, ...]


class SyntaxStop(Exception):
    """The fast parse met a syntax error at this line and column (1-based)."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.line = line
        self.column = column


class GluedKeyword(Exception):
    """The lexer read a keyword off the front of a longer word (`rulex` as `rule`)."""

    def __init__(self, token: Token) -> None:
        super().__init__(token)
        self.token = token


class TooDeep(Exception):
    """The parser's stack passed the nesting limit at this token."""

    def __init__(self, token: Token) -> None:
        super().__init__(token)
        self.token = token


class NoTerminal(Exception):
    """No terminal of the language starts at the reading position."""


def token_like(kind: str, text: str, like: Token) -> Token:
    """A token of another kind and text, at the place of `like`."""
    return Token.new_borrow_pos(kind, text, like)


def token_at(
    kind: str, text: str, start: int, end: int, start_at: tuple[int, int], end_at: tuple[int, int]
) -> Token:
    """A token covering characters `start` to `end`, at (line, column) `start_at` to `end_at`."""
    return Token(kind, text, start, start_at[0], start_at[1], end_at[0], end_at[1], end)


class LalrParser:
    """Lark's LALR(1) parser with its contextual lexer, for one grammar.

    `callbacks` is Lark's inline transformer: an object with one method per rule (or alias)
    name, called with the rule's children as it reduces; `lexer_callbacks` are called with the
    tokens of the named terminals (comments, which the parser never sees). `cache` is a file
    for Lark's analysed tables (False: none); `strict` makes Lark refuse any LALR conflict and
    any pair of colliding terminals.
    """

    def __init__(
        self,
        grammar: str,
        *,
        callbacks: object,
        lexer_callbacks: Mapping[str, TokenCallback],
        cache: str | bool,
        strict: bool,
        max_depth: int,
    ) -> None:
        self._lark = Lark(
            grammar,
            parser="lalr",
            lexer="contextual",
            strict=strict,
            keep_all_tokens=True,  # the callbacks take spans from keywords and braces too
            maybe_placeholders=False,
            transformer=callbacks,
            lexer_callbacks=dict(lexer_callbacks),
            cache=cache,
        )
        self.max_depth = max_depth
        self.facts = GrammarFacts(
            {
                t.name: str(t.pattern.value) if t.pattern.type == "str" else None
                for t in self._lark.terminals
            },
            tuple(
                Production(rule.origin.name, rule.alias, tuple(str(s.name) for s in rule.expansion))
                for rule in self._lark.rules
            ),
        )
        self.keywords = frozenset(
            name for name, text in self.facts.terminals.items() if text and text.isalpha()
        )

    def parse(self, text: str) -> Any:
        """The value of the `start` rule's callback for a text without syntax errors.

        Raises SyntaxStop at the first syntax error, GluedKeyword at the first keyword run into
        a name, TooDeep where the nesting passes `max_depth`.
        """
        interactive: Any = self._lark.parse_interactive(text)  # Lark leaves parts of it untyped
        state = interactive.parser_state
        stack = state.state_stack
        feed = state.feed_token
        keywords = self.keywords
        limit = self.max_depth
        last: Token | None = None
        try:
            for token in interactive.lexer_thread.lex(state):
                # Checked here rather than in a lexer callback: this loop sees every token
                # anyway (for the depth limit), and which terminals are keywords is known only
                # once Lark has named them (`string` is `__ANON_0`).
                if token.type in keywords and _runs_into_name(text, token):
                    raise GluedKeyword(token)
                feed(token)
                if len(stack) > limit:
                    raise TooDeep(token)
                last = token
            return interactive.feed_eof(last)
        except UnexpectedInput as error:
            raise SyntaxStop(max(1, error.line or 1), max(1, error.column or 1)) from None

    def cursor(self, text: str) -> Cursor:
        """The text ready to be parsed a token at a time."""
        return Cursor(self._lark.parse_interactive(text), text, self.keywords, self.max_depth)


def _runs_into_name(text: str, token: Token) -> bool:
    end = token.end_pos
    return end is not None and end < len(text) and text[end] in NAME_CHARACTERS


class Cursor:
    """One text parsed a token at a time: read, try, feed, and back out of constructs.

    `fits` tries terminals without feeding them, so a failed attempt leaves the parser
    untouched, and `feed` refuses a token (changing nothing) unless the parser accepts it.
    """

    def __init__(
        self, interactive: Any, text: str, keywords: frozenset[str], max_depth: int
    ) -> None:
        self.text = text
        self._keywords = keywords
        self._max_depth = max_depth
        self._interactive = interactive
        self._state = self._interactive.parser_state
        self._thread = self._interactive.lexer_thread
        self._table: Mapping[Any, Mapping[str, tuple[Any, Any]]] = (
            self._state.parse_conf.parse_table.states
        )
        self._end_state = self._state.parse_conf.end_state

    # --- the parser -------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Entries on the parser's state stack: 1 at the start of the file."""
        return len(self._state.state_stack)

    def values(self) -> Sequence[object]:
        """What the parser holds on its stack: tokens shifted and values of reduced rules."""
        values: list[object] = self._state.value_stack
        return values

    def expected(self) -> frozenset[str]:
        """The terminals the parser accepts next."""
        return frozenset(self._interactive.accepts())

    def fits(self, kinds: Sequence[str], keep: int | None = None) -> bool:
        """Would the parser accept these terminals, in turn, after its stack is cut to `keep`?

        Worked out on the parse table (the `choices` of each state the parser would pass
        through), so trying costs no copy of the parser and changes nothing.
        """
        stack = self._state.state_stack
        base = len(stack) if keep is None else keep
        pushed: list[Any] = []  # states the trial pushed on top of stack[:base]
        table = self._table
        for kind in kinds:
            while True:
                top = pushed[-1] if pushed else stack[base - 1]
                action = table[top].get(kind)
                if action is None:
                    return False
                what, target = action
                if what is Shift:
                    pushed.append(target)
                    break
                size = len(target.expansion)  # a reduction: pop the rule's symbols
                popped = min(size, len(pushed))
                if popped:
                    del pushed[-popped:]
                base -= size - popped
                if base < 1:
                    return False  # pragma: no cover - a valid table never pops its start
                top = pushed[-1] if pushed else stack[base - 1]
                pushed.append(table[top][target.origin.name][1])
                if kind == "$END" and pushed[-1] == self._end_state:
                    return True
        return True

    def feed(self, token: Token) -> bool:
        """Feed a token if the parser accepts it; a refused token changes nothing.

        Raises TooDeep when the stack passes the nesting limit.
        """
        action = self._interactive.choices().get(token.type)
        if action is None or (action[0] is not Shift and not self.fits((token.type,))):
            return False
        self._interactive.feed_token(token)
        if len(self._state.state_stack) > self._max_depth:
            raise TooDeep(token)
        return True

    def cut(self, keep: int) -> None:
        """Drop the parser's stack to its first `keep` entries: back out of open constructs."""
        del self._state.state_stack[keep:]
        del self._state.value_stack[keep - 1 :]

    def finish(self, last: Token | None) -> Any:
        """End the file: the value of the `start` rule's callback."""
        return self._interactive.feed_eof(last)

    # --- the lexer --------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Offset in the text of the next character to read."""
        return int(self._thread.state.line_ctr.char_pos)

    def skip(self, count: int) -> None:
        """Move the reading position on by `count` characters."""
        position = self.position
        self._thread.state.line_ctr.feed(self.text[position : position + count])

    def next_token(self) -> Token | None:
        """The next token as the parser's current state reads it (the contextual lexer), or a
        terminal that does not fit here; None at the end of the text.

        Raises NoTerminal when no terminal of the language starts at the reading position.
        """
        try:
            return next(self._thread.lex(self._state), None)
        except UnexpectedToken as error:  # a terminal that exists, but not here
            token: Token = error.token
            return token
        except UnexpectedCharacters:
            raise NoTerminal from None

    def next_word(self) -> Token | None:
        """The next token read without context (keywords are keywords); None at the end.

        Raises NoTerminal when no terminal of the language starts at the reading position.
        """
        try:
            token: Token = self._thread.lexer.root_lexer.next_token(self._thread.state)
            return token
        except EOFError:
            return None
        except UnexpectedCharacters:
            raise NoTerminal from None

    def peek_fits(self) -> bool:
        """Does the next token fit the parser's current state? Consumes nothing."""
        saved = copy(self._thread.state)
        try:
            token = self.next_token()
        except NoTerminal:
            return False
        finally:
            self._thread.state = saved
        return self.fits(("$END",) if token is None else (token.type,))

    def glued(self, token: Token) -> bool:
        """Is this a keyword read off the front of a longer word?"""
        return token.type in self._keywords and _runs_into_name(self.text, token)
