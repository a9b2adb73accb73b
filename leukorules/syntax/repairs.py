"""The slips authors make, as tables: where each applies, what is read instead, the message.

Input: a `Slip` (a token the parser refused, with what it expected and what came before) or a
`Spot` (a character no terminal starts with). Output: the rows that apply, each with the message
that explains the slip (and its hint, from `leukorules.messages`) and the tokens the parser
reads in its place. Error recovery (`leukorules.syntax.recovery`) reports the first row that
applies and makes its repair when the parser accepts it, so one slip gives one diagnostic and
the parse goes on as if the author had written what was meant.

The tables, in order of preference:
- `SUBSTITUTIONS`: known mistakes (`=` for `==`, a misspelt keyword, unquoted text, a trailing
  comma before a keyword, a `)` or `}` too many);
- `INSERTIONS`: one missing `,`, `{` or `)`, when the refused token fits after it;
- `CHARACTER_REPAIRS`: characters from word processors and other languages (`&&`, `≥`,
  `'...'`, an unterminated string).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from leukorules import messages as msg
from leukorules.diagnostics import Message, did_you_mean
from leukorules.syntax.keywords import keywords
from leukorules.syntax.lark_adapter import Token, token_like


@dataclass(frozen=True, slots=True)
class Slip:
    """A token the parser refused, and what surrounds it."""

    token: Token
    expected: frozenset[str]  # the terminals the parser would have accepted
    history: tuple[Token, ...]  # the last tokens the parser accepted, newest first (up to two)
    top: tuple[object, ...]  # the newest values on the parser's stack, newest first (up to two)
    open_parenthesis: Token | None  # the innermost `(` not closed yet
    open_brace: Token | None  # the innermost `{` not closed yet

    @property
    def previous(self) -> Token | None:
        return self.history[0] if self.history else None

    @property
    def keyword_choices(self) -> frozenset[str]:
        """The keywords among the terminals expected."""
        text = keywords().text
        return frozenset(text[t] for t in self.expected if t in text)


@dataclass(frozen=True, slots=True)
class Repair:
    """One slip: where it `applies`; the `message` that explains it (None: leave the message
    to a row that applies before or after); the tokens the parser reads in its place
    (`replacement`; none: it is only explained); a `hint` only the slip can write; and the
    tokens the parser takes back first (`rewind`), reported at the oldest of them."""

    applies: Callable[[Slip], bool]
    message: Message | None
    replacement: Callable[[Slip], tuple[Token, ...]] = lambda slip: ()
    hint: Callable[[Slip], str | None] | None = None
    rewind: int = 0


def _closest_keyword(slip: Slip) -> tuple[Token, ...]:
    """The one expected keyword the word is close to, read in its place."""
    word = str(slip.token.value)
    close = difflib.get_close_matches(word, sorted(slip.keyword_choices), 2, 0.6)
    if len(close) != 1 or close[0] == word:
        return ()
    return (token_like(keywords().terminal[close[0]], close[0], slip.token),)


def _keyword_hint(slip: Slip) -> str | None:
    return did_you_mean(str(slip.token.value), slip.keyword_choices)


def _repeated_equals(slip: Slip) -> bool:
    """`==` in a derivation, read as two `=`: the second one is the refused token."""
    previous = slip.previous
    return (
        slip.token.type == "EQUAL"
        and previous is not None
        and previous.type == "EQUAL"
        and previous.end_pos == slip.token.start_pos
    )


def _keyword_read_as_item(slip: Slip) -> bool:
    """`evidence 1,` then `when ...`: after the comma, `when` was read as a list item."""
    if len(slip.history) < 2 or len(slip.top) < 2:
        return False
    item, comma = slip.history
    return (
        item.type == "NAME"
        and item.value in keywords().terminal
        and comma.type == "COMMA"
        and slip.top[0] is item
        and slip.top[1] is comma
    )


def _keyword_instead_of_item(slip: Slip) -> tuple[Token, ...]:
    """The comma taken back, the word read as the keyword it is, then the refused token."""
    item = slip.history[0]
    keyword = token_like(keywords().terminal[str(item.value)], item.value, item)
    return (keyword, slip.token)


def _instead(kind: str, text: str) -> Callable[[Slip], tuple[Token, ...]]:
    return lambda slip: (token_like(kind, text, slip.token),)


def _inserted(kind: str, text: str) -> Callable[[Slip], tuple[Token, ...]]:
    return lambda slip: (token_like(kind, text, slip.token), slip.token)


# In order: the first row that applies explains the slip. The most specific come first: a
# keyword read as a list item after a trailing comma is certain, a misspelt keyword a guess.
SUBSTITUTIONS: tuple[Repair, ...] = (
    Repair(_keyword_read_as_item, msg.TRAILING_COMMA, _keyword_instead_of_item, rewind=2),
    Repair(
        lambda s: s.token.type == "EQUAL" and "COMPARATOR" in s.expected,
        msg.EQUALS_IN_CONDITION,
        _instead("COMPARATOR", "=="),
    ),
    Repair(
        lambda s: s.token.type == "COMPARATOR" and s.token.value == "==" and "EQUAL" in s.expected,
        msg.DOUBLE_EQUALS_IN_DERIVE,
        _instead("EQUAL", "="),
    ),
    Repair(
        lambda s: s.token.type == "NAME" and _keyword_hint(s) is not None,
        msg.MISSPELT_KEYWORD,
        _closest_keyword,
        hint=_keyword_hint,
    ),
    Repair(
        lambda s: s.token.type in ("NAME", "SIGNED_NUMBER") and "STRING" in s.expected,
        msg.UNQUOTED_TEXT,
    ),
    Repair(_repeated_equals, msg.DOUBLE_EQUALS_IN_DERIVE),
    Repair(
        lambda s: s.token.type == "RPAR" and s.open_parenthesis is None,
        msg.UNMATCHED_PARENTHESIS,
    ),
    Repair(lambda s: s.token.type == "RBRACE" and s.open_brace is None, msg.UNMATCHED_BRACE),
    Repair(lambda s: s.token.type in ("COLON", "EQUAL"), msg.FIELD_SEPARATOR),
)

INSERTIONS: tuple[Repair, ...] = (
    Repair(lambda s: "COMMA" in s.expected, msg.MISSING_COMMA, _inserted("COMMA", ",")),
    Repair(lambda s: "LBRACE" in s.expected, msg.MISSING_BRACE, _inserted("LBRACE", "{")),
    Repair(lambda s: "RPAR" in s.expected, None, _inserted("RPAR", ")")),
)


# --- characters ------------------------------------------------------------------------------

# Opening quote -> closing quote, for strings written with the wrong quotes.
WRONG_QUOTES = {"'": "'", "“": "”", "”": "”", "„": "“", "‘": "’", "’": "’"}


def quoted_length(text: str, start: int, closing: str) -> int:
    """Length of a quoted run starting at `start`: to the closing quote, or the line's end."""
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    close = text.find(closing, start + 1, end)
    if close >= 0:
        return close + 1 - start
    return len(text[start:end].rstrip("\r")) or 1


@dataclass(frozen=True, slots=True)
class Spot:
    """A character no terminal of the language starts with, where the parser stands."""

    text: str
    position: int
    expected: frozenset[str]

    @property
    def char(self) -> str:
        return self.text[self.position]


@dataclass(frozen=True, slots=True)
class Reading:
    """What the parser reads instead of `length` characters: one token of `kind` and `text`."""

    kind: str
    text: str
    length: int


@dataclass(frozen=True, slots=True)
class CharacterRepair:
    """A character slip: where it `applies`, its `message`, and the token read in its place
    (`reading`; none: the character is skipped). `underline` marks the whole run replaced."""

    applies: Callable[[Spot], bool]
    message: Message
    reading: Callable[[Spot], Reading | None] = lambda spot: None
    underline: bool = False


def _unterminated(spot: Spot) -> Reading:
    length = quoted_length(spot.text, spot.position, '"')
    run = spot.text[spot.position : spot.position + length].rstrip()
    if len(run) > 1 and run.endswith("}"):
        # `{ citation "Smith 2020 }`: the quote is missing before the block's end.
        length = len(run[:-1].rstrip())
    return Reading("STRING", spot.text[spot.position : spot.position + length] + '"', length)


def _requoted(spot: Spot) -> Reading:
    closing = WRONG_QUOTES[spot.char]
    length = quoted_length(spot.text, spot.position, closing)
    body = spot.text[spot.position + 1 : spot.position + length]
    if body and body[-1] == closing:
        body = body[:-1]
    return Reading("STRING", '"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"', length)


def _symbol(kind: str, text: str, doubled: str | None = None) -> Callable[[Spot], Reading]:
    def reading(spot: Spot) -> Reading:
        twice = doubled is not None and spot.text.startswith(doubled, spot.position)
        return Reading(kind, text, 2 if twice else 1)

    return reading


def _is(char: str) -> Callable[[Spot], bool]:
    return lambda spot: spot.char == char


CHARACTER_REPAIRS: tuple[CharacterRepair, ...] = (
    CharacterRepair(_is('"'), msg.UNTERMINATED_STRING, _unterminated, underline=True),
    CharacterRepair(lambda s: s.char in WRONG_QUOTES, msg.WRONG_QUOTES, _requoted),
    CharacterRepair(_is("&"), msg.AND_SYMBOL, _symbol("AND", "and", "&&")),
    CharacterRepair(_is("|"), msg.OR_SYMBOL, _symbol("OR", "or", "||")),
    CharacterRepair(_is("!"), msg.NOT_SYMBOL, _symbol("NOT", "not")),
    CharacterRepair(_is("≥"), msg.AT_LEAST_SYMBOL, _symbol("COMPARATOR", ">=")),
    CharacterRepair(_is("≤"), msg.AT_MOST_SYMBOL, _symbol("COMPARATOR", "<=")),
    CharacterRepair(_is("≠"), msg.NOT_EQUAL_SYMBOL, _symbol("COMPARATOR", "!=")),
    CharacterRepair(lambda s: s.char == "-" and "DOT" in s.expected, msg.DASH_IN_NAME),
    CharacterRepair(lambda s: True, msg.UNEXPECTED_CHARACTER),
)
