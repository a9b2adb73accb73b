"""The `order-select` hook: a draft order the guideline sequences, checked against the patient.

Input: the policy's order catalogue (`cds-orders.toml` beside the policy: which draft orders
carry out which rule's recommendation, by resource type and code, each code with the public
source it was checked in), the hook's draft orders and selections, and the patient's evaluation.
Output: one card per selected order the catalogue recognises: the sequencing statements of that
rule's part of the guideline (its section's recommendations up to its line of therapy, and the
rules it comes `after`), each verbatim with whether the patient's facts satisfy it, and why.
Orders the catalogue does not know give no card.

Why a catalogue file and not the policy language: the codes of orders are procedure and
billing codes (CPT, HCPCS) that the language's code systems do not hold, and an order is not a
fact. `load_catalogue` checks what the checker would: every rule exists and recommends, every
code is well formed for its system, every code names its source; `CatalogueError` otherwise.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leukorules import model as m
from leukorules.codesystems import SYSTEMS_BY_KEYWORD, well_formed
from leukorules.engine.compile import CompiledPolicy
from leukorules.engine.facts import ValidatedFacts
from leukorules.reading import SourceError, read_source
from leukorules.report.common import json_value_text
from leukorules.result import model as r
from leukorules.rulegraph import PolicyGraph
from leukorules.service.cards import CardContext, md, one_line
from leukorules.service.protocol import Card

CATALOGUE_NAME = "cds-orders.toml"
CPT = "http://www.ama-assn.org/go/cpt"
# HL7's terminology names HCPCS Level II with http://; many records write https://.
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
HCPCS_ALIASES = (HCPCS, "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets")
ORDER_SYSTEMS = {**SYSTEMS_BY_KEYWORD, "cpt": CPT, "hcpcs": HCPCS}
_FORMATS = {
    CPT: re.compile(r"[0-9]{4}[0-9FTU]"),
    HCPCS: re.compile(r"[A-V][0-9]{4}"),
}
# Where each kind of draft order holds its code.
ORDER_CODE_ELEMENT = {
    "MedicationRequest": "medicationCodeableConcept",
    "ServiceRequest": "code",
}


class CatalogueError(ValueError):
    """An order catalogue the service will not start with; the message names the problem."""


@dataclass(frozen=True, slots=True)
class OrderCode:
    system: str
    code: str
    display: str
    source: str


@dataclass(frozen=True, slots=True)
class Order:
    rule: str
    resource: str
    codes: tuple[OrderCode, ...]


@dataclass(frozen=True, slots=True)
class Catalogue:
    orders: tuple[Order, ...]

    def rules_for(self, resource: Mapping[str, Any]) -> list[str]:
        """The rules a draft order carries out (none for an order the catalogue lacks)."""
        kind = resource.get("resourceType")
        element = ORDER_CODE_ELEMENT.get(kind) if isinstance(kind, str) else None
        concept = resource.get(element) if element else None
        codings = concept.get("coding") if isinstance(concept, dict) else None
        if not isinstance(codings, list):
            return []
        given = {
            (_canonical(c.get("system")), c.get("code")) for c in codings if isinstance(c, dict)
        }
        found = []
        for order in self.orders:
            if order.resource == kind and any((c.system, c.code) in given for c in order.codes):
                found.append(order.rule)
        return list(dict.fromkeys(found))


def _canonical(system: object) -> object:
    return HCPCS if system in HCPCS_ALIASES else system


def load_catalogue(policy: m.Policy, folder: Path) -> Catalogue:
    """The catalogue beside the policy (`folder/cds-orders.toml`); empty when there is none.
    TOML, not YAML: every YAML file in a policy folder is one of its scenario files."""
    path = folder / CATALOGUE_NAME
    if not path.exists():
        return Catalogue(())
    try:
        text = read_source(path).text
    except (SourceError, OSError) as error:
        raise CatalogueError(f"order catalogue {path} cannot be read: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"order catalogue {path} is not TOML: {error}") from None
    if set(data) != {"order"} or not isinstance(data["order"], list):
        raise CatalogueError(f"order catalogue {path}: expected [[order]] tables and nothing else")
    rules = {rule.id: rule for rule in policy.rules}
    orders = [_order(item, rules, path) for item in data["order"]]
    return Catalogue(tuple(orders))


def _order(item: object, rules: Mapping[str, m.Rule], path: Path) -> Order:
    if not isinstance(item, dict) or set(item) != {"rule", "resource", "code"}:
        raise CatalogueError(
            f"order catalogue {path}: each [[order]] has rule, resource and [[order.code]]"
        )
    rule, resource, codes = item["rule"], item["resource"], item["code"]
    if rule not in rules or rules[rule].kind != "recommend":
        raise CatalogueError(f"order catalogue {path}: {rule!r} is no recommendation of the policy")
    if resource not in ORDER_CODE_ELEMENT:
        kinds = ", ".join(ORDER_CODE_ELEMENT)
        raise CatalogueError(f"order catalogue {path}: resource {resource!r} is not one of {kinds}")
    if not isinstance(codes, list) or not codes:
        raise CatalogueError(f"order catalogue {path}: {rule} lists no codes")
    return Order(rule, resource, tuple(_code(c, rule, path) for c in codes))


def _code(item: object, rule: str, path: Path) -> OrderCode:
    keys = {"system", "code", "display", "source"}
    if not isinstance(item, dict) or set(item) != keys:
        raise CatalogueError(f"order catalogue {path}: each code of {rule} has {sorted(keys)}")
    values = {k: item[k] for k in keys}
    if not all(isinstance(v, str) and v.strip() for v in values.values()):
        raise CatalogueError(f"order catalogue {path}: a code of {rule} has an empty field")
    system = ORDER_SYSTEMS.get(values["system"])
    if system is None:
        names = ", ".join(ORDER_SYSTEMS)
        raise CatalogueError(f"order catalogue {path}: system {values['system']!r} is not {names}")
    code = values["code"]
    pattern = _FORMATS.get(system)
    valid = pattern.fullmatch(code) is not None if pattern else well_formed(system, code)
    if not valid:
        raise CatalogueError(f"order catalogue {path}: {values['system']} {code} is malformed")
    return OrderCode(system, code, values["display"], values["source"])


# --- the cards ---------------------------------------------------------------------------------


def selected_orders(
    draft_orders: Mapping[str, Any], selections: Sequence[str]
) -> list[Mapping[str, Any]]:
    """The selected resources of the draft orders Bundle, in selection order."""
    entries = draft_orders.get("entry", [])
    by_reference: dict[str, Mapping[str, Any]] = {}
    for item in entries if isinstance(entries, list) else []:
        resource = item.get("resource") if isinstance(item, dict) else None
        if not isinstance(resource, dict):
            continue
        kind, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(kind, str) and isinstance(rid, str):
            by_reference[f"{kind}/{rid}"] = resource
        full_url = item.get("fullUrl")
        if isinstance(full_url, str):
            by_reference[full_url] = resource
    return [by_reference[s] for s in selections if s in by_reference]


@dataclass(frozen=True, slots=True)
class Sequencing:
    """What an order-select card needs beyond the evaluation."""

    compiled: CompiledPolicy
    graph: PolicyGraph
    values: ValidatedFacts


def order_cards(
    catalogue: Catalogue,
    selected: Iterable[Mapping[str, Any]],
    sequencing: Sequencing,
    context: CardContext,
) -> list[Card]:
    rules: list[str] = []
    for resource in selected:
        rules.extend(catalogue.rules_for(resource))
    return [_sequence_card(rule, sequencing, context) for rule in dict.fromkeys(rules)]


def _sequence(rule_id: str, policy: m.Policy, graph: PolicyGraph) -> list[m.Rule]:
    """The statements that sequence `rule_id`: its section's recommendations up to its line of
    therapy, and the rules it comes after (transitively), in line then guideline order."""
    target = graph.index[rule_id]
    rule = policy.rules[target]
    chosen = set(graph.after_closure(target)) | {target}
    for i, other in enumerate(policy.rules):
        same_part = other.kind == "recommend" and other.section == rule.section
        if same_part and graph.line[i] <= graph.line[target]:
            chosen.add(i)
    return [policy.rules[i] for i in sorted(chosen, key=lambda i: (graph.line[i], i))]


_VERDICT = {
    "fired": ("satisfied", "the patient's facts satisfy the guideline's sequence", "info"),
    "not_fired": (
        "not satisfied",
        "the patient's facts do not satisfy the guideline's sequence",
        "warning",
    ),
    "undetermined": (
        "cannot tell yet",
        "information needed to confirm the guideline's sequence",
        "info",
    ),
    "overridden": ("overridden", "another statement of the guideline takes precedence", "warning"),
}


def _sequence_card(rule_id: str, sequencing: Sequencing, context: CardContext) -> Card:
    evaluation = context.evaluation
    policy = context.policy
    graph = sequencing.graph
    rule = policy.rules[graph.index[rule_id]]
    assert isinstance(rule.conclusion, m.Recommend)
    outcome = evaluation.outcomes.get(rule_id, "undetermined")
    _, verdict, indicator = _VERDICT[outcome]
    lines = [
        f"Where the guideline places **{md(rule.conclusion.action)}**, line by line of therapy:",
        "",
    ]
    for step in _sequence(rule_id, policy, graph):
        lines.extend(_step_lines(step, step.id == rule_id, graph, sequencing, evaluation))
    summary = f"{rule.conclusion.action}: {verdict}"
    return Card(
        uuid=str(uuid.uuid4()),
        summary=one_line(summary),
        indicator=indicator,  # type: ignore[arg-type]
        detail="\n".join(lines),
        source=context.source(rule.id, rule.evidence, rule.section),
        links=context.links(),
    )


def _step_lines(
    step: m.Rule,
    selected: bool,
    graph: PolicyGraph,
    sequencing: Sequencing,
    evaluation: r.Evaluation,
) -> list[str]:
    """`2. Plasma exchange: "statement" (`id`)` and, under it, whether it holds and why."""
    outcome = evaluation.outcomes.get(step.id, "undetermined")
    status = _VERDICT[outcome][0]
    line = graph.line[graph.index[step.id]]
    action = step.conclusion.action if isinstance(step.conclusion, m.Recommend) else step.id
    marker = "**\u25b6 selected:** " if selected else ""
    why = ""
    if outcome == "fired":
        found = next((e for e in evaluation.recommendations if e.rule == step.id), None)
        if found is not None and found.because:
            why = "; ".join(
                f"`{b.fact}` = {md(json_value_text(b.value, b.unit))}" for b in found.because
            )
    elif outcome == "undetermined":
        pending = next((e for e in evaluation.undetermined if e.rule == step.id), None)
        if pending is not None and pending.missing:
            why = "find out " + ", ".join(f"`{f}`" for f in pending.missing)
    else:
        why = _why_not(sequencing.compiled.explain(sequencing.values, step.id).why_not)
    return [
        f"{line}. {marker}{md(action)}: \u201c{md(step.statement)}\u201d (`{step.id}`)",
        f"   - **{status}**" + (f": {why}" if why else ""),
    ]


def _why_not(why: r.WhyNot | None) -> str:
    """Why a statement does not hold, as markdown: the condition that is false and the facts
    it read, or the statements it comes after that did not fire."""
    if why is None:
        return ""
    if why.reason == "condition":
        reads = "; ".join(
            f"`{read.fact}` = {md(json_value_text(read.value, read.unit))}" for read in why.reads
        )
        return f"`{why.condition}` is false" + (f": {reads}" if reads else "")
    rules = ", ".join(f"`{rule}`" for rule in why.rules)
    if why.reason == "after":
        return f"it comes after {rules}, which did not fire"
    return f"overridden by {rules}"
