"""The one door to Lark: every use of the `lark` package in leukorules goes through this module.

Input: the grammar text, the callbacks that build syntax nodes as rules reduce, and a policy
text. Output: what the rest of `leukorules.syntax` needs, in its own small types:
- `LalrParser.parse`: the fast parse of a file; it raises `SyntaxStop` at the first syntax
  error, `GluedKeyword` where a keyword runs into a name (`rulex.y`), `TooDeep` past the
  nesting limit;
- `LalrParser.cursor`: a `Cursor`, the same parser driven one token at a time, which error
  recovery uses to try a repair before making it;
- `LalrParser.facts`: the compiled grammar's terminals and productions (`GrammarFacts`), from
  which `leukorules.syntax.keywords` derives the language's keywords.

One lexing behaviour: Lark's contextual lexer. In each parser state it matches only the
terminals that state accepts, with Lark's compiled scanner for that set and Lark's callbacks
(which make a name that spells a keyword the keyword, where the keyword fits). Both paths read
through one routine, `_Reader.tokens`, over those per-state scanners: it does what Lark's
`BasicLexer.next_token` does without its per-token bookkeeping, which made a parse a fifth
slower. Where no name may stand, the contextual lexer reads a keyword off the front of a longer
word (`rulex.y` as `rule x.y`); both paths see that as a glued keyword instead of silently
splitting the word. Nothing outside this module imports `lark` (a test checks it).

Lark's public API drives the parser: `parse_interactive`, and the `InteractiveParser`'s
`parser_state`, `choices`, `accepts`, `feed_token` and `feed_eof`. What it does not offer, and
this module therefore reaches for: the contextual lexer's per-state scanners and callbacks
(`ContextualLexer.lexers`, `root_lexer`; `BasicLexer.scanner`, `callback`, `ignore_types`,
`newline_types`), and the parser's stacks (their depth; cutting them back to an enclosing
construct, `Cursor.cut`; trying terminals on the parse table without feeding them,
`Cursor.fits`, which is `accepts` without a copy of the parser per terminal). `pyproject.toml`
pins Lark's major version for them, and a test checks that `_Reader` reads real policies exactly
as Lark's own lexer does.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from lark import Lark, Token
from lark.exceptions import UnexpectedInput
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


def is_word(text: str) -> bool:
    """Whether a keyword's text is a word (letters and `_`: `when`, `not_fired`), not
    punctuation."""
    return bool(text) and all(ch.isalpha() or ch == "_" for ch in text)


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


@dataclass(frozen=True, slots=True)
class _StateLexer:
    """How the lexer reads in one parser state: Lark's compiled scanner for the terminals that
    state accepts plus the ones it ignores (white space, comments), and the callbacks on them."""

    match: Callable[[str, int], re.Match[str] | None]
    callbacks: Mapping[str, TokenCallback]
    ignored: frozenset[str]
    multiline: frozenset[str]  # terminals whose text may hold a newline


def _state_lexer(basic: Any) -> _StateLexer:
    """One of Lark's `BasicLexer`s, as `_Reader` uses it."""
    patterns: tuple[re.Pattern[str], ...] = tuple(basic.scanner._mres)

    def match_any(text: str, position: int) -> re.Match[str] | None:
        # Python's `re` limits groups, so Lark may split a long alternation in parts.
        for pattern in patterns:
            found = pattern.match(text, position)
            if found is not None:
                return found
        return None

    match: Callable[[str, int], re.Match[str] | None]
    match = patterns[0].match if len(patterns) == 1 else match_any
    return _StateLexer(
        match,
        dict(basic.callback),
        frozenset(basic.ignore_types),
        frozenset(basic.newline_types),
    )


# Where `_Reader` reads without context: every terminal of the language at once.
_ANY_STATE = object()


class _Lexers:
    """The contextual lexer's `_StateLexer` for each parser state, made on first use."""

    def __init__(self, contextual: Any) -> None:
        self._contextual = contextual
        self._by_basic: dict[int, _StateLexer] = {}  # Lark shares one lexer among states
        self.by_state: dict[object, _StateLexer] = {}

    def __call__(self, state: object) -> _StateLexer:
        lexer = self.by_state.get(state)
        if lexer is None:
            contextual = self._contextual
            basic = contextual.root_lexer if state is _ANY_STATE else contextual.lexers[state]
            lexer = self._by_basic.get(id(basic))
            if lexer is None:
                lexer = self._by_basic[id(basic)] = _state_lexer(basic)
            self.by_state[state] = lexer
        return lexer


class _Reader:
    """A reading position in a text (offset, line, start of the line) and the one routine
    that reads tokens from it, for the fast parse and the recovering one alike."""

    __slots__ = ("lexers", "line", "line_start", "position", "text")

    def __init__(self, text: str, lexers: _Lexers) -> None:
        self.text = text
        self.lexers = lexers
        self.position = 0
        self.line = 1
        self.line_start = 0

    def tokens(self, stack: Sequence[object]) -> Iterator[Token]:
        """Tokens as the state on top of the parser's `stack` reads each, the way Lark's
        `BasicLexer.next_token` reads them: ignored terminals are skipped (after their
        callbacks), every other token goes through its callbacks and is yielded.

        Raises NoTerminal where no terminal the state reads starts; the position is then at
        that character.
        """
        text = self.text
        size = len(text)
        by_state = self.lexers.by_state
        position, line, line_start = self.position, self.line, self.line_start
        while position < size:
            state = stack[-1]
            lexer = by_state.get(state) or self.lexers(state)
            found = lexer.match(text, position)
            if found is None:
                self.position, self.line, self.line_start = position, line, line_start
                raise NoTerminal
            kind = found.lastgroup or ""
            start, end = position, found.end()
            start_line, column = line, start - line_start + 1
            if kind in lexer.multiline:
                newlines = text.count("\n", start, end)
                if newlines:
                    line += newlines
                    line_start = text.rindex("\n", start, end) + 1
            position = end
            callback = lexer.callbacks.get(kind)
            if callback is None and kind in lexer.ignored:
                continue
            token = Token(
                kind, found.group(), start, start_line, column, line, end - line_start + 1, end
            )
            if callback is not None:
                token = callback(token)
                if kind in lexer.ignored:
                    continue
            self.position, self.line, self.line_start = position, line, line_start
            yield token
        self.position, self.line, self.line_start = position, line, line_start

    def read(self, state: object) -> Token | None:
        """The next token as `state` reads it; None at the end of the text."""
        return next(self.tokens((state,)), None)

    def skip(self, count: int) -> None:
        """Move on by `count` characters."""
        start, end = self.position, self.position + count
        newlines = self.text.count("\n", start, end)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rindex("\n", start, end) + 1
        self.position = end


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
            name for name, text in self.facts.terminals.items() if text and is_word(text)
        )
        self._lexers = _Lexers(self._lark.parser.lexer)

    def parse(self, text: str) -> Any:
        """The value of the `start` rule's callback for a text without syntax errors.

        Raises SyntaxStop at the first syntax error, GluedKeyword at the first keyword run into
        a name, TooDeep where the nesting passes `max_depth`.
        """
        interactive: Any = self._lark.parse_interactive(text)  # Lark leaves parts of it untyped
        state = interactive.parser_state
        stack = state.state_stack
        feed = state.feed_token
        reader = _Reader(text, self._lexers)
        keywords = self.keywords
        limit = self.max_depth
        last: Token | None = None
        try:
            for token in reader.tokens(stack):
                # Checked here rather than in a lexer callback: which terminals are keywords is
                # known only once Lark has named them (`string` is `__ANON_0`).
                if token.type in keywords and _runs_into_name(text, token):
                    raise GluedKeyword(token)
                feed(token)
                if len(stack) > limit:
                    raise TooDeep(token)
                last = token
            return interactive.feed_eof(last)
        except UnexpectedInput as error:
            raise SyntaxStop(max(1, error.line or 1), max(1, error.column or 1)) from None
        except NoTerminal:
            raise SyntaxStop(reader.line, reader.position - reader.line_start + 1) from None

    def cursor(self, text: str) -> Cursor:
        """The text ready to be parsed a token at a time."""
        reader = _Reader(text, self._lexers)
        interactive = self._lark.parse_interactive(text)
        return Cursor(interactive, reader, self.keywords, self.max_depth)


def _runs_into_name(text: str, token: Token) -> bool:
    end = token.end_pos
    return end is not None and end < len(text) and text[end] in NAME_CHARACTERS


class Cursor:
    """One text parsed a token at a time: read, try, feed, and back out of constructs.

    `fits` tries terminals without feeding them, so a failed attempt leaves the parser
    untouched, and `feed` refuses a token (changing nothing) unless the parser accepts it.
    """

    def __init__(
        self, interactive: Any, reader: _Reader, keywords: frozenset[str], max_depth: int
    ) -> None:
        self.text = reader.text
        self._reader = reader
        self._keywords = keywords
        self._max_depth = max_depth
        self._interactive = interactive
        self._state = interactive.parser_state
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
        return self._reader.position

    def skip(self, count: int) -> None:
        """Move the reading position on by `count` characters."""
        self._reader.skip(count)

    def next_token(self) -> Token | None:
        """The next token as the parser's current state reads it (the contextual lexer), or a
        terminal that does not fit here; None at the end of the text.

        Raises NoTerminal when no terminal of the language starts at the reading position.
        """
        try:
            return self._reader.read(self._state.state_stack[-1])
        except NoTerminal:
            return self._reader.read(_ANY_STATE)  # a terminal that exists, but not here

    def next_word(self) -> Token | None:
        """The next token read without context (keywords are keywords); None at the end.

        Raises NoTerminal when no terminal of the language starts at the reading position.
        """
        return self._reader.read(_ANY_STATE)

    def peek_fits(self) -> bool:
        """Does the next token fit the parser's current state? Consumes nothing."""
        reader = self._reader
        saved = (reader.position, reader.line, reader.line_start)
        try:
            token = self.next_token()
        except NoTerminal:
            return False
        finally:
            reader.position, reader.line, reader.line_start = saved
        return self.fits(("$END",) if token is None else (token.type,))

    def glued(self, token: Token) -> bool:
        """Is this a keyword read off the front of a longer word?"""
        return token.type in self._keywords and _runs_into_name(self.text, token)
