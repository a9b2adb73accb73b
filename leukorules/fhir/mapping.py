"""FHIR R4 record -> patient facts with provenance: the entry point of `leukorules.fhir`.

Input: a record (a Bundle or one resource, as a file or text), or a Bulk Data export folder;
a checked policy whose terminology bindings say what the codes mean (or its `Bindings`); the
evaluation date (today by default: it decides whether an observation is recent enough to speak
of now). Output:
`RecordFacts` per patient: the facts, the provenance of each fact a binding reads (its value or
the reason it stays unknown, and every resource that spoke), and diagnostics.

Guarantees: only resources a binding reads (and the medications their dueTo points at) are
validated with fhir.resources, then read; a resource that fails validation gives no evidence and
an LR520 error located by FHIR path and line; two sources giving one fact two values leave it
unknown with an LR521 error naming both. Nothing is ever decided from the absence of a code.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from leukorules import messages as msg
from leukorules import model as m
from leukorules.diagnostics import Diagnostic, Related, has_errors
from leukorules.fhir.bindings import Bindings
from leukorules.fhir.evidence import Index, Reader
from leukorules.fhir.provenance import Evidence, FactProvenance, RecordFacts, Source
from leukorules.fhir.reading import (
    JSON,
    Entry,
    read_record_data,
    read_record_file,
    read_record_text,
    validate,
)
from leukorules.source import Span

Terms = m.Policy | Bindings


def bindings_of(terms: Terms) -> Bindings:
    """A policy's bindings, indexed (a `Bindings` is taken as it is)."""
    return terms if isinstance(terms, Bindings) else Bindings.of(terms)


def map_entries(
    entries: Sequence[Entry],
    terms: Terms,
    as_of: datetime.date | None = None,
    index: Index | None = None,
    patient: str | None = None,
) -> RecordFacts:
    """The facts one patient's entries give. `index` resolves references (the entries' own by
    default; a Bulk Data run passes one that also holds the shared Medication resources)."""
    bindings = bindings_of(terms)
    reader = Reader(bindings, index or Index.of(entries), as_of or datetime.date.today())
    read = [entry for entry in entries if reader.reads(entry)]
    wanted: dict[int, Entry] = {id(entry): entry for entry in read}
    for entry in read:
        for target in reader.referenced(entry):
            wanted.setdefault(id(target), target)
    problems: list[Diagnostic] = []
    invalid: set[int] = set()
    for key, entry in wanted.items():
        found = validate(entry)
        if found:
            invalid.add(key)
            problems.extend(found)
    evidence: list[Evidence] = []
    for entry in read:
        if id(entry) not in invalid:
            evidence.extend(reader.evidence(entry))
    problems.extend(reader.problems)
    facts, provenance, conflicts = decide(evidence, bindings.facts, entries)
    return RecordFacts(facts, provenance, tuple(problems + conflicts), patient)


def decide(
    evidence: Iterable[Evidence],
    facts: Sequence[str] = (),
    entries: Sequence[Entry] = (),
) -> tuple[dict[str, object], dict[str, FactProvenance], list[Diagnostic]]:
    """Evidence -> one value per fact where all the sources that give a value agree."""
    by_fact: dict[str, list[Evidence]] = {name: [] for name in facts}
    for item in evidence:
        by_fact.setdefault(item.fact, []).append(item)
    spans = {entry.where(): entry for entry in entries}
    values: dict[str, object] = {}
    provenance: dict[str, FactProvenance] = {}
    problems: list[Diagnostic] = []
    for name, items in by_fact.items():
        # Sources in a fixed order (by label), so that a disagreement names the same two
        # sources whatever order the record lists them in (and the SQL of a Bulk Data run
        # names the same ones).
        given = sorted(
            (item for item in items if item.value is not None),
            key=lambda item: (item.source.label(), _show(item.value)),
        )
        distinct = list(dict.fromkeys(item.value for item in given))
        if len(distinct) == 1 and distinct[0] is not None:
            values[name] = distinct[0]
            provenance[name] = FactProvenance(name, distinct[0], tuple(items))
        elif len(distinct) > 1:
            first = given[0]
            second = next(item for item in given if item.value != first.value)
            problems.append(_disagreement(name, first, second, spans))
            reason = f"sources disagree: {first.source.label()}, {second.source.label()}"
            provenance[name] = FactProvenance(name, None, tuple(items), reason)
        else:
            reasons = "; ".join(f"{i.source.label()}: {i.reason}" for i in items)
            reason = reasons or "no resource of the record carries it"
            provenance[name] = FactProvenance(name, None, tuple(items), reason)
    return values, provenance, problems


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`"


def same_value(one: object, two: object) -> bool:
    """Whether two sources give the same value (`True` and `1` are not the same answer)."""
    return type(one) is type(two) and one == two


def _disagreement(
    fact: str, first: Evidence, second: Evidence, entries: Mapping[str, Entry]
) -> Diagnostic:
    def span(source: Source) -> Span | None:
        entry = entries.get(source.location)
        return entry.span() if entry is not None else None

    other = span(first.source)
    related = []
    if other is not None:
        related.append(Related(other, f"{first.source.label()} gives {_show(first.value)}"))
    return msg.FHIR_SOURCES_DISAGREE.at(
        span(second.source),
        related=related,
        fact=fact,
        first=first.source.label(),
        first_value=_show(first.value),
        second=second.source.label(),
        second_value=_show(second.value),
    )


def map_record_text(
    text: str, name: str, terms: Terms, as_of: datetime.date | None = None
) -> RecordFacts:
    entries, problems = read_record_text(text, name)
    if entries is None:
        return RecordFacts({}, {}, tuple(problems))
    mapped = map_entries(entries, terms, as_of)
    return RecordFacts(mapped.facts, mapped.provenance, tuple(problems) + mapped.diagnostics)


def map_record_data(
    data: JSON, text: str, name: str, terms: Terms, as_of: datetime.date | None = None
) -> RecordFacts:
    """The facts of a record already parsed (`reading.record_data`) from `text`."""
    entries, problems = read_record_data(data, text, name)
    mapped = map_entries(entries, terms, as_of)
    return RecordFacts(mapped.facts, mapped.provenance, tuple(problems) + mapped.diagnostics)


def map_record_file(
    path: str | Path, terms: Terms, as_of: datetime.date | None = None
) -> RecordFacts:
    """The facts of one record file (a Bundle, or a single resource)."""
    entries, problems = read_record_file(path)
    if entries is None:
        return RecordFacts({}, {}, tuple(problems))
    mapped = map_entries(entries, terms, as_of)
    return RecordFacts(mapped.facts, mapped.provenance, tuple(problems) + mapped.diagnostics)


def with_facts(record: RecordFacts, name: str, facts: Mapping[str, object]) -> RecordFacts:
    """The record's facts plus those of a facts file (`--with`). A fact both give with two
    values is left unknown with an LR521 error naming both; facts the record does not carry
    are added with the file as their source. Values are not validated here."""
    values: dict[str, object] = dict(record.facts)
    provenance = dict(record.provenance)
    problems = list(record.diagnostics)
    for fact, raw in facts.items():
        if raw is None:  # unknown: says nothing
            continue
        source = Source("facts file", None, name)
        item = Evidence(fact, raw, source, f"given in {name}")
        known = provenance.get(fact)
        if fact in values and not same_value(values[fact], raw):
            decided = values[fact]
            first = (
                next(e for e in known.evidence if same_value(e.value, decided)) if known else None
            )
            if first is not None:
                problems.append(_disagreement(fact, first, item, {}))
            del values[fact]
            reason = f"sources disagree: {name} gives {_show(raw)}"
            old = known.evidence if known else ()
            provenance[fact] = FactProvenance(fact, None, (*old, item), reason)
            continue
        values[fact] = raw
        old = known.evidence if known else ()
        provenance[fact] = FactProvenance(fact, raw, (*old, item))
    return RecordFacts(values, provenance, tuple(problems), record.patient)


def has_fhir_errors(record: RecordFacts) -> bool:
    return has_errors(record.diagnostics)
