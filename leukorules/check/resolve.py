"""Syntax tree -> policy model: names, fields and types.

Input: the items of every loaded module, in policy order. Output: a draft `Policy` (possibly with
elements left out where they had errors) and the diagnostics. All problems of all items are
collected; nothing here stops at the first error. Logic checks (cycles, unreachable conditions,
conflicts, unused declarations) run afterwards on the draft, in `leukorules.check.analysis`.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from leukorules import model as m
from leukorules.diagnostics import Code, Diagnostic, Related, did_you_mean
from leukorules.source import SourceFile, Span
from leukorules.syntax import ast

POLICY_FIELDS = {"title": "string", "version": "string", "source": "string", "effective": "date"}
EVIDENCE_FIELDS = ("citation", "url", "doi", "pmid", "grade", "certainty")
CONCLUSIONS = ("recommend", "note", "caution", "background", "derive")
RULE_FIELDS = (
    "statement",
    "evidence",
    "when",
    "recommend",
    "strength",
    "alternatives",
    "note",
    "caution",
    "background",
    "derive",
    "after",
    "overrides",
)
GAP_FIELDS = ("when", "note")
ORDERING_OPS = ("<", "<=", ">", ">=")


@dataclass
class Draft:
    """What the resolver built; `analysis` checks it and `check` freezes it into a Policy."""

    header: ast.PolicyBlock | None = None
    policy_id: str = ""
    title: str = ""
    version: str = ""
    source: str | None = None
    effective: datetime.date | None = None
    evidence: dict[str, m.Evidence] = field(default_factory=dict)
    facts: dict[str, m.Fact] = field(default_factory=dict)
    sections: list[m.Section] = field(default_factory=list)
    rules: list[m.Rule] = field(default_factory=list)
    gaps: list[m.Gap] = field(default_factory=list)
    # spans of the references, for "unused" and "undeclared" diagnostics
    evidence_uses: dict[str, list[Span]] = field(default_factory=dict)
    fact_uses: dict[str, list[Span]] = field(default_factory=dict)
    rule_ids: dict[str, Span] = field(default_factory=dict)
    # rules that could not be fully resolved; analysis skips logic checks involving them
    broken_rules: set[str] = field(default_factory=set)


class Resolver:
    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.draft = Draft()
        self._section_paths: set[tuple[str, ...]] = set()  # for duplicate headings, in O(1)

    def error(
        self,
        code: Code,
        message: str,
        span: Span | None,
        hint: str | None = None,
        related: Sequence[Related] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic.make(code, message, span, hint, related))

    # --- entry ------------------------------------------------------------------------------

    def resolve(self, items: Sequence[ast.Item]) -> Draft:
        # Declarations first (in any order in the files), then rules that refer to them.
        for item in items:
            if isinstance(item, ast.PolicyBlock):
                self._policy(item)
            elif isinstance(item, ast.EvidenceBlock):
                self._evidence(item)
            elif isinstance(item, ast.FactDecl):
                self._fact(item)
        if self.draft.header is None:
            first = next((getattr(i, "span", None) for i in items), None)
            self.error(
                Code.LR208,
                "the policy has no `policy` header",
                first,
                'start the main file with: policy my.policy { title "..." version "1.0" }',
            )
        self._collect_rule_ids(items)
        for item in items:
            if isinstance(item, ast.SectionBlock | ast.RuleBlock):
                self._section_item(item, ())
        return self.draft

    # --- header and evidence ----------------------------------------------------------------

    def _fields(
        self, fields: Iterable[ast.Field], allowed: Sequence[str], what: str
    ) -> dict[str, ast.Field]:
        seen: dict[str, ast.Field] = {}
        for f in fields:
            key = f.name.name
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f"{what} fields are: {', '.join(allowed)}"
                self.error(Code.LR205, f"unknown field `{key}` in {what}", f.name.span, hint)
            elif key in seen:
                self.error(
                    Code.LR207,
                    f"field `{key}` is given twice in {what}",
                    f.name.span,
                    related=[Related(seen[key].name.span, "first given here")],
                )
            else:
                seen[key] = f
        return seen

    def _string_field(self, f: ast.Field, what: str) -> str | None:
        if isinstance(f.value, ast.StringLit):
            return f.value.value
        if isinstance(f.value, ast.NumberLit | ast.NameLit | ast.DottedLit):
            # Bare version numbers and identifiers are accepted where a string is meant.
            return f.value.text if not isinstance(f.value, ast.NameLit) else f.value.name
        self.error(Code.LR209, f"`{f.name.name}` of {what} must be a string", f.value.span)
        return None

    def _policy(self, block: ast.PolicyBlock) -> None:
        draft = self.draft
        if draft.header is not None:
            self.error(
                Code.LR208,
                "a policy has exactly one `policy` header; this is a second one",
                block.id.span,
                "an included file holds declarations and sections, not a header",
                [Related(draft.header.id.span, "the first header")],
            )
            return
        draft.header = block
        draft.policy_id = block.id.name
        fields = self._fields(block.fields, tuple(POLICY_FIELDS), "the policy header")
        for key in ("title", "version"):
            if key not in fields:
                self.error(
                    Code.LR206,
                    f"the policy header has no `{key}`",
                    block.id.span,
                    f'add `{key} "..."` inside the braces',
                )
        if "title" in fields:
            draft.title = self._string_field(fields["title"], "the policy") or ""
        if "version" in fields:
            draft.version = self._string_field(fields["version"], "the policy") or ""
        if "source" in fields:
            draft.source = self._string_field(fields["source"], "the policy")
        if "effective" in fields:
            value = fields["effective"].value
            parsed = value.parse() if isinstance(value, ast.DateLit) else None
            if parsed is None:
                self.error(
                    Code.LR209,
                    "`effective` must be a calendar date",
                    value.span,
                    "write it as YYYY-MM-DD, e.g. effective 2026-01-31",
                )
            draft.effective = parsed

    def _evidence(self, block: ast.EvidenceBlock) -> None:
        ref = block.id.name
        if ref in self.draft.evidence:
            previous = self.draft.evidence[ref].span
            self.error(
                Code.LR204,
                f"evidence `{ref}` is declared twice",
                block.id.span,
                related=[Related(previous, "first declared here")] if previous else (),
            )
            return
        fields = self._fields(block.fields, EVIDENCE_FIELDS, f"evidence {ref}")
        values: dict[str, str | None] = {}
        for key in ("url", "doi", "pmid"):
            if key in fields:
                values[key] = self._string_field(fields[key], f"evidence {ref}")
        citation: str | None = None
        declared = "citation" in fields
        if declared:
            value = fields["citation"].value
            if isinstance(value, ast.NameLit) and value.name == "unknown":
                citation = None
            elif isinstance(value, ast.StringLit):
                citation = value.value
            else:
                self.error(
                    Code.LR209,
                    "`citation` must be a quoted citation or `unknown`",
                    value.span,
                    "write `citation unknown` when the source gives no citation",
                )
        grade = self._choice(fields.get("grade"), m.GRADE_STRENGTHS, "GRADE strength")
        certainty = self._choice(fields.get("certainty"), m.GRADE_CERTAINTIES, "GRADE certainty")
        self.draft.evidence[ref] = m.Evidence(
            id=ref,
            citation=citation,
            citation_declared=declared,
            url=values.get("url"),
            doi=values.get("doi"),
            pmid=values.get("pmid"),
            grade=grade,
            certainty=certainty,
            span=block.id.span,
        )

    def _choice(self, f: ast.Field | None, allowed: Sequence[str], what: str) -> str | None:
        if f is None:
            return None
        value = f.value
        if isinstance(value, ast.NameLit) and value.name in allowed:
            return value.name
        shown = value.name if isinstance(value, ast.NameLit) else getattr(value, "text", "?")
        hint = did_you_mean(str(shown), allowed) or f"allowed: {', '.join(allowed)}"
        self.error(Code.LR209, f"`{shown}` is not a {what}", value.span, hint)
        return None

    # --- facts ------------------------------------------------------------------------------

    def _fact(self, decl: ast.FactDecl) -> None:
        name = decl.name.name
        if name in self.draft.facts:
            previous = self.draft.facts[name].span
            self.error(
                Code.LR204,
                f"fact `{name}` is declared twice",
                decl.name.span,
                related=[Related(previous, "first declared here")] if previous else (),
            )
            return
        fact_type = self._type(decl.type)
        if fact_type is None:
            return
        description = decl.description.value if decl.description else None
        self.draft.facts[name] = m.Fact(name, fact_type, description, decl.derived, decl.name.span)

    def _type(self, spec: ast.TypeSpec) -> m.FactType | None:
        values: list[str] = []
        ok = True
        for value in spec.values:
            if value.name in values:
                self.error(Code.LR204, f"enum value `{value.name}` is listed twice", value.span)
                ok = False
            values.append(value.name)
        low = high = None
        if spec.range is not None:
            low_lit, high_lit = spec.range
            low, high = low_lit.value, high_lit.value
            if low > high:
                self.error(
                    Code.LR305,
                    f"range {low_lit.text}..{high_lit.text} is empty",
                    low_lit.span,
                    "write the lower bound first",
                )
                ok = False
            if spec.kind == "integer" and not (isinstance(low, int) and isinstance(high, int)):
                self.error(Code.LR305, "an integer range needs whole-number bounds", low_lit.span)
                ok = False
        if not ok:
            return None
        return m.FactType(
            spec.kind,
            tuple(values),
            spec.unit,
            None if low is None else float(low) if spec.kind == "number" else low,
            None if high is None else float(high) if spec.kind == "number" else high,
        )

    # --- sections, rules, gaps --------------------------------------------------------------

    def _collect_rule_ids(self, items: Sequence[ast.Item]) -> None:
        stack: list[ast.Item | ast.SectionBlock | ast.RuleBlock] = list(reversed(items))
        while stack:
            item = stack.pop()
            if isinstance(item, ast.SectionBlock):
                stack.extend(reversed(item.items))
            elif isinstance(item, ast.RuleBlock):
                rule_id = item.id.name
                if rule_id in self.draft.rule_ids:
                    kind = "gap" if item.is_gap else "rule"
                    self.error(
                        Code.LR204,
                        f"{kind} id `{rule_id}` is used twice",
                        item.id.span,
                        "rule and gap ids are stable identifiers and must be unique",
                        [Related(self.draft.rule_ids[rule_id], "first used here")],
                    )
                    self.draft.broken_rules.add(rule_id)
                else:
                    self.draft.rule_ids[rule_id] = item.id.span

    def _section_item(self, item: ast.SectionBlock | ast.RuleBlock, path: tuple[str, ...]) -> None:
        if isinstance(item, ast.SectionBlock):
            section_path = (*path, item.title.value)
            if section_path in self._section_paths:
                self.error(
                    Code.LR204,
                    f"section {item.title.value!r} appears twice under the same heading",
                    item.title.span,
                    "merge the two sections; each heading of the source appears once",
                )
            self.draft.sections.append(m.Section(section_path, item.title.span))
            self._section_paths.add(section_path)
            for child in item.items:
                self._section_item(child, section_path)
        elif item.is_gap:
            self._gap(item, path)
        else:
            self._rule(item, path)

    def _body(self, block: ast.RuleBlock, allowed: Sequence[str]) -> dict[str, ast.BodyItem]:
        kind = "gap" if block.is_gap else "rule"
        seen: dict[str, ast.BodyItem] = {}
        for body in block.items:
            if body.kind not in allowed:
                hint = f"a {kind} may hold: {', '.join(allowed)}"
                self.error(Code.LR205, f"`{body.kind}` is not allowed in a {kind}", body.span, hint)
            elif body.kind in seen:
                if body.kind == "when":
                    hint = "combine the conditions in one `when` with `and`"
                    self._when(body)  # still checked, and the facts it reads count as used
                elif body.kind in ("evidence", "alternatives", "after", "overrides"):
                    hint = "list several values on one line, separated by commas"
                else:
                    hint = f"a {kind} has one `{body.kind}`"
                self.error(
                    Code.LR207,
                    f"`{body.kind}` is given twice in {kind} `{block.id.name}`",
                    body.span,
                    hint,
                    [Related(seen[body.kind].span, "first given here")],
                )
            else:
                seen[body.kind] = body
        return seen

    def _gap(self, block: ast.RuleBlock, path: tuple[str, ...]) -> None:
        body = self._body(block, GAP_FIELDS)
        when = self._when(body.get("when"))
        note = None
        if "note" in body and body["note"].args:
            note_arg = body["note"].args[0]
            assert isinstance(note_arg, ast.StringLit)
            note = note_arg.value
        if when is None:
            return
        self.draft.gaps.append(m.Gap(block.id.name, path, when, note, block.id.span))

    def _rule(self, block: ast.RuleBlock, path: tuple[str, ...]) -> None:
        rule_id = block.id.name
        body = self._body(block, RULE_FIELDS)
        broken = False
        statement = ""
        if "statement" not in body:
            self.error(
                Code.LR206,
                f"rule `{rule_id}` has no `statement`",
                block.id.span,
                'quote the guideline sentence verbatim: statement "..."',
            )
            broken = True
        else:
            arg = body["statement"].args[0]
            assert isinstance(arg, ast.StringLit)
            statement = arg.value
            if not statement.strip():
                self.error(Code.LR209, "the statement is empty", arg.span)
        evidence: list[str] = []
        if "evidence" not in body:
            self.error(
                Code.LR401,
                f"rule `{rule_id}` states a guideline statement without evidence",
                block.id.span,
                "add the statement's evidence reference, e.g. `evidence 4`",
            )
            broken = True
        else:
            for ref in body["evidence"].args:
                assert isinstance(ref, ast.Name)
                self.draft.evidence_uses.setdefault(ref.name, []).append(ref.span)
                if ref.name not in self.draft.evidence:
                    self.error(
                        Code.LR202,
                        f"evidence `{ref.name}` is not declared",
                        ref.span,
                        did_you_mean(ref.name, self.draft.evidence)
                        or f"declare it: evidence {ref.name} {{ citation unknown }}",
                    )
                    broken = True
                elif ref.name in evidence:
                    self.error(Code.LR207, f"evidence `{ref.name}` is listed twice", ref.span)
                else:
                    evidence.append(ref.name)
        when = self._when(body.get("when"))
        if when is None:
            broken = True
        conclusion = self._conclusion(block, body)
        if conclusion is None:
            broken = True
        after = self._rule_refs(body.get("after"), rule_id)
        overrides = self._rule_refs(body.get("overrides"), rule_id)
        if broken or when is None or conclusion is None:
            self.draft.broken_rules.add(rule_id)
            return
        self.draft.rules.append(
            m.Rule(
                id=rule_id,
                statement=statement,
                evidence=tuple(evidence),
                when=when,
                conclusion=conclusion,
                section=path,
                after=after,
                overrides=overrides,
                span=block.id.span,
            )
        )

    def _rule_refs(self, body: ast.BodyItem | None, rule_id: str) -> tuple[str, ...]:
        if body is None:
            return ()
        refs: list[str] = []
        for arg in body.args:
            assert isinstance(arg, ast.Name)
            if arg.name == rule_id:
                self.error(
                    Code.LR410,
                    f"rule `{rule_id}` cannot be `{body.kind}` itself",
                    arg.span,
                )
            elif arg.name not in self.draft.rule_ids:
                self.error(
                    Code.LR203,
                    f"rule `{arg.name}` is not declared",
                    arg.span,
                    did_you_mean(arg.name, (r for r in self.draft.rule_ids if r != rule_id)),
                )
            elif arg.name not in refs:
                refs.append(arg.name)
        return tuple(refs)

    def _text_arg(self, body: ast.BodyItem) -> str | None:
        if not body.args:
            return None
        arg = body.args[0]
        assert isinstance(arg, ast.StringLit)
        return arg.value

    def _conclusion(
        self, block: ast.RuleBlock, body: dict[str, ast.BodyItem]
    ) -> m.Conclusion | None:
        given = [body[k] for k in CONCLUSIONS if k in body]
        if not given:
            self.error(
                Code.LR402,
                f"rule `{block.id.name}` has no conclusion",
                block.id.span,
                'add one of: recommend "action", note, caution, background, derive fact = value',
            )
            return None
        if len(given) > 1:
            first, second = sorted(given, key=lambda b: (b.span.line, b.span.column))[:2]
            self.error(
                Code.LR402,
                f"rule `{block.id.name}` has more than one conclusion",
                second.span,
                "split it into two rules, one conclusion each",
                [Related(first.span, "first conclusion")],
            )
            return None
        conclusion = given[0]
        if conclusion.kind != "recommend":
            for extra in ("strength", "alternatives"):
                if extra in body:
                    self.error(
                        Code.LR209,
                        f"`{extra}` belongs to a `recommend` conclusion",
                        body[extra].span,
                    )
        match conclusion.kind:
            case "recommend":
                action = self._text_arg(conclusion) or ""
                strength = "unqualified"
                if "strength" in body:
                    name_arg = body["strength"].args[0]
                    assert isinstance(name_arg, ast.Name)
                    if name_arg.name not in m.STRENGTHS:
                        self.error(
                            Code.LR412,
                            f"`{name_arg.name}` is not a strength of recommendation",
                            name_arg.span,
                            did_you_mean(name_arg.name, m.STRENGTHS)
                            or "strengths: " + ", ".join(m.STRENGTHS),
                        )
                        return None
                    strength = name_arg.name
                alternatives = (
                    tuple(
                        a.value for a in body["alternatives"].args if isinstance(a, ast.StringLit)
                    )
                    if "alternatives" in body
                    else ()
                )
                return m.Recommend(action, strength, alternatives)
            case "note" | "caution" | "background":
                return m.StateNote(conclusion.kind, self._text_arg(conclusion))
            case "derive":
                target, literal = conclusion.args
                assert isinstance(target, ast.Name)
                fact = self.draft.facts.get(target.name)
                if fact is None:
                    derived = [f.name for f in self.draft.facts.values() if f.derived]
                    self.error(
                        Code.LR201,
                        f"derived fact `{target.name}` is not declared",
                        target.span,
                        did_you_mean(target.name, derived)
                        or f"declare it: derived {target.name}: enum {{...}}",
                    )
                    return None
                if not fact.derived:
                    self.error(
                        Code.LR302,
                        f"`{target.name}` is an input fact; only `derived` facts can be derived",
                        target.span,
                        related=[Related(fact.span, "declared as an input fact here")]
                        if fact.span
                        else (),
                    )
                    return None
                assert not isinstance(literal, ast.Name)
                assert not isinstance(literal, ast.Name)
                value = self._literal_value(fact, literal)  # type: ignore[arg-type]
                if value is None:
                    return None
                return m.Derive(fact.name, value)
        return None  # pragma: no cover

    # --- conditions -------------------------------------------------------------------------

    def _when(self, body: ast.BodyItem | None) -> m.Expr | None:
        if body is None:
            return m.Const(True)
        expr = body.args[0]
        assert not isinstance(expr, ast.Name)
        return self._expr(expr)  # type: ignore[arg-type]

    def _expr(self, expr: ast.Expr) -> m.Expr | None:
        match expr:
            case ast.ParenExpr(item=item):
                return self._expr(item)
            case ast.ConstExpr(value=value):
                return m.Const(value, expr.span)
            case ast.AndExpr(items=items) | ast.OrExpr(items=items):
                parts = [self._expr(i) for i in items]
                if any(p is None for p in parts):
                    return None
                kind = m.And if isinstance(expr, ast.AndExpr) else m.Or
                flat: list[m.Expr] = []
                for part in parts:
                    assert part is not None
                    flat.extend(part.items if isinstance(part, kind) else (part,))
                return kind(tuple(flat), expr.span)
            case ast.NotExpr(item=item):
                inner = self._expr(item)
                return None if inner is None else m.Not(inner, expr.span)
            case ast.Truthy(fact=name):
                fact = self._fact_ref(name)
                if fact is None:
                    return None
                if fact.type.kind != "bool":
                    self.error(
                        Code.LR302,
                        f"`{name.name}` is {_a(fact.type)}, not a yes/no fact",
                        name.span,
                        _compare_hint(fact),
                    )
                    return None
                return m.Compare(fact.name, "==", True, expr.span)
            case ast.KnownExpr(fact=name, known=known):
                fact = self._fact_ref(name)
                return None if fact is None else m.Known(fact.name, known, expr.span)
            case ast.CompareExpr():
                return self._compare(expr)
            case ast.MemberExpr(fact=name, values=values, negated=negated):
                fact = self._fact_ref(name)
                if fact is None:
                    return None
                if fact.type.kind == "set":
                    self.error(
                        Code.LR304,
                        f"`{name.name}` is a set; test one element with `contains`",
                        name.span,
                        f"e.g. {name.name} contains {fact.type.values[0]}",
                    )
                    return None
                resolved = [self._literal_value(fact, v) for v in values]
                if any(r is None for r in resolved):
                    return None
                return m.Member(
                    fact.name, tuple(r for r in resolved if r is not None), negated, expr.span
                )
            case ast.ContainsExpr(fact=name, value=value):
                fact = self._fact_ref(name)
                if fact is None:
                    return None
                if fact.type.kind != "set":
                    self.error(
                        Code.LR304,
                        f"`contains` needs a set fact; `{name.name}` is {_a(fact.type)}",
                        name.span,
                        _compare_hint(fact),
                    )
                    return None
                element = self._literal_value(fact, value)
                if not isinstance(element, str):
                    return None
                return m.Contains(fact.name, element, expr.span)
        return None  # pragma: no cover

    def _fact_ref(self, name: ast.Name) -> m.Fact | None:
        fact = self.draft.facts.get(name.name)
        self.draft.fact_uses.setdefault(name.name, []).append(name.span)
        if fact is None:
            self.error(
                Code.LR201,
                f"fact `{name.name}` is not declared",
                name.span,
                did_you_mean(name.name, self.draft.facts)
                or f'declare it: fact {name.name}: bool "..."',
            )
        return fact

    def _compare(self, expr: ast.CompareExpr) -> m.Expr | None:
        fact = self._fact_ref(expr.fact)
        if fact is None:
            return None
        op = expr.op
        operand = expr.operand
        kind = fact.type.kind
        if kind == "set":
            self.error(
                Code.LR304,
                f"`{fact.name}` is a set; test its elements with `contains`",
                expr.fact.span,
                _compare_hint(fact),
            )
            return None
        # A bare name on the right is a value of this enum, or else another fact.
        if isinstance(operand, ast.NameLit) and not (
            kind == "enum" and operand.name in fact.type.values
        ):
            other = self.draft.facts.get(operand.name)
            if other is not None:
                self.draft.fact_uses.setdefault(other.name, []).append(operand.span)
                return self._compare_facts(expr, fact, other)
        if op in ORDERING_OPS and kind not in ("integer", "number", "date"):
            self.error(
                Code.LR304,
                f"`{op}` orders numbers and dates; `{fact.name}` is {_a(fact.type)}",
                expr.span,
                "use == or != (or `in {...}`) for this fact",
            )
            return None
        value = self._literal_value(fact, operand)
        if value is None:
            return None
        return m.Compare(fact.name, op, value, expr.span)  # type: ignore[arg-type]

    def _compare_facts(self, expr: ast.CompareExpr, left: m.Fact, right: m.Fact) -> m.Expr | None:
        lt, rt = left.type, right.type
        comparable = lt.kind == rt.kind or {lt.kind, rt.kind} == {"integer", "number"}
        if not comparable or (lt.kind == "enum" and set(lt.values) != set(rt.values)):
            self.error(
                Code.LR302,
                f"cannot compare `{left.name}` ({lt.describe()}) with "
                f"`{right.name}` ({rt.describe()})",
                expr.span,
            )
            return None
        if (lt.unit or rt.unit) and lt.unit != rt.unit:
            self.error(
                Code.LR303,
                f"unit mismatch: `{left.name}` is in [{lt.unit}], `{right.name}` in [{rt.unit}]",
                expr.span,
                "compare facts measured in the same unit",
            )
            return None
        if expr.op in ORDERING_OPS and lt.kind not in ("integer", "number", "date"):
            self.error(Code.LR304, f"`{expr.op}` orders numbers and dates only", expr.span)
            return None
        return m.CompareFacts(left.name, expr.op, right.name, expr.span)  # type: ignore[arg-type]

    def _literal_value(self, fact: m.Fact, literal: ast.Literal_) -> m.Value | None:
        """Type-check a literal against a fact and return its model value."""
        kind = fact.type.kind
        if kind in ("enum", "set"):
            if isinstance(literal, ast.NameLit) and literal.name in fact.type.values:
                return literal.name
            shown = _literal_text(literal)
            hint = did_you_mean(shown, fact.type.values)
            allowed = "allowed values: " + ", ".join(fact.type.values)
            self.error(
                Code.LR301,
                f"`{shown}` is not a value of `{fact.name}`",
                literal.span,
                f"{hint} ({allowed})" if hint else allowed,
                [Related(fact.span, f"`{fact.name}` is declared here")] if fact.span else (),
            )
            return None
        if kind == "bool":
            if isinstance(literal, ast.BoolLit):
                return literal.value
            return self._mismatch(fact, literal, "true or false")
        if kind in ("integer", "number"):
            if not isinstance(literal, ast.NumberLit):
                return self._mismatch(fact, literal, "a number")
            if literal.unit and literal.unit != fact.type.unit:
                declared = f"[{fact.type.unit}]" if fact.type.unit else "no unit"
                self.error(
                    Code.LR303,
                    f"unit mismatch: `{fact.name}` is declared with {declared}, "
                    f"the value is in [{literal.unit}]",
                    literal.span,
                    "convert the value to the declared unit",
                )
                return None
            value = literal.value
            low, high = fact.type.minimum, fact.type.maximum
            if low is not None and high is not None and not low <= value <= high:
                self.diagnostics.append(
                    Diagnostic.make(
                        Code.LR306,
                        f"{literal.text} is outside the declared range of `{fact.name}` "
                        f"({fact.type.describe()})",
                        literal.span,
                    )
                )
            return float(value) if kind == "number" and isinstance(value, float) else value
        if kind == "string":
            if isinstance(literal, ast.StringLit):
                return literal.value
            return self._mismatch(fact, literal, 'a quoted string ("...")')
        if kind == "date":
            if isinstance(literal, ast.DateLit):
                parsed = literal.parse()
                if parsed is None:
                    self.error(Code.LR302, f"`{literal.text}` is not a calendar date", literal.span)
                return parsed
            return self._mismatch(fact, literal, "a date (YYYY-MM-DD)")
        return None  # pragma: no cover

    def _mismatch(self, fact: m.Fact, literal: ast.Literal_, expected: str) -> m.Value | None:
        self.error(
            Code.LR302,
            f"`{fact.name}` is {_a(fact.type)}; `{_literal_text(literal)}` is not {expected}",
            literal.span,
            _compare_hint(fact),
        )
        return None


def _a(fact_type: m.FactType) -> str:
    """`an enum {a, b}`, `an integer fact (0..120)`, `a number fact in [kg] (0..300)`."""
    kind = fact_type.kind
    article = "an" if kind[0] in "aeiou" else "a"
    if kind in ("enum", "set"):
        return f"{article} {fact_type.describe()}"
    text = f"{article} {kind} fact"
    if fact_type.unit:
        text += f" in [{fact_type.unit}]"
    if fact_type.minimum is not None and fact_type.maximum is not None:
        low, high = fact_type.minimum, fact_type.maximum
        text += f" ({m._number_text(low)}..{m._number_text(high)})"
    return text


def _compare_hint(fact: m.Fact) -> str:
    kind = fact.type.kind
    if kind == "bool":
        return f"test it directly (`{fact.name}`, `not {fact.name}`) or with == true / == false"
    if kind == "enum":
        return f"e.g. {fact.name} == {fact.type.values[0]}; values: {', '.join(fact.type.values)}"
    if kind == "set":
        return f"e.g. {fact.name} contains {fact.type.values[0]}"
    if kind in ("integer", "number"):
        unit = f" [{fact.type.unit}]" if fact.type.unit else ""
        return f"e.g. {fact.name} >= 3{unit}"
    if kind == "date":
        return f"e.g. {fact.name} < 2026-01-01"
    return f'e.g. {fact.name} == "text"'


def _literal_text(literal: ast.Literal_) -> str:
    match literal:
        case ast.NameLit(name=name):
            return name
        case ast.StringLit(value=value):
            return f'"{value}"'
        case ast.NumberLit(text=text, unit=unit):
            return f"{text} [{unit}]" if unit else text
        case ast.DateLit(text=text):
            return text
        case ast.BoolLit(value=value):
            return "true" if value else "false"
    return "?"  # pragma: no cover


def combined_sha256(sources: Iterable[SourceFile]) -> str:
    """One hash for a multi-file policy: the content hashes in load order, paths excluded."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.sha256.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()
