"""The HTML report of each decision, served for a while at an unguessable address.

Input: a decision (the compiled policy, the validated facts, the provenance of the record).
Output: an id of 256 random bits (`secrets.token_urlsafe(32)`) under which `render` gives the
report `leukorules evaluate --format html` writes for the same facts (with the trace and the
resources that supplied each fact), until it expires (`report_ttl_seconds`) or the store, full
(`max_reports`), drops its oldest. Nothing is written to disk.

The address is the only key: a card's link is opened by a browser, which cannot send the EHR's
token. Whoever holds the link reads the report until it expires, like any capability URL; the
application serves it with `Cache-Control: no-store` and `Referrer-Policy: no-referrer` so it
is neither cached nor leaked to other sites. The report is rendered when it is read: the
evaluation is deterministic, so it is the decision the cards were made from.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from leukorules.engine.compile import CompiledPolicy
from leukorules.engine.facts import ValidatedFacts
from leukorules.fhir.provenance import FactProvenance
from leukorules.service.expiring import ExpiringMap


@dataclass(frozen=True, slots=True)
class StoredReport:
    """What a report is rendered from. The provenance is kept as the record's mapping gave it
    and converted to the result's form only when the report is read (most never are)."""

    compiled: CompiledPolicy
    values: ValidatedFacts
    provenance: Mapping[str, FactProvenance] | None


class ReportStore:
    def __init__(
        self, capacity: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._reports: ExpiringMap[str, StoredReport] = ExpiringMap(
            capacity, evict=True, clock=clock
        )

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)

    def keep(self, report_id: str, report: StoredReport) -> None:
        self._reports.add(report_id, report, self.clock() + self.ttl)

    def render(self, report_id: str) -> str | None:
        """The report's HTML, or None when there is no such report (or no longer)."""
        if len(report_id) > 64:
            return None
        found = self._reports.get(report_id)
        if found is None:
            return None
        from leukorules.report.html import render_html

        evaluation = found.compiled.evaluate(found.values, trace=True)
        if found.provenance is not None:
            provenance = {name: p.to_result() for name, p in found.provenance.items()}
            evaluation = dataclasses.replace(evaluation, provenance=provenance)
        return render_html(evaluation, found.compiled.policy, found.values)

    def __len__(self) -> int:
        return len(self._reports)
