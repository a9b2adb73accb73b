"""Syntax tree -> draft policy model: names, fields and types.

Input: the items of every loaded module, in policy order. Output: a `Draft` (possibly with
elements left out where they had errors) and the diagnostics. Declarations are resolved first
(`declarations`), in whatever order the files hold them, then sections, rules and gaps (`rules`),
whose conditions and values are type-checked against the facts (`conditions`), then properties
(`properties`). All problems of all items are collected; nothing here stops at the first error.
Logic checks (cycles, unreachable conditions, conflicts, unused declarations) run afterwards on
the draft, in `leukorules.check.analysis`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from leukorules import messages as msg
from leukorules.check.bindings import Bindings
from leukorules.check.conditions import Conditions
from leukorules.check.declarations import Declarations
from leukorules.check.draft import Draft
from leukorules.check.properties import Properties
from leukorules.check.rules import Rules
from leukorules.diagnostics import Diagnostic
from leukorules.source import SourceFile
from leukorules.syntax import ast

__all__ = ["Draft", "Resolver", "combined_sha256"]


class Resolver:
    """One resolution of one policy: `resolve(items)` fills `draft` and `diagnostics`."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.draft = Draft()
        self.declarations = Declarations(self.draft, self.diagnostics)
        self.conditions = Conditions(self.draft, self.diagnostics)
        self.rules = Rules(self.draft, self.diagnostics, self.conditions)
        self.properties = Properties(self.draft, self.diagnostics)
        self.bindings = Bindings(self.draft, self.diagnostics)

    def resolve(self, items: Sequence[ast.Item]) -> Draft:
        # Declarations first (in any order in the files), then rules that refer to them.
        for item in items:
            if isinstance(item, ast.PolicyBlock):
                self.declarations.policy(item)
            elif isinstance(item, ast.EvidenceBlock):
                self.declarations.evidence(item)
            elif isinstance(item, ast.FactDecl):
                self.declarations.fact(item)
        if self.draft.header is None:
            first = items[0].span if items else None
            self.diagnostics.append(msg.NO_POLICY_HEADER.at(first))
        self.rules.collect_ids(items)
        for item in items:
            if isinstance(item, ast.SectionBlock | ast.RuleBlock):
                self.rules.section_item(item, ())
        # Properties last: their outcome tests name rules, gaps and constraints of any file.
        for item in items:
            if isinstance(item, ast.PropertyBlock):
                self.properties.property(item)
        # Terminology bindings read only the facts: they change nothing above.
        self.bindings.resolve(items)
        return self.draft


def combined_sha256(sources: Iterable[SourceFile]) -> str:
    """One hash for a multi-file policy: the content hashes in load order, paths excluded."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.sha256.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()
