"""What a record says about each fact, and where it says it.

Output types of the FHIR mapper: a `Source` (the resource and coding that spoke), an `Evidence`
(one source's value for one fact, or the reason it gives none), a `FactProvenance` (the decided
value, or unknown with its reason, and every piece of evidence), and `RecordFacts` (the facts of
one patient, their provenance and the diagnostics). All frozen; `to_json` gives plain data for
`leukorules facts`, and `to_result` the `leukorules.result` records an evaluation carries; neither
holds more than the record (and the facts files given with it) held. Values are those sources'
raw values: bool and enum text from a record, anything a facts file holds from a facts file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from leukorules.codesystems import SYSTEM_NAMES
from leukorules.diagnostics import Diagnostic
from leukorules.engine.values import result_value
from leukorules.result import model as r


@dataclass(frozen=True, slots=True)
class Source:
    """The resource (or facts file) that gave a piece of evidence."""

    resource_type: str
    resource_id: str | None
    location: str
    system: str | None = None
    code: str | None = None
    display: str | None = None
    date: str | None = None

    def label(self) -> str:
        """`Condition/abc (SNOMED CT 22255007)`, for messages."""
        name = f"{self.resource_type}/{self.resource_id}" if self.resource_id else self.location
        if self.code is None:
            return name
        system = SYSTEM_NAMES.get(self.system or "", self.system)
        return f"{name} ({system} {self.code})"

    def to_result(self) -> r.RecordSource:
        return r.RecordSource(
            resource_type=self.resource_type,
            id=self.resource_id,
            location=self.location,
            system=self.system,
            code=self.code,
            display=self.display,
            date=self.date,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "resource_type": self.resource_type,
            "id": self.resource_id,
            "location": self.location,
            "system": self.system,
            "code": self.code,
            "display": self.display,
            "date": self.date,
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """One source's word on one fact: a value, or None and the reason it gives none."""

    fact: str
    value: object
    source: Source
    reason: str

    def to_result(self) -> r.SourceEvidence:
        return r.SourceEvidence(
            value=_shown(self.value), reason=self.reason, source=self.source.to_result()
        )

    def to_json(self) -> dict[str, object]:
        value = _shown(self.value)
        plain = list(value) if isinstance(value, tuple) else value
        return {"value": plain, "reason": self.reason, "source": self.source.to_json()}


@dataclass(frozen=True, slots=True)
class FactProvenance:
    """The value decided for a fact (None: unknown, with `reason`) and all the evidence."""

    fact: str
    value: object
    evidence: tuple[Evidence, ...]
    reason: str | None = None

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources that gave the decided value."""
        if self.value is None:
            return ()
        return tuple(e.source for e in self.evidence if e.value == self.value)

    def to_result(self) -> r.FactProvenance:
        return r.FactProvenance(
            value=_shown(self.value),
            reason=self.reason,
            evidence=tuple(e.to_result() for e in self.evidence),
        )

    def to_json(self) -> dict[str, object]:
        value = _shown(self.value)
        return {
            "value": list(value) if isinstance(value, tuple) else value,
            "reason": self.reason,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """The facts one patient's record yields, their provenance, and every problem found."""

    facts: Mapping[str, object]
    provenance: Mapping[str, FactProvenance]
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    patient: str | None = None

    def to_json(self) -> dict[str, object]:
        facts = {name: _shown(value) for name, value in self.facts.items()}
        return {
            "patient": self.patient,
            "facts": {k: list(v) if isinstance(v, tuple) else v for k, v in facts.items()},
            "provenance": {name: p.to_json() for name, p in self.provenance.items()},
        }

    def to_result(self) -> dict[str, r.FactProvenance]:
        """The provenance as an evaluation carries it (`Evaluation.provenance`)."""
        return {name: p.to_result() for name, p in self.provenance.items()}


def _shown(value: object) -> r.FactValue:
    """A source's value as results show it (a date as YYYY-MM-DD, a list as sorted text); a
    value no fact can hold (a facts file may hold anything) as its text."""
    try:
        return result_value(value)
    except TypeError:
        return str(value)
