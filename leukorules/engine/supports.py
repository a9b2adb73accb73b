"""Because and missing, compiled: Python expressions for the facts that decide a condition.

`leukorules.engine.trace.support` defines which facts decide a condition: a true `and` and a
false `or` are decided by all their children, a true `or` by its first true child, a false `and`
by its first false child, `not` by its child, a test by the facts it reads; an unknown node by
the unknown facts of its unknown children. `evaluate` needs that answer for every fired rule it
reports (its `because`) and every undetermined rule (its `missing`), for every patient, so it is
compiled here instead of walked:

- `static_support`: the answer when it is the same for every patient with that truth, which it
  is for most conditions (a true `a and b` is always decided by both facts): no code at all, the
  tuple is a constant of the compiled policy.
- `SupportCode.code`: otherwise an expression over the generated evaluator's locals, to be run
  only where the condition is known to have that truth.

Unknown supports may name a fact twice (callers treat them as sets); true and false supports
are exactly `trace.support`'s, first occurrence first. A condition nested deeper than
`MAX_DEPTH` gets no code (its rule falls back to `trace.compile_support`), which keeps the
generated expressions small: each junction re-tests its children in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from leukorules import model as m
from leukorules.engine import trace as tr

Names = tuple[str, ...]
MAX_DEPTH = 6


def static_support(expr: m.Expr, want: bool) -> Names | None:
    """The facts deciding `expr` whenever its truth is `want`, if that does not depend on the
    patient; None if it does."""
    if isinstance(expr, m.Not):
        return static_support(expr.item, not want)
    if isinstance(expr, m.And | m.Or):
        if want == isinstance(expr, m.And):  # a true `and` or false `or`: all children
            parts = [static_support(item, want) for item in expr.items]
            if any(part is None for part in parts):
                return None
            return _union(part for part in parts if part is not None)
        # the first child with that truth: which one it is depends on the patient
        return static_support(expr.items[0], want) if len(expr.items) == 1 else None
    return tr.leaf_facts(expr)


def compiled_support(expr: m.Expr) -> bool:
    """Whether the generated evaluator computes this condition's supports: it is nested at
    most `MAX_DEPTH` deep (checked without recursion: conditions can nest thousands deep)."""
    stack = [(expr, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, m.Not):
            stack.append((node.item, level + 1))
        elif isinstance(node, m.And | m.Or):
            stack.extend((item, level + 1) for item in node.items)
        if level > MAX_DEPTH:
            return False
    return True


def _union(groups: Iterable[Names]) -> Names:
    return tuple(dict.fromkeys(name for group in groups for name in group))


class SupportCode:
    """Generates support expressions. `tests(expr)` gives Python tests of a sub-condition's
    truth (is true, is false, is unknown) over the same locals; `var(name)` a fact's local."""

    def __init__(
        self,
        tests: Callable[[m.Expr], tuple[str, str, str]],
        can_be_unknown: Callable[[m.Expr], bool],
        var: Callable[[str], str],
    ) -> None:
        self.tests = tests
        self.can_be_unknown = can_be_unknown
        self.var = var

    def code(self, expr: m.Expr, want: bool | None) -> str | None:
        """An expression yielding the facts deciding `expr` where its truth is `want` (None:
        unknown); None when `expr` is too deep to compile."""
        if not compiled_support(expr):
            return None
        return self._code(expr, want)[0]

    def _code(self, expr: m.Expr, want: bool | None) -> tuple[str, frozenset[str]]:
        """(expression, every fact name it can yield)."""
        if want is not None:
            found = static_support(expr, want)
            if found is not None:
                return repr(found), frozenset(found)
        if isinstance(expr, m.Not):
            return self._code(expr.item, None if want is None else not want)
        if isinstance(expr, m.CompareFacts):  # unknown: the unknown ones among its two facts
            pair = tr.leaf_facts(expr)
            pieces = [f"(({name!r},) if {self.var(name)} is None else ())" for name in pair]
            return "(" + " + ".join(pieces) + ")", frozenset(pair)
        if not isinstance(expr, m.And | m.Or):  # a one-fact test: unknown only if its fact is
            only = tr.leaf_facts(expr)
            return repr(only), frozenset(only)
        items = expr.items
        if want is None:  # the unknown children's
            parts: list[tuple[str, frozenset[str]]] = []
            for item in items:
                if self.can_be_unknown(item):
                    code, names = self._code(item, None)
                    parts.append((f"({code} if {self.tests(item)[2]} else ())", names))
            return self._concatenate(parts, dedupe=False)
        if want == isinstance(expr, m.And):  # all children
            return self._concatenate([self._code(item, want) for item in items], dedupe=True)
        # the first child with truth `want`; the last one has it when no other does
        which = 0 if want else 1
        code, names = self._code(items[-1], want)
        every = set(names)
        for item in reversed(items[:-1]):
            item_code, item_names = self._code(item, want)
            every |= item_names
            code = f"({item_code} if {self.tests(item)[which]} else {code})"
        return code, frozenset(every)

    @staticmethod
    def _concatenate(
        parts: list[tuple[str, frozenset[str]]], dedupe: bool
    ) -> tuple[str, frozenset[str]]:
        if not parts:
            return "()", frozenset()
        every: set[str] = set()
        overlap = False
        for _, names in parts:
            overlap = overlap or not every.isdisjoint(names)
            every |= names
        code = "(" + " + ".join(code for code, _ in parts) + ")"
        if dedupe and overlap:  # keep the first occurrence of each, as `trace.support` does
            code = f"_union({code})"
        return code, frozenset(every)


def union(names: Names) -> Names:
    """What `_union` is bound to in generated code."""
    return tuple(dict.fromkeys(names))
