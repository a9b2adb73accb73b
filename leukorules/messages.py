"""Every diagnostic message leukorules writes, declared once: code, text and hint.

Grouped by code range, as `leukorules.diagnostics.Code` is: LR1xx reading and parsing, LR2xx
names, LR3xx types, LR4xx policy logic, LR5xx facts. Templates take `str.format` fields named
for what they hold; a stage reports a message with `MESSAGE.at(span, field=value, ...)`. Nothing
else in the package writes a code or a message text of its own, and `tests/golden/messages.txt`
lists every message here, so a change in wording shows in review.
"""

from __future__ import annotations

from leukorules.diagnostics import Code, Message

# --- LR1xx: reading and parsing -----------------------------------------------------------------

FILE_TOO_LARGE = Message(
    Code.LR101,
    "file is {size:,} bytes; policy files are limited to {limit:,} bytes",
    "split the policy into several files joined with `include`",
)
FILE_NOT_UTF8 = Message(
    Code.LR102,
    "file is not valid UTF-8: byte 0x{byte:02x} cannot be decoded",
    "policy files are UTF-8 text; re-save the file as UTF-8",
)
FILE_HAS_NUL = Message(
    Code.LR102,
    "file contains a NUL byte; it looks like binary data, not a policy",
    "policy files are UTF-8 text",
)

# --- LR2xx: names -------------------------------------------------------------------------------

# --- LR3xx: types -------------------------------------------------------------------------------

# --- LR4xx: policy logic ------------------------------------------------------------------------


# The checker's logic analysis (`leukorules.check.analysis`).

CYCLE = Message(
    Code.LR403,
    "cycle: {path}",
    "a rule cannot depend, through derived facts, `after` or `overrides`, on itself",
)
NEVER_TRUE = Message(
    Code.LR404,
    "the condition of {kind} `{id}` can never be true",
    "no combination of fact values satisfies it; look for contradictory tests such as "
    "`x == a and x == b`",
)
CONFLICTING_DERIVATIONS = Message(
    Code.LR405,
    "rules `{first}` and `{second}` can both fire and derive different values for `{fact}` "
    "({first_value} vs {second_value}), and neither overrides the other",
    "say which rule wins: add `overrides {first}` to `{second}` (or `overrides {second}` to "
    "`{first}`), or make the conditions exclusive.\nA patient that makes both fire, as a "
    "scenario:\n{scenario}",
)
FACT_UNUSED = Message(
    Code.LR406,
    "fact `{name}` is declared but no condition reads it",
    "remove it, or use it in a rule",
)
EVIDENCE_UNUSED = Message(Code.LR407, "evidence `{id}` is declared but no rule cites it")
EVIDENCE_WITHOUT_CITATION = Message(
    Code.LR408,
    "evidence `{id}` has no citation",
    'add `citation "..."`, or `citation unknown` when the source gives none',
)
GAP_EMPTY_HEADING = Message(
    Code.LR409, "guideline gap `{id}`: the source makes no statement under {heading!r}"
)
GAP_TOPIC = Message(
    Code.LR409,
    "guideline gap `{id}`: the statements under {heading!r} do not cover this case",
    "{note}",
)
GAP_AS_RULE_TARGET = Message(Code.LR410, "`{target}` is a gap; `after` and `overrides` name rules")
MUTUAL_OVERRIDES = Message(
    Code.LR410,
    "`{first}` and `{second}` override each other",
    "precedence goes one way: keep `overrides` on the rule that wins",
)
DERIVED_NEVER_DERIVED = Message(
    Code.LR411,
    "derived fact `{name}` is never derived by any rule",
    "add a rule with `derive {name} = ...`",
)
CONFLICT_CHECK_GAVE_UP = Message(
    Code.LR413,
    "could not decide whether `{first}` and `{second}` can both fire",
    "the conditions involve too many facts to enumerate; declare the precedence with "
    "`overrides` to be safe",
)

# --- LR5xx: facts ------------------------------------------------------------------------------
# Reading a facts document (`leukorules.engine.facts_file`).

FACTS_STDIN_UNREADABLE = Message(Code.LR501, "cannot read stdin: {reason}")
FACTS_FILE_IS_FOLDER = Message(
    Code.LR501, "{name} is a folder, not a facts file", "give one JSON or YAML file"
)
FACTS_FILE_UNREADABLE = Message(Code.LR501, "cannot read facts file {name}: {reason}")
FACTS_FILE_TOO_LARGE = Message(
    Code.LR501,
    "facts file is larger than {limit:,} bytes",
    "a facts file holds one patient's facts",
)
FACTS_FILE_NOT_UTF8 = Message(
    Code.LR501, "facts file is not UTF-8 text", "save it as UTF-8 JSON or YAML"
)
FACT_NAME_NOT_TEXT = Message(
    Code.LR502,
    "fact names are text; this key is {kind}",
    "quote the key if it is meant as a fact name",
)
FACTS_EMPTY = Message(
    Code.LR507,
    "the facts document is empty",
    "write a mapping of fact name to value; `{{}}` when no fact is known",
)
FACTS_NOT_A_MAPPING = Message(
    Code.LR507,
    "the facts document is {what}, not a mapping of fact name to value",
    'write one mapping, e.g. {{"age": 54}}',
)
FACTS_MALFORMED_JSON = Message(Code.LR507, "malformed JSON: {problem}")
FACTS_MALFORMED_YAML = Message(Code.LR507, "malformed YAML: {problem}")
FACTS_NESTED_TOO_DEEPLY = Message(Code.LR507, "{format} nested too deeply")
FACT_GIVEN_TWICE = Message(Code.LR507, "fact `{name}` is given twice", "give each fact once")
FACTS_YAML_ALIAS = Message(
    Code.LR507,
    "YAML anchors and aliases (`&name`, `*name`) are not allowed in facts files",
    "write every value out in full",
)
FACTS_KEY_UNREADABLE = Message(Code.LR507, "cannot read this key: {reason}")
FACT_VALUE_UNREADABLE = Message(Code.LR507, "the value of `{name}` cannot be read: {reason}")

# Validating facts against the policy's declarations (`leukorules.engine.facts`).

FACT_NAME_NOT_A_STRING = Message(Code.LR502, "fact names are text")
FACT_UNKNOWN = Message(Code.LR502, "`{name}` is not a fact of this policy")
FACT_WRONG_TYPE = Message(Code.LR503, "{where} must be {expected}; it is {kind}")
FACT_NOT_A_DATE = Message(
    Code.LR503, "{where} must be a date written YYYY-MM-DD", "e.g. 2024-03-01"
)
FACT_NOT_A_CALENDAR_DATE = Message(
    Code.LR503,
    "{where} is not a calendar date",
    "write the date as YYYY-MM-DD, e.g. 2024-03-01",
)
FACT_NOT_FINITE = Message(Code.LR503, "{where} must be a finite number")
FACT_NOT_WHOLE = Message(Code.LR503, "{where} must be a whole number")
FACT_LONE_SURROGATE = Message(
    Code.LR503,
    "{where} is not valid Unicode text: character {position} is a lone surrogate (U+{code:04X})",
    "a \\uD800-\\uDFFF escape must be one half of a pair; fix the text or its encoding",
)
FACT_VALUE_NOT_ALLOWED = Message(Code.LR504, "`{value}` is not an allowed value of {where}")
FACT_OUT_OF_RANGE = Message(
    Code.LR505,
    "`{name}` = {value}{unit} is outside its declared range {low}..{high}",
    "check the value and its unit",
)
FACT_DERIVED_SUPPLIED = Message(
    Code.LR506,
    "`{name}` is a derived fact; the policy's rules derive it from other facts",
    "remove it and give the facts it is derived from",
)
# Hints `FACT_WRONG_TYPE` takes, by what the value looks like.
HINT_DATE_ONLY = "give only the date, YYYY-MM-DD"
HINT_NO_DECIMAL_POINT = "write whole numbers without a decimal point"
HINT_YAML_BOOLEAN = "YAML reads yes/no/on/off as true/false; quote the value"
HINT_NO_QUOTES = "write the value without quotes"
HINT_UNKNOWN_IS_NULL = "for an unknown fact, leave it out or write null"
HINT_NUMBER_READ_AS_TEXT = (
    "the value was read as text; write a plain number (YAML reads forms like 1e3 as text)"
)

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
