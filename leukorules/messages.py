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
