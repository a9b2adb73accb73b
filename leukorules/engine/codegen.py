"""Plan -> Python source of the compiled evaluator: `_core` (for `evaluate`) and `_decide`.

Input: a `Plan` (`leukorules.engine.plan`). Output: `GeneratedCode`, the source text and the
constants it needs; `leukorules compile --emit python` prints the text, and the tests keep a
golden copy of the bundled policy's, so the compiled form is something people read and review.

Every expression becomes straight-line code over local variables (one per fact, `f<n>`; per
derived fact, `d<n>`; per rule, its effective truth `e<i>` and, for a rule with overriders, its
base truth `b<i>`; per gap, `g<k>`) with no interpretation overhead, computed in the rule
graph's order. Kleene logic exactly as `leukorules.logic`: True, False, None = unknown; `not` is
pushed through `and`/`or` (De Morgan holds in Kleene logic) and tests of facts are tested in
place, so no temporaries are needed for them.

`_core` returns a `CoreResult`: every rule's truth and outcome, the derived values, and the
lists `evaluate` reports in result order, with the facts deciding each reported rule where the
generated code can compute them (`leukorules.engine.supports`). The outcomes and the lists
depend on the rules' truths alone, and patients repeat a few combinations of them: `_core`
builds them once per combination and keeps them in a bounded memo of the generated module
(`_SHAPES`, one per compiled policy); the lists are tuples, the outcomes a fresh copy.
`_decide` returns the ids of the rules that definitely fire, in two-valued code
(`leukorules.engine.decide_codegen`). `_broken` returns the constraints the facts break
(validation refuses such facts before the others run).

Generated code never contains user text except as `repr()` literals (rule ids, string and enum
values, in code and in the `# rule ...` comments); variable names are generated; constants that
have no literal form (dates) are bound as default arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from leukorules import model as m
from leukorules.engine.canonical_codegen import HELPERS, canonical_json_lines
from leukorules.engine.decide_codegen import decide_lines, inline_single_reads
from leukorules.engine.plan import Plan
from leukorules.engine.supports import SupportCode, union
from leukorules.logic import Truth

# Past this depth a sub-condition is computed into its own local first, so the generated
# expressions stay far from CPython's parser nesting limits whatever the policy holds.
_INLINE_DEPTH = 12
# The lists `_core` fills for `evaluate`, in result order (see `CoreResult`).
REPORTED_LISTS = (
    "recommended",
    "noted",
    "undetermined",
    "overridden",
    "to_explain",
    "derivations",
    "to_walk",
)
# Combinations of rule truths whose outcomes and lists `_core` remembers, at most (a few KiB
# each).
SHAPES_MEMO_SIZE = 4096


class PolicyCompileError(ValueError):
    """The model breaks a guarantee of the checker (only possible for hand-built models)."""


class CoreResult(NamedTuple):
    """What the generated `_core` returns for one patient."""

    effective: tuple[Truth, ...]  # every rule's effective truth (the module docstring)
    base: dict[int, Truth]  # rule with overriders -> its base truth
    derived_values: tuple[object, ...]  # every derived fact's value, None when unknown
    gap_truth: tuple[Truth, ...]
    outcomes: dict[str, str]  # rule id -> "fired" | "not_fired" | "undetermined" | "overridden"
    # Every input and derived fact of the policy -> its value, None when unknown (a copy, so
    # later changes to the caller's facts do not reach results).
    env: dict[str, object]
    facts_json: str  # the canonical JSON of the known input facts (`canonical_codegen`)
    # rule -> the facts deciding its condition, or (rules in `missing_generated`) its missing
    found: dict[int, tuple[str, ...]]
    # The lists, tuples shared by every patient with the same rule truths:
    recommended: tuple[int, ...]  # the fired recommendations, in result order
    noted: tuple[int, ...]  # the fired notes, cautions and background, in result order
    undetermined: tuple[int, ...]  # the undetermined rules, in result order
    overridden: tuple[int, ...]  # the overridden rules, in result order
    to_explain: tuple[int, ...]  # fired ones among these whose because or chain need work
    derivations: tuple[tuple[str, tuple[int, ...]], ...]  # (derived fact, rules deriving it)
    to_walk: tuple[int, ...]  # undetermined rules whose `missing` needs the runtime's walk


@dataclass(frozen=True, slots=True)
class GeneratedCode:
    """The generated Python source, with the constants it refers to by name."""

    source: str
    constants: dict[str, object]  # `_k<n>` -> a value without a literal form


@dataclass(frozen=True, slots=True)
class Part:
    """Generated code for a condition. `code` yields True/False/None (a plain bool when
    `unknown` is false). `tests`, when present, are (is true, is false, is unknown) as cheap
    boolean expressions, so a junction can test the part in place without a temporary."""

    code: str
    unknown: bool
    tests: tuple[str, str, str] | None = None


def leaf(
    test: str,
    is_unknown: str,
    is_known: str,
    is_true: str | None = None,
    is_false: str | None = None,
) -> Part:
    """A test of facts: unknown when a fact it reads is, else the test itself. `is_true` and
    `is_false` are shorter forms where the test alone already says it (an unknown fact equals
    no literal and is in no set of values)."""
    return Part(
        f"(None if {is_unknown} else {test})",
        True,
        (
            is_true or f"({is_known} and {test})",
            is_false or f"({is_known} and not ({test}))",
            f"({is_unknown})",
        ),
    )


def variable(name: str) -> Part:
    """A local holding True/False/None (a rule's truth, a hoisted sub-condition)."""
    return Part(name, True, (f"{name} is True", f"{name} is False", f"{name} is None"))


class _Codegen:
    """Python source for one generated function: its fact locals, constants and statements."""

    def __init__(self, plan: Plan) -> None:
        self.policy = plan.policy
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
            case m.Compare(fact=name, op="==", value=bool(value)):
                # Validated bool facts hold True, False or None themselves.
                v = self.var(name)
                code = v if value else f"(None if {v} is None else not {v})"
                return Part(code, True, (f"{v} is {value}", f"{v} is {not value}", f"{v} is None"))
            case m.Compare(fact=name, op="==", value=str(value) | int(value) | float(value)):
                v, lit = self.var(name), self.literal(value)
                return leaf(
                    f"{v} == {lit}",
                    f"{v} is None",
                    f"{v} is not None",
                    f"{v} == {lit}",
                    f"({v} is not None and {v} != {lit})",
                )
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
                v, members = self.var(name), self.member_set(values)
                test = f"{v} {'not in' if negated else 'in'} {members}"
                inside = f"{v} in {members}"  # an unknown fact is in no set of values
                return leaf(
                    test,
                    f"{v} is None",
                    f"{v} is not None",
                    None if negated else inside,
                    inside if negated else None,
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

    def body(self, with_gaps: bool) -> list[str]:
        """Straight-line code for the rules and derived facts in dependency order, then the
        gaps (`with_gaps`). Each rule's effective truth is
        `e<i>`; a rule with overriders keeps its base truth in `b<i>` too."""
        plan = self.plan
        graph = plan.graph
        rules = plan.rules
        lines: list[str] = []
        for node in graph.order:
            if isinstance(node, str):
                lines.append(f"# derived fact {node!r}")
                lines.append(self.derived_code(node))
                continue
            i = node
            rule = rules[i]
            lines.append(f"# rule {rule.id!r}")
            self.pre = []
            when = self.expr(rule.when)
            if graph.after[i]:
                base = self.junction([when, *(variable(f"e{p}") for p in graph.after[i])], False)
            else:
                base = when
            lines.extend(self.pre)
            overriders = graph.overridden_by.get(i, ())
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
                lines.append(f"# gap {gap.id!r}")
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

    def result_lists(self, outcomes: str) -> tuple[list[str], list[str]]:
        """Statements building `shape`: the outcomes (`outcomes`, a dict display's items) and
        the lists `evaluate` reports (see `CoreResult`) in result order, which depend on the
        rules' truths alone; and statements building `found`, rule index -> the facts deciding
        its condition, for every fired rule whose `because` depends on the patient (the others'
        is the plan's `static_because`) and every undetermined rule whose condition is unknown,
        among the rules whose supports are generated (the others walk their condition:
        `trace.compile_support`); for the rules in the plan's `missing_generated`, `found`
        holds their whole `missing` facts. Rules that can never be undetermined get no
        undetermined test."""
        plan = self.plan
        graph = plan.graph
        code = SupportCode(self.tests, self.can_be_unknown, self.var)
        recommend, notes, every = plan.recommend_order, plan.note_order, plan.every_order
        because: dict[int, str] = {}  # `found[i] = ...` where it depends on the patient
        explain: set[int] = set()  # fired rules whose because or chain depend on the patient
        unknown: dict[int, str] = {}  # more statements after `undetermined.append(i)`
        upstream_missing: dict[int, str] = {}
        for i, rule in enumerate(plan.rules):
            generated = i in plan.generated_supports
            dynamic = plan.static_because[i] is None
            if dynamic or plan.static_chains[i] is None:
                explain.add(i)
            if generated and dynamic:
                because[i] = f"found[{i}] = {code.code(rule.when, True)}"
            upstream = graph.upstream(i)
            own = code.code(rule.when, None) if generated and self.can_be_unknown(rule.when) else ""
            if own and upstream:  # its own condition may be known
                own = f"({own} if {self.tests(rule.when)[2]} else ())"
            if i not in plan.missing_generated or not upstream:
                if own:
                    unknown[i] = f"found[{i}] = {own}"
            else:  # its own facts and its undetermined upstream rules', upstream first
                parts = [own] if own else []
                parts += [f"(found[{j}] if e{j} is None else ())" for j in upstream]
                upstream_missing[i] = f"if e{i} is None: found[{i}] = " + " + ".join(parts)

        # When rule i fired (`when_true`) and when it is undetermined (`when_unknown`): the lists
        # it joins (`shape`, the same for every patient with the same rule truths) and the
        # facts deciding it (`found`, per patient).
        shape_true: dict[int, str] = {}
        for kind, rules in (("recommended", recommend), ("noted", notes)):
            for i in rules:
                statements = [f"{kind}.append({i})"]
                if i in explain:
                    statements.append(f"to_explain.append({i})")
                shape_true[i] = "; ".join(statements)
        found_true = because  # fired rules of every kind, derive rules included
        shape_unknown: dict[int, str] = {}
        found_unknown: dict[int, str] = {}
        for i in every:
            if i in plan.never_unknown:
                continue
            shape_unknown[i] = f"undetermined.append({i})"
            if i not in plan.missing_generated:
                shape_unknown[i] += f"; to_walk.append({i})"
            if i in unknown:
                found_unknown[i] = unknown[i]
        shape = [*(f"{name} = []" for name in REPORTED_LISTS), f"outcomes = {{{outcomes}}}"]
        # One pass in section order fills every list, testing each rule once or twice, when
        # recommendations in section order are already in result order (lines of therapy
        # follow each other in the file); otherwise they get a pass of their own first.
        in_section_order = tuple(i for i in every if i in recommend) == recommend
        if not in_section_order:
            shape += [f"if e{i} is True: {shape_true.pop(i)}" for i in recommend]
        shape += _if_elif(every, shape_true, shape_unknown)
        for name, derivers in graph.derivers.items():
            if derivers:
                deriving = ", ".join(f"*(({i},) if e{i} is True else ())" for i in derivers)
                value = self.var(name)
                shape.append(
                    f"if {value} is not None: derivations.append(({name!r}, ({deriving},)))"
                )
        for i in every:
            overriders = graph.overridden_by.get(i)
            if overriders:
                won = " or ".join(f"e{o} is True" for o in overriders)
                shape.append(
                    f"if e{i} is False and b{i} is True and ({won}): "
                    f"overridden.append({i}); outcomes[{plan.rule_ids[i]!r}] = 'overridden'"
                )
        shape.append(
            "shape = (outcomes, " + "".join(f"(*{name},), " for name in REPORTED_LISTS) + ")"
        )
        found = ["found = {}", *_if_elif(every, found_true, found_unknown)]
        found += [upstream_missing[i] for i in graph.rules_in_order() if i in upstream_missing]
        return shape, found

    def derived_code(self, name: str) -> str:
        var = self.fact_var[name]
        rules = self.plan.rules
        # One group per distinct value (values of one fact share a type, so == is exact).
        groups: dict[m.Value, list[int]] = {}
        keys: dict[m.Value, m.Value] = {}
        for i in self.plan.graph.derivers[name]:
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
            if name not in self.plan.graph.derivers
        ]

    def signature(self, name: str) -> str:
        defaults = "".join(f", _k{n}=_k{n}" for n in range(len(self.constants)))
        return f"def {name}(facts{defaults}):"


def _if_elif(
    order: Sequence[int], when_true: dict[int, str], when_unknown: dict[int, str]
) -> list[str]:
    """`if e<i> is True: ...` / `elif e<i> is None: ...` for each rule, in `order`."""
    lines = []
    for i in order:
        if i in when_true:
            lines.append(f"if e{i} is True: {when_true[i]}")
            if i in when_unknown:
                lines.append(f"elif e{i} is None: {when_unknown[i]}")
        elif i in when_unknown:
            lines.append(f"if e{i} is None: {when_unknown[i]}")
    return lines


def generate(plan: Plan) -> GeneratedCode:
    """Python source of `_core` and `_decide` (see the module docstring)."""
    policy, graph, rules = plan.policy, plan.graph, plan.rules
    core = _Codegen(plan)
    for name in plan.input_names:
        core.var(name)  # every input is read: the core returns them all (`env`)
    core_body = core.body(with_gaps=True)
    inputs = [(policy.facts[name], core.fact_var[name]) for name in plan.input_names]

    def tup(prefix: str, count: int) -> str:
        return "(" + "".join(f"{prefix}{i}, " for i in range(count)) + ")"

    # Every rule's outcome in one dict display (faster than labelling the truths with `map`),
    # and the reported lists, built once per combination of truths (effective, and the base
    # truths of overridable rules) and taken from a bounded memo after that; the outcomes are
    # copied, so no two results share a mutable dict.
    outcomes = ", ".join(
        f"{rule.id!r}: 'fired' if e{i} is True else "
        + ("" if i in plan.never_unknown else f"'undetermined' if e{i} is None else ")
        + "'not_fired'"
        for i, rule in enumerate(rules)
    )
    overridable = ", ".join(f"{i}: b{i}" for i in range(len(rules)) if i in graph.overridden_by)
    bases = [f"b{i}" for i in range(len(rules)) if i in graph.overridden_by]
    shape_key = f"(effective, {', '.join(bases)})" if bases else "effective"
    shape_lines, found_lines = core.result_lists(outcomes)
    # `env` starts from every fact unknown, in a fixed order, then takes the known inputs (the
    # validated facts hold nothing else) and the derived values.
    unknown_env = "{" + "".join(f"{name!r}: None, " for name in core.fact_var) + "}"
    derived_env = [
        f"env[{name!r}] = {var}" for name, var in core.fact_var.items() if name in graph.derivers
    ]
    returned = {
        "effective": "effective",
        "base": f"{{{overridable}}}",
        "derived_values": tup("d", len(plan.derived_names)),
        "gap_truth": tup("g", len(policy.gaps)),
        **{name: name for name in ("outcomes", "env", "facts_json", "found", *REPORTED_LISTS)},
    }
    core_lines = [
        f"_UNKNOWN_ENV = {unknown_env}",
        "_SHAPES = {}  # the truths of the rules -> outcomes and lists (bounded)",
        "",
        core.signature("_core"),
        "    g = facts.get",
        *(f"    {line}" for line in core.inputs()),
        *(f"    {line}" for line in core_body),
        "    # the canonical JSON of the known input facts (hashed into facts_sha256)",
        *(f"    {line}" for line in canonical_json_lines(inputs, core.constant)),
        "    # outcomes and the lists evaluate reports: the same for the same rule truths",
        f"    effective = {tup('e', len(rules))}",
        f"    truths = {shape_key}",
        "    shape = _SHAPES.get(truths)",
        "    if shape is None:",
        *(f"        {line}" for line in shape_lines),
        f"        if _SHAPES.__len__() < {SHAPES_MEMO_SIZE}:",
        "            _SHAPES[truths] = shape",
        f"    {', '.join(('outcomes', *REPORTED_LISTS))} = shape",
        "    outcomes = outcomes.copy()",
        *(f"    {line}" for line in found_lines),
        "    env = _UNKNOWN_ENV.copy()",
        "    env.update(facts)",
        *(f"    {line}" for line in derived_env),
        "    return _CoreResult(  # by position, in the order of its fields: faster than keywords",
        *(f"        {returned[name]},  # {name}" for name in CoreResult._fields),
        "    )",
    ]
    # `_decide`: two-valued code for what the fired ids depend on (`decide_codegen`).
    fast = _Codegen(plan)
    fast.constants = core.constants  # share constant numbering: one namespace
    fast_body = decide_lines(plan, fast)  # names the fact locals it reads
    reads = {var: name for name, var in fast.fact_var.items() if name not in graph.derivers}
    ahead, fast_body = inline_single_reads(reads, fast_body)
    decide_lines_ = [
        fast.signature("_decide"),
        "    g = facts.get",
        *(f"    {line}" for line in ahead),
        *(f"    {line}" for line in fast_body),
    ]
    # `_broken`: the constraints the facts break (`when` true and `require` false).
    check = _Codegen(plan)
    check.constants = core.constants
    check_body: list[str] = []
    for k, constraint in enumerate(policy.constraints):
        check.pre = []
        when, require = check.tests(constraint.when)[0], check.tests(constraint.require)[1]
        check_body += [f"# constraint {constraint.id!r}", *check.pre]
        check_body.append(f"if {when} and {require}: broken.append({k})")
    broken_lines = [
        check.signature("_broken"),
        "    g = facts.get",
        *(f"    {line}" for line in check.inputs()),
        "    broken = []",
        *(f"    {line}" for line in check_body),
        "    return broken",
    ]
    source = "\n".join([*core_lines, "", *decide_lines_, "", *broken_lines]) + "\n"
    return GeneratedCode(source, {f"_k{n}": value for n, value in enumerate(core.constants)})


def namespace() -> dict[str, object]:
    """What generated code may use besides its constants."""
    return {
        "__builtins__": {"frozenset": frozenset},
        "_union": union,
        "_CoreResult": CoreResult,
        **HELPERS,
    }
