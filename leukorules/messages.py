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
