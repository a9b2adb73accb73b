"""The duckdb engine's missing-fact counts, from the row tests its query returns.

Input: the query's missing pairs and row tests (`CohortQuery.missing`, `CohortQuery.tests`:
`leukorules.cohort.missing`), the policy's rule ids; per batch, the test columns `t<i>`, the
undetermined rules' bits (`leukorules.cohort.duckdb_rules.RuleBits`) and which records were
evaluated. Output: added to a `Counts`, how many evaluated records miss each (rule, fact) pair
(`missing`) and how many miss each fact for at least one undetermined rule
(`missing_patients`), as the python engine counts them.

The pairs' formulas are compiled once into a flat program over numbered arrays (each term
computed once, however many pairs share it); a batch then costs a few hundred numpy operations,
whatever its size, and nothing row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leukorules.cohort.missing import (
    AllOf,
    AnyOf,
    MissingPair,
    Pair,
    Term,
    Test,
)
from leukorules.cohort.summary import Counts


@dataclass(frozen=True, slots=True)
class _Step:
    """Array `target` is: the test column `column`; the undetermined bit of rule number `rule`;
    or the AND (`all_of`) or OR of the arrays `operands`."""

    target: int
    column: str | None = None
    rule: int | None = None
    operands: tuple[int, ...] = ()
    all_of: bool = False


class MissingCounter:
    """Counts a policy's missing pairs and facts, batch by batch."""

    def __init__(
        self,
        pairs: Sequence[MissingPair],
        tests: Sequence[Test],
        rule_ids: Sequence[str],
        test_prefix: str,
    ) -> None:
        self.steps: list[_Step] = []
        self._arrays: dict[object, int] = {}
        self._column = {test: f"{test_prefix}{number}" for number, test in enumerate(tests)}
        self._rule_number = {rule: number for number, rule in enumerate(rule_ids)}
        # (pair, array) for each pair, (fact, array) for each fact: what is counted.
        self.pairs: list[tuple[tuple[str, str], int]] = []
        by_fact: dict[str, list[int]] = {}
        for pair in pairs:
            terms = self._any_of([self._term(t) for t in pair.terms])
            held = self._step(
                ("pair", pair.rule, pair.fact),
                all_of=True,
                operands=(self._undetermined(pair.rule), terms),
            )
            self._arrays[Pair(pair.rule, pair.fact)] = held
            self.pairs.append(((pair.rule, pair.fact), held))
            by_fact.setdefault(pair.fact, []).append(held)
        self.facts = [(fact, self._any_of(held)) for fact, held in by_fact.items()]

    def count(self, batch: Any, undetermined: Any, evaluated: Any, tally: Counts) -> None:
        """Add the batch's counts to `tally`: its records that `evaluated` marks true (a numpy
        boolean array; None: every record). `undetermined`: the batch's undetermined rules, a row
        of bits per rule (`RuleBits.undetermined`)."""
        import numpy as np

        arrays: list[Any] = [None] * len(self.steps)
        for step in self.steps:
            if step.column is not None:
                arrays[step.target] = batch.column(step.column).to_numpy(zero_copy_only=False)
            elif step.rule is not None:
                arrays[step.target] = undetermined[step.rule]
            else:
                combine = np.logical_and if step.all_of else np.logical_or
                found = combine(arrays[step.operands[0]], arrays[step.operands[1]])
                for operand in step.operands[2:]:
                    combine(found, arrays[operand], out=found)
                arrays[step.target] = found

        def how_many(index: int) -> int:
            held = arrays[index] if evaluated is None else arrays[index] & evaluated
            return int(np.count_nonzero(held))

        for pair, index in self.pairs:
            if number := how_many(index):
                tally.missing[pair] += number
        for fact, index in self.facts:
            if number := how_many(index):
                tally.missing_patients[fact] += number

    # --- compiling the formulas ---------------------------------------------------------------

    def _term(self, term: Term) -> int:
        match term:
            case AllOf(items=items):
                return self._combine([self._term(i) for i in items], all_of=True)
            case AnyOf(items=items):
                return self._any_of([self._term(i) for i in items])
            case Pair():
                return self._arrays[term]
        return self._step(term, column=self._column[term])

    def _undetermined(self, rule: str) -> int:
        return self._step(("undetermined", rule), rule=self._rule_number[rule])

    def _any_of(self, operands: list[int]) -> int:
        return self._combine(operands, all_of=False)

    def _combine(self, operands: list[int], all_of: bool) -> int:
        if len(operands) == 1:
            return operands[0]
        return self._step(
            ("all" if all_of else "any", *operands), operands=tuple(operands), all_of=all_of
        )

    def _step(self, key: object, **fields: Any) -> int:
        """The array `key` names, computed by a new step the first time it is asked for."""
        if key not in self._arrays:
            self._arrays[key] = len(self.steps)
            self.steps.append(_Step(len(self.steps), **fields))
        return self._arrays[key]
