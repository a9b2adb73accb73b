"""What a record says about each fact, and where it says it.

Output types of the FHIR mapper: a `Source` (the resource and coding that spoke), an `Evidence`
(one source's value for one fact, or the reason it gives none), a `FactProvenance` (the decided
value, or unknown with its reason, and every piece of evidence), and `RecordFacts` (the facts of
one patient, their provenance and the diagnostics). All frozen; `to_json` gives plain data for a
result file or `leukorules facts`, never with more than the record held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from leukorules.diagnostics import Diagnostic
from leukorules.fhir.bindings import Value


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
        """`Condition/abc (http://snomed.info/sct 22255007)`, for messages."""
        name = f"{self.resource_type}/{self.resource_id}" if self.resource_id else self.location
        if self.code is None:
            return name
        return f"{name} ({self.system} {self.code})"

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
    value: Value | None
    source: Source
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"value": self.value, "reason": self.reason, "source": self.source.to_json()}


@dataclass(frozen=True, slots=True)
class FactProvenance:
    """The value decided for a fact (None: unknown, with `reason`) and all the evidence."""

    fact: str
    value: Value | None
    evidence: tuple[Evidence, ...]
    reason: str | None = None

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources that gave the decided value."""
        if self.value is None:
            return ()
        return tuple(e.source for e in self.evidence if e.value == self.value)

    def to_json(self) -> dict[str, object]:
        return {
            "value": self.value,
            "reason": self.reason,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """The facts one patient's record yields, their provenance, and every problem found."""

    facts: Mapping[str, Value]
    provenance: Mapping[str, FactProvenance]
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    patient: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "patient": self.patient,
            "facts": dict(self.facts),
            "provenance": {name: p.to_json() for name, p in self.provenance.items()},
        }
