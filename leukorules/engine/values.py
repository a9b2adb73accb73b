"""Fact values as the engine shows them: JSON form, display text, and the canonical facts hash.

Input: validated model values (`bool`, `int`, `float`, `str`, `datetime.date`, `frozenset[str]`)
or None for unknown. Output: JSON-native values (dates as ISO strings, sets as sorted lists),
short display text, and `facts_sha256`, the hash of the canonical JSON of the known input facts.
Canonical JSON: keys sorted, no whitespace, ASCII only, whole-number floats written as integers
(so `12` and `12.0` are the same patient), sets as sorted lists, dates as `YYYY-MM-DD`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

JsonValue = bool | int | float | str | list[str] | None

# Half of a UTF-16 surrogate pair on its own: JSON's `"\ud800"` escapes decode to one, but no
# UTF-8 text (a report, a log, the JSON result) can hold it, so facts that hold one are refused.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_value(value: object) -> JsonValue:
    """A fact value as JSON; unknown (None) stays None."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple | list):
        return sorted(str(v) for v in value)
    raise TypeError(f"not a fact value: {type(value).__name__}")


def result_value(value: object) -> bool | int | float | str | tuple[str, ...] | None:
    """A fact value as results hold it: `json_value`, with a set as a sorted tuple (results
    are immutable)."""
    if isinstance(value, frozenset | set | tuple | list):
        return tuple(sorted(str(v) for v in value))
    found = json_value(value)
    assert not isinstance(found, list)
    return found


def _canonical(value: object) -> object:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return json_value(value)


_ascii_string = json.encoder.encode_basestring_ascii


@lru_cache(maxsize=64)
def _sorted_names(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The names in canonical (sorted) order, each with its JSON key text."""
    return tuple((name, _ascii_string(name) + ":") for name in sorted(names))


def canonical_json_text(value: object) -> str:
    """One known fact value as canonical JSON text (see the module docstring)."""
    if isinstance(value, str):
        text: str = _ascii_string(value)
        return text
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        return int.__repr__(value)
    return json.dumps(_canonical(value), separators=(",", ":"), ensure_ascii=True)


def facts_sha256(facts: Mapping[str, object], names: Iterable[str]) -> str:
    """sha256 of the canonical JSON of the known facts among `names` (the input facts): the
    text `json.dumps(known, sort_keys=True, separators=(",", ":"), ensure_ascii=True)` writes
    (tested). The compiled evaluator writes the same text in generated code
    (`leukorules.engine.canonical_codegen`); this is the reference, and what other callers use."""
    parts: list[str] = []
    for name, key in _sorted_names(tuple(names)):
        value = facts.get(name)
        if value is not None:
            parts.append(key + canonical_json_text(value))
    return sha256_text("{" + ",".join(parts) + "}")


def sha256_text(text: str) -> str:
    """The sha256 of canonical JSON text (ASCII by construction)."""
    return hashlib.sha256(text.encode("ascii")).hexdigest()
