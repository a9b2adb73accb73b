"""Declarations -> model: the policy header, evidence and facts, with their fields and types.

Input: `policy`, `evidence`, `fact` and `derived` blocks of the syntax tree, in policy order.
Output: filled into the `Draft` (header values, `m.Evidence`, `m.Fact`); each problem is added
to the diagnostics list: unknown, missing, repeated or ill-typed fields, duplicate declarations,
empty or fractional ranges. A declaration with an error is left out, never half built.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from leukorules import messages as msg
from leukorules import model as m
from leukorules.check.draft import Draft
from leukorules.diagnostics import DECLARED, Diagnostic, Related, did_you_mean
from leukorules.syntax import ast

POLICY_FIELDS = ("title", "version", "source", "effective")
REQUIRED_POLICY_FIELDS = ("title", "version")
EVIDENCE_FIELDS = ("citation", "url", "doi", "pmid", "grade", "certainty")


class Declarations:
    """Resolves the declarations of a policy into `draft`, reporting into `diagnostics`."""

    def __init__(self, draft: Draft, diagnostics: list[Diagnostic]) -> None:
        self.draft = draft
        self.diagnostics = diagnostics

    def fields(
        self, fields: Iterable[ast.Field], allowed: Sequence[str], what: str
    ) -> dict[str, ast.Field]:
        """The fields of a block by name; unknown and repeated fields are reported."""
        seen: dict[str, ast.Field] = {}
        for f in fields:
            key = f.name.name
            if key not in allowed:
                self.diagnostics.append(
                    msg.UNKNOWN_FIELD.at(
                        f.name.span,
                        key=key,
                        what=what,
                        allowed=", ".join(allowed),
                        hint=did_you_mean(key, allowed) or DECLARED,
                    )
                )
            elif key in seen:
                first = Related(seen[key].name.span, "first given here")
                self.diagnostics.append(
                    msg.FIELD_TWICE.at(f.name.span, key=key, what=what, related=[first])
                )
            else:
                seen[key] = f
        return seen

    def string_field(self, f: ast.Field, what: str) -> str | None:
        if isinstance(f.value, ast.StringLit):
            return f.value.value
        if isinstance(f.value, ast.NameLit):
            return f.value.name
        if isinstance(f.value, ast.NumberLit | ast.DottedLit):
            # Bare version numbers and identifiers are accepted where a string is meant.
            return f.value.text
        self.diagnostics.append(msg.NOT_A_STRING.at(f.value.span, key=f.name.name, what=what))
        return None

    def policy(self, block: ast.PolicyBlock) -> None:
        draft = self.draft
        if draft.header is not None:
            first = Related(draft.header.id.span, "the first header")
            self.diagnostics.append(msg.SECOND_POLICY_HEADER.at(block.id.span, related=[first]))
            return
        draft.header = block
        draft.policy_id = block.id.name
        fields = self.fields(block.fields, POLICY_FIELDS, "the policy header")
        for key in REQUIRED_POLICY_FIELDS:
            if key not in fields:
                self.diagnostics.append(msg.HEADER_FIELD_MISSING.at(block.id.span, key=key))
        if "title" in fields:
            draft.title = self.string_field(fields["title"], "the policy") or ""
        if "version" in fields:
            draft.version = self.string_field(fields["version"], "the policy") or ""
        if "source" in fields:
            draft.source = self.string_field(fields["source"], "the policy")
        if "effective" in fields:
            value = fields["effective"].value
            parsed = value.parse() if isinstance(value, ast.DateLit) else None
            if parsed is None:
                self.diagnostics.append(msg.EFFECTIVE_NOT_A_DATE.at(value.span))
            draft.effective = parsed

    def evidence(self, block: ast.EvidenceBlock) -> None:
        ref = block.id.name
        if ref in self.draft.evidence:
            previous = self.draft.evidence[ref].span
            first = [Related(previous, "first declared here")] if previous else []
            self.diagnostics.append(
                msg.EVIDENCE_DECLARED_TWICE.at(block.id.span, ref=ref, related=first)
            )
            return
        fields = self.fields(block.fields, EVIDENCE_FIELDS, f"evidence {ref}")
        values: dict[str, str | None] = {}
        for key in ("url", "doi", "pmid"):
            if key in fields:
                values[key] = self.string_field(fields[key], f"evidence {ref}")
        citation: str | None = None
        declared = "citation" in fields
        if declared:
            value = fields["citation"].value
            if isinstance(value, ast.NameLit) and value.name == "unknown":
                citation = None
            elif isinstance(value, ast.StringLit):
                citation = value.value
            else:
                self.diagnostics.append(msg.CITATION_NOT_TEXT.at(value.span))
        grade = self.choice(fields.get("grade"), m.GRADE_STRENGTHS, "GRADE strength")
        certainty = self.choice(fields.get("certainty"), m.GRADE_CERTAINTIES, "GRADE certainty")
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

    def choice(self, f: ast.Field | None, allowed: Sequence[str], what: str) -> str | None:
        """A field whose value is one word of `allowed`."""
        if f is None:
            return None
        value = f.value
        if isinstance(value, ast.NameLit) and value.name in allowed:
            return value.name
        shown = value.name if isinstance(value, ast.NameLit) else getattr(value, "text", "?")
        self.diagnostics.append(
            msg.NOT_A_CHOICE.at(
                value.span,
                value=shown,
                what=what,
                allowed=", ".join(allowed),
                hint=did_you_mean(str(shown), allowed) or DECLARED,
            )
        )
        return None

    def fact(self, decl: ast.FactDecl) -> None:
        name = decl.name.name
        if name in self.draft.facts:
            previous = self.draft.facts[name].span
            first = [Related(previous, "first declared here")] if previous else []
            self.diagnostics.append(
                msg.FACT_DECLARED_TWICE.at(decl.name.span, name=name, related=first)
            )
            return
        fact_type = self.type(decl.type)
        if fact_type is None:
            return
        description = decl.description.value if decl.description else None
        self.draft.facts[name] = m.Fact(name, fact_type, description, decl.derived, decl.name.span)

    def type(self, spec: ast.TypeSpec) -> m.FactType | None:
        values: list[str] = []
        ok = True
        for value in spec.values:
            if value.name in values:
                self.diagnostics.append(msg.ENUM_VALUE_TWICE.at(value.span, value=value.name))
                ok = False
            values.append(value.name)
        low = high = None
        if spec.range is not None:
            low_lit, high_lit = spec.range
            low, high = low_lit.value, high_lit.value
            if low > high:
                self.diagnostics.append(
                    msg.EMPTY_RANGE.at(low_lit.span, low=low_lit.text, high=high_lit.text)
                )
                ok = False
            if spec.kind == "integer" and not (isinstance(low, int) and isinstance(high, int)):
                self.diagnostics.append(msg.INTEGER_RANGE_NOT_WHOLE.at(low_lit.span))
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
