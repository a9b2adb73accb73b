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

from leukorules import model as m

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


def _canonical(value: object) -> object:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return json_value(value)


def facts_sha256(facts: Mapping[str, object], names: Iterable[str]) -> str:
    """sha256 of the canonical JSON of the known facts among `names` (the input facts)."""
    known: dict[str, object] = {}
    for name in names:
        value = facts.get(name)
        if value is None:
            continue
        kind = type(value)
        known[name] = value if kind is str or kind is bool or kind is int else _canonical(value)
    text = json.dumps(known, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def value_text(value: object, fact: m.Fact | None = None) -> str:
    """How a value reads in reports and explanations: `true`, `65`, `high`, `{a, b}`, `unknown`."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = number_text(value)
        unit = fact.type.unit if fact is not None else None
        return f"{text} [{unit}]" if unit else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | list | tuple):
        return "{" + ", ".join(sorted(str(v) for v in value)) + "}"
    if isinstance(value, str) and fact is not None and fact.type.kind == "string":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def json_value_text(value: JsonValue, unit: str | None = None, quoted: bool = False) -> str:
    """Display text of a value already in JSON form (what renderers hold)."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = number_text(value)
        return f"{text} [{unit}]" if unit else text
    if isinstance(value, list):
        return "{" + ", ".join(value) + "}"
    return json.dumps(value, ensure_ascii=False) if quoted else value
