"""Where a JSON path points in JSON text: for diagnostics with a line and a column.

Input: JSON text and a path of object keys and array indexes. Output: the character offset of
the value the path names, or of the deepest enclosing value that exists. Only used when a
problem is reported, so it re-scans the text instead of keeping positions for every value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_KEY = re.compile(r'"(?:[^"\\]|\\.)*"')


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def locate(text: str, path: Sequence[str | int], start: int = 0) -> int:
    """The offset of the value at `path` in the JSON value starting at or after `start`."""
    pos = _skip_ws(text, start)
    try:
        for step in path:
            found = _step(text, pos, step)
            if found is None:
                return pos
            pos = found
    except (ValueError, IndexError):
        return pos
    return pos


def _step(text: str, pos: int, step: str | int) -> int | None:
    opener = text[pos]
    if isinstance(step, str) and opener == "{":
        pos = _skip_ws(text, pos + 1)
        while text[pos] == '"':
            match = _KEY.match(text, pos)
            if match is None:
                return None
            key = json.loads(match.group(0))
            pos = match.end()
            pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # past the colon
            if key == step:
                return pos
            _, pos = _DECODER.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            if text[pos] == ",":
                pos = _skip_ws(text, pos + 1)
        return None
    if isinstance(step, int) and opener == "[":
        pos = _skip_ws(text, pos + 1)
        index = 0
        while text[pos] != "]":
            if index == step:
                return pos
            _, pos = _DECODER.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            if text[pos] == ",":
                pos = _skip_ws(text, pos + 1)
            index += 1
        return None
    return None


def fhir_path(prefix: str, path: Sequence[str | int]) -> str:
    """`Bundle.entry[3].resource` + ("code", "coding", 0) -> `...resource.code.coding[0]`."""
    parts = [prefix]
    for step in path:
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    return "".join(parts)
