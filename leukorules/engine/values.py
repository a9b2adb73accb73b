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


def facts_sha256(facts: Mapping[str, object], names: Iterable[str]) -> str:
    """sha256 of the canonical JSON of the known facts among `names` (the input facts): the
    text `json.dumps(known, sort_keys=True, separators=(",", ":"), ensure_ascii=True)` writes
    (tested), written directly for the common types because it is computed for every result."""
    parts: list[str] = []
    for name, key in _sorted_names(tuple(names)):
        value = facts.get(name)
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            text = _ascii_string(value)  # type: ignore[arg-type]
        elif kind is bool:
            text = "true" if value else "false"
        elif kind is int:
            text = int.__repr__(value)
        else:
            text = json.dumps(_canonical(value), separators=(",", ":"), ensure_ascii=True)
        parts.append(key + text)
    return hashlib.sha256(("{" + ",".join(parts) + "}").encode("ascii")).hexdigest()
