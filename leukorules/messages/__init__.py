"""Every diagnostic message leukorules writes, declared once: code, text and hint.

Grouped by code range, as `leukorules.diagnostics.Code` is: `policy` holds LR1xx reading and
parsing, LR2xx names, LR3xx types and LR4xx policy logic (what `check` reports about a policy's
source); `facts` holds LR5xx (a patient's facts, from a file, a FHIR record or a cohort row);
`bindings` holds LR6xx (a policy's terminology bindings: `valueset` and `bind` blocks).
All are one registry, read as `leukorules.messages.NAME`. Templates take `str.format` fields
named for what they hold; a stage reports a message with `MESSAGE.at(span, field=value, ...)`.
Nothing else in the package writes a code or a message text of its own, and
`tests/golden/messages.txt` lists every message here, so a change in wording shows in review.

Takes: nothing (declarations only). Gives: `Message` constants, used by every stage.
Must never import: any stage (`leukorules.syntax`, `leukorules.check`, `leukorules.engine`,
`leukorules.result`, `leukorules.report`, `leukorules.cohort`, `leukorules.fhir`,
`leukorules.audit`, `leukorules.cli`); only the diagnostics module.
"""

from leukorules.messages.bindings import *  # noqa: F403
from leukorules.messages.facts import *  # noqa: F403
from leukorules.messages.policy import *  # noqa: F403
