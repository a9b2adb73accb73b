"""Error recovery: every syntax error of a file, each reported once, in plain words.

Input: a `SourceFile` the fast parse refused. Output: `Recovery.run()` gives the diagnostics
(at most MAX_SYNTAX_ERRORS) and, should the file turn out to have none, the file's items.

The parser is driven a token at a time (`lark_adapter.Cursor`). For a token it refuses,
recovery tries, in order of preference:
  1. a known slip (`repairs.SUBSTITUTIONS`: `=` for `==`, a misspelt keyword, ...), read as
     what was meant;
  2. one missing `,`, `{` or `)` (`repairs.INSERTIONS`) when the token fits after it;
  3. if the token starts a rule field or a declaration (or is a `}`), backing out to the
     nearest enclosing construct that accepts it;
  4. dropping a stray token when the next one fits;
  5. panic: skipping tokens (balancing braces) to the next keyword or `}` that an enclosing
     construct accepts, and going on from there.
Characters no terminal starts with go through `repairs.CHARACTER_REPAIRS` the same way. Each
attempt is tried on the parse table first (`Cursor.fits`), so a failed one changes nothing;
each error position is reported once, and a slip repeated on one line only the first time.
"""

from __future__ import annotations

from typing import Any, TypedDict

from leukorules import messages as msg
from leukorules.diagnostics import DECLARED, Diagnostic, Message, Related
from leukorules.source import SourceFile, Span
from leukorules.syntax.build import token_span
from leukorules.syntax.describe import describe_token, expected_text, shown_character
from leukorules.syntax.keywords import keywords
from leukorules.syntax.lark_adapter import (
    NAME_CHARACTERS,
    Cursor,
    NoTerminal,
    Token,
    token_at,
    token_like,
)
from leukorules.syntax.repairs import (
    CHARACTER_REPAIRS,
    INSERTIONS,
    SUBSTITUTIONS,
    WRONG_QUOTES,
    Repair,
    Slip,
    Spot,
    quoted_length,
)
from leukorules.syntax.tables import shared_parser

# A file with more syntax errors than this gets only the first ones: past that point the
# author is better served by fixing those and running the check again.
MAX_SYNTAX_ERRORS = 20


class Wording(TypedDict, total=False):
    """The fields syntax messages are written from (see `leukorules.messages`)."""

    found: str  # the refused token, described
    expected: str  # what would have fitted, described
    text: str  # the refused token as written
    previous: str  # the token before it, as written


# Brackets: closer terminal -> (opener terminal, opener text, closer text).
_BRACKETS = {"RPAR": ("LPAR", "(", ")"), "RBRACE": ("LBRACE", "{", "}")}
# Tokens dropped as strays when the token after them fits (`title: "x"`, `when a > 1 ;`).
_DELETABLE = frozenset(
    {"COLON", "EQUAL", "COMMA", "DOT", "RPAR", "NAME", "STRING", "SIGNED_NUMBER", "DATE", "UNIT"}
)


class Recovery:
    """One recovering parse of one file."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.text = source.text
        self.cursor: Cursor = shared_parser().cursor(source.text)
        kw = keywords()
        self.keyword_terminal = kw.terminal
        self.declarations = frozenset(kw.declarations)
        # Tokens recovery can resume at: what starts a body line or a declaration.
        self.sync = frozenset(kw.terminal[w] for w in (*kw.body_fields, *kw.declarations))
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[tuple[int, int]] = set()
        self.history: tuple[Token, ...] = ()  # the last two tokens accepted, newest first

    # --- reporting --------------------------------------------------------------------------

    def report(self, diagnostic: Diagnostic) -> None:
        """Keep a diagnostic, unless its place is reported already, or it is the same slip
        as the one before on the same line."""
        span = diagnostic.span
        if span is not None:
            key = (span.line, span.column)
            if key in self.reported:
                return
            self.reported.add(key)
        if self.diagnostics and diagnostic.hint is not None and span is not None:
            last = self.diagnostics[-1]
            same_line = last.span is not None and last.span.line == span.line
            if last.hint == diagnostic.hint and same_line:
                return  # the same slip repeated on one line is reported once
        self.diagnostics.append(diagnostic)

    @property
    def full(self) -> bool:
        return len(self.diagnostics) >= MAX_SYNTAX_ERRORS

    def open_bracket(self, opener: str) -> Token | None:
        """The innermost `{` or `(` (by terminal) the parser is inside of, if any."""
        closer = "RPAR" if opener == "LPAR" else "RBRACE"
        closed = 0  # closers already shifted whose construct is not reduced yet
        for value in reversed(self.cursor.values()):
            if isinstance(value, Token):
                if value.type == closer:
                    closed += 1
                elif value.type == opener:
                    if not closed:
                        return value
                    closed -= 1
        return None

    def report_unclosed(
        self,
        plain: Message,
        unclosed: Message,
        span: Span,
        expected: frozenset[str],
        fields: Wording,
    ) -> None:
        """`unclosed` (with a note at the bracket) when a bracket is left open where its closer
        is expected, `plain` otherwise."""
        for closer, (opener, opening, closing) in _BRACKETS.items():
            token = self.open_bracket(opener) if closer in expected else None
            if token is not None:
                note = Related(token_span(token), f"this `{opening}` is not closed")
                self.report(
                    unclosed.at(
                        span,
                        related=[note],
                        opener=opening,
                        closer=closing,
                        line=token.line,
                        **fields,
                    )
                )
                return
        self.report(plain.at(span, **fields))

    # --- the main loop ----------------------------------------------------------------------

    def run(self) -> Any:
        """The file's items when it has no syntax error; None otherwise."""
        while not self.full:
            try:
                token = self.cursor.next_token()
            except NoTerminal:
                if not self.bad_character():
                    return None
                continue
            if token is None:
                return self.finish(after_panic=False)
            if (
                token.type == "NAME"
                and token.value in self.declarations
                and self.starts_line(token)
            ):
                # A declaration keyword at the start of a line starts a declaration, even where
                # a name would fit: after an unclosed `{ title "..."` it is not a field name.
                token = token_like(self.keyword_terminal[token.value], token.value, token)
            glued = self.cursor.glued(token)
            if self.feed(token):
                if glued and self.cursor.peek_fits():
                    self.report_glued(token)
                continue
            if not self.bad_token(token):
                return None
        return None

    def feed(self, token: Token) -> bool:
        if not self.cursor.feed(token):
            return False
        self.history = (token, self.history[0]) if self.history else (token,)
        return True

    def starts_line(self, token: Token) -> bool:
        start = int(token.start_pos or 0)
        return not self.text[self.text.rfind("\n", 0, start) + 1 : start].strip()

    def report_glued(self, token: Token) -> None:
        """A keyword run into a name (`rulex.y`), which the parser accepted read apart, and the
        token after it too: the space is what is missing. (Where the token after it does not
        fit, the word is no keyword at all, and that refusal is the error reported.)"""
        start = int(token.start_pos or 0)
        end = start
        while end < len(self.text) and self.text[end] in NAME_CHARACTERS:
            end += 1
        line, column = token.line or 1, token.column or 1
        span = Span(self.source.path, line, column, line, column + end - start)
        word = self.text[start:end]
        keyword = str(token.value)
        self.report(
            msg.GLUED_KEYWORD.at(span, word=word, keyword=keyword, rest=word[len(keyword) :])
        )

    def finish(self, after_panic: bool) -> Any:
        if self.cursor.fits(("$END",)):
            if self.diagnostics:
                return None
            return self.cursor.finish(self.history[0] if self.history else None)
        # After skipping to the end, only a block that is still open is worth reporting.
        if after_panic and self.open_bracket("LBRACE") is None:
            return None
        expected = self.cursor.expected()
        # Point just past the last character of the file that is not white space.
        line, column = self.source.position(len(self.text.rstrip()))
        span = Span.point(self.source.path, line, column)
        fields = Wording(expected=expected_text(expected))
        self.report_unclosed(
            msg.UNEXPECTED_END, msg.UNEXPECTED_END_UNCLOSED, span, expected, fields
        )
        return None

    def resume_or_finish(self, resumed: bool) -> bool:
        """After a panic: True to go on parsing, False when the file ended while skipping."""
        if not resumed:
            self.finish(after_panic=True)
        return resumed

    # --- a refused token --------------------------------------------------------------------

    def slip(self, token: Token, expected: frozenset[str]) -> Slip:
        values = self.cursor.values()
        return Slip(
            token=token,
            expected=expected,
            history=self.history,
            top=tuple(reversed(values[-2:])),
            open_parenthesis=self.open_bracket("LPAR"),
            open_brace=self.open_bracket("LBRACE"),
        )

    def bad_token(self, token: Token) -> bool:
        expected = self.cursor.expected()
        slip = self.slip(token, expected)
        fields = Wording(
            found=describe_token(token),
            expected=expected_text(expected),
            text=str(token.value),
            previous=str(slip.previous.value) if slip.previous is not None else "",
        )
        explained: Repair | None = next((r for r in SUBSTITUTIONS if r.applies(slip)), None)
        fix: tuple[Token, ...] = ()
        keep: int | None = None
        if explained is not None:
            fix = explained.replacement(slip)
            if explained.rewind:
                keep = self.cursor.depth - explained.rewind
            if fix and not self.cursor.fits([t.type for t in fix], keep):
                fix, keep = (), None
        if not fix:
            for insertion in INSERTIONS:
                if not insertion.applies(slip):
                    continue
                candidate = insertion.replacement(slip)
                if self.cursor.fits([t.type for t in candidate]):
                    fix = candidate
                    if explained is None or explained.message is None:
                        explained = insertion
                    break
        self.explain(slip, explained, fields)
        if fix:
            if keep is not None:
                self.cursor.cut(keep)
            for item in fix:
                self.feed(item)
            return True
        if token.type in self.sync or token.type == "RBRACE":
            depth = self.accepting_depth(token.type, {})
            if depth is not None:
                self.cursor.cut(depth)
                self.feed(token)
                return True
        if token.type in _DELETABLE and self.cursor.peek_fits():
            return True  # the stray token is dropped; parsing goes on after it
        return self.resume_or_finish(self.panic())

    def explain(self, slip: Slip, repair: Repair | None, fields: Wording) -> None:
        token = slip.token
        if repair is not None and repair.message is not None:
            at = slip.history[repair.rewind - 1] if repair.rewind else token
            hint = repair.hint(slip) if repair.hint is not None else DECLARED
            self.report(repair.message.at(token_span(at), hint=hint, **fields))
        elif token.type in self.sync or token.type == "RBRACE":
            # A keyword that starts something new where a closer was due: an unclosed block.
            self.report_unclosed(
                msg.UNEXPECTED_TOKEN,
                msg.UNEXPECTED_TOKEN_UNCLOSED,
                token_span(token),
                slip.expected,
                fields,
            )
        else:
            self.report(msg.UNEXPECTED_TOKEN.at(token_span(token), **fields))

    # --- a character no terminal starts with ------------------------------------------------

    def bad_character(self) -> bool:
        position = self.cursor.position
        spot = Spot(self.text, position, self.cursor.expected())
        line, column = self.source.position(position)
        repair = next(r for r in CHARACTER_REPAIRS if r.applies(spot))
        reading = repair.reading(spot)
        span = Span.point(self.source.path, line, column)
        if reading is not None and repair.underline:
            end_line, end_column = self.source.position(position + reading.length)
            span = Span(self.source.path, line, column, end_line, end_column)
        length = reading.length if reading is not None else 1
        self.report(
            repair.message.at(
                span,
                char=shown_character(spot.char),
                shown=self.text[position : position + length],
                expected=expected_text(spot.expected),
            )
        )
        if reading is not None:
            return self.substitute(reading.kind, reading.text, reading.length)
        self.cursor.skip(1)
        if self.cursor.peek_fits():
            return True
        return self.resume_or_finish(self.panic())

    def substitute(self, kind: str, text: str, length: int) -> bool:
        """Read `length` characters as one token; panic if it does not fit."""
        position = self.cursor.position
        start_at = self.source.position(position)
        self.cursor.skip(length)
        end_at = self.source.position(position + length)
        if self.feed(token_at(kind, text, position, position + length, start_at, end_at)):
            return True
        return self.resume_or_finish(self.panic())

    # --- backing out and skipping -----------------------------------------------------------

    def accepting_depth(self, kind: str, cache: dict[str, int | None]) -> int | None:
        """The longest prefix of the parser's stack after which `kind` is accepted."""
        if kind not in cache:
            found = None
            for keep in range(self.cursor.depth, 0, -1):
                if self.cursor.fits((kind,), keep):
                    found = keep
                    break
            cache[kind] = found
        return cache[kind]

    def next_word(self) -> Token | None:
        """The next token read without context (keywords are keywords); bad text is skipped."""
        while True:
            try:
                return self.cursor.next_word()
            except NoTerminal:
                char = self.text[self.cursor.position]
                if char == '"' or char in WRONG_QUOTES:
                    closing = WRONG_QUOTES.get(char, '"')
                    self.cursor.skip(quoted_length(self.text, self.cursor.position, closing))
                else:
                    self.cursor.skip(1)

    def panic(self) -> bool:
        """Skip to a keyword or `}` that an enclosing construct accepts and resume there.

        Braces opened in the skipped text are balanced, so a broken block is skipped whole.
        Returns False when the end of the file comes first.
        """
        cache: dict[str, int | None] = {}
        depth = 0
        while True:
            token = self.next_word()
            if token is None:
                return False
            kind = token.type
            if kind == "LBRACE":
                depth += 1
            elif kind == "RBRACE" and depth > 0:
                depth -= 1
            elif depth == 0 and (kind in self.sync or kind == "RBRACE"):
                keep = self.accepting_depth(kind, cache)
                if keep is not None:
                    self.cursor.cut(keep)
                    self.feed(token)
                    return True
