"""Sections, rules and gaps -> model, each body line checked against the declarations.

Input: the `section`, `rule` and `gap` blocks of the syntax tree, in policy order, after every
declaration is resolved into the `Draft`. Output: `m.Section`s, `m.Rule`s and `m.Gap`s in the
draft; a rule with any error is left out and named in `draft.broken_rules` (so the logic checks
skip it), and every problem is added to the diagnostics: body lines a rule or gap may not hold
or holds twice, a missing statement, evidence or conclusion, more than one conclusion,
undeclared evidence, rules and facts, ids and headings used twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leukorules import messages as msg
from leukorules import model as m
from leukorules.check.conditions import Conditions
from leukorules.check.draft import Draft
from leukorules.diagnostics import DECLARED, Diagnostic, Related, did_you_mean
from leukorules.syntax import ast
from leukorules.syntax.keywords import keywords

GAP_FIELDS = ("when", "note")
CONSTRAINT_FIELDS = ("when", "require", "message")
MAX_LINE = 99
# Body lines that take a comma-separated list: a second line of one is written on the first.
_LIST_FIELDS = ("evidence", "alternatives", "after", "overrides")


@dataclass(frozen=True, slots=True)
class RuleBody:
    """The body lines of one rule or gap: the first of each kind (a repeated one is reported),
    and every conclusion, in body order."""

    statement: ast.Statement | None = None
    evidence: ast.EvidenceRefs | None = None
    when: ast.When | None = None
    strength: ast.Strength | None = None
    alternatives: ast.Alternatives | None = None
    after: ast.After | None = None
    overrides: ast.Overrides | None = None
    line: ast.Line | None = None
    require: ast.Require | None = None
    message: ast.Message | None = None
    conclusions: tuple[ast.Conclusion, ...] = ()


def _sorted_body(lines: Sequence[ast.BodyItem]) -> RuleBody:
    """Body lines (at most one of each kind) sorted into their places."""
    statement: ast.Statement | None = None
    evidence: ast.EvidenceRefs | None = None
    when: ast.When | None = None
    strength: ast.Strength | None = None
    alternatives: ast.Alternatives | None = None
    after: ast.After | None = None
    overrides: ast.Overrides | None = None
    stated_line: ast.Line | None = None
    require: ast.Require | None = None
    message: ast.Message | None = None
    conclusions: list[ast.Conclusion] = []
    for line in lines:
        match line:
            case ast.Statement():
                statement = line
            case ast.EvidenceRefs():
                evidence = line
            case ast.When():
                when = line
            case ast.Strength():
                strength = line
            case ast.Alternatives():
                alternatives = line
            case ast.After():
                after = line
            case ast.Overrides():
                overrides = line
            case ast.Line():
                stated_line = line
            case ast.Require():
                require = line
            case ast.Message():
                message = line
            case ast.Recommend() | ast.Note() | ast.Derive():
                conclusions.append(line)
    return RuleBody(
        statement,
        evidence,
        when,
        strength,
        alternatives,
        after,
        overrides,
        stated_line,
        require,
        message,
        tuple(conclusions),
    )


class Rules:
    """Resolves sections, rules and gaps into `draft`, reporting into `diagnostics`."""

    def __init__(self, draft: Draft, diagnostics: list[Diagnostic], conditions: Conditions) -> None:
        self.draft = draft
        self.diagnostics = diagnostics
        self.conditions = conditions
        self.rule_fields = keywords().body_fields
        self._section_paths: set[tuple[str, ...]] = set()  # for duplicate headings, in O(1)

    def collect_ids(self, items: Sequence[ast.Item]) -> None:
        """Every rule and gap id, so that rules may refer to rules written after them."""
        stack: list[ast.Item | ast.SectionBlock | ast.RuleBlock] = list(reversed(items))
        while stack:
            item = stack.pop()
            if isinstance(item, ast.SectionBlock):
                stack.extend(reversed(item.items))
            elif isinstance(item, ast.RuleBlock):
                rule_id = item.id.name
                if rule_id in self.draft.rule_ids:
                    first = Related(self.draft.rule_ids[rule_id], "first used here")
                    self.diagnostics.append(
                        msg.RULE_ID_TWICE.at(
                            item.id.span, block=item.block, id=rule_id, related=[first]
                        )
                    )
                    self.draft.broken_rules.add(rule_id)
                else:
                    self.draft.rule_ids[rule_id] = item.id.span

    def section_item(self, item: ast.SectionBlock | ast.RuleBlock, path: tuple[str, ...]) -> None:
        if isinstance(item, ast.SectionBlock):
            section_path = (*path, item.title.value)
            if section_path in self._section_paths:
                self.diagnostics.append(
                    msg.SECTION_TWICE.at(item.title.span, title=item.title.value)
                )
            self.draft.sections.append(m.Section(section_path, item.title.span))
            self._section_paths.add(section_path)
            for child in item.items:
                self.section_item(child, section_path)
        elif item.block == "gap":
            self.gap(item, path)
        elif item.block == "constraint":
            self.constraint(item)
        else:
            self.rule(item, path)

    def body(self, block: ast.RuleBlock, allowed: Sequence[str]) -> RuleBody:
        """The body lines of a block; lines it may not hold, or holds twice, are reported."""
        kind = block.block
        seen: dict[str, ast.BodyItem] = {}
        for line in block.items:
            if line.kind not in allowed:
                self.diagnostics.append(
                    msg.FIELD_NOT_ALLOWED.at(
                        line.span, kind=line.kind, block=kind, allowed=", ".join(allowed)
                    )
                )
            elif line.kind in seen:
                if isinstance(line, ast.When):
                    message = msg.CONDITION_TWICE
                    self.conditions.when(line)  # still checked, and the facts it reads count
                elif line.kind in _LIST_FIELDS:
                    message = msg.LIST_TWICE
                else:
                    message = msg.BODY_FIELD_TWICE
                first = Related(seen[line.kind].span, "first given here")
                self.diagnostics.append(
                    message.at(
                        line.span, kind=line.kind, block=kind, rule=block.id.name, related=[first]
                    )
                )
            else:
                seen[line.kind] = line
        return _sorted_body(list(seen.values()))

    def gap(self, block: ast.RuleBlock, path: tuple[str, ...]) -> None:
        body = self.body(block, GAP_FIELDS)
        when = self.conditions.when(body.when)
        notes = [c for c in body.conclusions if isinstance(c, ast.Note)]
        note = notes[0].text.value if notes and notes[0].text is not None else None
        if when is None:
            return
        self.draft.gaps.append(m.Gap(block.id.name, path, when, note, block.id.span))

    def constraint(self, block: ast.RuleBlock) -> None:
        body = self.body(block, CONSTRAINT_FIELDS)
        when = self.conditions.when(body.when)
        require = None
        if body.require is None:
            self.diagnostics.append(msg.REQUIRE_MISSING.at(block.id.span, id=block.id.name))
        else:
            require = self.conditions.expr(body.require.condition)
        if when is None or require is None:
            return
        derived = [
            name
            for name in dict.fromkeys((*m.expr_facts(when), *m.expr_facts(require)))
            if name in self.draft.facts and self.draft.facts[name].derived
        ]
        for name in derived:
            self.diagnostics.append(
                msg.CONSTRAINT_READS_DERIVED.at(block.id.span, id=block.id.name, name=name)
            )
        if derived:
            return
        message = body.message.text.value if body.message is not None else None
        self.draft.constraints.append(
            m.Constraint(block.id.name, when, require, message, block.id.span)
        )

    def stated_line(self, body: RuleBody) -> int | None:
        """A recommendation's `line N`, when it states one that is valid."""
        if body.line is None:
            return None
        number = body.line.number
        value = number.value
        if not isinstance(value, int) or not 1 <= value <= MAX_LINE:
            self.diagnostics.append(
                msg.LINE_NOT_A_LINE.at(number.span, value=number.text, highest=MAX_LINE)
            )
            return None
        return value

    def rule(self, block: ast.RuleBlock, path: tuple[str, ...]) -> None:
        rule_id = block.id.name
        body = self.body(block, self.rule_fields)
        broken = False
        statement = ""
        if body.statement is None:
            self.diagnostics.append(msg.STATEMENT_MISSING.at(block.id.span, rule=rule_id))
            broken = True
        else:
            statement = body.statement.text.value
            if not statement.strip():
                self.diagnostics.append(msg.EMPTY_STATEMENT.at(body.statement.text.span))
        if body.evidence is None:
            self.diagnostics.append(msg.EVIDENCE_MISSING.at(block.id.span, rule=rule_id))
            broken = True
        evidence, known = self.evidence(body.evidence)
        broken = broken or not known
        when = self.conditions.when(body.when)
        conclusion = self.conclusion(block, body)
        after = self.rule_refs(body.after, rule_id)
        overrides = self.rule_refs(body.overrides, rule_id)
        line = self.stated_line(body)
        if body.line is not None and line is None:
            broken = True
        if broken or when is None or conclusion is None:
            self.draft.broken_rules.add(rule_id)
            return
        self.draft.rules.append(
            m.Rule(
                id=rule_id,
                statement=statement,
                evidence=evidence,
                when=when,
                conclusion=conclusion,
                section=path,
                after=after,
                overrides=overrides,
                line=line,
                span=block.id.span,
            )
        )

    def evidence(self, line: ast.EvidenceRefs | None) -> tuple[tuple[str, ...], bool]:
        """The evidence a rule lists (each once), and whether all of it is declared."""
        if line is None:
            return (), True
        evidence: list[str] = []
        known = True
        for ref in line.refs:
            self.draft.evidence_uses.setdefault(ref.name, []).append(ref.span)
            if ref.name not in self.draft.evidence:
                suggestion = did_you_mean(ref.name, self.draft.evidence)
                self.diagnostics.append(
                    msg.EVIDENCE_UNDECLARED.at(ref.span, ref=ref.name, hint=suggestion or DECLARED)
                )
                known = False
            elif ref.name in evidence:
                self.diagnostics.append(msg.EVIDENCE_LISTED_TWICE.at(ref.span, ref=ref.name))
            else:
                evidence.append(ref.name)
        return tuple(evidence), known

    def rule_refs(self, line: ast.After | ast.Overrides | None, rule_id: str) -> tuple[str, ...]:
        """The rules an `after` or `overrides` line names, each once and declared."""
        if line is None:
            return ()
        refs: list[str] = []
        for name in line.rules:
            if name.name == rule_id:
                self.diagnostics.append(
                    msg.RULE_REFERS_TO_ITSELF.at(name.span, rule=rule_id, kind=line.kind)
                )
            elif name.name not in self.draft.rule_ids:
                others = (r for r in self.draft.rule_ids if r != rule_id)
                self.diagnostics.append(
                    msg.RULE_UNDECLARED.at(
                        name.span, name=name.name, hint=did_you_mean(name.name, others)
                    )
                )
            elif name.name not in refs:
                refs.append(name.name)
        return tuple(refs)

    def conclusion(self, block: ast.RuleBlock, body: RuleBody) -> m.Conclusion | None:
        rule_id = block.id.name
        if not body.conclusions:
            self.diagnostics.append(msg.CONCLUSION_MISSING.at(block.id.span, rule=rule_id))
            return None
        if len(body.conclusions) > 1:
            by_place = sorted(body.conclusions, key=lambda b: (b.span.line, b.span.column))
            first = Related(by_place[0].span, "first conclusion")
            self.diagnostics.append(
                msg.TWO_CONCLUSIONS.at(by_place[1].span, rule=rule_id, related=[first])
            )
            return None
        (conclusion,) = body.conclusions
        if not isinstance(conclusion, ast.Recommend):
            for extra in (body.strength, body.alternatives, body.line):
                if extra is not None:
                    self.diagnostics.append(msg.RECOMMENDATION_FIELD.at(extra.span, key=extra.kind))
        match conclusion:
            case ast.Recommend(action=action):
                strength = "unqualified"
                if body.strength is not None:
                    level = body.strength.level
                    if level.name not in m.STRENGTHS:
                        self.diagnostics.append(
                            msg.UNKNOWN_STRENGTH.at(
                                level.span,
                                name=level.name,
                                strengths=", ".join(m.STRENGTHS),
                                hint=did_you_mean(level.name, m.STRENGTHS) or DECLARED,
                            )
                        )
                        return None
                    strength = level.name
                alternatives = body.alternatives.actions if body.alternatives else ()
                return m.Recommend(action.value, strength, tuple(a.value for a in alternatives))
            case ast.Note(kind=kind, text=text):
                return m.StateNote(kind, text.value if text is not None else None)
            case ast.Derive(fact=target, value=literal):
                return self.derivation(target, literal)
        return None  # pragma: no cover

    def derivation(self, target: ast.Name, literal: ast.Literal_) -> m.Derive | None:
        fact = self.draft.facts.get(target.name)
        if fact is None:
            derived = [f.name for f in self.draft.facts.values() if f.derived]
            self.diagnostics.append(
                msg.DERIVED_FACT_UNDECLARED.at(
                    target.span,
                    name=target.name,
                    hint=did_you_mean(target.name, derived) or DECLARED,
                )
            )
            return None
        if not fact.derived:
            declared = [Related(fact.span, "declared as an input fact here")] if fact.span else []
            self.diagnostics.append(
                msg.DERIVING_AN_INPUT.at(target.span, name=target.name, related=declared)
            )
            return None
        value = self.conditions.literal_value(fact, literal)
        if value is None:
            return None
        return m.Derive(fact.name, value)
