"""Messages about a policy's terminology bindings: LR6xx, what `leukorules check` reports about
`valueset` and `bind` blocks (`leukorules.check.bindings`). How FHIR records report LR5xx is in
`leukorules.messages.facts`."""

from __future__ import annotations

from leukorules.diagnostics import Code, Message

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
