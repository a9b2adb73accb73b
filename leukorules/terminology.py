"""Terminology bindings in the checked model: value sets of codes, and which give which fact.

Input: built only by the checker (`leukorules.check.bindings`) from `valueset` and `bind`
blocks, after every name, type and code format is checked. Output: frozen records on
`model.Policy` (`value_sets`, `bindings`), read by `leukorules.fhir` to map a health record to
facts, and by nothing else: the engine and the cohort SQL never see a binding.

Guarantees: every binding names a declared input fact and declared value sets, gives only values
of that fact's type, and no two bindings can give one fact two values from one code; every code
is well formed for its system (`leukorules.codesystems`) and names the public source it was
checked in. Spans are left out of equality, as everywhere in the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from leukorules.source import Span

# A value a record can give: yes/no, or an enum value.
BindValue: TypeAlias = bool | str
# Whether a diagnosis keeps giving its fact once it is no longer active: `lasting` (the type of
# leukoencephalopathy, HIV infection), or `current` (seizures: a resolved episode says nothing
# of now).
Persistence = Literal["lasting", "current"]


@dataclass(frozen=True, slots=True)
class Concept:
    """One code of one system (canonical URI), its display text, and where it was checked."""

    system: str
    code: str
    display: str
    source: str
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ValueSet:
    """A named set of concepts; `find` answers whether a record's coding is one of them."""

    name: str
    title: str
    concepts: tuple[Concept, ...]
    span: Span | None = field(default=None, compare=False)
    _index: dict[tuple[str, str], Concept] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        index = {(concept.system, concept.code): concept for concept in self.concepts}
        object.__setattr__(self, "_index", index)

    def find(self, system: str | None, code: str | None) -> Concept | None:
        if system is None or code is None:
            return None
        return self._index.get((system, code))


@dataclass(frozen=True, slots=True)
class ConditionBinding:
    """`Condition in VALUE_SETS gives VALUE, PERSISTENCE[, refuted gives REFUTED][, if due to a
    drug]`: a Condition whose code is in the value sets gives `fact` = `value`; a refuted one
    gives `refuted` (None: refuting it says nothing of the fact); with `needs_drug_cause`, only
    when the record attributes the Condition to a drug (its condition-dueTo extension)."""

    fact: str
    value: BindValue
    value_sets: tuple[str, ...]
    persistence: Persistence
    refuted: BindValue | None = None
    needs_drug_cause: bool = False
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AnswerBinding:
    """`Observation in VALUE_SETS answers yes or no within DAYS days`: an Observation whose code
    is in the value sets and whose value is a boolean gives `fact` = that answer, when it was
    observed at most `within_days` days before the evaluation date."""

    fact: str
    value_sets: tuple[str, ...]
    within_days: int
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class CauseBinding:
    """`cause of Condition in HOSTS` with `drug in VALUE_SET gives VALUE` lines and `any SYSTEM
    drug gives OTHER`: the drug a Condition whose code is in the host value sets is due to gives
    `fact` = the value of the first drug line whose value set holds it, else `other` (a drug
    code of `other[0]`, the system's URI, gives `other[1]`)."""

    fact: str
    hosts: tuple[str, ...]
    drugs: tuple[tuple[str, str], ...]
    other: tuple[str, str] | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ExposureBinding:
    """`cause of Condition in HOSTS` with `drug still taken`: whether the medication such a
    Condition is due to is still taken (the status and period of the MedicationStatement or
    MedicationRequest its dueTo references) gives `fact` = true or false."""

    fact: str
    hosts: tuple[str, ...]
    span: Span | None = field(default=None, compare=False)


Binding: TypeAlias = ConditionBinding | AnswerBinding | CauseBinding | ExposureBinding

# The resources a binding line may name, and what each reads.
CONDITION = "Condition"
OBSERVATION = "Observation"
