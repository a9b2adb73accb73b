"""Messages about a patient's facts (LR5xx): reading a facts document, validating it, and the
same problems as FHIR records and cohort rows report them."""

from __future__ import annotations

from leukorules.diagnostics import Code, Message

# --- LR5xx: facts ------------------------------------------------------------------------------
# Reading a facts document (`leukorules.engine.facts_file`).

FACTS_STDIN_UNREADABLE = Message(Code.LR501, "cannot read stdin: {reason}")
FACTS_FILE_IS_FOLDER = Message(
    Code.LR501, "{name} is a folder, not a facts file", "give one JSON or YAML file"
)
FACTS_FILE_UNREADABLE = Message(Code.LR501, "cannot read facts file {name}: {reason}")
FACTS_FILE_NOT_REGULAR = Message(
    Code.LR501,
    "{name} is {kind}, not a facts file",
    "give one JSON or YAML file; to pipe the facts in, give `-` and write them to stdin",
)
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
FACTS_NESTED_TOO_DEEPLY = Message(
    Code.LR507,
    "{format} nested more than {limit} levels deep",
    "a fact's value is one value, or a list of values",
)
FACTS_DOCUMENT_TAGGED = Message(
    Code.LR507,
    "the facts document carries the YAML tag `{tag}`",
    "a facts document is a plain mapping of fact name to value: remove the tag",
)
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
FACTS_CONTRADICT = Message(
    Code.LR508,
    "facts contradict each other: {why}",
    "the facts involved: {facts}; correct the one that is wrong (constraint `{id}`)",
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

# --- LR5xx as cohort rows report them -----------------------------------------------------------
# A rejected cohort row's reasons, as both cohort engines write them to the errors file (the
# duckdb engine builds them in SQL from these templates). Where the python engine validates a
# row with `leukorules.engine.facts`, that module's wording applies instead.

ROW_UNKNOWN_FACT = Message(Code.LR502, "`{name}` is not a fact of this policy")
ROW_NOT_TRUE_OR_FALSE_TEXT = Message(
    Code.LR503, "`{name}` must be true or false (true/false, yes/no, 1/0)"
)
ROW_NOT_WHOLE = Message(Code.LR503, "`{name}` must be a whole number")
ROW_NOT_FINITE = Message(Code.LR503, "`{name}` must be a finite number")
ROW_NOT_DATE_TEXT = Message(Code.LR503, "`{name}` must be a date written YYYY-MM-DD")
ROW_NOT_CALENDAR_DATE = Message(Code.LR503, "`{name}` is not a calendar date")
ROW_SET_ITEM_NOT_ALLOWED = Message(Code.LR503, "an item of `{name}` is not one of: {values}")
# A JSON value of the wrong type; `{kind}` is one of ROW_JSON_KINDS.
ROW_JSON_NOT_BOOL = Message(Code.LR503, "`{name}` must be true or false; it is {kind}")
ROW_JSON_NOT_WHOLE = Message(Code.LR503, "`{name}` must be a whole number; it is {kind}")
ROW_JSON_NOT_NUMBER = Message(Code.LR503, "`{name}` must be a finite number; it is {kind}")
ROW_JSON_NOT_TEXT = Message(Code.LR503, "`{name}` must be text; it is {kind}")
ROW_JSON_NOT_ENUM = Message(Code.LR503, "`{name}` must be one of: {values}; it is {kind}")
ROW_JSON_NOT_DATE = Message(Code.LR503, "`{name}` must be a date written YYYY-MM-DD; it is {kind}")
ROW_JSON_NOT_SET = Message(
    Code.LR503, "`{name}` must be a list of values from: {values}; it is {kind}"
)
# What a JSON value is, as ROW_JSON_* messages name it (by JSON type; any other is a number).
ROW_JSON_KINDS = {
    "string": "text",
    "boolean": "true/false",
    "array": "a list",
    "object": "a mapping",
}
ROW_JSON_KIND_OTHER = "a number"
ROW_VALUE_NOT_ALLOWED = Message(Code.LR504, "`{value}` is not an allowed value of `{name}`")
ROW_SET_VALUE_NOT_ALLOWED = Message(Code.LR504, "`{name}` holds a value that is not allowed")
ROW_OUTSIDE_INT64 = Message(Code.LR505, "`{name}` is outside the 64-bit integer range")
ROW_OUTSIDE_RANGE = Message(
    Code.LR505, "`{name}` = {value}{unit} is outside its declared range {low}..{high}"
)
ROW_DERIVED_FACT = Message(
    Code.LR506, "`{name}` is a derived fact; the policy's rules derive it from other facts"
)
ROW_NO_ID = Message(Code.LR507, "the record has no `{column}`")
ROW_BAD_ID = Message(Code.LR507, "`{column}` must be text or a whole number")
ROW_NOT_UTF8 = Message(Code.LR507, "not UTF-8 text")
# A line (JSON Lines) or record (CSV) over `leukorules.cohort.lines.MAX_ROW_BYTES`; the code of a
# facts file over its limit (FACTS_FILE_TOO_LARGE), as a record holds one patient's facts.
ROW_TOO_LARGE = Message(Code.LR501, "the record is larger than {limit:,} bytes")
ROW_NOT_CSV = Message(Code.LR507, "not a CSV record: {problem}")
ROW_FIELD_COUNT = Message(Code.LR507, "has {count} fields; the header has {width}")
ROW_MALFORMED_JSON = Message(Code.LR507, "malformed JSON: {problem}")
ROW_JSON_CONSTANT = Message(Code.LR507, "malformed JSON: {constant} is not JSON")
ROW_JSON_TOO_DEEP = Message(Code.LR507, "malformed JSON: nested too deeply")
ROW_HALF_CHARACTER = Message(Code.LR507, "malformed JSON: a \\u escape that is half of a character")
ROW_NOT_AN_OBJECT = Message(Code.LR507, "the line is not a JSON object")
ROW_KEYS_TWICE = Message(Code.LR507, "{keys} given twice")
ROW_A_KEY_TWICE = Message(Code.LR507, "a key is given twice")
