"""Generated code for the canonical JSON of a patient's known input facts (what `facts_sha256`
hashes), written from the fact locals `_core` already holds.

Input: the input facts (name, kind) in the order of their locals, a way to bind constants.
Output: statements that leave the text in `facts_json`. The text is exactly what
`leukorules.engine.values.facts_sha256` hashes (keys sorted, no whitespace, ASCII only,
whole-number floats as integers, sets as sorted lists, dates as `YYYY-MM-DD`); a differential
test holds the two together on generated policies and patients. Unrolled per fact and per kind,
so a result's hash costs a few string joins instead of a loop that inspects every value's type.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from leukorules import model as m
from leukorules.engine.values import canonical_json_text

_ascii = json.encoder.encode_basestring_ascii

# What the generated statements call, put in the generated code's namespace by the caller.
HELPERS: dict[str, object] = {
    "_json_string": _ascii,
    "_json_text": canonical_json_text,
}


def canonical_json_lines(
    facts: Sequence[tuple[m.Fact, str]], constant: Callable[[object], str]
) -> list[str]:
    """Statements computing `facts_json` from the locals (fact, local) of `facts`."""
    lines = ["_parts = []", "_add = _parts.append"]
    for fact, var in sorted(facts, key=lambda pair: pair[0].name):
        key = _ascii(fact.name) + ":"
        kind = fact.type.kind
        if kind == "bool":
            value = f"({key + 'true'!r} if {var} else {key + 'false'!r})"
        elif kind == "enum":
            table = {v: key + _ascii(v) for v in fact.type.values}
            value = f"{constant(table)}[{var}]"
        elif kind == "string":
            value = f"{key!r} + _json_string({var})"
        else:  # integer (5 or 5.0), number, date, set: the shared writer
            value = f"{key!r} + _json_text({var})"
        lines.append(f"if {var} is not None: _add({value})")
    lines.append("facts_json = '{' + ','.join(_parts) + '}'")
    return lines
