"""Result records -> JSON text: the one writer of every result leukorules prints or logs.

Input: a tree of dataclass records (`leukorules.result.model`) holding str, int, float, bool,
None, tuples, lists and str-keyed mappings. Output: JSON text, compact (`indent=None`) or pretty
printed, in the layout results have always had: fields in declaration order, `"key": value`
pairs one per line, `[]` and `{}` for empty sequences and mappings, text escaped as JSON requires
and nothing more (non-ASCII written as is). A record class may name fields it leaves out when
they are None (`omitted_when_none`, e.g. an evaluation's trace when none was asked for).

Floats: Python's shortest round-trip digits, except where Python would write an exponent (below
1e-4 or from 1e16 in magnitude): those are written by pydantic-core, which wrote every result
before this writer existed, so logged results replay to the same bytes. NaN and infinities are
written null, as results always had them. Text holding a lone surrogate (which UTF-8 cannot
encode) is refused.

Records below the top are shared between results (the engine builds a policy's description once
and repeats entries from a memo), so the text of each is remembered by identity and indentation
(`_FRAGMENTS`, bounded) and written again without walking it: a result's JSON costs what its
patient-specific parts cost. The top-level record, built per call, is never remembered.
"""

from __future__ import annotations

import dataclasses
import json.encoder
import math
from collections.abc import Callable, Iterable
from typing import Any

_string: Callable[[str], str] = json.encoder.encode_basestring
_INDENT = "  "
# record class -> (fields to write, fields left out when None)
_LAYOUT: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}
# (id of a record, indentation or None for compact) -> (the record, its JSON text). The record is
# kept so that its id cannot be reused while the entry lives; full, the memo starts again.
_FRAGMENTS: dict[tuple[int, str | None], tuple[object, str]] = {}
_FRAGMENTS_SIZE = 4096


def _layout(cls: type) -> tuple[tuple[str, ...], frozenset[str]]:
    found = _LAYOUT.get(cls)
    if found is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        found = _LAYOUT[cls] = (names, getattr(cls, "omitted_when_none", frozenset()))
    return found


def _items(record: object) -> list[tuple[str, object]]:
    names, omitted = _layout(type(record))
    items = [(name, getattr(record, name)) for name in names]
    if omitted:
        items = [(k, v) for k, v in items if v is not None or k not in omitted]
    return items


def to_json(value: object, indent: int | None = None) -> str:
    """`value` as JSON text; `indent` spaces per level (2 in every published output)."""
    out: list[str] = []
    if indent is None:
        _compact(value, out, top=True)
    else:
        _pretty(value, out, "", " " * indent, top=True)
    text = "".join(out)
    if not text.isascii():  # isascii is O(1); only non-ASCII text needs the check
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError("a result holds text that UTF-8 cannot encode") from error
    return text


def to_plain(value: Any) -> Any:
    """`value` as JSON-ready Python values: records become dicts, tuples lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_plain(v) for k, v in _items(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def _scalar(value: object) -> str | None:
    kind = type(value)
    if kind is str:
        return _string(value)  # type: ignore[arg-type]
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)  # type: ignore[arg-type]
    return None


def _float(value: float) -> str:
    if not math.isfinite(value):
        return "null"  # JSON has no NaN or infinity (validated facts never hold them)
    text = float.__repr__(value)
    if "e" in text:
        from pydantic_core import to_json as core_json

        return core_json(value).decode()
    return text


def _remembered(value: object, pad: str | None, write: Callable[[list[str]], None]) -> str:
    """The JSON text of record `value` at indentation `pad`, from the memo or written."""
    key = (id(value), pad)
    found = _FRAGMENTS.get(key)
    if found is not None and found[0] is value:
        return found[1]
    parts: list[str] = []
    write(parts)
    text = "".join(parts)
    if len(_FRAGMENTS) >= _FRAGMENTS_SIZE:
        _FRAGMENTS.clear()
    _FRAGMENTS[key] = (value, text)
    return text


def _compact(value: object, out: list[str], top: bool = False) -> None:
    scalar = _scalar(value)
    if scalar is not None:
        out.append(scalar)
    elif isinstance(value, tuple | list):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _compact(item, out)
        out.append("]")
    elif isinstance(value, dict):
        _compact_pairs(value.items(), out)
    elif top:
        _compact_pairs(_items(value), out)
    else:
        out.append(_remembered(value, None, lambda parts: _compact_pairs(_items(value), parts)))


def _compact_pairs(pairs: Iterable[tuple[object, object]], out: list[str]) -> None:
    out.append("{")
    for n, (key, item) in enumerate(pairs):
        if n:
            out.append(",")
        out.append(_string(_key(key)))
        out.append(":")
        _compact(item, out)
    out.append("}")


def _pretty(value: object, out: list[str], pad: str, step: str, top: bool = False) -> None:
    scalar = _scalar(value)
    if scalar is not None:
        out.append(scalar)
        return
    inner = pad + step
    if isinstance(value, tuple | list):
        if not value:
            out.append("[]")
            return
        separator = "[\n" + inner
        for item in value:
            out.append(separator)
            _pretty(item, out, inner, step)
            separator = ",\n" + inner
        out.append("\n" + pad + "]")
    elif isinstance(value, dict):
        _pretty_pairs(value.items(), out, pad, step)
    elif top:
        _pretty_pairs(_items(value), out, pad, step)
    else:
        record = value
        out.append(
            _remembered(
                record, pad + "\0" + step, lambda o: _pretty_pairs(_items(record), o, pad, step)
            )
        )


def _pretty_pairs(
    pairs: Iterable[tuple[object, object]], out: list[str], pad: str, step: str
) -> None:
    inner = pad + step
    separator = "{\n" + inner
    for key, item in pairs:
        out.append(separator)
        out.append(_string(_key(key)))
        out.append(": ")
        _pretty(item, out, inner, step)
        separator = ",\n" + inner
    out.append("{}" if separator.startswith("{") else "\n" + pad + "}")


def _key(key: object) -> str:
    if type(key) is not str:
        raise TypeError(f"a JSON object key must be text, not {type(key).__name__}")
    return key
