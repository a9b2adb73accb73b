"""Fact declarations -> a generated function that types one patient's raw facts on the common path.

Input: a policy's input-fact declarations (name and `FactType`, in declaration order) and, for the
kinds that need more than an inline test (integer, number, string, set, date), the value checks
of `leukorules.engine.facts` (`check_for(fact_type)`, returning `refused` for what it does not
accept). Output: `typed(raw)`, the dict of typed values of the known facts in declaration order,
or None when a name is not declared or a value fails its check; the full validation then decides
and explains.

Guarantee: `typed` accepts exactly what the checks accept and converts alike: booleans and enum
values, the most common kinds, are tested inline (`v is True or v is False`, `type(v) is str
and v in allowed`), which is what their checks do, and every other kind calls its check. It is one
straight-line function, so the valid patient pays a dictionary read and a type test per fact
instead of two loops of calls (a cohort validates every row, and `decide` every plain dict).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from leukorules import model as m

Typed = Callable[[Mapping[str, object]], dict[str, m.Value] | None]


def typed_function(
    declared: Sequence[tuple[str, m.FactType]],
    check_for: Callable[[m.FactType], Callable[[object], object]],
    refused: object,
) -> Typed:
    """The generated `typed` of `declared` (see the module docstring)."""
    scope: dict[str, object] = {
        "__builtins__": {"type": type, "bool": bool, "str": str},
        "_names": frozenset(name for name, _ in declared),
        "_refused": refused,
    }
    lines = [
        "def typed(raw):",
        "    if not _names.issuperset(raw):",
        "        return None",
        "    g = raw.get",
        "    values = {}",
    ]
    for n, (name, fact_type) in enumerate(declared):
        lines += [f"    v = g({name!r})", "    if v is not None:"]
        if fact_type.kind == "bool":
            lines.append("        if v is not True and v is not False: return None")
        elif fact_type.kind == "enum":
            scope[f"_allowed{n}"] = frozenset(fact_type.values)
            lines.append(f"        if type(v) is not str or v not in _allowed{n}: return None")
        else:
            scope[f"_check{n}"] = check_for(fact_type)
            lines += [f"        v = _check{n}(v)", "        if v is _refused: return None"]
        lines.append(f"        values[{name!r}] = v")
    lines.append("    return values")
    exec(compile("\n".join(lines) + "\n", "<leukorules typed facts>", "exec"), scope)
    typed: Typed = scope["typed"]  # type: ignore[assignment]
    return typed
