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

# --- LR5xx: facts -------------------------------------------------------------------------------

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
ROW_NOT_CSV = Message(Code.LR507, "not a CSV record: {problem}")
ROW_FIELD_COUNT = Message(Code.LR507, "has {count} fields; the header has {width}")
ROW_MALFORMED_JSON = Message(Code.LR507, "malformed JSON: {problem}")
ROW_JSON_CONSTANT = Message(Code.LR507, "malformed JSON: {constant} is not JSON")
ROW_JSON_TOO_DEEP = Message(Code.LR507, "malformed JSON: nested too deeply")
ROW_HALF_CHARACTER = Message(Code.LR507, "malformed JSON: a \\u escape that is half of a character")
ROW_NOT_AN_OBJECT = Message(Code.LR507, "the line is not a JSON object")
ROW_KEYS_TWICE = Message(Code.LR507, "{keys} given twice")
ROW_A_KEY_TWICE = Message(Code.LR507, "a key is given twice")
