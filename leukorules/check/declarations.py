"""Declarations -> model: the policy header, evidence and facts, with their fields and types.

Input: `policy`, `evidence`, `fact` and `derived` blocks of the syntax tree, in policy order.
Output: filled into the `Draft` (header values, `m.Evidence`, `m.Fact`); each problem is added
to the diagnostics list: unknown, missing, repeated or ill-typed fields, duplicate declarations,
empty or fractional ranges, an evidence `url` that is not an http(s) address, a header `source`
naming a file anywhere but beside the policy or in its `source/` folder. A declaration with an
error is left out, never half built.

`find_guideline_source` is the one rule for which file a header's `source` may name; the checker
refuses the rest and the reports (through `authoring.coverage.default_source`) read nothing else.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from leukorules import messages as msg
from leukorules import model as m
from leukorules.check.draft import Draft
from leukorules.diagnostics import DECLARED, Diagnostic, Related, did_you_mean
from leukorules.source import Span
from leukorules.syntax import ast

POLICY_FIELDS = ("title", "version", "source", "effective")
SOURCE_FOLDER = "source"  # beside the policy: where its guideline source may also sit
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
            if draft.source is not None:
                self.guideline_source(draft.source, fields["source"].value.span)
        if "effective" in fields:
            value = fields["effective"].value
            parsed = value.parse() if isinstance(value, ast.DateLit) else None
            if parsed is None:
                self.diagnostics.append(msg.EFFECTIVE_NOT_A_DATE.at(value.span))
            draft.effective = parsed

    def guideline_source(self, name: str, span: Span) -> None:
        """Refuse a `source` that names a file a report must not read. The file system is
        consulted only for a policy read from disk (not for text checked in memory)."""
        header_file = Path(span.file)
        if header_file.is_file():
            _, why = find_guideline_source(name, header_file.parent)
        else:
            why = source_name_refusal(name)
        if why is not None:
            self.diagnostics.append(msg.SOURCE_NOT_BESIDE.at(span, value=name, why=why))

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
        url = values.get("url")
        if url is not None and not m.is_web_address(url):
            self.diagnostics.append(msg.URL_NOT_WEB.at(fields["url"].value.span, ref=ref))
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


def source_name_refusal(name: str) -> str | None:
    """Why `source "name"` cannot name a guideline file, from its words alone (None: it can):
    an absolute path, or one climbing out of the policy's folder with `..`."""
    if "\x00" in name:
        return "holds a NUL character"
    if (
        name.startswith(("/", "\\"))
        or PurePosixPath(name).is_absolute()
        or PureWindowsPath(name).is_absolute()
        or PureWindowsPath(name).drive
    ):
        return "is an absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "climbs out of the policy's folder with `..`"
    return None


def find_guideline_source(name: str, home: Path) -> tuple[Path | None, str | None]:
    """The file a header's `source "name"` names, beside the policy (`home`: the folder of the
    file holding the header) or in its `source/` folder.

    Returns `(path, None)` for a regular file found there; `(None, why)` when the name or the
    file is refused: an absolute path, `..`, a symbolic link (of the file or a folder on the way)
    leading out of `home`, a directory, FIFO, device or socket; `(None, None)` when no such file
    exists (the field then only names the guideline in words: "Example guideline, chapter 4").
    """
    why = source_name_refusal(name)
    if why is not None:
        return None, why
    if not name.strip():
        return None, None
    try:
        root = home.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, None
    for candidate in (home / name, home / SOURCE_FOLDER / name):
        try:
            candidate.lstat()
        except (OSError, ValueError):
            continue  # not there (or a folder on the way is not one)
        try:
            real = candidate.resolve(strict=True)
            mode = real.stat().st_mode
        except (OSError, RuntimeError):
            return None, "is a symbolic link that leads nowhere"
        if not real.is_relative_to(root):
            return None, "leads out of the policy's folder through a symbolic link"
        if not stat.S_ISREG(mode):
            return None, f"is {_file_kind(mode)}, not a regular file"
        return candidate, None
    return None, None


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"
