"""A run of the compiled core -> the `Evaluation` result model.

Input: a `Run` (effective and base truth of every rule, derived values, gap truths). Output: the
`Evaluation` of `leukorules.engine.result`, with entries in their documented order:
recommendations by section, then line of therapy, then guideline order; notes, undetermined and
overridden rules by section, then guideline order; derived facts in declaration order; gaps in
guideline order. Sections are in guideline order, each ranked where its first rule stands, so
every section's entries are contiguous (a report prints each heading once); a heading whose only
rules follow its sub-sections in the source comes after them, as in the source.

The models are built with `result.trusted` (no second validation): every value is typed here, and
the tests check that results equal their validated round trip and match the published schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from leukorules import model as m
from leukorules.engine import trace as tr
from leukorules.engine.compile import ENGINE_NAME, CompiledPolicy, Run
from leukorules.engine.values import json_value
from leukorules.version import __version__

if TYPE_CHECKING:
    from leukorules.engine import result as r

# Builds one entry: (name of its class in `leukorules.engine.result`, its field values).
Make = Callable[[str, dict[str, Any]], Any]


_CLASSES: dict[str, Any] = {}


def _trusted(kind: str, values: dict[str, Any]) -> Any:
    """The pydantic entry (`result.trusted`, no second validation)."""
    cls = _CLASSES.get(kind)
    if cls is None:
        from leukorules.engine import result

        _CLASSES["trusted"] = result.trusted
        cls = _CLASSES[kind] = getattr(result, kind)
    return _CLASSES["trusted"](cls, values)


class View:
    """An entry of an attribute-only view: the same field values as the pydantic entry, read as
    attributes, and nothing else (no dump, no validation). Renderers that only read attributes
    (text, markdown) take views, so those commands never import pydantic."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__ = values


class EvaluationView(View):
    recommendations: list[Any]
    notes: list[Any]

    def fired(self) -> list[str]:
        """Ids of the fired recommendations and notes, in result order (`Evaluation.fired`)."""
        return [e.rule for e in self.recommendations] + [e.rule for e in self.notes]


def _view(kind: str, values: dict[str, Any]) -> Any:
    """A `View` of the entry `_trusted` would build: defaults filled in and fields in declaration
    order, as `trusted` does."""
    fields = _VIEW_FIELDS.get(kind)
    if fields is not None and values.keys() != fields.keys():
        values = {
            name: values[name] if name in values else default()  # type: ignore[misc]
            for name, default in fields.items()
        }
    return View(values)


def _none() -> None:
    return None


def _false() -> bool:
    return False


# The entries evaluations build that have fields with defaults: every field, in declaration
# order (see `leukorules.engine.result`), with its default's factory (None: required). Tests
# check that views carry exactly the pydantic entries' fields, in order, and values.
_FACT = {"fact": None, "value": None, "unit": _none, "derived": _false, "rule": _none}
_VIEW_FIELDS: dict[str, dict[str, Callable[[], Any] | None]] = {
    "Reason": _FACT,
    "Read": _FACT,
    "Undetermined": {
        **dict.fromkeys(("rule", "statement", "evidence", "section", "kind")),
        "action": _none,
        "missing": None,
        "unresolved": list,
    },
    "WhyNot": {
        "reason": None,
        "condition": _none,
        "line": _none,
        "column": _none,
        "reads": list,
        "rules": list,
    },
    "TraceEntry": {
        **dict.fromkeys(("rule", "kind", "outcome", "condition")),
        "why_not": _none,
        "missing": list,
    },
    "EvidenceInfo": {
        **dict.fromkeys(("id", "citation")),
        **dict.fromkeys(("url", "doi", "pmid", "grade", "certainty"), _none),
    },
    "PolicyInfo": {
        **dict.fromkeys(("id", "title", "version")),
        "source": _none,
        "effective": _none,
        **dict.fromkeys(("sha256", "sources", "evidence")),
    },
}


_TRUTH_TEXT: dict[bool | None, str] = {True: "true", False: "false", None: "unknown"}


def policy_info(policy: m.Policy, make: Make = _trusted) -> r.PolicyInfo:
    return cast(
        "r.PolicyInfo",
        make(
            "PolicyInfo",
            {
                "id": policy.id,
                "title": policy.title,
                "version": policy.version,
                "source": policy.source,
                "effective": policy.effective.isoformat() if policy.effective else None,
                "sha256": policy.sha256,
                "sources": [
                    make("SourceInfo", {"path": s.path, "sha256": s.sha256}) for s in policy.sources
                ],
                "evidence": {
                    e.id: make(
                        "EvidenceInfo",
                        {
                            "id": e.id,
                            "citation": e.citation,
                            "url": e.url,
                            "doi": e.doi,
                            "pmid": e.pmid,
                            "grade": e.grade,
                            "certainty": e.certainty,
                        },
                    )
                    for e in policy.evidence.values()
                },
            },
        ),
    )


def _deriving_rule(run: Run, name: str) -> str | None:
    deriving = run.deriving(name)
    return run.compiled.rule_ids[deriving[0]] if deriving else None


def _fact_fields(run: Run, name: str) -> dict[str, Any]:
    derived = name in run.compiled.plan.derivers
    return {
        "fact": name,
        "value": run.json_value(name),
        "unit": run.unit(name),
        "derived": derived,
        "rule": _deriving_rule(run, name) if derived else None,
    }


def reasons(run: Run, names: tuple[str, ...], make: Make = _trusted) -> list[r.Reason]:
    return [make("Reason", _fact_fields(run, name)) for name in names]


def read(run: Run, name: str, make: Make = _trusted) -> r.Read:
    return cast("r.Read", make("Read", _fact_fields(run, name)))


def why_not(run: Run, i: int, make: Make = _trusted) -> r.WhyNot | None:
    """For a rule that did not fire: its first false sub-condition, or the `after` rules that did
    not fire, or the rules that overrode it. None for fired and undetermined rules."""
    plan = run.compiled.plan
    rule = plan.rules[i]
    outcome = run.outcome(i)
    if outcome in ("fired", "undetermined"):
        return None
    if outcome == "not_fired" and tr.truth_of(rule.when, run.env) is False:
        node = tr.first_false(rule.when, run.env)
        return cast(
            "r.WhyNot",
            make(
                "WhyNot",
                {
                    "reason": "condition",
                    "condition": tr.expr_text(node, run.compiled.policy.facts),
                    "line": node.span.line if node.span else None,
                    "column": node.span.column if node.span else None,
                    "reads": [read(run, name, make) for name in tr.reads(node)],
                },
            ),
        )
    blocked = [p for p in rule.after if run.effective[plan.index[p]] is False]
    if outcome == "not_fired" and blocked:
        return cast("r.WhyNot", make("WhyNot", {"reason": "after", "rules": blocked}))
    winners = [run.compiled.rule_ids[o] for o in run.winners(i)]
    return cast("r.WhyNot", make("WhyNot", {"reason": "overridden", "rules": winners}))


class Static:
    """Per-policy parts of the result that do not depend on the patient, built once."""

    def __init__(self, compiled: CompiledPolicy) -> None:
        plan = compiled.plan
        self.kinds: list[str] = []
        self.statements: list[str] = []
        self.evidence: list[tuple[str, ...]] = []
        self.sections: list[tuple[str, ...]] = []
        self.recommend: dict[int, tuple[str, dict[str, str], tuple[str, ...], int, tuple[str, ...]]]
        self.recommend = {}
        self.notes: dict[int, tuple[str, str | None]] = {}
        for i, rule in enumerate(plan.rules):
            self.kinds.append(rule.kind)
            self.statements.append(rule.statement)
            self.evidence.append(rule.evidence)
            self.sections.append(rule.section)
            conclusion = rule.conclusion
            if isinstance(conclusion, m.Recommend):
                strength = {
                    "key": conclusion.strength,
                    "label": m.STRENGTHS.get(conclusion.strength, conclusion.strength),
                }
                self.recommend[i] = (
                    conclusion.action,
                    strength,
                    conclusion.alternatives,
                    plan.line[i],
                    rule.after,
                )
            elif isinstance(conclusion, m.StateNote):
                self.notes[i] = (conclusion.kind, conclusion.text)
        self.gaps = compiled.policy.gaps
        self._made: dict[Make, tuple[dict[int, Any], Any]] = {}
        self.rule_ids = compiled.rule_ids

    def made(self, make: Make) -> tuple[dict[int, Any], Any]:
        """The strength of every recommendation and the engine entry, built once per `make`
        (results share them: they are immutable)."""
        found = self._made.get(make)
        if found is None:
            strengths = {i: make("Strength", dict(rec[1])) for i, rec in self.recommend.items()}
            engine = make("EngineInfo", {"name": ENGINE_NAME, "version": __version__})
            found = self._made[make] = (strengths, engine)
        return found

    def entry(self, i: int) -> dict[str, Any]:
        """The fields every entry about rule i has (fresh lists: results never share them)."""
        return {
            "rule": self.rule_ids[i],
            "statement": self.statements[i],
            "evidence": list(self.evidence[i]),
            "section": list(self.sections[i]),
        }


def build_evaluation(
    compiled: CompiledPolicy, run: Run, trace: bool, view: bool = False
) -> r.Evaluation:
    """The result for one run. Everything the patient decides is computed here: every outcome,
    and the because and chain of every fired rule reported, the missing facts of every
    undetermined rule, the derivations and the gaps. The pydantic entries are built from these
    on first use (see `Evaluation._materialise`).

    `view=True`: an `EvaluationView` instead, built at once from `View` entries: the same field
    values, read as attributes only (typed as `Evaluation` for the renderers that read them);
    pydantic is not imported."""
    # The compiled core lists what depends on the patient beyond what it computed itself
    # (`CompiledPolicy.static_explained`, `missing_generated`); the rest is a table lookup.
    static_explained = compiled.static_explained
    explained: dict[int, tuple[tuple[str, ...], list[str]]] = {}
    for i in run.to_explain:
        explained[i] = (run.because(i), run.chain(i))
    for _, deriving in run.derivations:
        i = deriving[0]
        if static_explained[i] is None and i not in explained:
            explained[i] = (run.because(i), run.chain(i))
    walked: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    for i in run.to_walk:
        walked[i] = run.missing(i)
    entries = Entries(compiled, run, explained, walked, trace)
    if view:
        built = entries.build(_view)
        values = {
            "policy": policy_info(compiled.policy, _view),
            "facts_sha256": built.pop("facts_sha256"),
            "engine": compiled.static().made(_view)[1],
            "outcomes": run.outcomes,
            **built,
        }  # in `Evaluation`'s field order
        return cast("r.Evaluation", EvaluationView(values))
    pending = _CLASSES.get("pending")
    if pending is None:
        from leukorules.engine.result import pending_evaluation

        pending = _CLASSES["pending"] = pending_evaluation
    engine = compiled.static().made(_trusted)[1]
    eager = {"policy": compiled.policy_info(), "engine": engine, "outcomes": run.outcomes}
    return cast("r.Evaluation", pending(eager, entries))


class Entries:
    """What one result's entries are built from: the run, and the because and chain, and the
    missing facts, that `build_evaluation` worked out for the rules that needed work. Called,
    it builds the pydantic entries (`Evaluation._materialise`)."""

    __slots__ = ("compiled", "explained", "run", "trace", "walked")

    def __init__(
        self,
        compiled: CompiledPolicy,
        run: Run,
        explained: dict[int, tuple[tuple[str, ...], list[str]]],
        walked: dict[int, tuple[frozenset[str], frozenset[str]]],
        trace: bool,
    ) -> None:
        self.compiled = compiled
        self.run = run
        self.explained = explained
        self.walked = walked
        self.trace = trace

    def __call__(self) -> dict[str, Any]:
        return self.build(_trusted)

    def build(self, make: Make) -> dict[str, Any]:
        """The fields of the result other than policy, engine and outcomes."""
        compiled, run, explained, walked = self.compiled, self.run, self.explained, self.walked
        static = compiled.static()
        strengths = static.made(make)[0]
        static_explained = compiled.static_explained
        rule_ids = compiled.rule_ids
        found = run.found

        def fired(i: int) -> dict[str, Any]:
            entry = static.entry(i)
            pair = explained.get(i) or static_explained[i]
            assert pair is not None  # `build_evaluation` explained every rule the table lacks
            because, chain = pair
            entry["because"] = reasons(run, because, make)
            entry["chain"] = list(chain)
            return entry

        recommendations = []
        for i in run.recommended:
            action, _, alternatives, line, after = static.recommend[i]
            entry = fired(i)
            entry["action"] = action
            entry["strength"] = strengths[i]
            entry["alternatives"] = list(alternatives)
            entry["line"] = line
            entry["after"] = list(after)
            recommendations.append(make("Recommendation", entry))
        notes = []
        for i in run.noted:
            kind, text = static.notes[i]
            entry = fired(i)
            entry["kind"] = kind
            entry["text"] = text
            notes.append(make("Note", entry))
        derived_entries: dict[str, r.Derived] = {}
        for name, deriving in run.derivations:
            entry = fired(deriving[0])
            entry["value"] = json_value(run.env[name])
            entry["rules"] = [rule_ids[j] for j in deriving]
            derived_entries[name] = make("Derived", entry)
        undetermined_entries = []
        for i in run.undetermined:
            facts, unresolved = walked.get(i) or (found[i], ())
            recommend = static.recommend.get(i)
            entry = static.entry(i)
            entry["kind"] = static.kinds[i]
            entry["action"] = recommend[0] if recommend else None
            entry["missing"] = sorted(set(facts))
            entry["unresolved"] = sorted(unresolved)
            undetermined_entries.append(make("Undetermined", entry))
        overridden_entries = []
        for i in run.overridden:
            entry = static.entry(i)
            entry["kind"] = static.kinds[i]
            entry["overridden_by"] = [rule_ids[o] for o in run.winners(i)]
            overridden_entries.append(make("Overridden", entry))
        return {
            "facts_sha256": run.facts_sha256(),
            "recommendations": recommendations,
            "notes": notes,
            "derived": derived_entries,
            "undetermined": undetermined_entries,
            "gaps": [
                make("GapInfo", {"id": gap.id, "section": list(gap.section), "note": gap.note})
                for gap, truth in zip(static.gaps, run.gap_truth, strict=True)
                if truth is True
            ],
            "overridden": overridden_entries,
            "trace": trace_entries(compiled, run, run.outcomes, make) if self.trace else None,
        }


def trace_entries(
    compiled: CompiledPolicy, run: Run, outcomes: dict[str, r.Outcome], make: Make = _trusted
) -> list[r.TraceEntry]:
    static = compiled.static()
    entries = []
    for i, rule in enumerate(compiled.plan.rules):
        outcome = outcomes[rule.id]
        missing_facts = sorted(run.missing(i)[0]) if outcome == "undetermined" else []
        entries.append(
            make(
                "TraceEntry",
                {
                    "rule": rule.id,
                    "kind": static.kinds[i],
                    "outcome": outcome,
                    "condition": _TRUTH_TEXT[tr.truth_of(rule.when, run.env)],
                    "why_not": why_not(run, i, make),
                    "missing": missing_facts,
                },
            )
        )
    return entries
