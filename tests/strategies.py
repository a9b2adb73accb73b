"""Hypothesis strategies: random *valid* policies (as `model.Policy`) and patient facts.

Everything here builds checked-model objects directly, normalised the way the resolver builds
them: And/Or flattened with at least two items, a bare bool fact is `Compare(f, "==", True)`,
no `when` is `Const(True)`, no `strength` is "unqualified", numbers of integer facts are ints.
A generated policy is valid: `check_text(render_policy(p))` reports no error (warnings such as
unused facts or evidence without citation are expected) and gives back a policy equal to `p`.

Validity is built in, not filtered for:

- Satisfiable conditions (LR404). Every condition is built for a *witness*, a patient for whom
  it is true: a random tree shape (`st.recursive`: and / or / not over leaves) is filled with
  atomic tests of every form over the witness's facts and, if the result is not true for the
  witness, negated or joined (`or`) with a test that is. Constants of ranged numeric facts lie at
  least 1 inside the range and integer facts are compared with integers, so the checker's search
  over representative values always finds a patient like the witness.
- No cycles (LR403). Rules are built in a dependency order: a rule reads only derived facts whose
  derive rules come earlier, is `after` earlier rules only and overridden by earlier rules only.
  The source layout (sections, order) is an independent shuffle.
- No conflicting derivations (LR405). Derive rules of one fact either form an `overrides` chain
  (a total precedence order) or each tests one input enum fact against a different value.
- Names never clash with keywords, and fact names (`word_N`) never equal enum values (which
  hold no `_`), so a bare name on the right of a comparison means what the generator meant.

Public: `policies()`, `facts_for(policy)`, `conditions(facts, witness)`, `witnesses(facts)`,
`fact_values(fact)`, `texts()`, `identifiers()`, `KEYWORDS`. Strategies are built once at import
and the per-policy work uses plain `draw` helpers, which keeps a policy at a few milliseconds.
"""

from __future__ import annotations

import datetime
import itertools
import re
import string
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from hypothesis import strategies as st

from leukorules import model as m
from leukorules.check.declarations import source_name_refusal
from leukorules.logic import evaluate
from leukorules.prove.patients import constants_by_fact
from leukorules.syntax.grammar import grammar_text

__all__ = [
    "KEYWORDS",
    "conditions",
    "fact_values",
    "facts_for",
    "identifiers",
    "policies",
    "texts",
    "witnesses",
]

T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[Any]], Any]

# Every keyword of the grammar (its quoted words): generated names avoid them all.
KEYWORDS = frozenset(re.findall(r'"([A-Za-z_]+)"', grammar_text()))
ORDERING = ("<", "<=", ">", ">=")
EQUALITY = ("==", "!=")
UNITS = ("mg/dL", "mmol/L", "%", "x10^9/L", "years", "µmol/L", "mL/min/1.73m²")
KINDS: tuple[m.FactKind, ...] = ("bool", "integer", "number", "enum", "set", "string", "date")
FIRST_DAY = datetime.date(1900, 1, 1).toordinal()
LAST_DAY = datetime.date(2100, 12, 31).toordinal()

# Characters that stress quoting and comments, plus general text (no surrogates, no NUL and no
# carriage return: a CR survives in memory but not a text-mode round trip through a file).
_TRICKY = ' aZ09#"\\\n\t{}[](),.;:=<>!-é—'
_GENERAL = st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r")

_IDENTIFIER = (
    st.tuples(
        st.sampled_from(string.ascii_lowercase),
        st.text(string.ascii_lowercase + string.digits, max_size=5),
    )
    .map("".join)
    .filter(lambda w: w not in KEYWORDS)
)
_ENUM_VALUE = (
    st.tuples(
        st.sampled_from(string.ascii_letters),
        st.text(string.ascii_letters + string.digits, max_size=6),
    )
    .map("".join)
    .filter(lambda w: w not in KEYWORDS)
)


def identifiers() -> st.SearchStrategy[str]:
    """A lower-case NAME that is not a keyword (no underscore, so `word_N` names stay apart)."""
    return _IDENTIFIER


@cache
def texts(min_size: int = 0, max_size: int = 24) -> st.SearchStrategy[str]:
    """Strings as authors write them, with quotes, backslashes, newlines, tabs and `#`."""
    return st.one_of(
        st.text(alphabet=_TRICKY, min_size=min_size, max_size=max_size),
        st.text(alphabet=_GENERAL, min_size=min_size, max_size=max_size),
    )


_STATEMENT = texts(1, 40).filter(lambda s: bool(s.strip()))
# What `check` accepts: an evidence url is an http(s) address; a header's source names a file
# beside the policy (or the guideline in words), never an absolute path or one with `..`.
_WEB_ADDRESS = st.builds(
    "{}://{}.example/{}{}".format,
    st.sampled_from(("https", "http", "HTTPS")),
    _IDENTIFIER,
    st.text(string.ascii_letters + string.digits + "-._~/%", max_size=12),
    st.sampled_from(("", "#4", "?a=1&b=(2)", '#"quoted"')),
).filter(m.is_web_address)
_SOURCE = texts().filter(lambda text: source_name_refusal(text) is None)


# --- small draw helpers ---------------------------------------------------------------------


def _pick(draw: Draw, items: Sequence[T]) -> T:
    return items[draw(st.integers(0, len(items) - 1))]


def _maybe(draw: Draw, strategy: st.SearchStrategy[T]) -> T | None:
    return draw(strategy) if draw(st.booleans()) else None


def _shuffled(draw: Draw, items: Sequence[T]) -> list[T]:
    out = list(items)
    for index in range(len(out) - 1, 0, -1):
        other = draw(st.integers(0, index))
        out[index], out[other] = out[other], out[index]
    return out


def _subset(draw: Draw, items: Sequence[T], max_size: int, min_size: int = 0) -> list[T]:
    count = draw(st.integers(min(min_size, len(items)), min(max_size, len(items))))
    return _shuffled(draw, items)[:count]


def _cents(draw: Draw, low: float, high: float) -> float:
    """A float with at most two decimals in [low, high]: exact in text, never an exponent."""
    return draw(st.integers(round(low * 100), round(high * 100))) / 100


def _date(draw: Draw) -> datetime.date:
    return datetime.date.fromordinal(draw(st.integers(FIRST_DAY, LAST_DAY)))


# --- facts ----------------------------------------------------------------------------------


def _fact_type(draw: Draw, kind: m.FactKind) -> m.FactType:
    if kind in ("enum", "set"):
        values = draw(st.lists(_ENUM_VALUE, min_size=1, max_size=4, unique=True))
        return m.FactType(kind, tuple(values))
    # Declared ranges contain 0: the checker's satisfiability search represents a numeric fact
    # that a condition never compares with a constant by the single point 0, and finds no
    # known value when 0 lies outside the range (`x is known` is then reported as LR404).
    if kind == "integer":
        if draw(st.booleans()):
            low = draw(st.integers(-50, 0))
            high = draw(st.integers(max(low + 4, 0), low + 200))
            return m.FactType("integer", minimum=low, maximum=high)
        return m.FactType("integer")
    if kind == "number":
        unit = _maybe(draw, st.sampled_from(UNITS))
        if draw(st.booleans()):
            low = _cents(draw, -50.0, 0.0)
            high = _cents(draw, max(low + 4, 0.0), low + 500)
            return m.FactType("number", unit=unit, minimum=low, maximum=high)
        return m.FactType("number", unit=unit)
    return m.FactType(kind)


def _input_facts(draw: Draw, max_facts: int) -> dict[str, m.Fact]:
    facts: dict[str, m.Fact] = {}
    for index in range(draw(st.integers(1, max_facts))):
        name = f"{draw(_IDENTIFIER)}_{index}"
        fact_type = _fact_type(draw, _pick(draw, KINDS))
        facts[name] = m.Fact(name, fact_type, _maybe(draw, texts()))
    return facts


# --- values and witnesses -------------------------------------------------------------------


def _constant(draw: Draw, fact: m.Fact) -> m.Value:
    """A literal a condition may compare `fact` with: for a ranged numeric fact, at least 1
    inside the range; for an integer fact, an int."""
    t = fact.type
    low, high = -1000.0, 1000.0
    if t.minimum is not None and t.maximum is not None:
        low, high = t.minimum + 1, t.maximum - 1
    match t.kind:
        case "bool":
            return bool(draw(st.booleans()))
        case "enum" | "set":
            return _pick(draw, t.values)
        case "integer":
            return int(draw(st.integers(int(low), int(high))))
        case "number":
            return _cents(draw, low, high)
        case "string":
            return str(draw(texts(0, 12)))
    return _date(draw)


def _witness_value(draw: Draw, fact: m.Fact) -> m.Value:
    t = fact.type
    if t.kind == "set":
        return frozenset(_subset(draw, t.values, len(t.values)))
    if t.minimum is not None and t.maximum is not None:  # anywhere in the range, bounds too
        if t.kind == "integer":
            return int(draw(st.integers(int(t.minimum), int(t.maximum))))
        return _cents(draw, t.minimum, t.maximum)
    return _constant(draw, fact)


def _witness(draw: Draw, facts: Mapping[str, m.Fact], absent: int = 5) -> dict[str, m.Value]:
    """Each fact unknown with probability about 1/absent, else a value of its type."""
    return {
        name: _witness_value(draw, fact)
        for name, fact in facts.items()
        if draw(st.integers(0, absent - 1)) != 0
    }


def witnesses(facts: Mapping[str, m.Fact]) -> st.SearchStrategy[dict[str, m.Value]]:
    """A patient over `facts` (derived facts included if given): each fact absent or a value
    of its type, numeric values on the same grid as condition constants."""
    return st.composite(lambda draw: _witness(draw, facts))()


def fact_values(fact: m.Fact, hints: Sequence[m.Value] = ()) -> st.SearchStrategy[m.Value]:
    """A valid known value for `fact`: in its range, one of its values, a set of its values.

    `hints` (constants the policy compares the fact with) are offered with their neighbours, so
    that generated patients often sit exactly on, and next to, a rule's thresholds.
    """
    t = fact.type
    base: st.SearchStrategy[Any]
    near: list[Any] = []
    match t.kind:
        case "bool":
            return st.booleans()
        case "enum":
            return st.sampled_from(t.values)
        case "set":
            return st.frozensets(st.sampled_from(t.values))
        case "integer":
            low = int(t.minimum) if t.minimum is not None else -(10**6)
            high = int(t.maximum) if t.maximum is not None else 10**6
            base = st.integers(low, high)
            numbers = {int(h) for h in hints if isinstance(h, int) and not isinstance(h, bool)}
            around = {h + d for h in numbers for d in (-1, 0, 1)}
            near = sorted(n for n in around if low <= n <= high)
        case "number":
            low_f = t.minimum if t.minimum is not None else -1e9
            high_f = t.maximum if t.maximum is not None else 1e9
            base = st.floats(low_f, high_f, allow_nan=False, allow_infinity=False)
            points = {
                float(h) + d
                for h in hints
                if isinstance(h, int | float) and not isinstance(h, bool)
                for d in (-1.0, -0.5, 0.0, 0.5, 1.0)
            }
            near = sorted(p for p in points if low_f <= p <= high_f)
        case "string":
            base = texts(0, 12)
            near = sorted({h for h in hints if isinstance(h, str)})
        case _:
            base = st.dates()
            day = datetime.timedelta(days=1)
            days = {h for h in hints if isinstance(h, datetime.date)}
            near = sorted({h + d for h in days for d in (-day, datetime.timedelta(0), day)})
    return st.one_of(st.sampled_from(near), base) if near else base


# --- conditions -----------------------------------------------------------------------------

_LEAF = "leaf"


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        many.map(lambda xs: ("and", xs)),
        many.map(lambda xs: ("or", xs)),
        children.map(lambda x: ("not", x)),
    )


@cache
def _shapes(max_leaves: int) -> st.SearchStrategy[Any]:
    """Tree shapes of conditions: "leaf", ("and"|"or", children), ("not", child)."""
    return st.recursive(st.just(_LEAF), _extend, max_leaves=max_leaves)


def _flat(kind: type[m.And] | type[m.Or], items: Sequence[m.Expr]) -> m.Expr:
    flat: list[m.Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


def _comparable(left: m.Fact, right: m.Fact) -> bool:
    """Mirrors the resolver's rule for `fact OP fact`."""
    lt, rt = left.type, right.type
    if "set" in (lt.kind, rt.kind):
        return False
    if not (lt.kind == rt.kind or {lt.kind, rt.kind} == {"integer", "number"}):
        return False
    if lt.kind == "enum" and set(lt.values) != set(rt.values):
        return False
    return not ((lt.unit or rt.unit) and lt.unit != rt.unit)


def _operator(draw: Draw, fact: m.Fact) -> m.Comparator:
    ordered = fact.type.kind in ("integer", "number", "date")
    op: m.Comparator = _pick(draw, EQUALITY + ORDERING if ordered else EQUALITY)
    return op


def _leaf(draw: Draw, facts: Mapping[str, m.Fact], witness: Mapping[str, m.Value]) -> m.Expr:
    """An atomic test of any form, true, false or unknown for `witness`."""
    names = sorted(facts)
    known = [n for n in names if n in witness]
    plain = [n for n in known if facts[n].type.kind != "set"]
    sets = [n for n in known if facts[n].type.kind == "set"]
    pairs = [(a, b) for a in plain for b in plain if a != b and _comparable(facts[a], facts[b])]
    forms = ["const", "known"]
    forms += ["compare", "compare", "member"] if plain else []
    forms += ["contains"] if sets else []
    forms += ["facts"] if pairs else []
    match _pick(draw, forms):
        case "const":
            return m.Const(bool(draw(st.booleans())))
        case "known":
            return m.Known(_pick(draw, names), bool(draw(st.booleans())))
        case "compare":
            fact = facts[_pick(draw, plain)]
            return m.Compare(fact.name, _operator(draw, fact), _constant(draw, fact))
        case "member":
            fact = facts[_pick(draw, plain)]
            values = list(
                dict.fromkeys(_constant(draw, fact) for _ in range(draw(st.integers(1, 3))))
            )
            if draw(st.booleans()) and witness[fact.name] not in values:
                values.append(witness[fact.name])
            return m.Member(fact.name, tuple(values), bool(draw(st.booleans())))
        case "contains":
            fact = facts[_pick(draw, sets)]
            return m.Contains(fact.name, str(_pick(draw, fact.type.values)))
        case _:
            left, right = _pick(draw, pairs)
            return m.CompareFacts(left, _operator(draw, facts[left]), right)


def _fill(
    draw: Draw, shape: Any, facts: Mapping[str, m.Fact], witness: Mapping[str, m.Value]
) -> m.Expr:
    if shape == _LEAF:
        return _leaf(draw, facts, witness)
    kind, children = shape
    if kind == "not":
        return m.Not(_fill(draw, children, facts, witness))
    items = [_fill(draw, child, facts, witness) for child in children]
    return _flat(m.And if kind == "and" else m.Or, items)


def _condition(
    draw: Draw,
    facts: Mapping[str, m.Fact],
    witness: Mapping[str, m.Value],
    max_leaves: int = 5,
) -> m.Expr:
    """A normalised condition over `facts` that is true for `witness`."""
    if not facts:
        return m.Const(True)
    tree = _fill(draw, draw(_shapes(max_leaves)), facts, witness)
    truth = evaluate(tree, witness)
    if truth is True:
        return tree
    if truth is False:
        return m.Not(tree)
    name = _pick(draw, sorted(facts))
    return _flat(m.Or, [tree, m.Known(name, name in witness)])


def conditions(
    facts: Mapping[str, m.Fact],
    witness: Mapping[str, m.Value] | None = None,
    max_leaves: int = 5,
) -> st.SearchStrategy[m.Expr]:
    """A normalised condition over `facts` (every form) that is true for `witness`, which is
    drawn when not given. The checker can prove it satisfiable (no LR404)."""

    def build(draw: Draw) -> m.Expr:
        chosen = witness if witness is not None else _witness(draw, facts)
        return _condition(draw, facts, chosen, max_leaves)

    return st.composite(build)()


# --- policies -------------------------------------------------------------------------------


def _evidence(draw: Draw, count: int) -> dict[str, m.Evidence]:
    out: dict[str, m.Evidence] = {}
    for index in range(count):
        style = _pick(draw, ("number", "name", "phrase"))
        if style == "number":
            ref = str(index + 1)
        elif style == "name":
            ref = f"{draw(_IDENTIFIER)}{index}"
        else:
            ref = f"{draw(texts(0, 10))} {index}"
        citation_style = _pick(draw, ("text", "unknown", "undeclared"))
        out[ref] = m.Evidence(
            id=ref,
            citation=draw(texts()) if citation_style == "text" else None,
            citation_declared=citation_style != "undeclared",
            url=_maybe(draw, _WEB_ADDRESS),
            doi=_maybe(draw, texts()),
            pmid=_maybe(draw, st.integers(1, 10**8).map(str)),
            grade=_maybe(draw, st.sampled_from(m.GRADE_STRENGTHS)),
            certainty=_maybe(draw, st.sampled_from(m.GRADE_CERTAINTIES)),
        )
    return out


def _other_conclusion(draw: Draw) -> m.Conclusion:
    if draw(st.booleans()):
        alternatives = tuple(draw(texts()) for _ in range(draw(st.integers(0, 2))))
        return m.Recommend(draw(texts()), _pick(draw, tuple(m.STRENGTHS)), alternatives)
    kind: m.StatementKind = _pick(draw, ("note", "caution", "background"))
    return m.StateNote(kind, _maybe(draw, texts()))


class _Draft:
    """A rule under construction, in dependency order."""

    def __init__(self, rule_id: str, when: m.Expr, conclusion: m.Conclusion) -> None:
        self.id = rule_id
        self.when = when
        self.conclusion = conclusion
        self.after: list[str] = []
        self.overrides: list[str] = []


def _derived_facts(draw: Draw, count: int, first_index: int) -> list[m.Fact]:
    out: list[m.Fact] = []
    for index in range(count):
        name = f"{draw(_IDENTIFIER)}_{first_index + index}"
        if draw(st.integers(0, 3)) == 0:
            fact_type = m.FactType("bool")
        else:
            values = draw(st.lists(_ENUM_VALUE, min_size=2, max_size=4, unique=True))
            fact_type = m.FactType("enum", tuple(values))
        out.append(m.Fact(name, fact_type, _maybe(draw, texts()), derived=True))
    return out


class _Rules:
    """Builds rules in dependency order (see the module docstring)."""

    def __init__(self, draw: Draw, facts: dict[str, m.Fact], prefix: str, max_leaves: int):
        self.draw = draw
        self.inputs = facts
        self.readable: dict[str, m.Fact] = dict(facts)  # what a rule built now may read
        self.prefix = prefix
        self.max_leaves = max_leaves
        self.drafts: list[_Draft] = []

    def condition(self, fixed: Mapping[str, m.Value] | None = None) -> m.Expr:
        draw = self.draw
        if draw(st.integers(0, 5)) == 0:
            return m.Const(True)  # no `when`
        witness = _witness(draw, self.readable)
        witness.update(fixed or {})
        return _condition(draw, self.readable, witness, self.max_leaves)

    def add(self, when: m.Expr, conclusion: m.Conclusion) -> _Draft:
        draft = _Draft(f"{self.prefix}r{len(self.drafts)}", when, conclusion)
        self.drafts.append(draft)
        return draft

    def derive(self, fact: m.Fact) -> None:
        """1-3 rules deriving `fact`, then `fact` becomes readable."""
        draw = self.draw
        values: Sequence[m.Value] = fact.type.values if fact.type.kind == "enum" else (True, False)
        count = draw(st.integers(1, 3))
        targets = [_pick(draw, values) for _ in range(count)]
        selectors = [
            f for f in self.inputs.values() if f.type.kind == "enum" and len(f.type.values) >= count
        ]
        if selectors and draw(st.booleans()):
            # exclusive: rule i applies only when the selector has its own value
            selector = _pick(draw, selectors)
            choices = _shuffled(draw, selector.type.values)
            for target, choice in zip(targets, choices, strict=False):
                test = m.Compare(selector.name, "==", choice)
                when = self.condition({selector.name: choice})
                guard = test if when == m.Const(True) else _flat(m.And, [test, when])
                self.add(guard, m.Derive(fact.name, target))
        else:
            chain = [self.add(self.condition(), m.Derive(fact.name, t)) for t in targets]
            # each rule overrides the next: precedence is a total order
            for winner, loser in itertools.pairwise(chain):
                winner.overrides.append(loser.id)
        self.readable[fact.name] = fact

    def link(self) -> None:
        """`after` earlier rules; `overrides` later ones (the overridden rule depends on its
        winner, so the winner must come first in dependency order)."""
        draw = self.draw
        for index, draft in enumerate(self.drafts):
            earlier = [d.id for d in self.drafts[:index]]
            later = [d.id for d in self.drafts[index + 1 :]]
            draft.after = _subset(draw, earlier, 2)
            extra = _subset(draw, later, 2)
            draft.overrides.extend(t for t in extra if t not in draft.overrides)


def _layout(
    draw: Draw, max_sections: int, entries: Sequence[T]
) -> tuple[list[tuple[str, ...]], list[tuple[tuple[str, ...], T]]]:
    """A random section tree holding `entries`: the sections and the entries (with their
    section paths), both in reading order."""
    parents: list[int] = []  # parent of section i; -1 is the top level
    depths: list[int] = []
    for _ in range(draw(st.integers(0, max_sections))):
        parent = _pick(draw, [-1, *(i for i, d in enumerate(depths) if d < 3)])
        parents.append(parent)
        depths.append(0 if parent < 0 else depths[parent] + 1)
    titles: list[str] = []
    for index, parent in enumerate(parents):
        siblings = {titles[i] for i, p in enumerate(parents[:index]) if p == parent}
        title = draw(texts(0, 16))
        while title in siblings:
            title = f"{title} ({index})"
        titles.append(title)
    children: dict[int, list[tuple[bool, Any]]] = {i: [] for i in range(-1, len(parents))}
    for index, parent in enumerate(parents):
        children[parent].append((True, index))
    for entry in entries:
        children[_pick(draw, list(children))].append((False, entry))
    sections: list[tuple[str, ...]] = []
    placed: list[tuple[tuple[str, ...], T]] = []

    def walk(node: int, path: tuple[str, ...]) -> None:
        for is_section, payload in _shuffled(draw, children[node]):
            if is_section:
                sections.append((*path, titles[payload]))
                walk(payload, sections[-1])
            else:
                placed.append((path, payload))

    walk(-1, ())
    return sections, placed


def _policy(
    draw: Draw,
    max_input_facts: int,
    max_derived_facts: int,
    max_rules: int,
    max_gaps: int,
    max_sections: int,
    max_leaves: int,
    max_constraints: int = 0,
) -> m.Policy:
    facts = _input_facts(draw, max_input_facts)
    derived = _derived_facts(draw, draw(st.integers(0, max_derived_facts)), len(facts))
    evidence = _evidence(draw, draw(st.integers(1, 4)))
    prefix = "".join(w + "." for w in draw(st.lists(_IDENTIFIER, max_size=2)))

    builder = _Rules(draw, facts, prefix, max_leaves)
    for fact in derived:
        builder.derive(fact)
    for _ in range(draw(st.integers(0 if builder.drafts else 1, max_rules))):
        builder.add(builder.condition(), _other_conclusion(draw))
    builder.link()
    inputs_only = _Rules(draw, facts, prefix, max_leaves)  # constraints read input facts only
    constraints = tuple(
        m.Constraint(
            f"{prefix}c{k}", inputs_only.condition(), inputs_only.condition(), _maybe(draw, texts())
        )
        for k in range(draw(st.integers(0, max_constraints)))
    )
    gaps = [
        m.Gap(f"{prefix}g{index}", (), builder.condition(), _maybe(draw, texts()))
        for index in range(draw(st.integers(0, max_gaps)))
    ]

    entries: list[_Draft | m.Gap] = [*_shuffled(draw, builder.drafts), *gaps]
    sections, placed = _layout(draw, max_sections, entries)
    rules: list[m.Rule] = []
    gap_models: list[m.Gap] = []
    for path, entry in placed:
        if isinstance(entry, m.Gap):
            gap_models.append(m.Gap(entry.id, path, entry.when, entry.note))
            continue
        rules.append(
            m.Rule(
                id=entry.id,
                statement=draw(_STATEMENT),
                evidence=tuple(_subset(draw, list(evidence), 2, min_size=1)),
                when=entry.when,
                conclusion=entry.conclusion,
                section=path,
                after=tuple(entry.after),
                overrides=tuple(entry.overrides),
                line=draw(st.one_of(st.none(), st.integers(1, 4)))
                if isinstance(entry.conclusion, m.Recommend) and not entry.after
                else None,
            )
        )
    return m.Policy(
        id=".".join(draw(st.lists(_IDENTIFIER, min_size=1, max_size=3))),
        title=draw(texts()),
        version=draw(st.one_of(st.just("1.0"), texts(0, 8))),
        source=_maybe(draw, _SOURCE),
        effective=_date(draw) if draw(st.booleans()) else None,
        evidence=evidence,
        facts={**facts, **{f.name: f for f in derived}},
        sections=tuple(m.Section(path) for path in sections),
        rules=tuple(rules),
        gaps=tuple(gap_models),
        constraints=constraints,
    )


def policies(
    *,
    max_input_facts: int = 6,
    max_derived_facts: int = 2,
    max_rules: int = 6,
    max_gaps: int = 2,
    max_sections: int = 4,
    max_leaves: int = 5,
    max_constraints: int = 0,
) -> st.SearchStrategy[m.Policy]:
    """A random valid policy: facts of every kind (input and derived), evidence with and
    without citation, rules of every conclusion kind (with strength, alternatives and stated
    lines of therapy), derive rules, nested sections, gaps, acyclic `after` / `overrides`
    edges, and (up to `max_constraints`) constraints between input facts."""

    def build(draw: Draw) -> m.Policy:
        return _policy(
            draw,
            max_input_facts,
            max_derived_facts,
            max_rules,
            max_gaps,
            max_sections,
            max_leaves,
            max_constraints,
        )

    return st.composite(build)()


# --- patients -------------------------------------------------------------------------------


def facts_for(policy: m.Policy, absent: float = 0.3) -> st.SearchStrategy[dict[str, m.Value]]:
    """A patient for `policy`: each *input* fact absent (unknown) or a valid value of its type.

    Values: bool; int in the declared range; float in the declared range; an enum value; a
    frozenset of set values; str; datetime.date. Numeric, string and date facts are often drawn
    on or next to the constants the policy compares them with. Derived facts are never included
    (supplying one is an input error). `absent` is the chance that a fact is left out.
    """
    hints = constants_by_fact([r.when for r in policy.rules] + [g.when for g in policy.gaps])
    values = {f.name: fact_values(f, hints.get(f.name, ())) for f in policy.input_facts}
    present = st.floats(0, 1).map(lambda x: x >= absent)

    def build(draw: Draw) -> dict[str, m.Value]:
        return {name: draw(strategy) for name, strategy in values.items() if draw(present)}

    return st.composite(build)()


Case = tuple[m.Policy, dict[str, object], dict[str, object]]


@st.composite
def cases(draw: Draw, small: bool) -> Case:
    """A policy, a patient with every input fact known, and the same patient knowing less."""
    if small:
        policy = draw(policies(max_input_facts=4, max_rules=5, max_leaves=4, max_sections=2))
    else:
        policy = draw(policies())
    full = dict(draw(facts_for(policy, absent=0.0)))
    keep = draw(st.lists(st.sampled_from(sorted(full)), unique=True)) if full else []
    partial = {name: full[name] for name in keep}
    return policy, full, partial
