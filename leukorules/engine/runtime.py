"""One patient's run of the compiled core, and what is derived from it on demand.

Input: the `CoreResult` the generated `_core` returned, and the `Plan` it was generated from.
Output: a `Run`: every rule's outcome, the derived values, and, asked for one rule at a time,
the facts that decided it (`because`), its upstream `chain` and, for an undetermined rule, the
`missing` input facts that would decide it (and the derived facts that stay unknown whatever is
supplied). The result builder and `explain` read runs; the python cohort engine uses them
directly, without building results.

Definitions (Kleene logic as `leukorules.logic`):
- A rule's *base* truth is `when AND (every rule it comes after is fired)`; its *effective*
  truth is `base AND NOT (some rule overriding it is fired)`. Effective true -> "fired";
  unknown -> "undetermined"; false -> "overridden" when the base is true and an overriding rule
  fired, otherwise "not_fired" (when the base is unknown and an overriding rule fired, the rule
  is "not_fired": the label "overridden" claims its own condition held).
- A derived fact has value v iff some fired rule derives v and every rule deriving another value
  is effectively false; otherwise it is unknown downstream. Derived facts have no default.
- `is known`/`is unknown` are the one non-monotone test. With every input fact known a rule can
  still be undetermined only when it reads a derived fact that no rule derived; such a rule has
  no `missing` facts and names that derived fact in `unresolved` instead of guessing a value.
- `missing` of an undetermined rule: the unknown input facts under its unknown sub-conditions
  (for `and`/`or` the unknown children only), an unknown derived fact replaced by the missing
  facts of its undetermined derive rules, plus those of undetermined `after`/`overrides` rules.
  `because` of a fired rule: the facts that made its condition true (`and`: all children, `or`:
  the first true child, `not`: what made the child false); `chain`: the upstream rules
  (derivations read, earlier lines), transitively. See `leukorules.engine.trace`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from leukorules import model as m
from leukorules.engine.codegen import CoreResult
from leukorules.engine.plan import Plan, sorted_by_position
from leukorules.engine.values import sha256_text
from leukorules.result.model import Outcome

_NOTHING: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


class Run:
    """The raw outcome of the compiled core for one patient, and what is derived from it."""

    __slots__ = (
        "_derived",
        "_missing",
        "base",
        "derivations",
        "derived_values",
        "effective",
        "env",
        "facts_json",
        "found",
        "gap_truth",
        "noted",
        "outcomes",
        "overridden",
        "plan",
        "recommended",
        "to_explain",
        "to_walk",
        "undetermined",
    )

    def __init__(self, plan: Plan, core: CoreResult) -> None:
        self.plan = plan
        self.effective = core.effective
        self.base = core.base
        self.derived_values = core.derived_values
        self.gap_truth = core.gap_truth
        self.outcomes: dict[str, Outcome] = core.outcomes  # type: ignore[assignment]
        self.env = core.env
        self.facts_json = core.facts_json
        self.found = core.found
        self.recommended = core.recommended
        self.noted = core.noted
        self.undetermined = core.undetermined
        self.overridden = core.overridden
        self.to_explain = core.to_explain
        self.derivations = core.derivations
        self.to_walk = core.to_walk
        self._missing: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._derived: dict[str, object] | None = None

    @property
    def derived(self) -> dict[str, object]:
        """The derived facts that have a value."""
        if self._derived is None:
            names = self.plan.derived_names
            self._derived = {
                n: v for n, v in zip(names, self.derived_values, strict=True) if v is not None
            }
        return self._derived

    def outcome(self, i: int) -> Outcome:
        truth = self.effective[i]
        if truth is True:
            return "fired"
        if truth is None:
            return "undetermined"
        return "overridden" if self.base.get(i) is True and self.winners(i) else "not_fired"

    def winners(self, i: int) -> list[int]:
        """The rules overriding rule i that fired."""
        return [o for o in self.plan.graph.overridden_by.get(i, ()) if self.effective[o] is True]

    @property
    def inputs(self) -> dict[str, object]:
        """The known input facts."""
        env = self.env
        return {n: v for n in self.plan.input_names if (v := env[n]) is not None}

    def facts_sha256(self) -> str:
        return sha256_text(self.facts_json)

    # --- missing facts of undetermined rules

    def missing(self, i: int) -> tuple[frozenset[str], frozenset[str]]:
        """(unknown input facts that would decide rule i, derived facts that stay unknown)."""
        found = self._missing.get(i)
        if found is not None:
            return found
        plan = self.plan
        if i in plan.missing_generated:
            if self.effective[i] is not None:
                return _NOTHING
            found = (frozenset(self.found.get(i, ())), _NOTHING[1])
            self._missing[i] = found
            return found
        inputs: set[str] = set()
        unresolved: set[str] = set()
        if self.effective[i] is None:
            names = self._unknown_support(i)
            if names:
                read_inputs, read_unresolved = self.missing_behind(names)
                inputs |= read_inputs
                unresolved |= read_unresolved
            for j in plan.graph.upstream(i):
                if self.effective[j] is None:
                    more, stuck = self.missing(j)
                    inputs |= more
                    unresolved |= stuck
        found = (frozenset(inputs), frozenset(unresolved))
        self._missing[i] = found
        return found

    def _unknown_support(self, i: int) -> tuple[str, ...]:
        """The facts that would decide rule i's condition: empty when it is known."""
        if i in self.plan.generated_supports:
            return self.found.get(i, ())
        truth, names = self.plan.supports[i](self.env)
        return names if truth is None else ()

    def missing_behind(self, names: Iterable[str]) -> tuple[set[str], set[str]]:
        """The unknown input facts (and unresolved derived facts) behind unknown fact reads."""
        inputs: set[str] = set()
        unresolved: set[str] = set()
        for name in names:
            if name in self.plan.graph.derivers:
                more, stuck = self.missing_fact(name)
                inputs |= more
                unresolved |= stuck
            else:
                inputs.add(name)
        return inputs, unresolved

    def missing_fact(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        inputs: set[str] = set()
        unresolved: set[str] = set()
        open_rules = [i for i in self.plan.graph.derivers[name] if self.effective[i] is None]
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
        plan = self.plan
        found = plan.static_because[i]
        if found is None:
            found = self.found.get(i) if i in plan.generated_supports else None
            if found is None:
                found = self.found[i] = plan.supports[i](self.env)[1]
        return found

    def deriving(self, name: str) -> list[int]:
        """The fired rules that derived the value a derived fact has."""
        value = self.derived.get(name)
        if value is None:
            return []
        rules = self.plan.rules
        found = []
        for i in self.plan.graph.derivers[name]:
            conclusion = rules[i].conclusion
            assert isinstance(conclusion, m.Derive)
            if self.effective[i] is True and conclusion.value == value:
                found.append(i)
        return found

    def upstream(self, i: int, names: Sequence[str]) -> list[int]:
        """Rules directly upstream of fired rule i: its `after` rules and the derivations of
        the derived facts in its `because`."""
        graph = self.plan.graph
        found = list(graph.after[i])
        for name in names:
            if name in graph.derivers:
                found.extend(self.deriving(name))
        return found

    def chain(self, i: int) -> list[str]:
        static = self.plan.static_chains[i]
        if static is not None:
            return list(static)
        seen: set[int] = set()
        stack = list(self.upstream(i, self.because(i)))
        while stack:
            j = stack.pop()
            if j in seen:
                continue
            seen.add(j)
            stack.extend(self.upstream(j, self.because(j)))
        return sorted_by_position(self.plan, seen)
