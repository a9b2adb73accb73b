"""One hook call, start to end, without HTTP: the patient's data in, cards and a decision out.

Input: a loaded `PolicyService` (one policy: compiled, its bindings, prefetch templates, order
catalogue), the validated request and context, each prefetch key's data (given or fetched), who
called, and where reports are served. Output: a `Decision`: the cards, the row to append to the
decision log, and the report to keep under its id. Pure computation (no I/O): the application
runs it in a worker thread, under its time limit.

The steps: the record's entries (`prefetch.gather`; a resource of another patient stops here);
facts with provenance (`leukorules.fhir.map_entries`; invalid FHIR or sources that disagree stop
here); validated facts (`check_facts`; facts that contradict the policy's constraints stop
here); the evaluation; the cards (patient-view: `cards.decision_cards`; order-select:
`orders.order_cards`). Every stop gives one warning card and no recommendation, and nothing to
log (no evaluation was made).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leukorules.audit import CollectedSources, collect_sources, new_decision
from leukorules.audit.store import NewDecision
from leukorules.diagnostics import Severity
from leukorules.engine.compile import CompiledPolicy
from leukorules.fhir.bindings import Bindings
from leukorules.fhir.mapping import map_entries
from leukorules.messages import FHIR_SOURCES_DISAGREE
from leukorules.rulegraph import PolicyGraph
from leukorules.service.cards import CardContext, decision_cards, problem_card
from leukorules.service.orders import Catalogue, Sequencing, order_cards, selected_orders
from leukorules.service.prefetch import Template, gather, templates
from leukorules.service.protocol import (
    Card,
    CdsRequest,
    OrderSelectContext,
    PatientViewContext,
    ServiceDescription,
)
from leukorules.service.reports import ReportStore, StoredReport

PATIENT_VIEW = "patient-view"
ORDER_SELECT = "order-select"


@dataclass(frozen=True, slots=True)
class PolicyService:
    """One loaded policy, served as the CDS service whose id is the policy id."""

    compiled: CompiledPolicy
    bindings: Bindings
    templates: tuple[Template, ...]
    catalogue: Catalogue
    graph: PolicyGraph
    folder: Path
    # the policy's files as the decision log stores them, hashed once
    sources: CollectedSources

    @staticmethod
    def of(compiled: CompiledPolicy, folder: Path, catalogue: Catalogue) -> PolicyService:
        bindings = Bindings.of(compiled.policy)
        return PolicyService(
            compiled=compiled,
            bindings=bindings,
            templates=templates(bindings),
            catalogue=catalogue,
            graph=PolicyGraph.of(compiled.policy),
            folder=folder,
            sources=collect_sources(compiled.evaluate({}), compiled.sources),
        )

    @property
    def id(self) -> str:
        return self.compiled.policy.id

    @property
    def hooks(self) -> tuple[str, ...]:
        return (PATIENT_VIEW, ORDER_SELECT) if self.catalogue.orders else (PATIENT_VIEW,)

    def descriptions(self) -> list[ServiceDescription]:
        policy = self.compiled.policy
        prefetch = {t.key: t.query for t in self.templates}
        found = [
            ServiceDescription(
                hook=PATIENT_VIEW,
                id=self.id,
                title=f"{policy.title} (version {policy.version})",
                description=(
                    f"Recommendations of \u201c{policy.title}\u201d for the patient whose chart "
                    "is opened, each with its statement, evidence and the facts that decided "
                    "it; the facts still to find out; a warning instead of advice when the "
                    "record is invalid or contradicts itself."
                ),
                prefetch=prefetch,
            )
        ]
        if self.catalogue.orders:
            actions = sorted({o.rule for o in self.catalogue.orders})
            found.append(
                ServiceDescription(
                    hook=ORDER_SELECT,
                    id=self.id,
                    title=f"{policy.title}: sequencing of selected orders",
                    description=(
                        "When an order the guideline sequences is selected ("
                        + ", ".join(actions)
                        + "), the statements that sequence it and whether the patient's "
                        "facts satisfy them."
                    ),
                    prefetch=prefetch,
                )
            )
        return found


@dataclass(frozen=True, slots=True)
class Decision:
    cards: list[Card]
    log: NewDecision | None = None
    report_id: str | None = None
    report: StoredReport | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """What one hook call brings: the request, its context, each prefetch key's data as
    (parsed JSON, its text), the decision log's user label (None: not authenticated)."""

    request: CdsRequest
    context: PatientViewContext
    data: Mapping[str, tuple[Any, str]]
    user: str | None
    as_of: datetime.date


def decide(service: PolicyService, call: Call, reports_url: str, log: bool) -> Decision:
    policy = service.compiled.policy
    label = f"{policy.title} (version {policy.version})"
    gathered = gather(call.data, call.context.patientId, service.templates)
    if gathered.problems:
        title = "The data sent is not one patient's record: no recommendation was made"
        return Decision([problem_card(title, gathered.problems, label, policy.id)])
    record = map_entries(gathered.entries, service.bindings, call.as_of)
    errors = [d for d in record.diagnostics if d.severity is Severity.ERROR]
    if errors:
        contradictory = any(d.code is FHIR_SOURCES_DISAGREE.code for d in errors)
        title = (
            "The record contradicts itself: no recommendation was made"
            if contradictory
            else "The record holds invalid FHIR data: no recommendation was made"
        )
        return Decision([problem_card(title, errors, label, policy.id)])
    values, problems = service.compiled.check_facts(dict(record.facts))
    if values is None:
        title = "The record's facts contradict each other: no recommendation was made"
        return Decision([problem_card(title, problems, label, policy.id)])
    evaluation = service.compiled.evaluate(values)
    report_id = ReportStore.new_id()
    context = CardContext(
        policy=policy,
        evaluation=evaluation,
        provenance=record.provenance,
        report_url=f"{reports_url}/{report_id}",
    )
    if isinstance(call.context, OrderSelectContext):
        selected = selected_orders(call.context.draftOrders, call.context.selections)
        sequencing = Sequencing(service.compiled, service.graph, values)
        cards = order_cards(service.catalogue, selected, sequencing, context)
    else:
        cards = decision_cards(context)
    row = None
    if log:
        # as `evaluate --log`: the evaluation without provenance, so replay reproduces it
        row = new_decision(
            evaluation,
            values,
            service.compiled.sources,
            user=call.user,
            case=call.request.hookInstance,
            collected=service.sources,
        )
    return Decision(
        cards, row, report_id, StoredReport(service.compiled, values, record.provenance)
    )
