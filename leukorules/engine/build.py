"""A run of the compiled core -> the `Evaluation` result records.

Input: a `Run` (every rule's truth and outcome, derived values, gap truths, and the lists the
core filled in result order). Output: the `Evaluation` of `leukorules.result`, with entries in
their documented order (see `leukorules.engine.plan`): recommendations by section, then line of
therapy, then guideline order; notes, undetermined and overridden rules by section, then
guideline order; derived facts in declaration order; gaps in guideline order.

Records are immutable, so `ResultParts` builds what does not depend on the patient once per
policy (the policy's description, each rule's statement, evidence and section, strengths, gaps)
and keeps a bounded memo of the records that repeat between patients (a reason is a fact and
its value; an entry is a rule and the facts that decided it): real patients repeat the same few
combinations, and a record found in the memo costs a dictionary lookup instead of a build.
The general memo's keys hold the type of each value beside it, so `1`, `1.0` and `True`
never share a record there.

The common case has a shorter way: a fired rule whose `because` is fixed by the policy and
reads only facts whose values have one type each (validation makes sure of it: validated bools,
whole numbers, enum values, text, dates, sets; and derived facts are left out, their records
also name the rule deriving them; `number` too, to be safe) is remembered per rule, under the
values of those facts read in one step (`static_keys`); a fired rule whose `because` the core
computed from such facts, under those facts and their values (`plain_rules`); an undetermined
rule, per rule, under the facts missing. The loops of `build_evaluation` look these up inline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from leukorules import model as m
from leukorules.engine import trace as tr
from leukorules.engine.plan import Plan
from leukorules.engine.runtime import Run
from leukorules.engine.values import result_value, sha256_text
from leukorules.result import model as r
from leukorules.version import __version__

ENGINE_NAME = "leukorules"
# Records remembered per memo table of one compiled policy, at most (each a few hundred bytes).
MEMO_SIZE = 4096

_TRUTH_TEXT: dict[bool | None, r.Truth] = {True: "true", False: "false", None: "unknown"}
Record = TypeVar("Record")


def unchecked_constructor(cls: type[Record]) -> Callable[..., Record]:
    """A constructor of the frozen, slotted record type `cls` taking every field, all
    required (by keyword: the order is the declaration order). A frozen dataclass sets each
    field through `object.__setattr__`; this sets the slots directly, at half the cost, for the
    one record built for every patient. It checks nothing: only for values the engine itself
    made (the tests compare it with the class's own constructor)."""
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    setters = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    source = (
        f"def make({', '.join(names)}):\n"
        "    record = _new(_cls)\n"
        + "".join(f"    _set_{name}(record, {name})\n" for name in names)
        + "    return record\n"
    )
    scope: dict[str, Any] = {"__builtins__": {}, "_new": object.__new__, "_cls": cls, **setters}
    exec(source, scope)
    make: Callable[..., Record] = scope["make"]
    return make


_new_evaluation = unchecked_constructor(r.Evaluation)


def policy_info(policy: m.Policy) -> r.PolicyInfo:
    return r.PolicyInfo(
        id=policy.id,
        title=policy.title,
        version=policy.version,
        source=policy.source,
        effective=policy.effective.isoformat() if policy.effective else None,
        sha256=policy.sha256,
        sources=tuple(r.SourceInfo(path=s.path, sha256=s.sha256) for s in policy.sources),
        evidence={
            e.id: r.EvidenceInfo(
                id=e.id,
                citation=e.citation,
                url=e.url,
                doi=e.doi,
                pmid=e.pmid,
                grade=e.grade,
                certainty=e.certainty,
            )
            for e in policy.evidence.values()
        },
    )


class _RuleParts:
    """What every entry about one rule says, whoever the patient is."""

    __slots__ = ("evidence", "id", "kind", "section", "statement")

    def __init__(self, rule: m.Rule) -> None:
        self.id = rule.id
        self.statement = rule.statement
        self.evidence = rule.evidence
        self.section = rule.section
        self.kind: r.RuleKind = rule.kind  # type: ignore[assignment]


class ResultParts:
    """Per compiled policy: the parts of results that do not depend on the patient, built
    once, and bounded memos of the records that repeat between patients."""

    def __init__(self, plan: Plan) -> None:
        policy = plan.policy
        self.plan = plan
        self.policy = policy_info(policy)
        self.engine = r.EngineInfo(name=ENGINE_NAME, version=__version__)
        self.rules = tuple(_RuleParts(rule) for rule in plan.rules)
        self.gaps = tuple(
            r.GapInfo(id=gap.id, section=gap.section, note=gap.note) for gap in policy.gaps
        )
        self.strengths: dict[int, r.Strength] = {}
        for i, rule in enumerate(plan.rules):
            if isinstance(rule.conclusion, m.Recommend):
                key = rule.conclusion.strength
                self.strengths[i] = r.Strength(key=key, label=m.STRENGTHS.get(key, key))
        self.units = {name: fact.type.unit for name, fact in policy.facts.items()}
        self._memo: dict[Hashable, object] = {}
        self.static_keys = tuple(_static_key(plan, i) for i in range(len(plan.rules)))
        # Facts whose values have one type each and no deriving rule: their values alone (in
        # the order of a `because`) decide the reasons naming them.
        self.plain_facts = frozenset(
            name
            for name, fact in policy.facts.items()
            if not fact.derived and fact.type.kind != "number"
        )
        # Fired rules whose entry the core's `because` (`found[i]`) and those facts' values
        # decide: chain fixed by the policy, because computed by the core, plain facts only.
        self.plain_rules = frozenset(
            i
            for i, rule in enumerate(plan.rules)
            if self.static_keys[i] is None
            and plan.static_chains[i] is not None
            and i in plan.generated_supports
            and self.plain_facts.issuperset(tr.reads(rule.when))
        )
        self.derived_memo: dict[Hashable, Any] = {}
        self.fired_memo: tuple[dict[Hashable, Any], ...] = tuple({} for _ in plan.rules)
        self.undetermined_memo: tuple[dict[Hashable, Any], ...] = tuple({} for _ in plan.rules)
        self._per_rule = 0
        self._gaps_memo: dict[
            tuple[bool | None, ...], tuple[tuple[r.GapInfo, ...], tuple[int, ...]]
        ] = {}

    def gaps_for(
        self, truths: tuple[bool | None, ...]
    ) -> tuple[tuple[r.GapInfo, ...], tuple[int, ...]]:
        """(the gaps that apply, the indices of those whose condition is unknown) for the truths
        of every gap's condition; remembered per combination (bounded)."""
        found = self._gaps_memo.get(truths)
        if found is None:
            found = (
                tuple(g for g, truth in zip(self.gaps, truths, strict=True) if truth is True),
                tuple(k for k, truth in enumerate(truths) if truth is None),
            )
            if len(self._gaps_memo) < MEMO_SIZE:
                self._gaps_memo[truths] = found
        return found

    def recalled(self, key: Hashable) -> Any:
        """The record remembered under `key` (which determines every field), or None."""
        return self._memo.get(key)

    def keep(self, key: Hashable, record: Record) -> Record:
        """Remember `record` under `key` while the memo has room; returns it."""
        if len(self._memo) < MEMO_SIZE:
            self._memo[key] = record
        return record

    def keep_for_rule(self, memo: dict[Hashable, Any], key: Hashable, record: Record) -> Record:
        """Remember `record` in one of the per-rule memos while they have room; returns it."""
        if self._per_rule < MEMO_SIZE:
            self._per_rule += 1
            memo[key] = record
        return record


def _static_key(plan: Plan, i: int) -> Callable[[Mapping[str, object]], Hashable] | None:
    """What decides fired rule i's entry, read from the facts in one step, where the policy
    fixes its `because` and chain and every fact in it holds values of one type."""
    pair = plan.static_explained[i]
    if pair is None:
        return None
    names = pair[0]
    facts = plan.policy.facts
    if any(facts[n].derived or facts[n].type.kind == "number" for n in names):
        return None
    if not names:
        return _nothing
    return itemgetter(*names)


def _plain_key(because: tuple[str, ...], env: Mapping[str, object]) -> Hashable:
    """A fired entry's memo key from the plain facts that decided it: their names and values."""
    return (because, tuple([env[name] for name in because]))


def _nothing(env: Mapping[str, object]) -> Hashable:
    return ()


def reason(parts: ResultParts, run: Run, name: str) -> r.Reason:
    """A fact that decided a condition, with its value (and for a derived fact, its rule)."""
    value = run.env.get(name)
    derived = name in parts.plan.graph.derivers
    rule = None
    if derived:
        deriving = run.deriving(name)
        rule = parts.plan.rule_ids[deriving[0]] if deriving else None
    key = ("reason", name, type(value), value, rule)
    found: r.Reason | None = parts.recalled(key)
    if found is None:
        found = parts.keep(
            key,
            r.Reason(
                fact=name,
                value=result_value(value),
                unit=parts.units.get(name),
                derived=derived,
                rule=rule,
            ),
        )
    return found


def read(parts: ResultParts, run: Run, name: str) -> r.Read:
    found = reason(parts, run, name)
    return r.Read(
        fact=found.fact, value=found.value, unit=found.unit, derived=found.derived, rule=found.rule
    )


def why_not(parts: ResultParts, run: Run, i: int) -> r.WhyNot | None:
    """For a rule that did not fire: its first false sub-condition, or the `after` rules that did
    not fire, or the rules that overrode it. None for fired and undetermined rules."""
    plan = parts.plan
    rule = plan.rules[i]
    outcome = run.outcome(i)
    if outcome in ("fired", "undetermined"):
        return None
    if outcome == "not_fired" and tr.truth_of(rule.when, run.env) is False:
        node = tr.first_false(rule.when, run.env)
        return r.WhyNot(
            reason="condition",
            condition=tr.expr_text(node, plan.policy.facts),
            line=node.span.line if node.span else None,
            column=node.span.column if node.span else None,
            reads=tuple(read(parts, run, name) for name in tr.reads(node)),
        )
    index = plan.graph.index
    blocked = tuple(p for p in rule.after if run.effective[index[p]] is False)
    if outcome == "not_fired" and blocked:
        return r.WhyNot(reason="after", rules=blocked)
    winners = tuple(plan.rule_ids[o] for o in run.winners(i))
    return r.WhyNot(reason="overridden", rules=winners)


class _Builder:
    """Builds the entries of one result, each from the memo where it can."""

    __slots__ = ("env", "parts", "plan", "run")

    def __init__(self, parts: ResultParts, run: Run) -> None:
        self.parts = parts
        self.plan = parts.plan
        self.run = run
        self.env = run.env

    def explained(self, i: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(because, chain) of fired rule i."""
        pair = self.plan.static_explained[i]
        return pair if pair is not None else (self.run.because(i), tuple(self.run.chain(i)))

    def facts_key(self, names: tuple[str, ...]) -> tuple[object, ...]:
        """What decides the reasons for `names`: each value with its type, and for a derived
        fact the rule that derived it."""
        env, derivers = self.env, self.plan.graph.derivers
        key: list[object] = []
        for name in names:
            value = env.get(name)
            if name in derivers:
                deriving = self.run.deriving(name)
                key.append((type(value), value, deriving[0] if deriving else None))
            else:
                key.append((type(value), value))
        return tuple(key)

    def plain_key(self, i: int, because: tuple[str, ...]) -> Hashable | None:
        """What decides fired rule i's entry when its chain is fixed by the policy and its
        `because` names plain facts only (`ResultParts.plain_facts`): the names and their
        values. A key of rule i's own memo, beside (never equal to) its static keys."""
        if self.plan.static_chains[i] is None or not self.parts.plain_facts.issuperset(because):
            return None
        return _plain_key(because, self.env)

    def reasons(self, names: tuple[str, ...]) -> tuple[r.Reason, ...]:
        return tuple(reason(self.parts, self.run, name) for name in names)

    def recommendation(self, i: int) -> r.Recommendation:
        return self._fired(i, "recommendation", self._recommendation)

    def note(self, i: int) -> r.Note:
        return self._fired(i, "note", self._note)

    def _fired(self, i: int, kind: str, make: Callable[[int], Record]) -> Record:
        """Fired rule i's entry, from the memo under the first key that decides it: its static
        key, its plain key, or its because and chain with the facts' values and types."""
        static = self.parts.static_keys[i]
        if static is not None:
            decided_by: Hashable = static(self.env)
        else:
            because, chain = self.explained(i)
            plain = self.plain_key(i, because)
            if plain is None:
                key = (kind, i, because, self.facts_key(because), chain)
                found: Record | None = self.parts.recalled(key)
                return found if found is not None else self.parts.keep(key, make(i))
            decided_by = plain
        memo = self.parts.fired_memo[i]
        found = memo.get(decided_by)
        if found is None:
            found = self.parts.keep_for_rule(memo, decided_by, make(i))
        return found

    def _recommendation(self, i: int) -> r.Recommendation:
        because, chain = self.explained(i)
        own = self.parts.rules[i]
        rule = self.plan.rules[i]
        conclusion = rule.conclusion
        assert isinstance(conclusion, m.Recommend)
        return r.Recommendation(
            rule=own.id,
            statement=own.statement,
            evidence=own.evidence,
            section=own.section,
            because=self.reasons(because),
            chain=chain,
            action=conclusion.action,
            strength=self.parts.strengths[i],
            alternatives=conclusion.alternatives,
            line=self.plan.graph.line[i],
            after=rule.after,
        )

    def _note(self, i: int) -> r.Note:
        because, chain = self.explained(i)
        own = self.parts.rules[i]
        note = self.plan.rules[i].conclusion
        assert isinstance(note, m.StateNote)
        return r.Note(
            rule=own.id,
            statement=own.statement,
            evidence=own.evidence,
            section=own.section,
            because=self.reasons(because),
            chain=chain,
            kind=note.kind,
            text=note.text,
        )

    def derived(self, name: str, deriving: Sequence[int]) -> r.Derived:
        i = deriving[0]
        static = self.parts.static_keys[i]
        because = self.explained(i)[0] if static is None else ()
        # The deriving rules fix the value; rule i's entry key fixes its because and chain.
        decided_by = static(self.env) if static is not None else self.plain_key(i, because)
        if decided_by is not None:
            memo = self.parts.derived_memo
            plain = (name, tuple(deriving), decided_by)
            entry: r.Derived | None = memo.get(plain)
            if entry is None:
                entry = self.parts.keep_for_rule(memo, plain, self._derived(name, deriving))
            return entry
        value = self.env[name]
        key: Hashable = (
            "derived",
            name,
            tuple(deriving),
            type(value),
            value,
            because,
            self.facts_key(because),
        )
        found: r.Derived | None = self.parts.recalled(key)
        if found is not None:
            return found
        return self.parts.keep(key, self._derived(name, deriving))

    def _derived(self, name: str, deriving: Sequence[int]) -> r.Derived:
        i = deriving[0]
        because, chain = self.explained(i)
        own = self.parts.rules[i]
        return r.Derived(
            rule=own.id,
            statement=own.statement,
            evidence=own.evidence,
            section=own.section,
            because=self.reasons(because),
            chain=chain,
            value=result_value(self.env[name]),
            rules=tuple(self.plan.rule_ids[j] for j in deriving),
        )

    def undetermined(
        self, i: int, walked: dict[int, tuple[frozenset[str], frozenset[str]]]
    ) -> r.Undetermined:
        """Rule i undetermined: its missing facts are the core's answer (`found[i]`, a tuple
        that may repeat a name), or were walked (`walked[i]`, with the unresolved facts)."""
        pair = walked.get(i)
        key: Hashable = pair if pair is not None else self.run.found[i]
        memo = self.parts.undetermined_memo[i]
        found: r.Undetermined | None = memo.get(key)
        if found is not None:
            return found
        facts, unresolved = pair if pair is not None else (self.run.found[i], ())
        own = self.parts.rules[i]
        conclusion = self.plan.rules[i].conclusion
        return self.parts.keep_for_rule(
            memo,
            key,
            r.Undetermined(
                rule=own.id,
                statement=own.statement,
                evidence=own.evidence,
                section=own.section,
                kind=own.kind,
                action=conclusion.action if isinstance(conclusion, m.Recommend) else None,
                missing=tuple(sorted(set(facts))),
                unresolved=tuple(sorted(unresolved)),
            ),
        )

    def undetermined_gap(self, k: int) -> r.UndeterminedGap:
        """Gap k, its condition unknown: the facts that would decide whether it applies."""
        names = self.plan.gap_supports[k](self.env)[1]
        missing, unresolved = self.run.missing_behind(names)
        key = ("undetermined gap", k, frozenset(missing), frozenset(unresolved))
        found: r.UndeterminedGap | None = self.parts.recalled(key)
        if found is not None:
            return found
        gap = self.parts.gaps[k]
        return self.parts.keep(
            key,
            r.UndeterminedGap(
                id=gap.id,
                section=gap.section,
                note=gap.note,
                missing=tuple(sorted(missing)),
                unresolved=tuple(sorted(unresolved)),
            ),
        )

    def overridden(self, i: int) -> r.Overridden:
        winners = tuple(self.plan.rule_ids[o] for o in self.run.winners(i))
        key = ("overridden", i, winners)
        found: r.Overridden | None = self.parts.recalled(key)
        if found is not None:
            return found
        own = self.parts.rules[i]
        return self.parts.keep(
            key,
            r.Overridden(
                rule=own.id,
                statement=own.statement,
                evidence=own.evidence,
                section=own.section,
                kind=own.kind,
                overridden_by=winners,
            ),
        )


def build_evaluation(parts: ResultParts, run: Run, trace: bool) -> r.Evaluation:
    """The result for one run: the outcome of every rule, and the because and chain of every
    fired rule reported, the missing facts of every undetermined rule, the derivations and the
    gaps. The core listed what depends on the patient beyond what it computed itself (the
    plan's `static_explained` and `missing_generated`); the rest is a table lookup.

    The loops look each entry up in its rule's memo first, inline: most entries are found there,
    and the builder's methods (which also remember what they build) are the slower way."""
    env, found = run.env, run.found
    static_keys, fired_memo, plain_rules = parts.static_keys, parts.fired_memo, parts.plain_rules
    builder: _Builder | None = None  # made for the first entry not remembered
    fired: tuple[list[Any], list[Any]] = ([], [])
    for entries, indices, make in (
        (fired[0], run.recommended, _Builder.recommendation),
        (fired[1], run.noted, _Builder.note),
    ):
        for i in indices:
            static = static_keys[i]
            if static is not None:
                entry = fired_memo[i].get(static(env))
            elif i in plain_rules:  # the key `_Builder.plain_key` gives
                entry = fired_memo[i].get(_plain_key(found[i], env))
            else:
                entry = None
            if entry is None:
                builder = builder or _Builder(parts, run)
                entry = make(builder, i)
            entries.append(entry)
    derived: dict[str, r.Derived] = {}
    for name, deriving in run.derivations:
        static = static_keys[deriving[0]]
        entry = parts.derived_memo.get((name, deriving, static(env))) if static else None
        if entry is None:  # the key `_Builder.derived` gives
            builder = builder or _Builder(parts, run)
            entry = builder.derived(name, deriving)
        derived[name] = entry
    undetermined: list[r.Undetermined] = []
    memo = parts.undetermined_memo
    walked = {i: run.missing(i) for i in run.to_walk} if run.to_walk else {}
    for i in run.undetermined:
        entry = None if i in walked else memo[i].get(found[i])
        if entry is None:
            builder = builder or _Builder(parts, run)
            entry = builder.undetermined(i, walked)
        undetermined.append(entry)
    gaps, unknown_gaps = parts.gaps_for(run.gap_truth)
    if unknown_gaps or run.overridden:
        builder = builder or _Builder(parts, run)
    return _new_evaluation(
        policy=parts.policy,
        facts_sha256=sha256_text(run.facts_json),
        engine=parts.engine,
        outcomes=run.outcomes,
        recommendations=tuple(fired[0]),
        notes=tuple(fired[1]),
        derived=derived,
        undetermined=tuple(undetermined),
        gaps=gaps,
        undetermined_gaps=tuple(map(builder.undetermined_gap, unknown_gaps)) if builder else (),
        overridden=tuple(map(builder.overridden, run.overridden)) if builder else (),
        trace=trace_entries(parts, run) if trace else None,
        provenance=None,  # the FHIR edge adds it to the result it was given
    )


def trace_entries(parts: ResultParts, run: Run) -> tuple[r.TraceEntry, ...]:
    """Every rule's outcome, its condition's truth alone, and why it did not fire."""
    entries = []
    for i, rule in enumerate(parts.plan.rules):
        outcome = run.outcomes[rule.id]
        missing = tuple(sorted(run.missing(i)[0])) if outcome == "undetermined" else ()
        entries.append(
            r.TraceEntry(
                rule=rule.id,
                kind=parts.rules[i].kind,
                outcome=outcome,
                condition=_TRUTH_TEXT[tr.truth_of(rule.when, run.env)],
                why_not=why_not(parts, run, i),
                missing=missing,
            )
        )
    return tuple(entries)
