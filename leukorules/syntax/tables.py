"""The policy grammar's parser, built once per process and shared.

Input: the shipped grammar (`leukorules.syntax.grammar`). Output: `shared_parser()`, an
`LalrParser` whose reductions build `ast` nodes (`leukorules.syntax.build`) and whose lexer hands
comments to the parse context. Building the LALR tables takes a few hundred milliseconds, most of
a short command's run, so Lark keeps them in a per-user cache file between runs.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache

from leukorules.cachedir import cache_folder
from leukorules.syntax.build import AstBuilder, Callbacks, collect_comment
from leukorules.syntax.grammar import grammar_text
from leukorules.syntax.lark_adapter import LalrParser
from leukorules.syntax.literals import check_number, check_string

# The parser gives up on input nested deeper than this (open parentheses, `not`s, sections...):
# it is far past any sensible condition already, and a runaway file of millions of `(` would
# otherwise take minutes to read before being refused.
MAX_PARSE_DEPTH = 1_000


def _cache_file() -> str | bool:
    """Where Lark may keep its analysed grammar between runs (False: do not cache).

    The cache is per user (never a shared temp folder: it is a pickle) and Lark checks that it
    matches the grammar and its own version before using it.
    """
    folder = cache_folder()  # None: caching is off, or the folder is not this user's alone
    if folder is None or not os.access(folder, os.W_OK):
        return False
    digest = hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark-cache")


def build_parser(strict: bool = False) -> LalrParser:
    """A new parser for the policy grammar.

    The shared runtime parser is built with strict=False (and cached on disk, see
    `_cache_file`); the test suite builds it with strict=True (which needs `interegular`) to
    prove the grammar has no LALR conflicts and no colliding terminals.
    """
    return LalrParser(
        grammar_text(),
        callbacks=Callbacks(AstBuilder()),
        lexer_callbacks={
            "COMMENT": collect_comment,
            "STRING": check_string,
            "SIGNED_NUMBER": check_number,
        },
        cache=False if strict else _cache_file(),
        strict=strict,
        max_depth=MAX_PARSE_DEPTH,
    )


@cache
def shared_parser() -> LalrParser:
    return build_parser(strict=False)
