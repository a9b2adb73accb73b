"""Literal tokens -> the problems of their text: unknown string escapes, numbers out of range.

Input: each STRING and SIGNED_NUMBER token as the lexer reads it (these are lexer callbacks, so
the fast parse and the recovering one check every literal alike, wherever the grammar allows it:
fields, statements, ranges, comparisons, `derive`, `line`). Output: diagnostics collected in the
parse context (`build.context.literal_problems`), one per position; the parser refuses a file
that has any, as it refuses a syntax error.

Why these are errors and not guesses:
- A string knows exactly four escapes, `\\"`, `\\\\`, `\\n` and `\\t`. Any other backslash pair
  (`\\u2265`, `C:\\data`) used to lose its backslash silently, so `fmt` rewrote guideline text and
  `check` accepted it; now it is LR115 at the backslash.
- A number must be a finite double: 1e309 or more (as an integer literal too) overflowed the
  checker's float arithmetic; a non-zero number so small it reads as 0 would change what a
  comparison means. Both are LR116 at the number.
"""

from __future__ import annotations

import math
import re

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic
from leukorules.source import Span
from leukorules.syntax.build import context
from leukorules.syntax.lark_adapter import Token

# What each escape stands for; `build.unquote` reads exactly these.
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
# A file with a runaway number of bad literals gets the first ones, as with syntax errors.
MAX_LITERAL_PROBLEMS = 20

_ESCAPE = re.compile(r"\\(.)", re.S)
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_NONZERO_DIGIT = re.compile(r"[1-9]")


def _record(token: Token, offset: int, diagnostic: Diagnostic) -> None:
    found = context.literal_problems
    key = (token.line or 1, (token.column or 1) + offset)  # a token may be read more than once
    if key not in found and len(found) < MAX_LITERAL_PROBLEMS:
        found[key] = diagnostic


def _span(token: Token, offset: int, width: int) -> Span:
    line, column = token.line or 1, (token.column or 1) + offset
    return Span(context.path, line, column, line, column + width)


def check_string(token: Token) -> Token:
    """Lexer callback for STRING: every escape but the four known ones is an error."""
    text = str(token.value)
    if "\\" not in text:
        return token
    for escape in _ESCAPE.finditer(text, 1, len(text) - 1):
        char = escape.group(1)
        if char in ESCAPES:
            continue
        offset = escape.start()
        after = text[escape.end() : escape.end() + 4]
        if char == "u" and _HEX4.fullmatch(after):
            at = _span(token, offset, 6)
            diagnostic = msg.UNICODE_ESCAPE.at(at, code=after, meant=chr(int(after, 16)))
        else:
            diagnostic = msg.UNKNOWN_ESCAPE.at(_span(token, offset, 2), char=char)
        _record(token, offset, diagnostic)
    return token


def check_number(token: Token) -> Token:
    """Lexer callback for SIGNED_NUMBER: the number must be a finite double, and not one so
    small it reads as zero."""
    text = str(token.value)
    value = float(text)  # any length: float() has no digit limit, unlike int()
    too_large = not math.isfinite(value)
    if not too_large and (value != 0 or _NONZERO_DIGIT.search(text) is None):
        return token
    digits = sum(ch.isdigit() for ch in text)
    message = msg.NUMBER_TOO_LARGE if too_large else msg.NUMBER_TOO_SMALL
    _record(token, 0, message.at(_span(token, 0, len(text)), digits=digits))
    return token
