"""The JSON result of `leukorules evaluate --format json`, written from the attribute-only view.

Input: an `EvaluationView` (`CompiledPolicy.evaluate_view`), whose entries are `View`s holding
the pydantic entries' field values in declaration order. Output: exactly the text of
`compiled.evaluate(facts, trace=...).model_dump_json(indent=2) + "\\n"` (the published result),
or None when the view holds a value this writer cannot write as pydantic-core does; the caller
then serialises the pydantic `Evaluation` instead.

Why: importing pydantic and building the result's schema costs more than evaluating the
patient, and `evaluate --format json` needs neither to write the same bytes. The standard
library's `json` string escaping equals pydantic-core's (serde_json) for every character: `"`,
`\\`, `\\b \\f \\n \\r \\t`, other controls below U+0020 as lower-case `\\u00XX`, everything else
(U+007F, U+2028, non-ASCII) as is. Layout equals serde_json's pretty printer with an indent of
two: `"key": value`, one item per line, `[]` and `{}` for empty lists and mappings. What differs,
and is left to pydantic (None):

- floats that Python writes with an exponent (below 1e-4 or from 1e16 on in magnitude):
  serde_json writes `1e-7` and `0.00001` where Python writes `1e-07` and `1e-05`, and its
  layout has changed between versions (`1e16` from its former formatter, ryu; `1e+16` from
  zmij, used since serde_json 1.0.147), so the pydantic-core installed decides. Finite floats
  without an exponent have one layout everywhere: the shortest round-trip digits, `12.0`,
  `0.0001`, `1000000000000000.0`;
- NaN and infinities (the result models write null; validated facts never hold them);
- strings with a lone surrogate (pydantic refuses to encode them; so does the fallback);
- any type the engine does not put into a result (a tuple, a date, a subclass of str or int).
"""

from __future__ import annotations

import json.encoder
import math
from typing import TYPE_CHECKING, Any

from leukorules.engine.evaluation import EvaluationView, View

if TYPE_CHECKING:
    from leukorules.engine import result as r

# The C-accelerated escaping `json.dumps(..., ensure_ascii=False)` uses, called directly: one
# call per string, without building an encoder each time.
_string = json.encoder.encode_basestring
_INDENT = "  "


class _Inexact(Exception):
    """A value pydantic-core would write differently (or refuse): the caller falls back."""


def render_json(evaluation: r.Evaluation) -> str | None:
    """The JSON text of `evaluation.model_dump_json(indent=2)` plus a newline, for an
    `EvaluationView`; None when a value in it cannot be written identically (see the module
    docstring): render the pydantic `Evaluation` then. A pydantic `Evaluation` is a TypeError:
    its `__dict__` is not its content until it is built, and it can dump itself."""
    if not isinstance(evaluation, EvaluationView):
        raise TypeError(f"render_json takes an EvaluationView, not {type(evaluation).__name__}")
    fields = dict(vars(evaluation))
    if fields.get("trace", ()) is None:  # `Evaluation` leaves out a trace not asked for
        del fields["trace"]
    out: list[str] = []
    try:
        _mapping(fields, out, "")
    except _Inexact:
        return None
    out.append("\n")
    return _encodable("".join(out))


def encode_value(value: object) -> str | None:
    """One JSON value (str, int, float, bool, None, lists and str-keyed dicts of these, `View`s)
    as `pydantic_core.to_json(value, indent=2)` writes it, or None where that may differ. The
    tests compare it with pydantic-core directly."""
    out: list[str] = []
    try:
        _value(value, out, "")
    except _Inexact:
        return None
    return _encodable("".join(out))


def _encodable(text: str) -> str | None:
    """`text`, or None if it holds a lone surrogate, which UTF-8 cannot encode: pydantic raises
    an error for it, and the fallback to the model leaves that to pydantic. (isascii is O(1):
    only non-ASCII text is encoded to find out.)"""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return None
    return text


def _value(value: Any, out: list[str], pad: str) -> None:
    kind = type(value)
    if kind is str:
        out.append(_string(value))
    elif kind is View:
        _mapping(vars(value), out, pad)
    elif kind is list:
        _list(value, out, pad)
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append(_float(value))
    elif kind is dict:
        _mapping(value, out, pad)
    else:
        raise _Inexact


def _float(value: float) -> str:
    text = float.__repr__(value)
    if "e" in text or not math.isfinite(value):
        raise _Inexact
    return text


def _mapping(items: dict[str, object], out: list[str], pad: str) -> None:
    if not items:
        out.append("{}")
        return
    inner = pad + _INDENT
    separator = "{\n" + inner
    for key, item in items.items():
        if type(key) is not str:
            raise _Inexact
        out.append(separator)
        out.append(_string(key))
        out.append(": ")
        _value(item, out, inner)
        separator = ",\n" + inner
    out.append("\n" + pad + "}")


def _list(items: list[object], out: list[str], pad: str) -> None:
    if not items:
        out.append("[]")
        return
    inner = pad + _INDENT
    separator = "[\n" + inner
    for item in items:
        out.append(separator)
        _value(item, out, inner)
        separator = ",\n" + inner
    out.append("\n" + pad + "]")
