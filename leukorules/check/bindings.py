"""Terminology bindings -> model: `valueset` and `bind` blocks checked and resolved.

Input: the `valueset` and `bind` blocks of the syntax tree, after the facts are declared in the
`Draft`. Output: `terminology.ValueSet`s in `draft.value_sets` and `terminology.Binding`s in
`draft.bindings`, and the diagnostics: a fact that is not declared or is derived (LR601), a value
that does not fit its fact (LR602), an unknown code system or a code not in its system's format
(LR603), a value set no binding reads (LR604), a code that could give one fact two values
(LR605), an undeclared value set (LR606), binding lines that do not fit together (LR607), and
duplicates (LR204). A block with an error is left out, never half built.

What a `bind` block may hold: Condition lines (`Condition in SETS gives VALUE, lasting|current
[, refuted gives VALUE][, if due to a drug]`) and Observation lines (`Observation in SETS
answers yes or no within N days`); or one `cause of Condition in SETS` line with `drug in SET
gives VALUE` lines (and at most one `any SYSTEM drug gives VALUE`), or with `drug still taken`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from leukorules import messages as msg
from leukorules import model as m
from leukorules import terminology as t
from leukorules.check.conditions import describe_type
from leukorules.check.draft import Draft
from leukorules.codesystems import SYSTEM_NAMES, SYSTEMS_BY_KEYWORD, well_formed
from leukorules.diagnostics import DECLARED, Diagnostic, Related, did_you_mean
from leukorules.source import Span
from leukorules.syntax import ast
from leukorules.syntax.formatter import bind_line_text

# What each code system's codes look like, for the message of a malformed code.
FORMAT_RULES = {
    "snomed": "6 to 18 digits ending in a Verhoeff check digit",
    "icd10cm": "a letter, two characters, and an optional dot with up to four more (A81.2)",
    "rxnorm": "digits, without a leading zero",
    "loinc": "digits, a hyphen and the mod-10 check digit (89365-1)",
}
_ARTICLES = {t.CONDITION: "a Condition", t.OBSERVATION: "an Observation"}


class Bindings:
    """Resolves value sets and bindings into `draft`, reporting into `diagnostics`."""

    def __init__(self, draft: Draft, diagnostics: list[Diagnostic]) -> None:
        self.draft = draft
        self.diagnostics = diagnostics
        self._value_set_spans: dict[str, Span] = {}
        self._bound: dict[str, Span] = {}
        self._used: set[str] = set()

    def resolve(self, items: Sequence[ast.Item]) -> None:
        """Every value set first (bindings may name one declared further down), then every
        binding, then the checks across them."""
        for item in items:
            if isinstance(item, ast.ValueSetBlock):
                self.value_set(item)
        for item in items:
            if isinstance(item, ast.BindBlock):
                self.bind(item)
        self._conflicts()
        for name, value_set in self.draft.value_sets.items():
            if name not in self._used:
                self.diagnostics.append(msg.VALUE_SET_UNUSED.at(value_set.span, name=name))

    # --- value sets -------------------------------------------------------------------------

    def value_set(self, block: ast.ValueSetBlock) -> None:
        name = block.name.name
        first = self._value_set_spans.get(name)
        if first is not None:
            related = [Related(first, "first declared here")]
            self.diagnostics.append(
                msg.VALUE_SET_DECLARED_TWICE.at(block.name.span, name=name, related=related)
            )
            return
        self._value_set_spans[name] = block.name.span
        concepts: list[t.Concept] = []
        seen: dict[tuple[str, str], Span] = {}
        ok = True
        for line in block.concepts:
            concept = self._concept(line)
            if concept is None:
                ok = False
                continue
            key = (concept.system, concept.code)
            if key in seen:
                related = [Related(seen[key], "first listed here")]
                self.diagnostics.append(
                    msg.CODE_LISTED_TWICE.at(
                        line.code.span,
                        system=line.system.name,
                        code=concept.code,
                        name=name,
                        related=related,
                    )
                )
                ok = False
                continue
            seen[key] = line.code.span
            concepts.append(concept)
        if ok:
            self.draft.value_sets[name] = t.ValueSet(
                name, block.title.value, tuple(concepts), block.name.span
            )

    def _concept(self, line: ast.ConceptLine) -> t.Concept | None:
        keyword = line.system.name
        system = SYSTEMS_BY_KEYWORD.get(keyword)
        if system is None:
            known = list(SYSTEMS_BY_KEYWORD)
            self.diagnostics.append(
                msg.UNKNOWN_CODE_SYSTEM.at(
                    line.system.span,
                    system=keyword,
                    systems=", ".join(known),
                    hint=did_you_mean(keyword, known) or DECLARED,
                )
            )
            return None
        code = line.code.name
        if not well_formed(system, code):
            self.diagnostics.append(
                msg.CODE_MALFORMED.at(
                    line.code.span,
                    code=code,
                    system=SYSTEM_NAMES[system],
                    rule=FORMAT_RULES[keyword],
                )
            )
            return None
        return t.Concept(system, code, line.display.value, line.source.value, line.span)

    # --- bindings ---------------------------------------------------------------------------

    def bind(self, block: ast.BindBlock) -> None:
        name = block.fact.name
        first = self._bound.get(name)
        if first is not None:
            related = [Related(first, "first bound here")]
            self.diagnostics.append(
                msg.FACT_BOUND_TWICE.at(block.fact.span, name=name, related=related)
            )
            return
        self._bound[name] = block.fact.span
        # Value sets a block names count as used even when the block has errors: one mistake
        # should not bring a warning about every value set it reads.
        for line in block.lines:
            self._used.update(_value_set_names(line))
        fact = self._fact(block.fact)
        if fact is None:
            return
        causes = [line for line in block.lines if isinstance(line, ast.CauseLine)]
        found = self._cause_block(block, fact, causes) if causes else self._coded_block(block, fact)
        if found is not None:
            self.draft.bindings.extend(found)

    def _fact(self, name: ast.Name) -> m.Fact | None:
        fact = self.draft.facts.get(name.name)
        if fact is None:
            self.diagnostics.append(
                msg.BOUND_FACT_UNDECLARED.at(
                    name.span,
                    name=name.name,
                    hint=did_you_mean(name.name, list(self.draft.facts)) or DECLARED,
                )
            )
            return None
        if fact.derived:
            self.diagnostics.append(msg.BOUND_FACT_DERIVED.at(name.span, name=name.name))
            return None
        if fact.type.kind not in ("bool", "enum"):
            self.diagnostics.append(
                msg.BOUND_FACT_NOT_CODED.at(name.span, name=name.name, a_type=_a_type(fact))
            )
            return None
        return fact

    def _value_sets(self, names: Sequence[ast.Name]) -> tuple[str, ...] | None:
        ok = True
        for name in names:
            if name.name not in self.draft.value_sets:
                if name.name not in self._value_set_spans:  # declared with an error: said
                    known = list(self._value_set_spans)
                    self.diagnostics.append(
                        msg.VALUE_SET_UNDECLARED.at(
                            name.span,
                            name=name.name,
                            hint=did_you_mean(name.name, known) or DECLARED,
                        )
                    )
                ok = False
        return tuple(name.name for name in names) if ok else None

    def _value(self, fact: m.Fact, literal: ast.Literal_) -> t.BindValue | None:
        """A literal as a value of `fact` (a yes/no or enum fact), or None (reported)."""
        if fact.type.kind == "bool":
            if isinstance(literal, ast.BoolLit):
                return literal.value
            self.diagnostics.append(
                msg.BOUND_VALUE_NOT_BOOL.at(literal.span, name=fact.name, value=_shown(literal))
            )
            return None
        if isinstance(literal, ast.NameLit) and literal.name in fact.type.values:
            return literal.name
        shown = _shown(literal)
        self.diagnostics.append(
            msg.BOUND_VALUE_NOT_IN_ENUM.at(
                literal.span,
                value=shown,
                name=fact.name,
                values=", ".join(fact.type.values),
                hint=did_you_mean(shown, fact.type.values) or DECLARED,
            )
        )
        return None

    def _coded_block(self, block: ast.BindBlock, fact: m.Fact) -> list[t.Binding] | None:
        found: list[t.Binding] = []
        ok = True
        for line in block.lines:
            binding: t.Binding | None = None
            if isinstance(line, ast.CodedLine):
                binding = self._condition(fact, line)
            elif isinstance(line, ast.AnswerLine):
                binding = self._answer(fact, line)
            else:
                self.diagnostics.append(
                    msg.CAUSE_LINE_MISSING.at(
                        line.span, line=bind_line_text(line), name=block.fact.name
                    )
                )
            if binding is None:
                ok = False
            else:
                found.append(binding)
        return found if ok else None

    def _resource(self, line: ast.CodedLine | ast.AnswerLine, wanted: str, hint: str) -> bool:
        if line.resource.name == wanted:
            return True
        self.diagnostics.append(
            msg.UNKNOWN_RESOURCE.at(
                line.resource.span,
                line=bind_line_text(line),
                resource=line.resource.name,
                allowed=_ARTICLES[wanted],
                hint=hint,
            )
        )
        return False

    def _condition(self, fact: m.Fact, line: ast.CodedLine) -> t.ConditionBinding | None:
        shown = bind_line_text(line)
        ok = self._resource(
            line,
            t.CONDITION,
            "a coded line reads a Condition; an Observation answers yes or no: "
            "Observation in VALUE_SETS answers yes or no within N days",
        )
        value_sets = self._value_sets(line.value_sets)
        value = self._value(fact, line.value)
        persistence: t.Persistence | None = None
        refuted: t.BindValue | None = None
        needs_drug = False
        seen: set[str] = set()
        for option in line.options:
            twice = option.kind in seen or (
                option.kind in ("lasting", "current") and persistence is not None
            )
            seen.add(option.kind)
            if twice:
                self.diagnostics.append(
                    msg.BIND_OPTION_TWICE.at(option.span, line=shown, option=_option_word(option))
                )
                ok = False
            elif option.kind == "lasting" or option.kind == "current":
                persistence = option.kind
            elif option.kind == "refuted" and option.value is not None:
                refuted = self._value(fact, option.value)
                ok = ok and refuted is not None
            elif option.kind == "if_drug_cause":
                needs_drug = True
        if persistence is None:
            self.diagnostics.append(msg.CONDITION_PERSISTENCE_MISSING.at(line.span, line=shown))
            ok = False
        if not ok or value_sets is None or value is None or persistence is None:
            return None
        return t.ConditionBinding(
            fact.name, value, value_sets, persistence, refuted, needs_drug, line.span
        )

    def _answer(self, fact: m.Fact, line: ast.AnswerLine) -> t.AnswerBinding | None:
        ok = self._resource(
            line,
            t.OBSERVATION,
            "an answer is read from an Observation; a Condition gives a value: "
            "Condition in VALUE_SETS gives VALUE, lasting|current",
        )
        if fact.type.kind != "bool":
            self.diagnostics.append(
                msg.BOUND_NEEDS_BOOL.at(
                    line.span, line=bind_line_text(line), name=fact.name, a_type=_a_type(fact)
                )
            )
            ok = False
        value_sets = self._value_sets(line.value_sets)
        days = line.days.value
        if not isinstance(days, int) or days < 0:
            self.diagnostics.append(msg.ANSWER_DAYS_INVALID.at(line.days.span, days=line.days.text))
            ok = False
        if not ok or value_sets is None or not isinstance(days, int):
            return None
        return t.AnswerBinding(fact.name, value_sets, days, line.span)

    def _cause_block(
        self, block: ast.BindBlock, fact: m.Fact, causes: list[ast.CauseLine]
    ) -> list[t.Binding] | None:
        name = block.fact.name
        ok = True
        for extra in causes[1:]:
            self.diagnostics.append(msg.CAUSE_LINE_TWICE.at(extra.span, name=name))
            ok = False
        cause = causes[0]
        hosts = self._value_sets(cause.value_sets)
        ok = ok and hosts is not None
        if cause.resource.name != t.CONDITION:
            self.diagnostics.append(
                msg.UNKNOWN_RESOURCE.at(
                    cause.resource.span,
                    line=bind_line_text(cause),
                    resource=cause.resource.name,
                    allowed=_ARTICLES[t.CONDITION],
                    hint="the cause of a diagnosis is its Condition's dueTo extension",
                )
            )
            ok = False
        drugs: list[tuple[str, str]] = []
        drug_lines: list[ast.DrugLine] = []
        other: tuple[str, str] | None = None
        taken = False
        kinds: dict[str, ast.BindLine] = {}
        for line in block.lines:
            if isinstance(line, ast.CauseLine):
                continue
            kind = _cause_kind(line)
            kinds.setdefault(kind, line)
            if kind == "coded":
                continue
            if kind == "taken":
                ok = self._needs(fact, "bool", line) and ok
                if taken:
                    self.diagnostics.append(
                        msg.BIND_OPTION_TWICE.at(line.span, line=bind_line_text(line), option="")
                    )
                    ok = False
                taken = True
                continue
            if not self._needs(fact, "enum", line):
                ok = False
                continue
            if isinstance(line, ast.DrugLine):
                value_set = self._value_sets([line.value_set])
                value = self._value(fact, line.value)
                if value_set is None or not isinstance(value, str):
                    ok = False
                else:
                    ok = self._drug_conflict(fact, line, value, drug_lines, drugs) and ok
                    drugs.append((value_set[0], value))
                    drug_lines.append(line)
            elif isinstance(line, ast.AnyDrugLine):
                system = SYSTEMS_BY_KEYWORD.get(line.system.name)
                value = self._value(fact, line.value)
                if system is None:
                    known = list(SYSTEMS_BY_KEYWORD)
                    self.diagnostics.append(
                        msg.UNKNOWN_CODE_SYSTEM.at(
                            line.system.span,
                            system=line.system.name,
                            systems=", ".join(known),
                            hint=did_you_mean(line.system.name, known) or DECLARED,
                        )
                    )
                if other is not None:
                    self.diagnostics.append(
                        msg.BIND_OPTION_TWICE.at(line.span, line=bind_line_text(line), option="any")
                    )
                    ok = False
                elif system is None or not isinstance(value, str):
                    ok = False
                else:
                    other = (system, value)
        if len(kinds) > 1:
            (first, _), (second, line) = list(kinds.items())[:2]
            self.diagnostics.append(
                msg.CAUSE_MIXED.at(
                    line.span, name=name, first=_KIND_WORDS[first], second=_KIND_WORDS[second]
                )
            )
            ok = False
        elif not kinds:
            self.diagnostics.append(msg.CAUSE_WITHOUT_READING.at(cause.span, name=name))
            ok = False
        if not ok or hosts is None:
            return None
        if taken:
            return [t.ExposureBinding(fact.name, hosts, cause.span)]
        return [t.CauseBinding(fact.name, hosts, tuple(drugs), other, cause.span)]

    def _drug_conflict(
        self,
        fact: m.Fact,
        line: ast.DrugLine,
        value: str,
        earlier: list[ast.DrugLine],
        drugs: list[tuple[str, str]],
    ) -> bool:
        """LR605: a drug code this line's value set shares with an earlier line's that gives
        another value (the first line would win, silently)."""
        mine = self.draft.value_sets[line.value_set.name]
        for before, (name, given) in zip(earlier, drugs, strict=True):
            shared = _shared(self.draft.value_sets[name], mine)
            if shared is not None and given != value:
                self.diagnostics.append(
                    self._two_values(
                        fact.name,
                        shared,
                        name,
                        mine.name,
                        given,
                        value,
                        "drug",
                        line.span,
                        before.span,
                    )
                )
                return False
        return True

    def _needs(self, fact: m.Fact, kind: str, line: ast.BindLine) -> bool:
        if fact.type.kind == kind:
            return True
        message = msg.BOUND_NEEDS_BOOL if kind == "bool" else msg.BOUND_NEEDS_ENUM
        self.diagnostics.append(
            message.at(line.span, line=bind_line_text(line), name=fact.name, a_type=_a_type(fact))
        )
        return False

    # --- across bindings --------------------------------------------------------------------

    def _conflicts(self) -> None:
        """LR605: a code in two value sets that one fact's Condition bindings read with two
        values (drug lines are checked as their block is read)."""
        conditions = [b for b in self.draft.bindings if isinstance(b, t.ConditionBinding)]
        for first, second in combinations(conditions, 2):
            if first.fact != second.fact:
                continue
            for mine, theirs in ((first.value, second.value), (first.refuted, second.refuted)):
                if mine is None or theirs is None or mine == theirs:
                    continue
                self._shared_code(first, second, mine, theirs, t.CONDITION)

    def _shared_code(
        self,
        first: t.ConditionBinding,
        second: t.ConditionBinding,
        first_value: t.BindValue,
        second_value: t.BindValue,
        resource: str,
    ) -> None:
        sets = self.draft.value_sets
        for one in first.value_sets:
            for two in second.value_sets:
                shared = _shared(sets[one], sets[two])
                if shared is not None:
                    self.diagnostics.append(
                        self._two_values(
                            first.fact,
                            shared,
                            one,
                            two,
                            first_value,
                            second_value,
                            resource,
                            second.span,
                            first.span,
                        )
                    )
                    return

    @staticmethod
    def _two_values(
        fact: str,
        concept: t.Concept,
        one: str,
        two: str,
        one_value: t.BindValue,
        two_value: t.BindValue,
        resource: str,
        span: Span | None,
        other: Span | None = None,
    ) -> Diagnostic:
        related = [Related(other, "the other binding")] if other is not None else []
        return msg.BINDINGS_GIVE_TWO_VALUES.at(
            span,
            fact=fact,
            system=SYSTEM_NAMES.get(concept.system, concept.system),
            code=concept.code,
            first=one,
            second=two,
            resource=resource,
            first_value=_value_text(one_value),
            second_value=_value_text(two_value),
            related=related,
        )


_KIND_WORDS = {
    "coded": "coded resource lines",
    "drugs": "drug lines",
    "taken": "`drug still taken`",
}


def _cause_kind(line: ast.BindLine) -> str:
    if isinstance(line, ast.TakenLine):
        return "taken"
    if isinstance(line, ast.DrugLine | ast.AnyDrugLine):
        return "drugs"
    return "coded"


def _value_set_names(line: ast.BindLine) -> list[str]:
    match line:
        case ast.CodedLine(value_sets=names) | ast.AnswerLine(value_sets=names):
            return [name.name for name in names]
        case ast.CauseLine(value_sets=names):
            return [name.name for name in names]
        case ast.DrugLine(value_set=name):
            return [name.name]
    return []


def _shared(one: t.ValueSet, two: t.ValueSet) -> t.Concept | None:
    """The first concept of `one` that `two` holds too."""
    return next((c for c in one.concepts if two.find(c.system, c.code) is not None), None)


def _shown(literal: ast.Literal_) -> str:
    match literal:
        case ast.NameLit(name=name):
            return name
        case ast.StringLit(value=value):
            return f'"{value}"'
        case ast.BoolLit(value=value):
            return "true" if value else "false"
        case ast.NumberLit(text=text) | ast.DateLit(text=text):
            return text
    return "?"  # pragma: no cover


def _value_text(value: t.BindValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`"


def _a_type(fact: m.Fact) -> str:
    return describe_type(fact.type)


def _option_word(option: ast.BindOption) -> str:
    return {"if_drug_cause": "if due to a drug", "refuted": "refuted gives"}.get(
        option.kind, option.kind
    )
