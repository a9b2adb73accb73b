"""Diagnostic messages of health records and terminology bindings, declared once: code, text,
hint. The part of the registry `leukorules.messages` that concerns FHIR: how records report
LR501, LR507, LR520 and LR521 (read by `leukorules.fhir`), and LR6xx, the checker's diagnostics
of `valueset` and `bind` blocks (`leukorules.check.bindings`). Same rules as
`leukorules.messages`: templates take `str.format` fields named for what they hold, a literal
brace is written `{{` or `}}`, and nothing else in the package writes these codes or texts.
"""

from __future__ import annotations

from leukorules.diagnostics import Code, Message

# --- LR5xx as FHIR records report them ----------------------------------------------------------

FHIR_UNREADABLE = Message(Code.LR501, "cannot read {name}: {reason}")
FHIR_TOO_LARGE = Message(
    Code.LR501,
    "{name} is larger than {limit:,} bytes",
    "a record file holds one patient's resources; a cohort is a Bulk Data export folder",
)
FHIR_NOT_JSON = Message(
    Code.LR507,
    "malformed JSON: {reason}",
    "a FHIR record is one JSON resource, usually a Bundle",
)
FHIR_NOT_RESOURCE = Message(
    Code.LR507,
    "{what} is not a FHIR resource: it has no `resourceType`",
    'give a FHIR R4 resource, e.g. {{"resourceType": "Bundle", ...}}',
)
FHIR_INVALID = Message(
    Code.LR520,
    "`{location}`: {reason}",
    "the record does not conform to FHIR R4; correct it at its source",
)
FHIR_BAD_CODE = Message(
    Code.LR520,
    "`{location}`: `{code}` is not a code of {system}",
    "one of: {allowed}",
)
FHIR_NO_PATIENT = Message(
    Code.LR520,
    "`{location}`: no `subject` or `patient` reference says whose {resource_type} this is",
    "Bulk Data resources name their patient as `Patient/<id>`",
)
FHIR_SOURCES_DISAGREE = Message(
    Code.LR521,
    "`{fact}`: {first} gives {first_value}, {second} gives {second_value}",
    "nothing is evaluated on a guess: correct one source, or leave the fact out of one",
)

# --- LR6xx: terminology bindings ---------------------------------------------------------------
# Reported by the checker (`leukorules.check.bindings`) for `valueset` and `bind` blocks.

BOUND_FACT_UNDECLARED = Message(
    Code.LR601, "`bind {name}`: no fact `{name}` is declared", 'declare it: fact {name}: bool "..."'
)
BOUND_FACT_DERIVED = Message(
    Code.LR601,
    "`bind {name}`: `{name}` is a derived fact",
    "a record gives input facts; the policy's rules derive `{name}` from them",
)
BOUND_VALUE_NOT_IN_ENUM = Message(
    Code.LR602, "`{value}` is not a value of `{name}`", "allowed values: {values}"
)
BOUND_VALUE_NOT_BOOL = Message(
    Code.LR602, "`{name}` is a yes/no fact; `{value}` is not true or false"
)
BOUND_FACT_NOT_CODED = Message(
    Code.LR602,
    "`{name}` is {a_type}; a record gives yes/no and enum facts only",
    "give `{name}` in a facts file instead",
)
BOUND_NEEDS_BOOL = Message(
    Code.LR602,
    "`{line}` gives yes or no; `{name}` is {a_type}",
    "bind it to a yes/no fact",
)
BOUND_NEEDS_ENUM = Message(
    Code.LR602,
    "`{line}` gives a drug's value; `{name}` is {a_type}",
    "bind drugs to an enum fact whose values name them",
)
UNKNOWN_CODE_SYSTEM = Message(
    Code.LR603, "`{system}` is not a code system a binding can read", "systems: {systems}"
)
CODE_MALFORMED = Message(
    Code.LR603,
    "`{code}` is not in the format of {system} codes: {rule}",
    "copy the code again from the source it was checked in",
)
VALUE_SET_UNUSED = Message(
    Code.LR604,
    "value set `{name}` is used by no binding",
    "remove it, or read it in a `bind` block",
)
BINDINGS_GIVE_TWO_VALUES = Message(
    Code.LR605,
    "`{fact}`: {system} {code} is in `{first}` and in `{second}`, so one {resource} could give "
    "{first_value} and {second_value}",
    "take the code out of one value set, or give the same value",
)
VALUE_SET_UNDECLARED = Message(
    Code.LR606,
    "value set `{name}` is not declared",
    'declare it: valueset {name} "..." {{ snomed CODE "display" source "..." }}',
)
ANSWER_DAYS_INVALID = Message(
    Code.LR607,
    "`within {days} days` is not a number of days",
    "write a whole number of days, e.g. within 30 days",
)
VALUE_SET_DECLARED_TWICE = Message(Code.LR204, "value set `{name}` is declared twice")
CODE_LISTED_TWICE = Message(Code.LR204, "{system} {code} is listed twice in value set `{name}`")
FACT_BOUND_TWICE = Message(
    Code.LR204,
    "`{name}` is bound twice",
    "put every line that gives `{name}` in one `bind {name}` block",
)
UNKNOWN_RESOURCE = Message(
    Code.LR607, "`{line}` names `{resource}`; this line reads {allowed}", "{hint}"
)
CONDITION_PERSISTENCE_MISSING = Message(
    Code.LR607,
    "`{line}` does not say whether the diagnosis lasts",
    "add `, lasting` (it stands once made, e.g. HIV infection) or `, current` (a resolved "
    "episode says nothing of now, e.g. seizures)",
)
BIND_OPTION_TWICE = Message(Code.LR607, "`{line}` says `{option}` twice, or contradicts itself")
CAUSE_LINE_MISSING = Message(
    Code.LR607,
    "`{line}` reads the cause of a Condition, but `bind {name}` has no `cause of` line",
    "say whose cause it is: cause of Condition in VALUE_SETS",
)
CAUSE_LINE_TWICE = Message(Code.LR607, "`bind {name}` has two `cause of` lines")
CAUSE_WITHOUT_READING = Message(
    Code.LR607,
    "`bind {name}` reads the cause of a Condition but says nothing of it",
    "add `drug in VALUE_SET gives VALUE` lines, or `drug still taken`",
)
CAUSE_MIXED = Message(
    Code.LR607,
    "`bind {name}` mixes {first} with {second}",
    "a fact comes either from coded resources, from the drug a Condition is due to, or from "
    "whether that drug is still taken",
)
