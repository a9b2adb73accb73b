"""Plan -> Python source of `_decide`, the fast path: the ids of the rules that definitely fire.

Input: a `Plan` and the code generator of `leukorules.engine.codegen` (for fact locals and
constants, shared with `_core`). Output: the lines of `_decide`.

`decide` needs no three-valued truth: only whether each reported rule definitely fires. So each
condition is translated twice into plain booleans, as a careful programmer writes it by hand:
T(c), "c is definitely true", and F(c), "c is definitely false" (Kleene: T(a and b) = T(a) and
T(b), F(a and b) = F(a) or F(b), T(not a) = F(a); a test of an unknown fact is neither). A rule
fires definitely when its condition and the rules it comes `after` definitely hold and every
rule overriding it definitely does not fire; a derived fact has a value when a rule deriving it
definitely fires and every rule deriving another value definitely does not.

Rules another rule or a derived fact depends on get locals (`t<i>`, and `n<i>` where F is read)
in the rule graph's order. Every other reported rule is a list of conjuncts, and those lists
become nested `if`s: a conjunct shared by several rules is tested once, and equality tests of
one fact become an `if`/`elif` chain (a patient has one type of leukoencephalopathy: once it is
known, the other types' rules are not looked at). The result is the same set (differential
tests hold `decide` to `evaluate` on generated policies); only the work differs.
"""

from __future__ import annotations

import io
import tokenize
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from leukorules import model as m
from leukorules.engine.plan import NON_DERIVE, Plan
from leukorules.rulegraph import GraphNode

# Past this depth a sub-condition's T and F are computed into locals first (parser limits).
_INLINE_DEPTH = 12


class Names(Protocol):
    """What the two-valued translation needs of the code generator (`codegen._Codegen`): a
    local per fact, and literals and member sets as Python code."""

    def var(self, name: str) -> str: ...
    def literal(self, value: object) -> str: ...
    def member_set(self, values: Sequence[object]) -> str: ...


@dataclass(frozen=True, slots=True)
class Conjunct:
    """One test a rule needs definitely true; `equals` is (variable, literal) for `v == lit`,
    where the tests of one variable against different literals exclude each other."""

    code: str
    equals: tuple[str, str] | None = None


class TwoValued:
    """T and F of conditions as plain boolean Python expressions over the fact locals of
    `gen` (an `engine.codegen._Codegen`, which names facts and constants)."""

    def __init__(self, gen: Names) -> None:
        self.gen = gen
        self.pre: list[str] = []
        self.temps = 0

    def conjuncts(self, e: m.Expr) -> list[Conjunct]:
        """T(e) as the tests that must all hold (a top-level `and` split into its parts)."""
        if isinstance(e, m.And):
            return [c for item in e.items for c in self.conjuncts(item)]
        if isinstance(e, m.Not) and isinstance(e.item, m.Or):
            return [c for item in e.item.items for c in self.conjuncts(m.Not(item))]
        if isinstance(e, m.Compare) and e.op == "==" and _is_plain(e.value):
            if isinstance(e.value, bool):
                return [Conjunct(self.true(e))]
            var, lit = self.gen.var(e.fact), self.gen.literal(e.value)
            return [Conjunct(f"{var} == {lit}", (var, lit))]
        return [Conjunct(self.true(e))]

    def true(self, e: m.Expr, depth: int = 0) -> str:
        return self.both(e, depth)[0]

    def false(self, e: m.Expr, depth: int = 0) -> str:
        return self.both(e, depth)[1]

    def both(self, e: m.Expr, depth: int) -> tuple[str, str]:
        """(T(e), F(e))."""
        gen = self.gen
        if depth > _INLINE_DEPTH and isinstance(e, m.And | m.Or | m.Not):
            t, f = self.both(e, 0)
            self.temps += 1
            name = f"_u{self.temps}"
            self.pre += [f"{name}t = {t}", f"{name}f = {f}"]
            return f"{name}t", f"{name}f"
        match e:
            case m.Const(value=value):
                return ("True", "False") if value else ("False", "True")
            case m.Compare(fact=name, op=op, value=value):
                v, lit = gen.var(name), gen.literal(value)
                known = f"{v} is not None"
                if op == "==" and isinstance(value, bool):  # validated: True or False itself
                    return f"{v} is {lit}", f"{v} is {'False' if value else 'True'}"
                if op == "==" and _is_plain(value):  # an unknown fact equals no literal
                    return f"{v} == {lit}", f"({known} and {v} != {lit})"
                return f"({known} and {v} {op} {lit})", f"({known} and not ({v} {op} {lit}))"
            case m.CompareFacts(left=left, op=op, right=right):
                a, b = gen.var(left), gen.var(right)
                known = f"{a} is not None and {b} is not None"
                return f"({known} and {a} {op} {b})", f"({known} and not ({a} {op} {b}))"
            case m.Member(fact=name, values=values, negated=negated):
                v, members = gen.var(name), gen.member_set(values)
                inside = f"{v} in {members}"  # an unknown fact is in no set of values
                outside = f"({v} is not None and {v} not in {members})"
                return (outside, inside) if negated else (inside, outside)
            case m.Contains(fact=name, value=value):
                v, lit = gen.var(name), gen.literal(value)
                known = f"{v} is not None"
                return f"({known} and {lit} in {v})", f"({known} and {lit} not in {v})"
            case m.Known(fact=name, known=known):
                v = gen.var(name)
                test = (f"{v} is not None", f"{v} is None")
                return test if known else (test[1], test[0])
            case m.Not(item=item):
                t, f = self.both(item, depth + 1)
                return f, t
            case m.And(items=items):
                parts = [self.both(i, depth + 1) for i in items]
                return _join((p[0] for p in parts), "and"), _join((p[1] for p in parts), "or")
            case m.Or(items=items):
                parts = [self.both(i, depth + 1) for i in items]
                return _join((p[0] for p in parts), "or"), _join((p[1] for p in parts), "and")
        raise ValueError(f"not a condition: {e!r}")  # pragma: no cover


def _is_plain(value: object) -> bool:
    return isinstance(value, bool | int | float | str)


def _join(parts: Iterable[str], word: str) -> str:
    items = list(parts)
    return items[0] if len(items) == 1 else "(" + f" {word} ".join(items) + ")"


def decide_lines(plan: Plan, gen: Names) -> list[str]:
    """The statements of `_decide`'s body after the fact locals (see the module docstring)."""
    graph, rules = plan.graph, plan.rules
    reported = [i for i, rule in enumerate(rules) if rule.kind in NON_DERIVE]
    need_true, need_false = _polarities(plan, reported)
    two = TwoValued(gen)
    lines: list[str] = []
    for node in graph.order:
        if isinstance(node, str):
            if node in need_true:  # a derived fact someone reads
                lines.append(f"# derived fact {node!r}")
                lines.append(_derived(plan, gen, node))
            continue
        i = node
        if i not in need_true and i not in need_false:
            continue
        rule = rules[i]
        two.pre = []
        t_when, f_when = two.both(rule.when, 0)
        lines.append(f"# rule {rule.id!r}")
        lines.extend(two.pre)
        after, overriders = graph.after[i], graph.overridden_by.get(i, ())
        if i in need_true:
            parts = [t_when, *(f"t{a}" for a in after), *(f"n{o}" for o in overriders)]
            lines.append(f"t{i} = {_join(parts, 'and')}")
        if i in need_false:
            parts = [f_when, *(f"n{a}" for a in after), *(f"t{o}" for o in overriders)]
            lines.append(f"n{i} = {_join(parts, 'or')}")
    always: list[str] = []
    leaves: list[tuple[str, list[Conjunct]]] = []
    for i in reported:
        if i in need_true:  # computed above: another node needs it too
            leaves.append((rules[i].id, [Conjunct(f"t{i}")]))
            continue
        two.pre = []
        conjuncts = two.conjuncts(rules[i].when)
        lines.extend(two.pre)
        conjuncts += [Conjunct(f"t{a}") for a in graph.after[i]]
        conjuncts += [Conjunct(f"n{o}") for o in graph.overridden_by.get(i, ())]
        conjuncts = [c for c in conjuncts if c.code != "True"]
        if any(c.code == "False" for c in conjuncts):
            continue  # never fires
        if conjuncts:
            leaves.append((rules[i].id, conjuncts))
        else:
            always.append(rules[i].id)
    lines.append("fired = [" + ", ".join(repr(rule_id) for rule_id in always) + "]")
    if leaves:
        lines.append("add = fired.append")
        lines.extend(_tree(leaves, ""))
    lines.append("return frozenset(fired)")
    return lines


def _polarities(plan: Plan, reported: list[int]) -> tuple[set[GraphNode], set[int]]:
    """The nodes whose T (derived facts: whose value) and the rules whose F other nodes read.

    The reported rules themselves are not in either set unless another node reads them: they
    are the leaves of the `if` tree."""
    graph = plan.graph
    need_true: set[GraphNode] = set()
    need_false: set[int] = set()
    stack: list[tuple[GraphNode, bool]] = []

    def reads(i: int) -> None:
        for name in graph.reads_derived[i]:
            stack.append((name, True))
        for a in graph.after[i]:
            stack.append((a, True))
        for o in graph.overridden_by.get(i, ()):
            stack.append((o, False))

    for i in reported:
        reads(i)
    while stack:
        node, positive = stack.pop()
        if isinstance(node, str):
            if node not in need_true:
                need_true.add(node)
                for i in graph.derivers[node]:
                    stack += [(i, True), (i, False)]
            continue
        seen = need_true if positive else need_false
        if node in seen:
            continue
        seen.add(node)
        for name in graph.reads_derived[node]:
            stack.append((name, True))
        # T(e) reads T of `after` and F of overriders; F(e) reads F of `after` and T of them
        stack += [(a, positive) for a in graph.after[node]]
        stack += [(o, not positive) for o in graph.overridden_by.get(node, ())]
    return need_true, need_false


def _derived(plan: Plan, gen: Names, name: str) -> str:
    var = gen.var(name)
    groups: dict[m.Value, list[int]] = {}
    for i in plan.graph.derivers[name]:
        conclusion = plan.rules[i].conclusion
        assert isinstance(conclusion, m.Derive)
        groups.setdefault(conclusion.value, []).append(i)
    if not groups:
        return f"{var} = None"
    branches = []
    for value, members in groups.items():
        others = [i for v, ms in groups.items() if v != value for i in ms]
        test = _join([f"t{i}" for i in members], "or")
        if others:
            test = _join([test, *(f"n{i}" for i in others)], "and")
        branches.append(f"{gen.literal(value)} if {test} else")
    return f"{var} = " + " ".join(branches) + " None"


def _tree(leaves: list[tuple[str, list[Conjunct]]], indent: str) -> list[str]:
    """Nested `if`s adding each leaf's id when all its conjuncts hold, each shared conjunct
    tested once (see the module docstring)."""
    lines: list[str] = []
    rest = leaves
    while rest:
        done = [rule_id for rule_id, conjuncts in rest if not conjuncts]
        lines += [f"{indent}add({rule_id!r})" for rule_id in done]
        rest = [leaf for leaf in rest if leaf[1]]
        if not rest:
            break
        counts = Counter(c for _, conjuncts in rest for c in dict.fromkeys(conjuncts))
        shared, count = counts.most_common(1)[0]
        if count == 1:
            for rule_id, conjuncts in rest:
                lines.append(f"{indent}if {' and '.join(c.code for c in conjuncts)}:")
                lines.append(f"{indent}    add({rule_id!r})")
            break
        if shared.equals is not None:
            lines += _dispatch(rest, shared.equals[0], indent)
            rest = [leaf for leaf in rest if _equality(leaf[1], shared.equals[0]) is None]
            continue
        inside = [(r, [c for c in cs if c != shared]) for r, cs in rest if shared in cs]
        lines.append(f"{indent}if {shared.code}:")
        lines += _tree(inside, indent + "    ")
        rest = [leaf for leaf in rest if shared not in leaf[1]]
    return lines


def _equality(conjuncts: list[Conjunct], var: str) -> Conjunct | None:
    return next((c for c in conjuncts if c.equals is not None and c.equals[0] == var), None)


def _dispatch(leaves: list[tuple[str, list[Conjunct]]], var: str, indent: str) -> list[str]:
    """An `if`/`elif` chain over the literals `var` is compared with: the leaves testing
    `var == literal`, each under its literal's branch."""
    branches: dict[Conjunct, list[tuple[str, list[Conjunct]]]] = {}
    for rule_id, conjuncts in leaves:
        test = _equality(conjuncts, var)
        if test is not None:
            rest = [c for c in conjuncts if c != test]
            branches.setdefault(test, []).append((rule_id, rest))
    lines: list[str] = []
    for n, (test, members) in enumerate(branches.items()):
        lines.append(f"{indent}{'if' if n == 0 else 'elif'} {test.code}:")
        lines += _tree(members, indent + "    ")
    return lines


def inline_single_reads(reads: dict[str, str], body: list[str]) -> tuple[list[str], list[str]]:
    """`reads` (local -> the fact it holds) and `body`: the reads to do up front, and the body
    with each fact read only once inlined as `g(name)` where it is read, so a fact tested only
    in a branch not taken is never looked up (the hand-written way)."""
    text = "\n".join(body) + "\n"
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    uses = Counter(t.string for t in tokens if t.type == tokenize.NAME and t.string in reads)
    once = {var for var in reads if uses[var] == 1}
    if not once:
        return [f"{var} = g({name!r})" for var, name in reads.items() if uses[var]], body
    lines = text.split("\n")
    # Replace from the end of each line so earlier columns stay valid.
    for token in reversed(tokens):
        if token.type == tokenize.NAME and token.string in once:
            row, col = token.start
            line = lines[row - 1]
            lines[row - 1] = line[:col] + f"g({reads[token.string]!r})" + line[token.end[1] :]
    ahead = [f"{var} = g({name!r})" for var, name in reads.items() if uses[var] > 1]
    return ahead, lines[: len(body)]
