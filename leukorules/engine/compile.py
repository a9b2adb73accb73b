"""Checked policy -> compiled evaluator: `decide` (fast path) and `evaluate` (the full result).

Input: a checked `Policy` (the checker guarantees resolved names, well-typed comparisons and a
DAG of rules and derived facts). Output: a `CompiledPolicy`, cached in-process per policy sha256.

Semantics (Kleene logic exactly as `leukorules.logic`; True, False, None = unknown):
- A rule's *base* truth is `when AND (every rule it comes after is fired)`; its *effective* truth
  is `base AND NOT (some rule overriding it is fired)`. Effective true -> "fired"; effective
  unknown -> "undetermined"; effective false -> "overridden" when the base is true and an
  overriding rule fired, otherwise "not_fired". (When the base is unknown and an overriding
  rule fired, the rule is "not_fired": the label "overridden" claims its own condition held.)
  Both "not_fired" and "overridden" count as not fired downstream.
- A derived fact has value v iff some fired rule derives v and every rule deriving another
  value is effectively false; otherwise it is unknown downstream (an undetermined derivation or
  an unresolved conflict never yields a value). Derived facts have no default.
- Rules and derived facts are computed in a topological order over derived-fact reads, `after`
  and `overrides`.
- `is known` / `is unknown` are the one non-monotone test: supplying a fact can turn them from
  true to false. Every other condition only gains information as facts are added.
- Consequently, with every input fact known a rule can still be undetermined only when it reads
  a derived fact that no rule derived (none fired, or an unresolved conflict): such a rule has no
  `missing` facts and names that derived fact in `unresolved` instead of guessing a value.
- `missing` of an undetermined rule: the unknown input facts under its unknown sub-conditions
  (for `and`/`or` the unknown children only), an unknown derived fact replaced by the missing
  facts of its undetermined derive rules, plus those of undetermined `after`/`overrides` rules.
  `because` of a fired rule: the facts that made its condition true (`and`: all children, `or`:
  the first true child, `not`: what made the child false), and `chain` the upstream rules
  (derivations read, earlier lines), transitively. See `leukorules.engine.trace`.

The compiled form is one generated Python function per purpose, built once per policy: every
expression becomes straight-line code over local variables (one per fact, rule and derived
fact) with no interpretation overhead. Generated code never contains user text except as
`repr()` literals (rule ids, string and enum values); variable names are generated (`f3`, `e7`),
constants that have no literal form (dates) are bound as default arguments. `decide` returns
only fired ids, builds no trace objects and leaves out derivations that no reported rule reads;
`evaluate` runs `_core`, the same straight-line code for every rule, which goes on to build the
lists the result reports (in result order) and the facts deciding each reported rule: `because`
and `missing` are compiled too (`leukorules.engine.supports`), and are constants where they do
not depend on the patient, so Python-level work is left only for the few rules whose chain or
missing facts run through other rules. In generated code, `not` is pushed through `and`/`or`
(De Morgan holds in Kleene logic) and tests of facts are tested in place, so no temporaries are
needed for them.
"""

from __future__ import annotations

import marshal
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import CodeType
from typing import TYPE_CHECKING

from leukorules import model as m
from leukorules.engine import trace as tr
from leukorules.engine.supports import SupportCode, compiled_support, static_support, union
from leukorules.engine.values import JsonValue, facts_sha256, json_value
from leukorules.logic import Truth
from leukorules.source import SourceFile

if TYPE_CHECKING:
    from pydantic import BaseModel

    from leukorules.diagnostics import Diagnostic
    from leukorules.engine import result as r
    from leukorules.engine.evaluation import Static

ENGINE_NAME = "leukorules"
# Past this depth a sub-condition is computed into its own local first, so the generated
# expressions stay far from CPython's parser nesting limits whatever the policy holds.
_INLINE_DEPTH = 12
NON_DERIVE = frozenset({"recommend", "note", "caution", "background"})

# What the generated `_core` returns: see `Run.__init__`.
Core = tuple[
    tuple[Truth, ...],
    dict[int, Truth],
    tuple[object, ...],
    tuple[Truth, ...],
    dict[str, str],
    dict[str, object],
    dict[int, tuple[str, ...]],
    list[int],
    list[int],
    list[int],
    list[int],
    list[int],
    list[tuple[str, list[int]]],
    list[int],
]
# The lists `_core` builds after the truths, in the order it returns them (`Run.__init__`).
REPORTED = ("fr", "fn", "un", "ov", "dx", "dd", "um")


class PolicyCompileError(ValueError):
    """The model breaks a guarantee of the checker (only possible for hand-built models)."""


# --- plan: order and structure ----------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    rules: tuple[m.Rule, ...]
    index: Mapping[str, int]
    order: tuple[tuple[str, int | str], ...]  # ("rule", index) | ("fact", derived name)
    position: Mapping[str, int]  # rule id -> place in `order` (upstream first)
    derivers: Mapping[str, tuple[int, ...]]  # derived fact -> its derive rules
    overridden_by: Mapping[int, tuple[int, ...]]
    line: tuple[int, ...]  # line of therapy per rule
    derived_names: tuple[str, ...]
    input_names: tuple[str, ...]
    # sections in guideline order: a section ranks where its first rule stands
    section_rank: Mapping[tuple[str, ...], int]


def plan_policy(policy: m.Policy) -> Plan:
    rules = policy.rules
    index: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.id in index:
            raise PolicyCompileError(f"rule id {rule.id!r} is used twice")
        index[rule.id] = i
    derived_names = tuple(f.name for f in policy.facts.values() if f.derived)
    derived_set = set(derived_names)
    derivers: dict[str, list[int]] = {name: [] for name in derived_names}
    overridden_by: dict[int, list[int]] = {}
    for i, rule in enumerate(rules):
        if isinstance(rule.conclusion, m.Derive):
            if rule.conclusion.fact not in derived_set:
                raise PolicyCompileError(f"rule {rule.id!r} derives an undeclared derived fact")
            derivers[rule.conclusion.fact].append(i)
        for target in (*rule.after, *rule.overrides):
            if target not in index:
                raise PolicyCompileError(f"rule {rule.id!r} names an unknown rule {target!r}")
        for target in rule.overrides:
            overridden_by.setdefault(index[target], []).append(i)

    def deps(node: tuple[str, int | str]) -> list[tuple[str, int | str]]:
        kind, key = node
        if kind == "fact":
            return [("rule", i) for i in derivers[str(key)]]
        rule = rules[int(key)]
        found: list[tuple[str, int | str]] = []
        for name in dict.fromkeys(m.expr_facts(rule.when)):
            if name in derived_set:
                found.append(("fact", name))
        found.extend(("rule", index[p]) for p in rule.after)
        found.extend(("rule", o) for o in overridden_by.get(int(key), ()))
        return found

    # Depth-first post-order from the rules in guideline order: deterministic and upstream first.
    order: list[tuple[str, int | str]] = []
    state: dict[tuple[str, int | str], int] = {}
    roots: list[tuple[str, int | str]] = [("rule", i) for i in range(len(rules))]
    roots.extend(("fact", name) for name in derived_names)
    for root in roots:
        if state.get(root):
            continue
        stack: list[tuple[tuple[str, int | str], int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, child = stack.pop()
            children = deps(node)
            if child < len(children):
                stack.append((node, child + 1))
                nxt = children[child]
                seen = state.get(nxt, 0)
                if seen == 1:
                    raise PolicyCompileError("rules and derived facts form a cycle")
                if seen == 0:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                order.append(node)
    position = {rules[int(key)].id: p for p, (kind, key) in enumerate(order) if kind == "rule"}
    line = [1] * len(rules)
    for kind, key in order:
        if kind == "rule":
            rule = rules[int(key)]
            if rule.after:
                line[int(key)] = 1 + max(line[index[p]] for p in rule.after)
    section_rank: dict[tuple[str, ...], int] = {}
    for i, rule in enumerate(rules):
        section_rank.setdefault(rule.section, i)
    return Plan(
        rules=rules,
        index=index,
        order=tuple(order),
        position=position,
        derivers={k: tuple(v) for k, v in derivers.items()},
        overridden_by={k: tuple(v) for k, v in overridden_by.items()},
        line=tuple(line),
        derived_names=derived_names,
        input_names=tuple(f.name for f in policy.facts.values() if not f.derived),
        section_rank=section_rank,
    )


# --- code generation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """Generated code for a condition. `code` yields True/False/None (a plain bool when
    `unknown` is false). `tests`, when present, are (is true, is false, is unknown) as cheap
    boolean expressions, so a junction can test the part in place without a temporary."""

    code: str
    unknown: bool
    tests: tuple[str, str, str] | None = None


def leaf(test: str, is_unknown: str, is_known: str) -> Part:
    """A test of facts: unknown when a fact it reads is, else the test itself."""
    return Part(
        f"(None if {is_unknown} else {test})",
        True,
        (f"({is_known} and {test})", f"({is_known} and not ({test}))", f"({is_unknown})"),
    )


def variable(name: str) -> Part:
    """A local holding True/False/None (a rule's truth, a hoisted sub-condition)."""
    return Part(name, True, (f"{name} is True", f"{name} is False", f"{name} is None"))


class _Codegen:
    def __init__(self, policy: m.Policy, plan: Plan) -> None:
        self.policy = policy
        self.plan = plan
        self.constants: list[object] = []
        self.temps = 0
        self.pre: list[str] = []  # statements computing deep sub-conditions first
        self.fact_var: dict[str, str] = {}
        for j, name in enumerate(plan.derived_names):
            self.fact_var[name] = f"d{j}"

    def var(self, name: str) -> str:
        found = self.fact_var.get(name)
        if found is None:
            found = self.fact_var[name] = f"f{len(self.fact_var)}"
        return found

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def constant(self, value: object) -> str:
        self.constants.append(value)
        return f"_k{len(self.constants) - 1}"

    def literal(self, value: object) -> str:
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, int):
            return f"({value!r})"
        if isinstance(value, float) and math.isfinite(value):
            return f"({value!r})"
        if isinstance(value, str):
            return repr(value)
        return self.constant(value)

    def member_set(self, values: Sequence[object]) -> str:
        plain = all(
            isinstance(v, bool | int | str) or (isinstance(v, float) and math.isfinite(v))
            for v in values
        )
        if values and plain:
            # CPython folds `x in {constants}` into a frozenset constant.
            return "{" + ", ".join(self.literal(v) for v in values) + "}"
        return self.constant(frozenset(values))

    def expr(self, e: m.Expr, depth: int = 0) -> Part:
        """Python code computing `e` (True/False/None), and cheap tests where they exist."""
        if depth > _INLINE_DEPTH and isinstance(e, m.And | m.Or | m.Not):
            part = self.expr(e, 0)
            name = self.temp()
            self.pre.append(f"{name} = {part.code}")
            return variable(name) if part.unknown else Part(name, False)
        match e:
            case m.Const(value=value):
                return Part("True" if value else "False", False)
            case m.Compare(fact=name, op=op, value=value):
                v = self.var(name)
                return leaf(f"{v} {op} {self.literal(value)}", f"{v} is None", f"{v} is not None")
            case m.CompareFacts(left=left, op=op, right=right):
                a, b = self.var(left), self.var(right)
                return leaf(
                    f"{a} {op} {b}",
                    f"{a} is None or {b} is None",
                    f"{a} is not None and {b} is not None",
                )
            case m.Member(fact=name, values=values, negated=negated):
                v = self.var(name)
                test = "not in" if negated else "in"
                return leaf(
                    f"{v} {test} {self.member_set(values)}", f"{v} is None", f"{v} is not None"
                )
            case m.Contains(fact=name, value=value):
                v = self.var(name)
                return leaf(f"{self.literal(value)} in {v}", f"{v} is None", f"{v} is not None")
            case m.Known(fact=name, known=known):
                return Part(f"({self.var(name)} is {'not ' if known else ''}None)", False)
            case m.Not(item=m.Not(item=inner)):
                return self.expr(inner, depth + 1)  # not not a = a, also in Kleene logic
            case m.Not(item=m.And(items=items) | m.Or(items=items) as junction):
                # De Morgan holds in Kleene logic: negate the parts, which have cheap tests
                flipped = [self.expr(m.Not(i), depth + 1) for i in items]
                return self.junction(flipped, isinstance(junction, m.And))
            case m.Not(item=item):
                return self.negate(self.expr(item, depth + 1))
            case m.And(items=items):
                return self.junction([self.expr(i, depth + 1) for i in items], False)
            case m.Or(items=items):
                return self.junction([self.expr(i, depth + 1) for i in items], True)
        raise PolicyCompileError(f"not a condition: {e!r}")  # pragma: no cover

    def negate(self, part: Part) -> Part:
        if not part.unknown:
            return Part(f"(not {part.code})", False)
        if part.tests is not None:
            is_true, is_false, is_unknown = part.tests
            code = f"(None if {is_unknown} else not {part.code})"
            if part.code.isidentifier():
                code = f"(None if {part.code} is None else not {part.code})"
            return Part(code, True, (is_false, is_true, is_unknown))
        t = self.temp()
        return Part(f"(None if ({t} := {part.code}) is None else not {t})", True)

    def junction(self, parts: list[Part], is_or: bool) -> Part:
        """Kleene `and` (is_or False) or `or` of parts; short-circuits on the deciding value.

        A part with cheap tests (a test of facts, a rule's variable) is tested in place; any
        other part that can be unknown is computed once into a temporary."""
        if len(parts) == 1:
            return parts[0]
        word = "or" if is_or else "and"
        if not any(part.unknown for part in parts):
            return Part("(" + f" {word} ".join(part.code for part in parts) + ")", False)
        decisive = "True" if is_or else "False"
        pieces: list[str] = []
        unknown_checks: list[str] = []
        for part in parts:
            if not part.unknown:
                pieces.append(f"{decisive} if {'' if is_or else 'not '}{part.code} else")
            elif part.tests is not None:
                is_true, is_false, is_unknown = part.tests
                pieces.append(f"{decisive} if {is_true if is_or else is_false} else")
                unknown_checks.append(is_unknown)
            else:
                t = self.temp()
                pieces.append(f"{decisive} if ({t} := {part.code}) is {decisive} else")
                unknown_checks.append(f"{t} is None")
        anything_unknown = " or ".join(dict.fromkeys(unknown_checks))
        other = "False" if is_or else "True"
        return Part("(" + " ".join(pieces) + f" None if ({anything_unknown}) else {other})", True)

    def body(self, with_gaps: bool, needed: set[tuple[str, int | str]] | None = None) -> list[str]:
        """Straight-line code for the rules and derived facts in dependency order (only the
        `needed` ones when given), then the gaps (`with_gaps`). Each rule's effective truth is
        `e<i>`; a rule with overriders keeps its base truth in `b<i>` too."""
        plan = self.plan
        rules = plan.rules
        lines: list[str] = []
        for kind, key in plan.order:
            if needed is not None and (kind, key) not in needed:
                continue
            if kind == "fact":
                lines.append(self.derived_code(str(key)))
                continue
            i = int(key)
            rule = rules[i]
            self.pre = []
            when = self.expr(rule.when)
            if rule.after:
                base = self.junction(
                    [when, *(variable(f"e{plan.index[p]}") for p in rule.after)], False
                )
            else:
                base = when
            lines.extend(self.pre)
            overriders = plan.overridden_by.get(i, ())
            if not overriders:
                lines.append(f"e{i} = {base.code}")
                continue
            lines.append(f"b{i} = {base.code}")
            parts = [variable(f"b{i}") if base.unknown else Part(f"b{i}", False)]
            parts.extend(self.negate(variable(f"e{o}")) for o in overriders)
            lines.append(f"e{i} = {self.junction(parts, False).code}")
        if with_gaps:
            for k, gap in enumerate(self.policy.gaps):
                self.pre = []
                code = self.expr(gap.when).code
                lines.extend(self.pre)
                lines.append(f"g{k} = {code}")
        return lines

    def tests(self, e: m.Expr) -> tuple[str, str, str]:
        """Python tests of `e`'s truth: (is true, is false, is unknown)."""
        part = self.expr(e)
        if part.tests is not None:
            return part.tests
        if not part.unknown:
            return (part.code, f"(not {part.code})", "False")
        return (f"({part.code} is True)", f"({part.code} is False)", f"({part.code} is None)")

    def can_be_unknown(self, e: m.Expr) -> bool:
        return self.expr(e).unknown

    def never_unknown(self) -> frozenset[int]:
        """The rules that can never be undetermined: their condition cannot be unknown (a
        constant, `is known` tests) and neither can the rules they follow or that override
        them."""
        return closed_upstream(self.plan, lambda rule: not self.can_be_unknown(rule.when))

    def result_lists(self, never_unknown: frozenset[int]) -> list[str]:
        """Statements building the lists `evaluate` reports (`REPORTED`, see `Run.__init__`), in
        result order (`result_orders`), and `s`, rule index -> the facts deciding its condition,
        for every
        fired rule whose `because` depends on the patient (the others' is `static_support`) and
        every undetermined rule whose condition is unknown, among the rules `compiled_support`
        covers (the others walk their condition: `trace.compile_support`); for the rules
        `missing_compiled` covers, `s` holds their whole `missing` facts. Rules in
        `never_unknown` get no undetermined test."""
        plan = self.plan
        code = SupportCode(self.tests, self.can_be_unknown, self.var)
        recommend, notes, every = result_orders(plan)
        chains = _static_chains(plan)
        because: dict[int, str] = {}  # `s[i] = ...` where it depends on the patient
        explain: set[int] = set()  # fired rules whose because or chain depend on the patient
        unknown: dict[int, str] = {}  # more statements after `un.append(i)`
        whole = missing_compiled(plan)
        upstream_missing: dict[int, str] = {}
        for i, rule in enumerate(plan.rules):
            generated = compiled_support(rule.when)
            dynamic = not generated or static_support(rule.when, True) is None
            if dynamic or chains[i] is None:
                explain.add(i)
            if generated and dynamic:
                because[i] = f"s[{i}] = {code.code(rule.when, True)}"
            upstream = upstream_rules(plan, i)
            own = code.code(rule.when, None) if generated and self.can_be_unknown(rule.when) else ""
            if own and upstream:  # its own condition may be known
                own = f"({own} if {self.tests(rule.when)[2]} else ())"
            if i not in whole:
                unknown[i] = f"um.append({i})" + (f"; s[{i}] = {own}" if own else "")
            elif not upstream:
                if own:
                    unknown[i] = f"s[{i}] = {own}"
            else:  # its own facts and its undetermined upstream rules', upstream first
                parts = [own] if own else []
                parts += [f"(s[{j}] if e{j} is None else ())" for j in upstream]
                upstream_missing[i] = f"if e{i} is None: s[{i}] = " + " + ".join(parts)

        # What to do when rule i fired (`when_true`) and when it is undetermined (`when_unknown`),
        # as statements after `if e<i> is True:` and `if e<i> is None:`.
        when_true: dict[int, str] = {}
        for kind, rules in (("fr", recommend), ("fn", notes)):
            for i in rules:
                statements = [f"{kind}.append({i})"]
                if i in explain:
                    statements.append(f"dx.append({i})")
                if i in because:
                    statements.append(because.pop(i))
                when_true[i] = "; ".join(statements)
        when_true.update(because)  # derive rules
        when_unknown = {
            i: "; ".join([f"un.append({i})", *([unknown[i]] if i in unknown else [])])
            for i in every
            if i not in never_unknown
        }
        lines = ["s = {}", *(f"{name} = []" for name in REPORTED)]
        # One pass in section order fills every list, testing each rule once or twice, when
        # recommendations in section order are already in result order (lines of therapy
        # follow each other in the file); otherwise they get a pass of their own first.
        in_section_order = tuple(i for i in every if i in recommend) == recommend
        if not in_section_order:
            lines += [f"if e{i} is True: {when_true.pop(i)}" for i in recommend]
        for i in every:
            if i in when_true:
                lines.append(f"if e{i} is True: {when_true[i]}")
                if i in when_unknown:
                    lines.append(f"elif e{i} is None: {when_unknown[i]}")
            elif i in when_unknown:
                lines.append(f"if e{i} is None: {when_unknown[i]}")
        for name, derivers in plan.derivers.items():
            if derivers:
                deriving = ", ".join(f"*(({i},) if e{i} is True else ())" for i in derivers)
                value = self.var(name)
                lines.append(f"if {value} is not None: dd.append(({name!r}, [{deriving}]))")
        lines += [upstream_missing[int(key)] for kind, key in plan.order if key in upstream_missing]
        for i in every:
            overriders = plan.overridden_by.get(i)
            if overriders:
                won = " or ".join(f"e{o} is True" for o in overriders)
                lines.append(
                    f"if e{i} is False and b{i} is True and ({won}): "
                    f"ov.append({i}); o[{plan.rules[i].id!r}] = 'overridden'"
                )
        return lines

    def derived_code(self, name: str) -> str:
        var = self.fact_var[name]
        rules = self.plan.rules
        # One group per distinct value (values of one fact share a type, so == is exact).
        groups: dict[m.Value, list[int]] = {}
        keys: dict[m.Value, m.Value] = {}
        for i in self.plan.derivers[name]:
            conclusion = rules[i].conclusion
            assert isinstance(conclusion, m.Derive)
            key = conclusion.value
            groups.setdefault(key, []).append(i)
            keys.setdefault(key, conclusion.value)
        if not groups:
            return f"{var} = None"
        branches: list[str] = []
        for key, members in groups.items():
            fired = " or ".join(f"e{i} is True" for i in members)
            others = [i for k, ms in groups.items() if k != key for i in ms]
            condition = f"({fired})"
            if others:
                condition += " and " + " and ".join(f"e{i} is False" for i in others)
            branches.append(f"{self.literal(keys[key])} if {condition} else")
        return f"{var} = " + " ".join(branches) + " None"

    def inputs(self) -> list[str]:
        return [
            f"{var} = g({name!r})"
            for name, var in self.fact_var.items()
            if name not in self.plan.derived_names
        ]

    def signature(self, name: str) -> str:
        defaults = "".join(f", _k{n}=_k{n}" for n in range(len(self.constants)))
        return f"def {name}(facts{defaults}):"


def upstream_rules(plan: Plan, i: int) -> list[int]:
    """The rules rule i follows (`after`) and the rules overriding it."""
    return [plan.index[p] for p in plan.rules[i].after] + list(plan.overridden_by.get(i, ()))


def closed_upstream(plan: Plan, holds: Callable[[m.Rule], bool]) -> frozenset[int]:
    """The rules for which `holds` is true, and for every rule they follow or that overrides
    them, transitively."""
    found: set[int] = set()
    for kind, key in plan.order:  # upstream first
        if kind != "rule":
            continue
        i = int(key)
        if holds(plan.rules[i]) and all(j in found for j in upstream_rules(plan, i)):
            found.add(i)
    return frozenset(found)


def missing_compiled(plan: Plan) -> frozenset[int]:
    """The rules whose `missing` facts the generated core computes in full: their condition is
    compiled (`compiled_support`), reads no derived fact (an unknown one would have to be
    traced to the rules deriving it), and so do the rules they follow or that override them."""
    return closed_upstream(
        plan,
        lambda rule: (
            compiled_support(rule.when)
            and not any(name in plan.derivers for name in m.expr_facts(rule.when))
        ),
    )


def result_orders(plan: Plan) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The order of results: recommendations by section, then line of therapy, then guideline
    order; notes, and every rule, by section, then guideline order (`evaluation` explains why
    sections rank where their first rule stands)."""
    rules = plan.rules
    section = [plan.section_rank[rule.section] for rule in rules]
    recommend = [i for i, rule in enumerate(rules) if isinstance(rule.conclusion, m.Recommend)]
    notes = [i for i, rule in enumerate(rules) if isinstance(rule.conclusion, m.StateNote)]
    return (
        tuple(sorted(recommend, key=lambda i: (section[i], plan.line[i], i))),
        tuple(sorted(notes, key=lambda i: (section[i], i))),
        tuple(sorted(range(len(rules)), key=lambda i: (section[i], i))),
    )


def _needed_for_decide(plan: Plan) -> set[tuple[str, int | str]]:
    """The rules and derived facts `decide` must compute: the recommend/note/caution/background
    rules and everything they depend on (derived facts read, `after`, `overrides`)."""
    rules = plan.rules
    stack: list[tuple[str, int | str]] = [
        ("rule", i) for i, rule in enumerate(rules) if rule.kind in NON_DERIVE
    ]
    needed: set[tuple[str, int | str]] = set()
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        kind, key = node
        if kind == "fact":
            stack.extend(("rule", i) for i in plan.derivers[str(key)])
            continue
        i = int(key)
        rule = rules[i]
        for name in m.expr_facts(rule.when):
            if name in plan.derivers:
                stack.append(("fact", name))
        stack.extend(("rule", plan.index[p]) for p in rule.after)
        stack.extend(("rule", o) for o in plan.overridden_by.get(i, ()))
    return needed


def generate(policy: m.Policy, plan: Plan) -> tuple[str, dict[str, object]]:
    """Python source of `_decide` and `_core`, and the namespace to execute it in."""
    rules = plan.rules
    # `_core`: every rule's effective and base truth, derived values and gap truths.
    core = _Codegen(policy, plan)
    for name in plan.input_names:
        core.var(name)  # every input is read: the core returns them all (`env`)
    core_body = core.body(with_gaps=True)
    n_rules, n_derived, n_gaps = len(rules), len(plan.derived_names), len(policy.gaps)

    def tup(prefix: str, count: int) -> str:
        items = [f"{prefix}{i}" for i in range(count)]
        return "(" + "".join(f"{item}, " for item in items) + ")"

    # Every rule's outcome, as `Run.outcome` defines it, in one dict display (faster than
    # labelling the truths with `map`); `result_lists` relabels the overridden ones.
    never_unknown = core.never_unknown()
    outcomes = ", ".join(
        f"{rule.id!r}: 'fired' if e{i} is True else "
        + ("" if i in never_unknown else f"'undetermined' if e{i} is None else ")
        + "'not_fired'"
        for i, rule in enumerate(rules)
    )
    overridable = ", ".join(f"{i}: b{i}" for i in range(n_rules) if i in plan.overridden_by)
    core_lines = [
        core.signature("_core"),
        "    g = facts.get",
        *(f"    {line}" for line in core.inputs()),
        *(f"    {line}" for line in core_body),
        f"    o = {{{outcomes}}}",
        *(f"    {line}" for line in core.result_lists(never_unknown)),
        f"    return {tup('e', n_rules)}, {{{overridable}}}, {tup('d', n_derived)}, "
        f"{tup('g', n_gaps)}, o, "
        "{" + "".join(f"{name!r}: {var}, " for name, var in core.fact_var.items()) + "}, "
        "s, " + ", ".join(REPORTED),
    ]
    # `_decide`: the same straight-line code for what the answer depends on, returning the
    # fired ids: derivations no reported rule reads, and the facts only they read, are left out.
    fast = _Codegen(policy, plan)
    fast.constants = core.constants  # share constant numbering: one namespace
    fast_body = fast.body(with_gaps=False, needed=_needed_for_decide(plan))
    decide_lines = [
        fast.signature("_decide"),
        "    g = facts.get",
        *(f"    {line}" for line in fast.inputs()),
        *(f"    {line}" for line in fast_body),
        "    fired = []",
        "    add = fired.append",
    ]
    for i, rule in enumerate(rules):
        if rule.kind in NON_DERIVE:
            decide_lines.append(f"    if e{i} is True: add({rule.id!r})")
    decide_lines.append("    return frozenset(fired)")
    namespace = _namespace()
    for n, value in enumerate(core.constants):
        namespace[f"_k{n}"] = value
    source = "\n".join([*core_lines, "", *decide_lines]) + "\n"
    return source, namespace


def _namespace() -> dict[str, object]:
    """What generated code may use besides its constants."""
    return {"__builtins__": {"frozenset": frozenset}, "_union": union}


# --- the compiled policy ----------------------------------------------------------------------


class CompiledPolicy:
    """A checked policy compiled for evaluation. Build with `compile_policy` (cached)."""

    def __init__(
        self,
        policy: m.Policy,
        sources: Mapping[str, SourceFile] | None = None,
        generated: tuple[str, dict[str, object], CodeType] | None = None,
    ) -> None:
        self.policy = policy
        self.sources: dict[str, SourceFile] = dict(sources or {})
        self.plan = plan_policy(policy)
        if generated is None:
            self.source, namespace = generate(policy, self.plan)
            code = compile(self.source, "<leukorules compiled policy>", "exec")
        else:  # from `from_cache`: generated by this same code from this same policy
            self.source, constants, code = generated
            namespace = {**_namespace(), **constants}
        self._constants = {k: v for k, v in namespace.items() if k not in _namespace()}
        self._code = code
        exec(code, namespace)
        self._core: Callable[[Mapping[str, object]], Core] = namespace["_core"]  # type: ignore[assignment]
        self._decide: Callable[[Mapping[str, object]], frozenset[str]] = namespace["_decide"]  # type: ignore[assignment]
        self._policy_info: r.PolicyInfo | None = None
        self._static: Static | None = None
        self._build_evaluation: Callable[[CompiledPolicy, Run, bool], r.Evaluation] | None = None
        # The facts deciding each rule's condition: the generated `_core` computes them for
        # the rules `compiled_support` covers (`because` is a constant where it can be); the
        # others, and `explain`, walk the condition (`trace.compile_support`).
        self.supports = tuple(
            _memoised(tr.compile_support(rule.when), tr.reads(rule.when)) for rule in policy.rules
        )
        self.orders = result_orders(self.plan)
        self.static_because = tuple(
            static_support(rule.when, True) if compiled_support(rule.when) else None
            for rule in policy.rules
        )
        self.generated_supports = frozenset(
            i for i, rule in enumerate(policy.rules) if compiled_support(rule.when)
        )
        self.rule_ids: tuple[str, ...] = tuple(rule.id for rule in policy.rules)
        self.gap_ids: tuple[str, ...] = tuple(gap.id for gap in policy.gaps)
        self.static_chains = _static_chains(self.plan)
        # Fired rules whose because and chain are the same for every patient: (because, chain).
        self.static_explained = tuple(
            None if because is None or chain is None else (because, chain)
            for because, chain in zip(self.static_because, self.static_chains, strict=True)
        )
        # Undetermined rules whose missing facts are the core's answer for them, in full.
        self.missing_generated = missing_compiled(self.plan)

    def cache_state(self) -> dict[str, object]:
        """What `leukorules.cache` keeps on disk: the policy, its sources and the generated
        code (compiled; the cache key covers the Python version)."""
        return {
            "policy": self.policy,
            "sources": self.sources,
            "source": self.source,
            "constants": self._constants,
            "code": marshal.dumps(self._code),
        }

    @classmethod
    def from_cache(cls, state: Mapping[str, object]) -> CompiledPolicy:
        policy = state["policy"]
        sources = state["sources"]
        source, constants = state["source"], state["constants"]
        code = marshal.loads(state["code"])  # type: ignore[arg-type]
        if not (
            isinstance(policy, m.Policy)
            and isinstance(sources, dict)
            and isinstance(source, str)
            and isinstance(constants, dict)
            and isinstance(code, CodeType)
        ):
            raise TypeError("not a cached compiled policy")
        return cls(policy, sources, (source, constants, code))

    def __repr__(self) -> str:
        rules = len(self.rule_ids)
        return f"<CompiledPolicy {self.policy.id} {self.policy.version} ({rules} rules)>"

    # --- the fast path

    def decide(self, facts: Mapping[str, object]) -> frozenset[str]:
        """Ids of the fired recommend/note/caution/background rules; builds no trace objects."""
        return self._decide(facts)

    # --- facts

    @property
    def facts_model(self) -> type[BaseModel]:
        from leukorules.engine.facts import facts_model

        return facts_model(self.policy)

    def validate(self, raw: Mapping[str, object]) -> tuple[dict[str, m.Value], list[Diagnostic]]:
        from leukorules.engine.facts import validate_facts

        return validate_facts(self.policy, raw)

    # --- the full result

    def evaluate(self, facts: Mapping[str, object], trace: bool = False) -> r.Evaluation:
        """The full, traceable result for one patient. `facts` hold validated values; absent or
        None is unknown; names that are not input facts of the policy are ignored."""
        build = self._build_evaluation
        if build is None:  # imported on first use: `evaluation` imports this module
            from leukorules.engine.evaluation import build_evaluation

            build = self._build_evaluation = build_evaluation
        return build(self, Run(self, self._core(facts)), trace)

    def evaluate_view(self, facts: Mapping[str, object], trace: bool = False) -> r.Evaluation:
        """`evaluate`, as an attribute-only view (`evaluation.EvaluationView`): the same values,
        but no pydantic model (no dump, validation or equality); for renderers that only read
        attributes (text, markdown). Imports no pydantic."""
        from leukorules.engine.evaluation import build_evaluation

        return build_evaluation(self, self.run(facts), trace, view=True)

    def explain(self, facts: Mapping[str, object], rule_id: str) -> r.Explanation:
        """Step by step, why one rule (or gap) fired, did not fire, or is undetermined."""
        from leukorules.engine.explain import explain

        return explain(self, self.run(facts), rule_id)

    def run(self, facts: Mapping[str, object]) -> Run:
        return Run(self, self._core(facts))

    def static(self) -> Static:
        """The patient-independent parts of results, built on first use."""
        if self._static is None:
            from leukorules.engine.evaluation import Static

            self._static = Static(self)
        return self._static

    def policy_info(self) -> r.PolicyInfo:
        if self._policy_info is None:
            from leukorules.engine.evaluation import policy_info

            self._policy_info = policy_info(self.policy)
        return self._policy_info


# Distinct patients remembered per rule by `_memoised` (a few hundred kilobytes at most).
_MEMO_SIZE = 512


def _memoised(support: tr.Support, names: tuple[str, ...]) -> tr.Support:
    """`support` remembering its answer per combination of the values of the facts it reads:
    the answer depends on nothing else (equal values compare alike). Real patients repeat the
    same few combinations of booleans and enum values; past `_MEMO_SIZE` combinations (numbers
    of every size) new ones are computed and not kept. Unhashable values are computed."""
    cache: dict[tuple[object, ...], tuple[Truth, tuple[str, ...]]] = {}
    if not names:
        return support

    def memo(env: Mapping[str, object]) -> tuple[Truth, tuple[str, ...]]:
        key = tuple(map(env.get, names))
        try:
            return cache[key]
        except KeyError:
            found = support(env)
            if len(cache) < _MEMO_SIZE:
                cache[key] = found
            return found
        except TypeError:
            return support(env)

    return memo


def _static_chains(plan: Plan) -> tuple[tuple[str, ...] | None, ...]:
    """Per rule, its chain when it cannot depend on the patient (None otherwise).

    A fired rule's chain is its `after` rules and the derivations of the derived facts in its
    `because`, transitively. When neither the rule nor any rule it follows (transitively) reads
    a derived fact, that is the `after` closure alone, the same for every patient."""
    reads_derived = [
        any(name in plan.derivers for name in m.expr_facts(rule.when)) for rule in plan.rules
    ]
    chains: list[tuple[str, ...] | None] = []
    for i, rule in enumerate(plan.rules):
        closure: set[int] = set()
        stack = [plan.index[p] for p in rule.after]
        while stack:
            j = stack.pop()
            if j not in closure:
                closure.add(j)
                stack.extend(plan.index[p] for p in plan.rules[j].after)
        if reads_derived[i] or any(reads_derived[j] for j in closure):
            chains.append(None)
            continue
        ids = sorted((plan.rules[j].id for j in closure), key=plan.position.__getitem__)
        chains.append(tuple(ids))
    return tuple(chains)


_NOTHING: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


class Run:
    """The raw outcome of the compiled core for one patient, and what is derived from it."""

    __slots__ = (
        "_derived",
        "_missing",
        "base",
        "compiled",
        "derivations",
        "derived_values",
        "effective",
        "env",
        "found",
        "gap_truth",
        "noted",
        "outcomes",
        "overridden",
        "recommended",
        "to_explain",
        "to_walk",
        "undetermined",
    )

    def __init__(self, compiled: CompiledPolicy, core: Core) -> None:
        self.compiled = compiled
        (
            self.effective,  # every rule's effective truth
            self.base,  # rule with overriders -> its base truth (module docstring)
            self.derived_values,  # every derived fact's value, None when unknown
            self.gap_truth,
            outcomes,  # rule id -> its outcome, as `outcome` defines it
            # Every input and derived fact of the policy -> its value, None when unknown (a
            # copy, so later changes to the caller's facts do not reach results).
            self.env,
            # rule -> the facts deciding its condition (`CompiledPolicy.generated_supports`)
            self.found,
            # What `evaluate` reports, in result order (`result_orders`):
            self.recommended,  # the fired recommendations
            self.noted,  # the fired notes, cautions and background
            self.undetermined,  # the undetermined rules
            self.overridden,  # the overridden rules
            self.to_explain,  # fired ones among these whose because or chain need work here
            self.derivations,  # (derived fact, the fired rules deriving its value)
            self.to_walk,  # undetermined rules whose `missing` needs `missing` here
        ) = core
        self.outcomes: dict[str, r.Outcome] = outcomes  # type: ignore[assignment]
        self._missing: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._derived: dict[str, object] | None = None

    @property
    def derived(self) -> dict[str, object]:
        """The derived facts that have a value."""
        if self._derived is None:
            names = self.compiled.plan.derived_names
            self._derived = {
                n: v for n, v in zip(names, self.derived_values, strict=True) if v is not None
            }
        return self._derived

    def outcome(self, i: int) -> r.Outcome:
        truth = self.effective[i]
        if truth is True:
            return "fired"
        if truth is None:
            return "undetermined"
        return "overridden" if self.base.get(i) is True and self.winners(i) else "not_fired"

    def winners(self, i: int) -> list[int]:
        """The rules overriding rule i that fired."""
        return [o for o in self.compiled.plan.overridden_by.get(i, ()) if self.effective[o] is True]

    @property
    def inputs(self) -> dict[str, object]:
        """The known input facts."""
        env = self.env
        return {n: v for n in self.compiled.plan.input_names if (v := env[n]) is not None}

    def facts_sha256(self) -> str:
        return facts_sha256(self.env, self.compiled.plan.input_names)

    def json_value(self, name: str) -> JsonValue:
        return json_value(self.env.get(name))

    def unit(self, name: str) -> str | None:
        fact = self.compiled.policy.facts.get(name)
        return fact.type.unit if fact is not None else None

    # --- missing facts of undetermined rules

    def missing(self, i: int) -> tuple[frozenset[str], frozenset[str]]:
        """(unknown input facts that would decide rule i, derived facts that stay unknown)."""
        found = self._missing.get(i)
        if found is not None:
            return found
        compiled = self.compiled
        if i in compiled.missing_generated:
            if self.effective[i] is not None:
                return _NOTHING
            found = (frozenset(self.found.get(i, ())), _NOTHING[1])
            self._missing[i] = found
            return found
        plan = compiled.plan
        inputs: set[str] = set()
        unresolved: set[str] = set()
        if self.effective[i] is None:
            names = self._unknown_support(i)
            if names:
                read_inputs, read_unresolved = self.missing_behind(names)
                inputs |= read_inputs
                unresolved |= read_unresolved
            for j in upstream_rules(plan, i):
                if self.effective[j] is None:
                    more, stuck = self.missing(j)
                    inputs |= more
                    unresolved |= stuck
        found = (frozenset(inputs), frozenset(unresolved))
        self._missing[i] = found
        return found

    def _unknown_support(self, i: int) -> tuple[str, ...]:
        """The facts that would decide rule i's condition: empty when it is known."""
        if i in self.compiled.generated_supports:
            return self.found.get(i, ())
        truth, names = self.compiled.supports[i](self.env)
        return names if truth is None else ()

    def missing_behind(self, names: Iterable[str]) -> tuple[set[str], set[str]]:
        """The unknown input facts (and unresolved derived facts) behind unknown fact reads."""
        inputs: set[str] = set()
        unresolved: set[str] = set()
        for name in names:
            if name in self.compiled.plan.derivers:
                more, stuck = self.missing_fact(name)
                inputs |= more
                unresolved |= stuck
            else:
                inputs.add(name)
        return inputs, unresolved

    def missing_fact(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        inputs: set[str] = set()
        unresolved: set[str] = set()
        open_rules = [i for i in self.compiled.plan.derivers[name] if self.effective[i] is None]
        for i in open_rules:
            more, stuck = self.missing(i)
            inputs |= more
            unresolved |= stuck
        if not open_rules:
            unresolved.add(name)
        return frozenset(inputs), frozenset(unresolved)

    # --- because and chain of fired rules

    def because(self, i: int) -> tuple[str, ...]:
        """The facts that decided rule i's condition (for a fired rule: made it true)."""
        found = self.compiled.static_because[i]
        if found is None:
            found = self.found.get(i) if i in self.compiled.generated_supports else None
            if found is None:
                found = self.found[i] = self.compiled.supports[i](self.env)[1]
        return found

    def deriving(self, name: str) -> list[int]:
        """The fired rules that derived the value a derived fact has."""
        plan = self.compiled.plan
        value = self.derived.get(name)
        if value is None:
            return []
        found = []
        for i in plan.derivers[name]:
            conclusion = plan.rules[i].conclusion
            assert isinstance(conclusion, m.Derive)
            if self.effective[i] is True and conclusion.value == value:
                found.append(i)
        return found

    def upstream(self, i: int, names: Sequence[str]) -> list[int]:
        """Rules directly upstream of fired rule i: its `after` rules and the derivations of
        the derived facts in its `because`."""
        plan = self.compiled.plan
        found = [plan.index[p] for p in plan.rules[i].after]
        for name in names:
            if name in plan.derivers:
                found.extend(self.deriving(name))
        return found

    def chain(self, i: int) -> list[str]:
        static = self.compiled.static_chains[i]
        if static is not None:
            return list(static)
        plan = self.compiled.plan
        seen: set[int] = set()
        stack = list(self.upstream(i, self.because(i)))
        while stack:
            j = stack.pop()
            if j in seen:
                continue
            seen.add(j)
            stack.extend(self.upstream(j, self.because(j)))
        ids = [plan.rules[j].id for j in seen]
        return sorted(ids, key=lambda rule_id: plan.position[rule_id])


# --- the cache --------------------------------------------------------------------------------

_CACHE: OrderedDict[tuple[str, tuple[str, ...]], CompiledPolicy] = OrderedDict()
_CACHE_SIZE = 16
_LOCK = threading.Lock()


def compile_policy(
    policy: m.Policy, sources: Mapping[str, SourceFile] | None = None
) -> CompiledPolicy:
    """Compile a checked policy, reusing an earlier compilation of the same policy.

    The cache key is the policy's sha256 plus the paths of its sources (spans name the paths);
    a hit is used only when the cached model equals this one. Policies without a sha256 (built
    by hand rather than by the checker) are compiled every time.
    """
    if not policy.sha256:
        return CompiledPolicy(policy, sources)
    key = (policy.sha256, tuple(s.path for s in policy.sources))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.policy == policy:
            _CACHE.move_to_end(key)
            if sources and not cached.sources:
                cached.sources = dict(sources)
            return cached
    compiled = CompiledPolicy(policy, sources)
    with _LOCK:
        _CACHE[key] = compiled
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return compiled


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
